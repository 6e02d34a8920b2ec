"""slant.measure.data: predictions in Parquet (scores as map, struct or JSON) and JSONL, dates
cut into months and weeks, the audit joined on slant_id or (doc_id, sentence_index)."""

import json

import numpy as np
import pytest

from slant.errors import DataError, InputError
from slant.measure.corpus import read_corpus
from slant.measure.data import is_date_field, read_audit


@pytest.mark.parametrize("scores_as", ["map", "struct", "json"])
def test_parquet_scores_in_any_form(population, tmp_path, scores_as):
    corpus = read_corpus(population.write_parquet(tmp_path / scores_as, scores_as), by=["outlet"])
    assert corpus.n == population.n
    assert corpus.categories == ["loaded_language", "attribution_vague"]
    for c in corpus.categories:
        np.testing.assert_allclose(corpus.scores[c], population.scores[c])
        np.testing.assert_array_equal(corpus.labels[c], population.labels[c].astype(int))
    assert list(corpus.groups["outlet"]) == list(population.outlet)
    assert corpus.model_versions == {"test-model-1": population.n}


def test_jsonl_predictions_and_date_buckets(population, tmp_path):
    path = population.write_jsonl(tmp_path / "p.jsonl")
    month = read_corpus(path, by=["date"])
    assert sorted(set(month.groups["date"])) == ["2024-01", "2024-02", "2024-03"]
    assert month.slant_ids is None
    week = read_corpus(path, by=["date"], period="week")
    assert all(v.startswith("2024-W") or v.startswith("2023-W") for v in week.groups["date"])
    assert len(set(week.groups["date"])) > 3


def test_date_fields_are_recognised():
    assert is_date_field("date") and is_date_field("publication_date") and not is_date_field("outlet")


def test_missing_group_field(population, corpus_dir, tmp_path):
    with pytest.raises(InputError, match=r"--by section: not a column of .*columns there: .*outlet"):
        read_corpus(corpus_dir, by=["section"])
    with pytest.raises(InputError, match=r"--by section: no prediction row has a field 'section'"):
        read_corpus(population.write_jsonl(tmp_path / "p.jsonl"), by=["section"])
    with pytest.raises(InputError, match="no such file or directory"):
        read_corpus(tmp_path / "nope")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": 1}\n', encoding="utf-8")
    with pytest.raises(DataError, match="not a prediction record"):
        read_corpus(bad)


def test_join_on_slant_id_and_on_position(population, corpus_dir, tmp_path):
    rows = [3, 50, 999, 2500]
    corpus = read_corpus(corpus_dir)
    a = read_audit(population.audit(tmp_path / "a.jsonl", rows, 0.01), corpus)
    assert list(a.rows) == rows and a.design == "uniform"
    np.testing.assert_array_equal(a.y["loaded_language"], population.truth["loaded_language"][rows])
    # records without slant_id join on (doc_id, sentence_index); so do JSONL predictions without one
    b = read_audit(population.audit(tmp_path / "b.jsonl", rows, 0.01, slant_id=False), corpus)
    assert list(b.rows) == rows
    twice = population.audit(tmp_path / "t.jsonl", rows + rows[:1], 0.01, slant_id=False)
    lines = twice.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].replace('"id": "task-4"', '"id": "task-again"')
    twice.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = read_audit(twice, corpus)
    assert list(again.rows) == rows and "1 audit records repeat a sentence" in " ".join(again.notes)
    c = read_audit(tmp_path / "b.jsonl", read_corpus(population.write_jsonl(tmp_path / "p.jsonl")))
    assert list(c.rows) == rows


def test_unequal_p_is_stratified_and_unmatched_records_are_noted(population, corpus_dir, tmp_path):
    path = population.audit(tmp_path / "a.jsonl", [1, 2, 3], [0.1, 0.1, 0.5], ["x", "x", "y"])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "elsewhere", "doc_id": "other", "text": "t", "labels": [], "sentence_index": 0,
                             "audit": {"p": 0.1, "stratum": "x"}, "data": {"slant_id": "not-in-corpus"}}) + "\n")
        fh.write(json.dumps({"id": "queue", "doc_id": "doc0", "text": "t", "labels": [], "sentence_index": 9}) + "\n")
        fh.write(json.dumps({"id": "todo", "doc_id": "doc0", "text": "t", "labels": [], "adjudicated": False,
                             "audit": {"p": 0.1, "stratum": "x"}, "data": {"slant_id": "sid00008"}}) + "\n")
    a = read_audit(path, read_corpus(corpus_dir))
    assert a.design == "stratified" and list(a.strata) == ["x", "x", "y"]
    notes = " ".join(a.notes)
    assert "1 reviewed records without an audit mark were left out" in notes
    assert "1 audit records match no prediction row" in notes
    assert "1 audit tasks have no decided labels yet" in notes


def test_no_overlap(population, corpus_dir, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "x", "doc_id": "elsewhere", "text": "t", "labels": [], "sentence_index": 1,
                                "audit": {"p": 0.1, "stratum": ""}}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"none of its 1 audit records matches a prediction row"):
        read_audit(path, read_corpus(corpus_dir))


def test_records_without_p(population, corpus_dir, tmp_path):
    corpus = read_corpus(corpus_dir)
    unmarked = population.audit(tmp_path / "u.jsonl", [1, 2, 3], 0.1, mark=False)
    with pytest.raises(DataError, match=r"no record carries an audit mark .*not a random sample.*--assume-uniform"):
        read_audit(unmarked, corpus)
    a = read_audit(unmarked, corpus, assume_uniform=True)
    assert a.design == "uniform" and np.allclose(a.p, 3 / population.n) and a.assumed_uniform
    assert "assumed uniform" in " ".join(a.notes)
    no_p = population.audit(tmp_path / "n.jsonl", [1, 2, 3], None)
    with pytest.raises(DataError, match=r"3 audit records have no inclusion probability audit.p"):
        read_audit(no_p, corpus)
    assert read_audit(no_p, corpus, assume_uniform=True).n == 3


def test_audit_labels_without_predictions_are_noted(population, corpus_dir, tmp_path):
    path = population.audit(tmp_path / "a.jsonl", [1, 2, 3], 0.1, extra={"labels": ["doubt"]})
    a = read_audit(path, read_corpus(corpus_dir))
    assert "audit labels the predictions have no scores for (not measured): doubt (3)" in " ".join(a.notes)


def test_parquet_typed_dates_nulls_and_label_only_categories(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "doc_id": ["a", "a", "b", "b"], "sentence_index": [0, 1, 0, None],
        "date": pa.array([dt.date(2024, 1, 31), dt.date(2024, 2, 1), None, dt.date(2024, 2, 29)]),
        "outlet": ["X", None, "Y", "Y"],
        "labels": pa.array([["doubt"], [], None, ["doubt", "scare_quotes"]], type=pa.list_(pa.string())),
        "scores": pa.array([[("doubt", 0.9)], [("doubt", None)], [], [("doubt", 0.7)]],
                           type=pa.map_(pa.string(), pa.float64())),
    })
    (tmp_path / "d").mkdir()
    pq.write_table(table, tmp_path / "d" / "x.parquet")
    corpus = read_corpus(tmp_path / "d", by=["date", "outlet"], period="month")
    assert list(corpus.groups["date"]) == ["2024-01", "2024-02", "", "2024-02"]
    assert list(corpus.groups["outlet"]) == ["X", "", "Y", "Y"]
    assert corpus.categories == ["doubt", "scare_quotes"]
    np.testing.assert_allclose(corpus.scores["doubt"], [0.9, 0.0, 0.0, 0.7])      # missing score: the label
    np.testing.assert_array_equal(corpus.scores["scare_quotes"], [0, 0, 0, 1])
    assert list(corpus.sentence_index) == [0, 1, 0, -1] and corpus.slant_ids is None
    week = read_corpus(tmp_path / "d", by=["date"], period="week")
    assert list(week.groups["date"]) == ["2024-W05", "2024-W05", "", "2024-W09"]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_bylines_are_not_measured(tmp_path, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"doc_id": "a", "sentence_index": i, "kind": k, "labels": ["doubt"] * (i % 2),
             "scores": {"doubt": 0.5}} for i, k in enumerate(["title", "byline", "body", "body", None])]
    if fmt == "jsonl":
        path = tmp_path / "p.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        path = tmp_path / "p.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    corpus = read_corpus(path)
    assert corpus.n == 4 and list(corpus.sentence_index) == [0, 2, 3, 4]
    assert corpus.notes == ["1 sentences of other kinds than title or body (bylines) left out: they are never pushed "
                            "for review, so no audit can sample them"]


def test_hive_partitioned_dataset(population, tmp_path):
    """`slant analyze --out` may partition its Parquet by a field (outlet=X/ directories)."""
    import pyarrow.dataset as ds

    flat = population.write_parquet(tmp_path / "flat")
    ds.write_dataset(ds.dataset(str(flat)), tmp_path / "hive", format="parquet", partitioning=["outlet"],
                     partitioning_flavor="hive")
    assert (tmp_path / "hive" / "outlet=Gazette").is_dir()
    corpus = read_corpus(tmp_path / "hive", by=["outlet"])
    assert corpus.n == population.n
    order = np.argsort(corpus.slant_ids.astype(str))
    assert list(corpus.groups["outlet"][order]) == list(population.outlet)
    np.testing.assert_allclose(corpus.scores["loaded_language"][order], population.scores["loaded_language"])


def test_unreadable_scores_type(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"labels": pa.array([[]], type=pa.list_(pa.string())), "scores": [3.5]}),
                   tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"the scores column has type double; expected a map, a struct or JSON"):
        read_corpus(tmp_path / "x.parquet")
