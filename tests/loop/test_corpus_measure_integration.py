"""The researcher's whole chain against the session's real Label Studio, through the CLI:
``slant analyze CORPUS --out DIR`` -> ``slant push --from DIR --audit N --by outlet`` ->
annotate every audit task (SDK) -> ``slant pull`` -> ``slant measure DIR --audit reviewed.jsonl
--by outlet --format json``. Issues #20 (corpus scale) and #21 (measurement), run together."""

import json
import uuid
from collections import Counter, defaultdict

import pytest

from slant._files import schema
from slant.cli.main import main
from slant.studio.projects import AUDIT_VIEW_TITLE
from slant.taxonomy.core import load_taxonomy

pytestmark = pytest.mark.integration

# Three invented outlets, two short articles each (own writing): some sentences carry loaded
# words or vague attributions, most report plainly.
ARTICLES = {
    "Ridge Tribune": [
        ("Council backs new ferry timetable",
         "The council approved a new ferry timetable on Tuesday. Critics say the reckless scheme will strand commuters. "
         "The first boat will now leave at six in the morning. Officials said the change saves fuel. "
         "Some people say the mayor ignored the fishermen. The timetable starts in March."),
        ("Library hours cut in budget",
         "The central library will close on Sundays from next month. Opponents called the cut a shameful betrayal of "
         "readers. The budget for books stays the same. Staff will move to weekday shifts. "
         "It is widely believed that the branch will close next. The council meets again in May."),
    ],
    "Lowland Post": [
        ("Bridge repairs run late",
         "Repairs to the river bridge will finish two weeks late. The contractor blamed heavy rain in April. "
         "Critics say the disastrous project has wasted millions. Traffic will use one lane until June. "
         "Experts say the delay was inevitable. The bridge carries nine thousand cars a day."),
        ("School adds evening classes",
         "The high school will offer evening classes in welding and accounting. A teacher said demand had doubled. "
         "Some say the plan is a cynical ploy to win votes. Classes cost twenty pounds a term. "
         "Enrolment opens on the first of September. The classes run for ten weeks."),
    ],
    "Summit Ledger": [
        ("Water rates to rise",
         "Water rates will rise by four percent in July. The utility said pipes needed replacing. "
         "Residents slammed the outrageous hike at a packed meeting. The average bill will grow by three pounds. "
         "Many believe the utility hid its profits. The board votes on the plan next week."),
        ("Park gets new playground",
         "A new playground opened in Elm Park on Saturday. Parents said the old swings had been unsafe. "
         "The project cost forty thousand pounds. Critics say the radical design is a menace to toddlers. "
         "The park keeper will inspect it every morning. The gates open at eight."),
    ],
}

AUDIT_N = 24


def _write_corpus(path):
    lines, k = [], 0
    for outlet, docs in ARTICLES.items():
        for title, body in docs:
            lines.append(json.dumps({"id": f"doc-{k}", "title": title, "text": f"{title}\n\n{body}", "outlet": outlet,
                                     "date": f"2025-0{1 + k % 6}-10"}))
            k += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _corpus_rows(out):
    """The measured rows (titles and body sentences) of the Parquet dataset, read with pyarrow."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(out), format="parquet", partitioning="hive").to_table(
        columns=["slant_id", "kind", "outlet", "labels"])
    return [r for r in table.to_pylist() if r["kind"] in ("title", "body")]


def _target(label_studio):
    return ["--url", label_studio.url, "--api-key", label_studio.api_key]


def test_analyze_push_audit_pull_measure(label_studio, default_model_cache, tmp_path, monkeypatch):
    from jsonschema import Draft202012Validator

    monkeypatch.setenv("SLANT_CACHE_DIR", str(default_model_cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # an empty model registry: the built-in model
    tax = load_taxonomy()
    corpus = _write_corpus(tmp_path / "corpus.jsonl")
    out = tmp_path / "preds"

    # 1. analyze the corpus into a Parquet dataset
    assert main(["analyze", str(corpus), "--out", str(out)]) == 0
    rows = _corpus_rows(out)
    assert Counter(r["outlet"] for r in rows).keys() == set(ARTICLES)
    model_counts = Counter(c for r in rows for c in r["labels"])
    assert model_counts, "the model labelled no sentence of the corpus"
    category = model_counts.most_common(1)[0][0]
    by_sid = {r["slant_id"]: r for r in rows}

    # 2. push the audit sample, stratified by outlet
    title = f"chain {uuid.uuid4().hex[:6]}"
    assert main(["push", "--from", str(out), "--audit", str(AUDIT_N), "--by", "outlet", "--project", title,
                 *_target(label_studio)]) == 0
    sdk = label_studio.client()
    project = label_studio.studio().find_project(title)
    tasks = sorted(sdk.tasks.list(project=project.id, fields="all", page_size=1000), key=lambda t: t.id)
    assert len(tasks) == AUDIT_N
    for t in tasks:
        assert t.data["slant_audit"] is True and t.data["slant_audit_design"] == "stratified"
        assert t.data["slant_audit_stratum"] == t.data["outlet"] == by_sid[t.data["slant_id"]]["outlet"]
        assert 0 < t.data["slant_audit_p"] <= 1
    (view,) = [v for v in sdk.views.list(project=project.id) if (v.data or {}).get("title") == AUDIT_VIEW_TITLE]
    in_tab = list(sdk.tasks.list(project=project.id, view=view.id, fields="task_only", page_size=1000))
    assert sorted(t.id for t in in_tab) == [t.id for t in tasks]

    # 3. annotate every audit task: the coder disagrees with the model on every third sentence
    user = sdk.users.create(username=f"chain-{uuid.uuid4().hex[:8]}", email=f"chain-{uuid.uuid4().hex[:8]}@example.com")
    name = tax.category(category).name
    positive = {}
    for i, t in enumerate(tasks):
        says = category in by_sid[t.data["slant_id"]]["labels"]
        positive[t.data["slant_id"]] = says != (i % 3 == 0)
        result = [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": [name]}}]
        sdk.annotations.create(id=t.id, completed_by=user.id, result=result if positive[t.data["slant_id"]] else [])
    assert any(positive[s] != (category in by_sid[s]["labels"]) for s in positive)

    # 4. pull
    reviewed = tmp_path / "reviewed.jsonl"
    assert main(["pull", "--project", title, "-o", str(reviewed), *_target(label_studio)]) == 0
    records = [json.loads(line) for line in reviewed.read_text(encoding="utf-8").splitlines()]
    assert len(records) == AUDIT_N
    for r in records:
        sid = r["data"]["slant_id"]
        assert set(r["audit"]) == {"p", "stratum"} and r["audit"]["stratum"] == by_sid[sid]["outlet"]
        assert (category in r["labels"]) == positive[sid]

    # 5. measure
    report_path = tmp_path / "report.json"
    assert main(["measure", str(out), "--audit", str(reviewed), "--by", "outlet", "--format", "json",
                 "-o", str(report_path)]) == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    Draft202012Validator(schema("measure")).validate(report)

    annotated = defaultdict(list)  # outlet -> [labelled positive?] over the annotated audit tasks
    for t in tasks:
        annotated[t.data["outlet"]].append(positive[t.data["slant_id"]])
    corpus_by = defaultdict(list)  # outlet -> [model labelled?] over the corpus rows
    for r in rows:
        corpus_by[r["outlet"]].append(category in r["labels"])
    est = {(e["method"], e["group"].get("outlet")): e for e in report["estimates"]
           if e["category"] == category and set(e["group"]) <= {"outlet"}}
    for outlet in ARTICLES:
        classical, naive, ppi = (est[(m, outlet)] for m in ("classical", "naive", "ppi"))
        assert classical["n_audit"] == ppi["n_audit"] == len(annotated[outlet])
        # The report rounds to 6 decimals (slant.measure.core): compare to within that rounding.
        assert classical["estimate"] == pytest.approx(sum(annotated[outlet]) / len(annotated[outlet]), abs=5e-7)
        assert naive["estimate"] == pytest.approx(sum(corpus_by[outlet]) / len(corpus_by[outlet]), abs=5e-7)
        assert naive["n_corpus"] == len(corpus_by[outlet])
    assert any(est[("ppi", o)]["estimate"] != pytest.approx(est[("naive", o)]["estimate"]) for o in ARTICLES)
