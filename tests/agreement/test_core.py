"""compute_agreement and agreement_from_file (slant.agreement.core): annotators, groups, names, bad input."""

import json

import pytest

from helpers.agreement import IDS, TAX, binary_data, rec, records_from
from slant.agreement.core import agreement_from_file, compute_agreement
from slant.errors import DataError, InputError

# --- annotators, groups ----------------------------------------------------------------

def test_annotators_leave_one_out_majority():
    ll = "loaded_language"
    recs = [rec(0, [("x", [ll]), ("y", [ll]), ("z", [])], []),
            rec(1, [("x", [ll]), ("y", []), ("z", [])], []),
            rec(2, [("x", []), ("y", [])], [])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    by = {a["annotator"]: a for a in rep["annotators"]}
    assert by["x"]["tasks"] == 3 and by["z"]["tasks"] == 2
    # z on unit 0: others x, y both say yes -> z disagrees on that cell; unit 1: others split -> no decision
    n_cat = len(IDS)
    assert by["z"]["decisions"] == 2 * n_cat - 1
    assert by["z"]["agreement_with_majority"] == pytest.approx((2 * n_cat - 2) / (2 * n_cat - 1))


def test_by_field_repeats_the_table(tmp_path):
    matrix = binary_data(3, 40, 3, seed=5, p_missing=0.2)
    recs = records_from(matrix, IDS[:3])
    for i, r in enumerate(recs):
        r["data"] = {"outlet": "north" if i % 2 else "south"}
    rep = compute_agreement(recs, TAX, by="outlet", bootstrap=100)
    values = {v["value"]: v for v in rep["groups"]["values"]}
    assert set(values) == {"north", "south"}
    alone = compute_agreement([r for r in recs if r["data"]["outlet"] == "north"], TAX, bootstrap=100)
    for got, want in zip(values["north"]["categories"], alone["categories"]):
        assert got["alpha"] == pytest.approx(want["alpha"]) and got["ac1_ci"] == pytest.approx(want["ac1_ci"])
    with pytest.raises(DataError, match=r"--by region: no record has a data field 'region'"):
        compute_agreement(recs, TAX, by="region", bootstrap=0)


def test_names_and_migrated_ids_are_accepted():
    recs = [rec(0, [("x", ["Loaded language"]), ("y", ["loaded_language"])], ["loaded_language"])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    assert rep["categories"][0]["observed_agreement"] == 1.0


def test_repeated_annotator_uses_last_annotation():
    recs = [rec(0, [("x", ["doubt"]), ("x", []), ("y", [])], [])]
    rep = compute_agreement(recs, TAX, bootstrap=0)
    assert rep["summary"]["annotations"] == 2
    assert any("repeated annotations" in w for w in rep["warnings"])


# --- bad input ---------------------------------------------------------------------------

def _write(tmp_path, lines, name="reviewed.jsonl"):
    path = tmp_path / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


GOOD = rec(0, [("x", ["doubt"]), ("y", [])], [])


def _bad(**changes):
    return {"id": "bad", "doc_id": "d", "text": "t", "labels": [], **changes}


MALFORMED = [  # (record, message from the file reader (file:line), message for records in memory)
    (_bad(annotations=[{"labels": []}]), r"reviewed.jsonl:2: annotations\[0\]: 'annotator' is a required property",
     r"record 2: annotations\[0\] needs 'annotator' and 'labels'"),
    (_bad(annotations=[{"annotator": "x", "labels": "doubt"}]), r"reviewed.jsonl:2: annotations\[0\].labels: 'doubt' is not",
     r"record 2: annotations\[0\].labels must be a list of category ids, not str"),
    (_bad(annotations={"x": []}), r"reviewed.jsonl:2: annotations: .* is not of type 'array'",
     r"record 2: 'annotations' must be a list"),
    (_bad(annotations=[{"annotator": "x", "labels": [], "spans": [{"start": "0", "end": 3, "label": "doubt"}]}]),
     r"reviewed.jsonl:2: annotations\[0\].spans\[0\].start: '0' is not of type 'integer'",
     r"record 2: annotations\[0\].spans entries need integer 'start', 'end'"),
    (_bad(prediction=["doubt"]), r"reviewed.jsonl:2: prediction: \['doubt'\] is not of type",
     r"record 2: 'prediction' must be an object"),
]


@pytest.mark.parametrize("record, file_message, memory_message", MALFORMED,
                         ids=["no-annotator", "labels-not-list", "annotations-not-list", "bad-span", "bad-prediction"])
def test_malformed_records(tmp_path, record, file_message, memory_message):
    with pytest.raises(DataError, match=file_message):
        agreement_from_file(_write(tmp_path, [GOOD, record]), bootstrap=0)
    with pytest.raises(DataError, match=memory_message):
        compute_agreement([GOOD, record], TAX, bootstrap=0)


@pytest.mark.parametrize("lines, message", [
    ([], r"reviewed.jsonl: no records"),
    (["", "  "], r"reviewed.jsonl: no records"),
    ([GOOD, "{not json"], r"reviewed.jsonl:2: not valid JSON"),
    ([GOOD, "[1, 2]"], r"reviewed.jsonl:2: expected a JSON object"),
    ([_bad(id=1), _bad(id=2)], r"no record has annotations, so there are no units to compare; "
                               r"agreement needs at least two annotators per unit"),
    ([rec(0, [("ann@x.org", ["doubt"])], []), rec(1, [("ann@x.org", [])], [])],
     r"agreement needs at least two annotators per unit; only one annotator \(ann@x\.org\) labelled the 2 units"),
    ([rec(0, [("x", ["doubt"])], []), rec(1, [("y", [])], [])],
     r"agreement needs at least two annotators per unit; none of the 2 annotated units was labelled by two"),
    ([rec(0, [("x", ["Propaganda"]), ("y", ["Propaganda", "Spin"])], ["Spin"])],
     r"labels unknown to taxonomy rhetoric 1.0.0: 'Propaganda' \(2\), 'Spin' \(2\); .*pass --taxonomy FILE"),
    ([dict(GOOD, taxonomy={"id": "news_frames", "version": "2.0.0"})],
     r"reviewed.jsonl: record 1: record was labelled with taxonomy 'news_frames', not 'rhetoric'; pass --taxonomy"),
], ids=["empty", "blank-lines", "bad-json", "not-object", "no-annotations", "one-annotator", "no-overlap",
        "unknown-labels", "other-taxonomy"])
def test_bad_input_messages(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        agreement_from_file(_write(tmp_path, lines), bootstrap=0)


def test_record_not_an_object_in_memory():
    with pytest.raises(DataError, match=r"record 2: expected a JSON object \(a reviewed-label record\), got list"):
        compute_agreement([GOOD, [1, 2]], TAX, bootstrap=0)


def test_missing_file_and_bad_settings(tmp_path):
    with pytest.raises(InputError, match=r"nope.jsonl: no such file"):
        agreement_from_file(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match=r"records: no records"):
        compute_agreement([], TAX)
    with pytest.raises(InputError, match=r"bootstrap=-1: the number of replicates must be 0"):
        compute_agreement([GOOD], TAX, bootstrap=-1)
    with pytest.raises(InputError, match=r"confidence=95: must lie between 0 and 1"):
        compute_agreement([GOOD], TAX, confidence=95)


def test_reading_a_large_file_runs_no_cyclic_garbage_collection(tmp_path):
    """`slant agreement FILE` speed: the garbage collector walked the growing records list
    over and over (more than half of the reading time); no collection runs now."""
    import gc

    import numpy as np

    matrix = binary_data(3, 4000, len(IDS), seed=3)
    records = records_from(np.where(matrix < 0, -1, matrix))
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    runs = []

    def count(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        report = agreement_from_file(path, bootstrap=0)
    finally:
        gc.callbacks.remove(count)
    assert report["summary"]["records"] == 4000 and runs == [] and gc.isenabled()
