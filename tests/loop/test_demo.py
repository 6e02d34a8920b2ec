"""demo: the embedded server with the sample article pushed and pre-labelled."""

import io

import pytest

from slant.cli.main import main
from slant.loop import demo as demo_module
from slant.text.documents import read_documents


def _sentences(path):
    return [s for d in read_documents([path]) for s in d.sentences if s.kind != "byline"]


def _tasks(sdk, project_id):
    return list(sdk.tasks.list(project=project_id, fields="all", page_size=1000))


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


ARTICLE = "Harbour Fees Rise Again\n\nThe port authority slashed its maintenance budget in March, officials said.\n"


class _Server:
    url, api_key, username, reused = "http://127.0.0.1:1", "k", "admin@slant.local", False

    def __init__(self):
        self.stopped = self.served = 0

    def describe(self):
        return "Label Studio is running at http://127.0.0.1:1"

    def serve_forever(self):
        self.served += 1

    def stop(self):
        self.stopped += 1


class _Result:
    project_url = "http://127.0.0.1:1/projects/3/data?tab=1"

    def summary(self):
        return "project 'slant demo' (id 3) created"


def _fake_demo(monkeypatch, fake_model, server, fail=None):
    pushed = []

    def push(studio, paths, **kwargs):
        if fail:
            raise fail
        pushed.append(([p.read_text(encoding="utf-8")[:40] for p in paths], kwargs["project"], kwargs["model"]))
        return _Result()

    def start_studio(**kw):
        kw["progress"]("starting Label Studio (the first start sets up its database and takes a few minutes; log: x)")
        return server

    monkeypatch.setattr(demo_module, "start_studio", start_studio)
    monkeypatch.setattr(demo_module, "ensure_project", lambda studio, title, tax: (object(), True, False))
    monkeypatch.setattr(demo_module, "connect", lambda url, key: ("studio", url, key))
    monkeypatch.setattr(demo_module, "load_model", lambda path, taxonomy: fake_model())
    monkeypatch.setattr(demo_module, "push", push)
    return pushed


def test_demo_pushes_the_sample_article_and_serves(monkeypatch, fake_model):
    server, out = _Server(), io.StringIO()
    pushed = _fake_demo(monkeypatch, fake_model, server)
    result = demo_module.demo(stream=out)
    assert isinstance(result, _Result) and len(pushed) == 1
    (texts, project, model) = pushed[0]
    assert project == "slant demo" and model.model_version == "fake-1" and texts[0]
    text = out.getvalue()
    assert "Label Studio is running" in text and "project 'slant demo' (id 3) created" in text
    assert "Open http://127.0.0.1:1/projects/3/data?tab=1 and log in as admin@slant.local" in text
    assert "Press Ctrl-C to stop." in text and (server.served, server.stopped) == (1, 1)


def test_demo_says_what_it_is_doing_and_how_long_each_step_took(monkeypatch, fake_model):
    out = io.StringIO()
    _fake_demo(monkeypatch, fake_model, _Server())
    demo_module.demo(serve=False, stream=out)
    lines = out.getvalue().splitlines()
    steps = [line for line in lines if line.startswith("[")]
    assert [s.split("]")[0] + "]" for s in steps] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert "loading the default model" in steps[0] and "starting Label Studio (the first start takes a few minutes)" in steps[1]
    assert "setting up the project 'slant demo'" in steps[2] and "pushing the sample article" in steps[3]
    assert sum(1 for line in lines if line.strip().startswith("done in ") and line.endswith(" s")) == 4
    assert any("first start sets up its database" in line for line in lines)  # the server's own start message


def test_demo_without_serving_and_after_a_failed_push_stops_its_server(monkeypatch, fake_model):
    server = _Server()
    _fake_demo(monkeypatch, fake_model, server)
    demo_module.demo(serve=False, stream=io.StringIO())
    assert (server.served, server.stopped) == (0, 1)
    failing = _Server()
    _fake_demo(monkeypatch, fake_model, failing, fail=RuntimeError("import failed"))
    with pytest.raises(RuntimeError, match="import failed"):
        demo_module.demo(stream=io.StringIO())
    assert (failing.served, failing.stopped) == (0, 1)


@pytest.mark.integration
def test_demo_no_serve_reuses_running_server(label_studio, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SLANT_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["demo", "--no-serve", "--data-dir", str(label_studio.data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"Label Studio is already running at {label_studio.url}" in out
    assert f"login:     {label_studio.email}" in out and label_studio.api_key not in out
    assert label_studio.running  # a reused server is left alone
    sdk = label_studio.client()
    (project,) = [p for p in sdk.projects.list() if p.title == "slant demo"]
    from slant._files import sample_article_path

    tasks = _tasks(sdk, project.id)
    assert len(tasks) == len(_sentences(sample_article_path()))
    assert all(t.predictions for t in tasks)
    assert f"/projects/{project.id}/data?tab=" in out
    # The default push target is the embedded server of --data-dir.
    article = _write(tmp_path, "a.txt", ARTICLE)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["push", str(article), "--project", "Local default", "--data-dir", str(label_studio.data_dir)]) == 0
    assert "new tasks" in capsys.readouterr().out
