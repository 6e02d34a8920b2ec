"""`slant serve`: the live ML backend for Label Studio (docs/ml-backend.md)."""

import os

from slant._words import counted
from slant.cli.common import (
    add_models_option,
    add_studio_target_options,
    add_taxonomy_option,
    cache_dir,
    data_dir,
    ml_backend_credentials,
    models_dir,
    password_from_environment,
    studio_target,
)

__all__ = ["add_serve"]


def _cmd_serve(args):
    import logging
    from pathlib import Path

    from slant.backend.run import ensure_credentials, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    backend_dir = Path(args.data_dir) if args.data_dir else data_dir("ml-backend")
    models = models_dir(args)
    auth, cred_path, _ = ensure_credentials(backend_dir, **ml_backend_credentials())
    url, key = studio_target(args)
    public = (args.backend_url or f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}").rstrip("/")
    build = dict(data_dir=str(backend_dir), models_dir=str(models), taxonomy_path=args.taxonomy, model_version=args.model,
                 train_every=args.train_every, debounce=args.debounce, studio_url=url, studio_key=key,
                 cache_dir=str(cache_dir()), model_processes=args.model_processes)
    connect = None
    if args.connect:
        from slant.studio.client import connect as studio_connect
        from slant.studio.ml import connect_ml_backend

        studio = studio_connect(url, key)  # fails here, before serving, when Label Studio is unreachable

        def connect():
            return connect_ml_backend(studio, args.connect, url=public, username=auth.username, password=auth.password,
                                      webhook_url=f"{public}/webhook/{auth.webhook_token}").summary()
    where = "SLANT_ML_USERNAME/SLANT_ML_PASSWORD" if password_from_environment() else str(cred_path)
    print(f"slant ML backend: {public} (listening on {args.host}:{args.port}, {args.workers} worker(s), "
          f"{args.model_processes or 'no'} model process(es) each)\n"
          f"  basic auth user {auth.username!r}, password in {where}; webhook token in {cred_path}\n"
          f"  journal in {backend_dir / 'journal'}; retrains after {counted(args.train_every, 'new annotation')} or START_TRAINING",
          flush=True)
    return serve(build=build, auth=auth, host=args.host, port=args.port, workers=args.workers, connect=connect)


def add_serve(sub):
    p = sub.add_parser("serve", help="run the live ML backend for Label Studio (docs/ml-backend.md)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; 0.0.0.0 for another host)")
    p.add_argument("--port", type=int, default=9090)
    p.add_argument("--model", metavar="VERSION", help="serve this registered version first (default: the promoted one)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="server processes (default 1)")
    p.add_argument("--model-processes", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="processes running the model, per server process, so it never blocks the event loop "
                        "(default: 2, or 1 on a one-core machine; 0 runs it in a thread of the server)")
    p.add_argument("--connect", metavar="PROJECT", help="register the backend and its webhook with this project (title or id)")
    p.add_argument("--train-every", type=int, default=10, metavar="N",
                   help="retrain after N new annotations (default 10; 0: only on START_TRAINING)")
    p.add_argument("--debounce", type=float, default=5.0, metavar="S", help="seconds without new events before training starts")
    p.add_argument("--backend-url", metavar="URL", help="URL Label Studio uses to reach this backend (default http://HOST:PORT)")
    add_taxonomy_option(p)
    add_models_option(p)
    p.add_argument("--data-dir", metavar="DIR", help="credentials and event journal (default ~/.local/share/slant/ml-backend)")
    add_studio_target_options(
        p, url_help="Label Studio URL for --connect and model-version updates (default: $LABEL_STUDIO_URL, else the local `slant studio`)",
        api_key_help="Label Studio API token (default: $LABEL_STUDIO_API_KEY, else the local server's)",
        data_dir_flag="--studio-data-dir")
    p.set_defaults(func=_cmd_serve)
