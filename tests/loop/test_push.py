"""push: input checks, prefetching, progress; push, re-push and a killed push against a real Label Studio."""

import socket

import pytest
from label_studio_sdk.label_interface import LabelInterface

from slant.cli.main import main
from slant.errors import InputError, StudioError
from slant.loop.prelabel import Batch
from slant.loop.push import ConsoleProgress, PushResult, _prefetched, count_documents, push
from slant.studio.client import connect
from slant.studio.projects import REVIEW_VIEW_TITLE
from slant.text.documents import read_documents

ARTICLE = """Harbour Fees Rise Again

The port authority slashed its maintenance budget in March, officials said.
Critics say the scheme is a disaster for small fishing crews.
“We were never consulted,” said Ana Ruiz, who chairs the fishers' cooperative.
Fees will rise by 12 percent next year.
The authority's board meets on Thursday.
Some members have asked whether the audit was ever finished.
"""

SPECIAL = """Odd Characters In The News

He typed <script>alert("x")</script> & "quotes" into the form, critics say.
The 😀 emoji came before the slashed budget line.
הוועדה אישרה את התקציב and the scheme passed.
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _sentences(path):
    return [s for d in read_documents([path]) for s in d.sentences if s.kind != "byline"]


def _tasks(sdk, project_id):
    return list(sdk.tasks.list(project=project_id, fields="all", page_size=1000))


def _pred_dict(p):
    return p if isinstance(p, dict) else p.model_dump()


def _requested(studio):
    """The URL paths `studio` asks for from now on (an httpx event hook on its client)."""
    paths = []
    studio.sdk._client_wrapper.httpx_client.httpx_client.event_hooks["request"].append(lambda r: paths.append(r.url.path))
    return paths


# --- without a server -----------------------------------------------------------------

def test_push_checks_input_files_and_batch_size(tmp_path, tax, fake_model):
    with pytest.raises(InputError, match=r"nope.txt: no such file; check the path"):
        push(None, [tmp_path / "nope.txt"], project="p", taxonomy=tax, model=fake_model())
    with pytest.raises(InputError, match=r"no readable documents inside"):
        push(None, [tmp_path], project="p", taxonomy=tax, model=fake_model())
    with pytest.raises(InputError, match=r"--batch-size 0 must be at least 1"):
        push(None, [tmp_path], project="p", taxonomy=tax, model=fake_model(), batch_size=0)
    with pytest.raises(InputError, match=r"no input files"):
        push(None, [], project="p", taxonomy=tax, model=fake_model())


def test_a_too_short_project_name_fails_before_a_lazy_model_loads(tmp_path, tax):
    from slant.model.lazy import LazyModel

    article, loads = _write(tmp_path, "a.txt", ARTICLE), []
    model = LazyModel("fake-1", lambda: loads.append(1))
    with pytest.raises(InputError, match=r"project name 'ab' is too short; Label Studio needs at least 3 characters"):
        push(None, [article], project="ab", taxonomy=tax, model=model)  # None: no server is asked either
    assert loads == [] and not model.loaded


def test_prefetched_keeps_order_and_raises_worker_errors():
    assert list(_prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def broken():
        yield 1
        raise InputError("bad file")

    got = []
    with pytest.raises(InputError, match="bad file"):
        for item in _prefetched(broken()):
            got.append(item)
    assert got == [1]
    # A consumer that stops early does not leave the worker blocked forever.
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = _prefetched(endless())
    assert next(stream) == 0
    stream.close()
    import time

    time.sleep(0.3)
    settled = len(produced)
    time.sleep(0.3)
    assert len(produced) == settled <= 4


def test_console_progress_plain_lines_in_the_summary_wording(capsys, tax):
    import io

    stream = io.StringIO()
    with ConsoleProgress(stream, total=3, interval=0) as show:
        show(Batch([], documents=1, sentences=1, duplicates=2), 1)
    assert stream.getvalue() == "pushing: 1 of 3 documents, 1 sentence, 1 new task, 2 duplicates skipped so far\n"


def test_a_short_push_prints_its_counts_once(capsys, tax):
    import io

    # the summary follows: a push shorter than the interval prints no progress line repeating it
    stream = io.StringIO()
    with ConsoleProgress(stream, total=1) as show:
        show(Batch([], documents=1, sentences=7, duplicates=0), 7)
    assert stream.getvalue() == ""


def test_push_summary_counts_in_words():
    result = PushResult(project_id=3, project_title="p", project_url="u", created=False, config_updated=False,
                        documents=1, sentences=1, new_tasks=0, duplicates=1, model_version="m", model_version_set=True)
    assert "1 document, 1 sentence, 0 new tasks, 1 duplicate skipped" in result.summary()


def test_count_documents_sizes_the_progress_bar(tmp_path):
    feed = _write(tmp_path, "feed.jsonl", '{"id": 1, "text": "a"}\n\n{"id": 2, "text": "b"}\n')
    assert count_documents([feed, _write(tmp_path, "a.txt", "x"), tmp_path / "missing.md"]) == 4


# --- against the session's real Label Studio ------------------------------------------

@pytest.mark.integration
def test_wrong_token_is_refused_and_leaves_no_project(label_studio, tmp_path, capsys):
    article = _write(tmp_path, "a.txt", ARTICLE)
    before = {p.title for p in label_studio.client().projects.list()}
    code = main(["push", str(article), "--project", "Wrong token project", "--url", label_studio.url, "--api-key", "0" * 40])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"error: Label Studio at {label_studio.url} refused the API token (HTTP 401" in err
    assert {p.title for p in label_studio.client().projects.list()} == before


@pytest.mark.integration
def test_push_creates_project_and_repush_adds_nothing(label_studio, tmp_path, tax, fake_model):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    sentences = _sentences(article)
    studio, model = label_studio.studio(), fake_model()
    first = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, batch_size=4, cache_dir=tmp_path / "cache")
    assert first.created and first.new_tasks == len(sentences) == first.sentences and first.duplicates == 0
    assert first.label_counts == {"loaded_language": 2, "attribution_vague": 1}
    assert first.model_version_set and "Harbour push" in first.summary()
    sdk = label_studio.client()
    project = sdk.projects.get(id=first.project_id)
    assert project.model_version == "fake-1" and project.sampling == "Sequential sampling"
    assert "taxonomy rhetoric 1.0.0" in project.description
    views = [v for v in sdk.views.list(project=first.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE]
    assert len(views) == 1 and views[0].data["ordering"] == ["-tasks:data.slant_uncertainty"]
    assert "tasks:id" in views[0].data["hiddenColumns"]["explore"]
    assert first.project_url.endswith(f"/projects/{first.project_id}/data?tab={views[0].id}")
    # the tab lists the least certain sentence first, by the task's own uncertainty field
    listed = list(sdk.tasks.list(project=first.project_id, view=views[0].id, fields="all", page_size=100))
    order = [t.data["slant_uncertainty"] for t in listed]
    assert len(order) == len(sentences) and order == sorted(order, reverse=True) and order[0] > order[-1]
    assert all(_pred_dict(t.predictions[0])["score"] == t.data["slant_confidence"] for t in listed)

    requested = _requested(studio)
    again = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, cache_dir=tmp_path / "cache")
    assert (again.created, again.new_tasks, again.duplicates, again.sentences) == (False, 0, len(sentences), len(sentences))
    assert requested and "/api/dm/columns/" not in requested  # nothing imported: the columns are not asked for
    no_cache = push(studio, [article, article], project="Harbour push", taxonomy=tax, model=model)
    assert (no_cache.new_tasks, no_cache.duplicates) == (0, 2 * len(sentences))
    assert len(_tasks(sdk, first.project_id)) == len(sentences)
    assert len([v for v in sdk.views.list(project=first.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE]) == 1

    # a tab made by an older slant (ordered by prediction score) is brought to the new layout on the next push
    sdk.views.update(id=views[0].id, project=first.project_id, data={"title": REVIEW_VIEW_TITLE, "ordering": ["tasks:predictions_score"]})
    push(studio, [article], project="Harbour push", taxonomy=tax, model=model, cache_dir=tmp_path / "cache")
    assert sdk.views.get(id=views[0].id).data["ordering"] == ["-tasks:data.slant_uncertainty"]

    # A task deleted in Label Studio puts the local ledger out of step: it is noticed and
    # exactly that sentence is sent again.
    victim = _tasks(sdk, first.project_id)[2]
    sdk.tasks.delete(id=victim.id)
    requested.clear()
    healed = push(studio, [article], project="Harbour push", taxonomy=tax, model=model, cache_dir=tmp_path / "cache")
    assert healed.new_tasks == 1 and requested.count("/api/dm/columns/") == 2  # before the import and after it
    texts = sorted(t.data["text"] for t in _tasks(sdk, first.project_id))
    assert texts == sorted(s.text for s in sentences)


@pytest.mark.integration
def test_pushed_predictions_are_valid_and_ordered(label_studio, tmp_path, tax, fake_model):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    result = push(label_studio.studio(), [article], project="Harbour validity", taxonomy=tax, model=fake_model())
    sdk = label_studio.client()
    interface = LabelInterface(sdk.projects.get(id=result.project_id).label_config)
    tasks = _tasks(sdk, result.project_id)
    assert tasks
    for task in tasks:
        (pred,) = [_pred_dict(p) for p in task.predictions]
        assert pred["model_version"] == "fake-1" and 0 <= pred["score"] <= 1
        assert interface.validate_prediction({"result": pred["result"]}, return_errors=True) == []
        for region in pred["result"]:
            if region["type"] == "labels":
                v = region["value"]
                assert task.data["text"][v["start"]:v["end"]] == v["text"]
    # The review tab lists the least certain sentence first.
    view = [v for v in sdk.views.list(project=result.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE][0]
    ordered = list(sdk.tasks.list(project=result.project_id, view=view.id, fields="all", page_size=100))
    unsure = [t.data["slant_uncertainty"] for t in ordered]
    assert unsure == sorted(unsure, reverse=True)


@pytest.mark.integration
def test_personal_access_token_works(label_studio, tmp_path, tax, fake_model):
    pat = label_studio.client().tokens.create().token
    studio = connect(label_studio.url, pat)
    result = push(studio, [_write(tmp_path, "a.txt", ARTICLE)], project="PAT push", taxonomy=tax, model=fake_model())
    assert result.new_tasks == len(_sentences(tmp_path / "a.txt"))


@pytest.mark.integration
def test_special_characters_arrive_intact(label_studio, tmp_path, tax, fake_model):
    article = _write(tmp_path, "odd.txt", SPECIAL)
    expected = [s.text for s in _sentences(article)]
    assert any("<script>" in t for t in expected) and any("😀" in t for t in expected)
    result = push(label_studio.studio(), [article], project="Odd characters", taxonomy=tax, model=fake_model())
    tasks = _tasks(label_studio.client(), result.project_id)
    assert sorted(t.data["text"] for t in tasks) == sorted(expected)
    spans = 0
    for task in tasks:
        for region in _pred_dict(task.predictions[0])["result"]:
            if region["type"] == "labels":
                v = region["value"]
                assert task.data["text"][v["start"]:v["end"]] == v["text"]
                spans += 1
    assert spans == 2  # "slashed" after the emoji, "scheme" after the Hebrew


@pytest.mark.integration
def test_server_killed_mid_push_then_rerun_completes(label_studio, tmp_path, tax, fake_model):
    article = _write(tmp_path, "harbour.txt", ARTICLE)
    sentences = _sentences(article)
    studio, cache = label_studio.studio(), tmp_path / "cache"
    calls = []

    def kill_after_first_batch(batch, new_tasks):
        calls.append(new_tasks)
        if len(calls) == 1:
            label_studio.stop(kill=True)

    with pytest.raises(StudioError, match=r"(cannot reach|stopped answering).*Label Studio"):
        push(studio, [article], project="Killed mid-push", taxonomy=tax, model=fake_model(), batch_size=3,
             cache_dir=cache, progress=kill_after_first_batch)
    assert calls == [3]
    # Keep the old port busy: Label Studio moves to another one and the fixture must notice.
    old_port = label_studio.port
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", old_port))
        blocker.listen()
        label_studio.restart()
    assert label_studio.port != old_port
    rerun = push(label_studio.studio(), [article], project="Killed mid-push", taxonomy=tax, model=fake_model(),
                 batch_size=3, cache_dir=cache)
    assert (rerun.new_tasks, rerun.duplicates) == (len(sentences) - 3, 3)
    tasks = _tasks(label_studio.client(), rerun.project_id)
    assert sorted(t.data["slant_id"] for t in tasks) == sorted({t.data["slant_id"] for t in tasks})
    assert sorted(t.data["text"] for t in tasks) == sorted(s.text for s in sentences)
    assert all(len(t.predictions) == 1 for t in tasks)




@pytest.mark.integration
def test_refresh_brings_the_review_fields_up_to_date(label_studio, tmp_path, tax, fake_model):
    # The review tab sorts by slant_uncertainty and shows slant_labels and slant_confidence:
    # a refresh that replaced only the prediction left them as the old model had them.
    from slant.loop.prelabel import review_fields
    from slant.loop.push import refresh_predictions

    class Doubtful(fake_model):
        """Another model version: every sentence labelled "loaded language", the longer the less certain."""

        model_version = "fake-2"

        def predict(self, texts):
            from slant.model.slantmodel import Prediction

            return [Prediction(["loaded_language"], {"loaded_language": 0.55, "attribution_vague": 0.05}, [],
                               uncertainty=round(min(0.99, len(t) / 100), 4)) for t in texts]

    article = _write(tmp_path, "harbour.txt", ARTICLE)
    studio, sdk = label_studio.studio(), label_studio.client()
    first = push(studio, [article], project="Harbour refresh fields", taxonomy=tax, model=fake_model())
    before = {t.id: dict(t.data) for t in _tasks(sdk, first.project_id)}
    annotated = min(before)
    sdk.annotations.create(id=annotated, result=[], completed_by=studio.whoami()[0])

    result = refresh_predictions(studio, project="Harbour refresh fields", taxonomy=tax, model=Doubtful())
    assert (result.refreshed, result.annotated) == (len(before) - 1, 1)
    after = {t.id: t for t in _tasks(sdk, first.project_id)}
    for tid, task in after.items():
        if tid == annotated:  # not refreshed: its fields stay those of its own prediction
            assert task.data == before[tid]
            continue
        (new,) = [Doubtful().predict([task.data["text"]])[0]]
        wanted = review_fields(new, tax)
        assert {k: task.data[k] for k in wanted} == wanted
        assert wanted != {k: before[tid][k] for k in wanted}  # they did change
        assert {k: v for k, v in task.data.items() if k not in wanted} == {k: v for k, v in before[tid].items() if k not in wanted}
        score = [_pred_dict(p)["score"] for p in task.predictions if _pred_dict(p)["model_version"] == "fake-2"]
        assert score == [task.data["slant_confidence"]]
    # the review tab's order is the new model's
    view = [v for v in sdk.views.list(project=first.project_id) if v.data.get("title") == REVIEW_VIEW_TITLE][0]
    listed = [t.data["slant_uncertainty"] for t in sdk.tasks.list(project=first.project_id, view=view.id, fields="all", page_size=100)]
    assert listed == sorted((after[t].data["slant_uncertainty"] for t in after), reverse=True)
    # a rerun adds nothing and changes nothing
    again = refresh_predictions(studio, project="Harbour refresh fields", taxonomy=tax, model=Doubtful())
    assert (again.refreshed, again.current) == (0, len(before) - 1)
    assert {t.id: t.data for t in _tasks(sdk, first.project_id)} == {tid: t.data for tid, t in after.items()}


@pytest.mark.integration
def test_a_new_project_loads_a_lazy_model_first_and_a_repush_never(label_studio, tmp_path, tax, fake_model):
    from slant.errors import ModelError
    from slant.model.lazy import LazyModel

    article = _write(tmp_path, "harbour.txt", ARTICLE)
    studio, loads = label_studio.studio(), []

    def loader():
        loads.append(1)
        return fake_model()

    def broken():
        raise ModelError("model x: broken on purpose")

    # a model that cannot load fails before the project is created
    with pytest.raises(ModelError, match="broken on purpose"):
        push(studio, [article], project="Harbour lazy", taxonomy=tax, model=LazyModel("fake-1", broken))
    assert studio.find_project("Harbour lazy") is None
    first = push(studio, [article], project="Harbour lazy", taxonomy=tax, model=LazyModel("fake-1", loader),
                 cache_dir=tmp_path / "cache")
    assert first.created and first.new_tasks == len(_sentences(article)) and loads == [1]
    # every sentence is a duplicate: with the ledger, and with the ids read from the server
    for cache in (tmp_path / "cache", None):
        again = push(studio, [article], project="Harbour lazy", taxonomy=tax, model=LazyModel("fake-1", broken), cache_dir=cache)
        assert (again.new_tasks, again.duplicates) == (0, first.sentences)
        assert "model fake-1\n" in again.summary() and again.model_version_set
    # new sentences beside the old ones: the model is loaded for them
    more = _write(tmp_path, "more.txt", "Ferry Timetable\n\nThe slashed ferry timetable starts in May.\n")
    grown = push(studio, [article, more], project="Harbour lazy", taxonomy=tax, model=LazyModel("fake-1", loader),
                 cache_dir=tmp_path / "cache")
    assert (grown.new_tasks, grown.duplicates, loads) == (len(_sentences(more)), first.sentences, [1, 1])


@pytest.mark.integration
def test_cli_repush_of_the_sample_article_imports_no_scikit_learn(label_studio, tmp_path, default_model_cache):
    # `slant push` of an article already pushed: every sentence is a duplicate, so the model
    # is never read and scikit-learn (seconds of start-up) never imported; the summary still
    # names the model version.
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(Path(default_model_cache) / "models")  # the session's built default model
    sample = Path(__file__).resolve().parents[2] / "labels" / "sample" / "harbor-bridge.txt"
    argv = ["push", str(sample), "--project", "Sample re-push", "--url", label_studio.url, "--api-key", label_studio.api_key,
            "--models", str(tmp_path / "registry")]
    code = ("import sys\nfrom slant.cli.main import main\nrc = main(sys.argv[1:])\n"
            "print('heavy:', sorted(m for m in ('sklearn', 'scipy', 'slant.model.classifier') if m in sys.modules))\n"
            "sys.exit(rc)")
    env = {**os.environ, "SLANT_CACHE_DIR": str(cache)}
    runs = [subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=600)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    version = re.search(r"^model (seed-[0-9a-f]{12})$", runs[0].stdout, re.M).group(1)  # the loaded model's card
    assert re.search(rf"^model {version}$", runs[1].stdout, re.M), runs[1].stdout
    assert "heavy: ['scipy', 'sklearn', 'slant.model.classifier']" in runs[0].stdout  # the first push predicted
    assert "0 new tasks" in runs[1].stdout and "duplicates skipped" in runs[1].stdout
    assert "heavy: []" in runs[1].stdout, runs[1].stdout
