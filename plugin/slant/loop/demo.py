"""`slant demo`: the embedded Label Studio with the bundled sample article pushed and
pre-labelled by the default model, ready to review.

>>> demo(serve=False)      # doctest: +SKIP
"""

import sys
import time
from importlib.resources import as_file

from slant._files import sample_article_path
from slant.loop.push import ConsoleProgress, push
from slant.model.seed import load_model
from slant.studio.client import connect
from slant.studio.projects import ensure_project
from slant.studio.server import start_studio
from slant.taxonomy.core import load_taxonomy

__all__ = ["demo"]


class _Steps:
    """Numbered progress lines with how long each step took: `make demo` is otherwise
    silent for minutes on a first start (database set-up, the default model's build)."""

    def __init__(self, stream, total):
        self.stream, self.total, self.n = stream, total, 0

    def __call__(self, what):
        self.n += 1
        print(f"[{self.n}/{self.total}] {what}", file=self.stream, flush=True)
        return _Timed(self.stream)

    def note(self, line):
        print(f"      {line}", file=self.stream, flush=True)


class _Timed:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        self.began = time.monotonic()
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            print(f"      done in {time.monotonic() - self.began:.1f} s", file=self.stream, flush=True)


def demo(*, data_dir=None, port=8080, serve=True, project="slant demo", cache_dir=None, stream=None):
    """`slant demo`: embedded server + the bundled sample article pushed with predictions."""
    stream = stream or sys.stdout
    step = _Steps(stream, 4)
    taxonomy = load_taxonomy()
    with step("loading the default model (built from the seed sentences on first use, about 30 s; cached after)"):
        model = load_model(None, taxonomy=taxonomy)
    with step("starting Label Studio (the first start takes a few minutes)"):
        server = start_studio(data_dir=data_dir, port=port, progress=step.note)
    try:
        print(server.describe(), file=stream, flush=True)
        studio = connect(server.url, server.api_key)
        with step(f"setting up the project {project!r}"):
            _, created, _ = ensure_project(studio, project, taxonomy)
            if not created:
                step.note("it exists: only sentences it does not hold yet are added")
        with step("pushing the sample article, pre-labelled"), as_file(sample_article_path()) as article, \
                ConsoleProgress(total=1) as progress:
            result = push(studio, [article], project=project, taxonomy=taxonomy, model=model,
                          cache_dir=cache_dir, progress=progress)
        print(result.summary(), file=stream)
        print(f"\nOpen {result.project_url} and log in as {server.username} to review the pre-labels.", file=stream, flush=True)
        if serve and not server.reused:
            print("Press Ctrl-C to stop.", file=stream, flush=True)
            server.serve_forever()
        return result
    finally:
        server.stop()  # only a server this call started
