"""The retraining loop end to end against the session's real Label Studio:

push -> three annotators systematically correct one category -> pull -> train ->
promote -> push --refresh: the untouched tasks get predictions from the new version that
carry the correction, the project points at it, the Data Manager lists them; a rerun adds
nothing; then active selection pushes only the most uncertain sentences with their
uncertainty in the task data.
"""

import json
import random
import uuid

import pytest

from slant.cli.main import main
from slant.loop.registry import Registry
from slant.model.seed import load_model
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import read_documents

pytestmark = pytest.mark.integration

PLACES = ["Harbor City", "Northfield", "Eastbrook", "Westmoor", "Lakeside", "Riverton", "Kingsbury", "Ashdown",
          "Millbrook", "Stonebridge", "Fairhaven", "Oakridge"]
PLANS = ["the bypass plan", "the school merger", "the water levy", "the parking scheme", "the library cuts",
         "the tram extension", "the harbour dredging", "the clinic closure"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
VAGUE = load_taxonomy().category("attribution_vague").name  # the choice annotators click


def _article(i, rng):
    """A short local-news article: neutral facts plus poll sentences that name no pollster.

    The seed model leaves such poll sentences unlabelled; this team's annotators decide a
    poll without a named source is a vague attribution, and mark every one of them.
    """
    place, plan = PLACES[i % len(PLACES)], rng.choice(PLANS)
    lines = [
        f"{place} weighs {plan}",
        f"The council in {place} will vote on {plan} on {rng.choice(DAYS)}.",
        f"A recent poll found {rng.randint(51, 79)} percent of {place} voters oppose {plan}.",
        f"Turnout in {place} fell to {rng.randint(20, 45)} percent at the last election.",
        f"A survey this month suggested {rng.randint(55, 80)} percent of residents want a public hearing first.",
        f"The meeting starts at {rng.randint(5, 8)} p.m. in the town hall.",
        f"One poll published last week put support for {plan} at just {rng.randint(15, 35)} percent.",
    ]
    return lines[0] + "\n\n" + " ".join(lines[1:]) + "\n"


def _is_poll(text):
    return "poll" in text or "survey" in text


def _choices(names):
    return [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": names}}] if names else []


def _poll_span(text):
    """The annotators' highlight of the vague source: the sentence up to "poll" or "survey"."""
    word = "poll" if "poll" in text else "survey"
    end = text.index(word) + len(word)
    return [{"from_name": "spans", "to_name": "text", "type": "labels",
             "value": {"start": 0, "end": end, "text": text[:end], "labels": [VAGUE]}}]


def _tasks(sdk, project_id):
    return list(sdk.tasks.list(project=project_id, fields="all", page_size=1000))


def _preds(task):
    return [p if isinstance(p, dict) else p.model_dump() for p in (task.predictions or [])]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_retrain_loop_reaches_untouched_tasks(label_studio, env, capsys):
    rng = random.Random(6)
    articles = []
    for i in range(12):
        path = env / f"article{i:02d}.txt"
        path.write_text(_article(i, rng), encoding="utf-8")
        articles.append(path)
    name = f"retrain loop {uuid.uuid4().hex[:6]}"
    target = ["--url", label_studio.url, "--api-key", label_studio.api_key]
    models = ["--models", str(env / "models")]

    # 1. push with the default seed model (nothing promoted in this registry)
    assert main(["push", *map(str, articles), "--project", name, *target, *models]) == 0
    capsys.readouterr()
    sdk, studio = label_studio.client(), label_studio.studio()
    project = studio.find_project(name)
    tasks = _tasks(sdk, project.id)
    seed_version = project.model_version
    assert seed_version.startswith("seed-") and len(tasks) == 12 * 7
    doc_of = {t.id: t.data["doc_id"] for t in tasks}
    docs = sorted(set(doc_of.values()))
    annotated_docs, untouched_docs = set(docs[:9]), set(docs[9:])
    untouched_polls = [t for t in tasks if doc_of[t.id] in untouched_docs and _is_poll(t.data["text"])]
    assert len(untouched_polls) == 9

    def predicted(task, version):
        ps = [p for p in _preds(task) if p["model_version"] == version]
        return {name for p in ps for r in p["result"] if r["type"] == "choices" for name in r["value"]["choices"]}

    # The seed model gets a few of them (its lexicons list "a poll" and "a survey" as
    # unnamed sources), not most: retraining has to teach the rest.
    seed_hits = sum(VAGUE in predicted(t, seed_version) for t in untouched_polls)
    assert seed_hits <= 4

    # 2. three annotators accept the pre-labels and add the vague-attribution choice to poll sentences;
    #    the third forgets it on every fourth poll: the majority still has it.
    users = []
    for k in range(3):
        tag = uuid.uuid4().hex[:8]
        users.append(sdk.users.create(username=f"annot{k}-{tag}", email=f"annot{k}-{tag}@example.com",
                                      first_name="Annotator", last_name=str(k)).id)
    polls_seen = 0
    for t in tasks:
        if doc_of[t.id] not in annotated_docs:
            continue
        accepted = predicted(t, seed_version)
        poll = _is_poll(t.data["text"])
        polls_seen += poll
        for k, uid in enumerate(users):
            names = set(accepted)
            if poll and not (k == 2 and polls_seen % 4 == 0):
                names.add(VAGUE)
            result = _choices(sorted(names)) + (_poll_span(t.data["text"]) if VAGUE in names and poll else [])
            sdk.annotations.create(id=t.id, result=result, completed_by=uid)

    # 3. pull the adjudicated labels (majority), 4. train, 5. promote through the gate
    reviewed = env / "reviewed.jsonl"
    assert main(["pull", "--project", name, "-o", str(reviewed), "--policy", "majority", *target]) == 0
    records = [json.loads(line) for line in reviewed.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [r for r in records if r.get("annotations")]
    assert len(labelled) == 9 * 7
    assert all("attribution_vague" in r["labels"] for r in labelled if _is_poll(r["text"]))
    # The highlight all three annotators made comes back as the record's span.
    marked = [r for r in labelled if any(sp["label"] == "attribution_vague" for sp in r.get("spans") or ())]
    assert marked and all(_is_poll(r["text"]) and r["text"][:r["spans"][0]["end"]].endswith(("poll", "survey")) for r in marked)
    capsys.readouterr()
    assert main(["train", str(reviewed), "--base", "seed", "--weight-reviewed", "3", "--cv", "3", *models]) == 0
    out = capsys.readouterr().out
    assert "left out" in out  # the untouched tasks' records have no annotation and do not train
    contrast = next(line for line in out.splitlines() if line.startswith("highlighted spans trained as contrast rows: "))
    assert "attribution_vague " in contrast  # the reviewer's highlight; the seed's spans add the others
    registry = Registry(env / "models")
    version = registry.resolve("latest")
    card = registry.card(version)
    assert card["training_data"]["reviewed_label_counts"]["attribution_vague"] > 0
    # The highlights trained as contrast rows: the poll sentence without its source is no vague attribution.
    # (held-out documents' sentences do not train, so at most every marked sentence counts)
    # The seed's own marked sentences give the default model's contrast rows; the reviewers'
    # highlights add theirs on top.
    seed_rows = load_model(None, taxonomy=load_taxonomy()).card["estimator"]["contrast_rows"].get("attribution_vague", 0)
    rows = card["estimator"]["contrast_rows"].get("attribution_vague", 0)
    assert seed_rows + len(marked) // 2 <= rows <= seed_rows + len(marked), (seed_rows, rows, len(marked))
    assert card["training_data"]["adjudication"]["policies"] == {"majority": card["heldout"]["sentences"] + card["heldout"]["train_sentences"]}
    assert main(["models", "promote", "latest", *models]) == 0, capsys.readouterr().err
    assert "promoted " + version in capsys.readouterr().out
    assert registry.current_version() == version

    # 6. refresh: new predictions on the tasks nobody annotated, none added, model version set
    assert main(["push", "--refresh", "--project", name, *target, *models]) == 0
    said = capsys.readouterr().out
    assert f"21 of 84 tasks got predictions from {version}" in said and "63 annotated" in said
    after = _tasks(sdk, project.id)
    assert len(after) == 84 and studio.project(project.id).model_version == version
    by_id = {t.id: t for t in after}
    for t in after:
        versions = {p["model_version"] for p in _preds(t)}
        assert (version in versions) == (doc_of[t.id] in untouched_docs)
    fixed = sum(VAGUE in predicted(by_id[t.id], version) for t in untouched_polls)
    assert fixed >= 8, f"only {fixed} of 9 untouched poll sentences now predicted as {VAGUE}"
    non_polls = [by_id[t.id] for t in after if doc_of[t.id] in untouched_docs and not _is_poll(t.data["text"])]
    assert sum(VAGUE in predicted(t, version) for t in non_polls) <= 2  # learned the polls, not "everything"
    # the Data Manager shows them: a tab filtered on "Prediction model versions contains <version>"
    query = {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:predictions_model_versions",
                                                          "operator": "contains", "type": "List", "value": [version]}]}}
    listed = list(sdk.tasks.list(project=project.id, fields="task_only", include="id,predictions_model_versions",
                                 page_size=1000, query=json.dumps(query)))
    assert {t.id for t in listed} == {t.id for t in after if doc_of[t.id] in untouched_docs}
    assert all(version in str(getattr(t, "predictions_model_versions", None) or (t.model_extra or {}).get("predictions_model_versions"))
               for t in listed)

    # rerun: nothing twice
    assert main(["push", "--refresh", "--project", name, *target, *models]) == 0
    assert "0 of 84 tasks got predictions" in capsys.readouterr().out
    assert sum(len(_preds(t)) for t in _tasks(sdk, project.id)) == sum(len(_preds(t)) for t in after)


def test_refresh_all_and_bad_input(label_studio, env, capsys):
    tax = load_taxonomy()
    target = ["--url", label_studio.url, "--api-key", label_studio.api_key]
    path = env / "a.txt"
    path.write_text(_article(0, random.Random(1)), encoding="utf-8")
    name = f"refresh all {uuid.uuid4().hex[:6]}"
    assert main(["push", str(path), "--project", name, *target, "--models", str(env / "m")]) == 0
    sdk, studio = label_studio.client(), label_studio.studio()
    project = studio.find_project(name)
    first = _tasks(sdk, project.id)[0]
    sdk.annotations.create(id=first.id, result=[], completed_by=studio.whoami()[0])
    # a registered version, refreshed onto every task including the annotated one
    from slant.loop.train import retrain

    recs = [{"id": f"x{i}", "doc_id": f"d{i % 4}", "text": s.text, "labels": ["attribution_vague"] if _is_poll(s.text) else []}
            for i, s in enumerate(s for d in read_documents([path]) for s in d.sentences)]
    version = retrain(recs * 1, taxonomy=tax, registry=Registry(env / "m"), base="none", cv=2).version
    capsys.readouterr()
    assert main(["push", "--refresh", "--all", "--project", name, "--model", version, *target, "--models", str(env / "m")]) == 0
    assert f"7 of 7 tasks got predictions from {version}" in capsys.readouterr().out
    assert all(version in {p["model_version"] for p in _preds(t)} for t in _tasks(sdk, project.id))

    for argv, match in [
        (["push", "--refresh", "--project", "no such project here", *target], "no project called 'no such project here'"),
        (["push", str(path), "--refresh", "--project", name, *target], "--refresh adds predictions to the project's existing tasks and reads no files"),
        (["push", "--project", name, *target], "pass one or more FILEs to push, --from DIR"),
        (["push", str(path), "--all", "--project", name, *target], "--all goes with --refresh"),
        (["push", "--refresh", "--project", name, "--model", "trained-nope", *target, "--models", str(env / "m")],
         "model version 'trained-nope' is not in the registry"),
        (["push", str(path), "--select", "0", "--project", name, *target], "--select 0: choose at least 1 sentence"),
    ]:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert match in err and "Traceback" not in err, (argv, err)


def test_push_select_sends_the_most_uncertain_with_their_uncertainty(label_studio, env, capsys):
    tax = load_taxonomy()
    target = ["--url", label_studio.url, "--api-key", label_studio.api_key, "--models", str(env / "m")]
    rng = random.Random(3)
    corpus = env / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for i in range(30):
            fh.write(json.dumps({"id": f"c{i}", "text": _article(i, rng)}) + "\n")
    name = f"select {uuid.uuid4().hex[:6]}"
    for strategy in ("uncertainty", "diverse"):
        assert main(["push", str(corpus), "--select", "8", "--strategy", strategy, "--project", name, *target]) == 0
        said = capsys.readouterr().out
        assert "selected 8 of" in said and f"by {strategy}" in said
    sdk, studio = label_studio.client(), label_studio.studio()
    project = studio.find_project(name)
    tasks = _tasks(sdk, project.id)
    assert len(tasks) == 16  # the second selection skipped what the first had pushed
    first = [t for t in tasks if t.data["selection"] == "uncertainty"]
    # what was pushed is the top 8 by uncertainty of everything in the corpus
    from slant.loop.select import uncertainty_scores
    from slant.model.seed import load_model
    from slant.studio.lsformat import task_data

    model = load_model(None, taxonomy=tax, cache_dir=env / "cache")
    datas = [d for doc in read_documents([corpus]) for d in task_data(doc, taxonomy=tax)]
    unc = uncertainty_scores(model.estimator.predict_proba([d["text"] for d in datas]), model.estimator.thresholds_)
    floor = sorted(unc, reverse=True)[7]
    assert all(t.data["uncertainty"] >= round(float(floor), 4) - 1e-4 for t in first)
    for t in tasks:
        assert 0 <= t.data["uncertainty"] <= 1 and t.data["informativeness"] >= 0
        (pred,) = _preds(t)
        # the prediction's score is the confidence of the shown labels, also in the review tab's data (#19)
        assert pred["score"] == pytest.approx(t.data["slant_confidence"], abs=1e-4)
    # the Data Manager can sort by it: order by the data field, most uncertain first
    ordered = list(sdk.tasks.list(project=project.id, fields="task_only", include="id,data", page_size=100,
                                  query=json.dumps({"ordering": ["-tasks:data.uncertainty"]})))
    values = [t.data["uncertainty"] for t in ordered]
    assert values == sorted(values, reverse=True)
