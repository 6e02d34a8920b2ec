"""`slant demo`: the embedded Label Studio with the bundled sample article pushed and
pre-labelled by the default model, ready to review.

>>> demo(serve=False)      # doctest: +SKIP
"""

import sys
from importlib.resources import as_file

from slant._files import sample_article_path
from slant.loop.push import ConsoleProgress, push
from slant.model.seed import load_model
from slant.studio.client import connect
from slant.studio.server import start_studio
from slant.taxonomy.core import load_taxonomy

__all__ = ["demo"]


def demo(*, data_dir=None, port=8080, serve=True, project="slant demo", cache_dir=None, stream=None):
    """`slant demo`: embedded server + the bundled sample article pushed with predictions."""
    stream = stream or sys.stdout
    taxonomy = load_taxonomy()
    model = load_model(None, taxonomy=taxonomy)
    server = start_studio(data_dir=data_dir, port=port)
    try:
        print(server.describe(), file=stream, flush=True)
        studio = connect(server.url, server.api_key)
        with as_file(sample_article_path()) as article, ConsoleProgress(total=1) as progress:
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
