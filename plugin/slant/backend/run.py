"""Running the ML backend: credentials, the app `slant serve` builds, uvicorn (one
process, or N workers building the app from a 0600 config file) and ``--connect`` once
the server answers.

>>> auth, path, generated = ensure_credentials(data_dir)
>>> serve(build=dict(data_dir=..., models_dir=...), auth=auth, port=9090)   # until Ctrl-C

The environment is read here (SLANT_SERVE_CONFIG, in each worker) and in the CLI; the
app itself takes values.
"""

import json
import logging
import os
import secrets
import sys
import threading
import time
from pathlib import Path

from slant._files import atomic_write
from slant.backend.app import AccessLog, ServerAuth, create_app
from slant.errors import DataError, SlantError

__all__ = ["app_from_env", "build_app", "ensure_credentials", "serve"]

log = logging.getLogger("slant.backend.run")

_CREDENTIALS = "ml-backend.json"


def ensure_credentials(data_dir, *, username=None, password=None, webhook_token=None):
    """`ServerAuth` for `slant serve`: the given values (from the environment), else the
    ones stored in ``<data_dir>/ml-backend.json`` (mode 0600), else new random ones,
    stored there. Returns ``(auth, path, generated)``."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / _CREDENTIALS
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored = stored if isinstance(stored, dict) else {}
    except (OSError, ValueError):
        stored = {}
    wanted = {
        "username": stored.get("username") or "slant",
        "password": stored.get("password") or secrets.token_urlsafe(24),
        "webhook_token": stored.get("webhook_token") or secrets.token_urlsafe(32),
    }
    generated = wanted != {k: stored.get(k) for k in wanted}
    if generated:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(wanted, fh, indent=2)
    if (username is None) != (password is None):
        raise DataError("set both SLANT_ML_USERNAME and SLANT_ML_PASSWORD, or neither (then `slant serve` keeps "
                        f"generated ones in {path})")
    auth = ServerAuth(username or wanted["username"], password or wanted["password"], webhook_token or wanted["webhook_token"])
    return auth, path, generated


def _wait_up(url, auth, timeout=600.0):
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", auth=(auth.username, auth.password), timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def build_app(*, auth, data_dir, models_dir, taxonomy_path=None, model_version=None, train_every=10, debounce=5.0,
              studio_url=None, studio_key=None, projects=(), cache_dir=None, model_processes=0):
    """The app `slant serve` runs: the registry's model (or `model_version`), the journal in
    ``<data_dir>/journal``, and, with a Label Studio URL and token, promotions pushed to
    the connected projects (`studio.refresh_live_predictions`)."""
    from slant.loop.train import Registry
    from slant.taxonomy.core import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    registry = Registry(models_dir)
    model = registry.load(model_version, taxonomy) if model_version else registry.current_model(taxonomy, cache_dir=cache_dir)
    on_promote = None
    if studio_url and studio_key:
        def on_promote(version, project_ids):
            from slant.studio.client import connect
            from slant.studio.ml import refresh_live_predictions

            studio = connect(studio_url, studio_key)
            for pid in sorted(set(project_ids) | {int(p) for p in projects}):
                n = refresh_live_predictions(studio, pid, version)
                log.info("project %s: asked Label Studio for %s predictions of %d unannotated tasks", pid, version, n)
    return create_app(model_source=registry, model=model, taxonomy=taxonomy, auth=auth,
                      journal_dir=Path(data_dir) / "journal", train_every=train_every, debounce=debounce,
                      on_promote=on_promote, cache_dir=cache_dir, model_processes=model_processes)


_CONFIG_ENV = "SLANT_SERVE_CONFIG"
_PARENT_ENV = "SLANT_SERVE_PARENT"
_WORKERS_FILE = "serve-workers.json"


def _die_with_parent(parent):
    """Make this worker get SIGTERM (a graceful uvicorn shutdown) when the `serve` process
    that started it dies, even by ``kill -9``: otherwise the workers keep the port and a
    restart fails with "address already in use". Linux's PR_SET_PDEATHSIG through ctypes
    (no library wraps this one call); elsewhere a thread polls the parent's pid."""
    import signal

    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    else:
        def watch():
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="slant-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # it died before the line above took effect
        os.kill(os.getpid(), signal.SIGTERM)


class _RemoveWhenOrphaned:
    """ASGI wrapper: at lifespan shutdown, a worker whose parent is gone removes the
    credentials file the parent could not (it was killed), unless a new `serve` has
    replaced it since. (Not atexit: uvicorn ends a worker by re-raising SIGTERM.)"""

    def __init__(self, app, path, parent):
        self.app, self.path, self.parent = app, path, parent
        try:
            self.inode = os.stat(path).st_ino
        except OSError:
            self.inode = None

    def remove(self):
        try:
            if os.getppid() != self.parent and os.stat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        except OSError:
            pass

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def on_receive():
            message = await receive()
            if message.get("type") == "lifespan.shutdown":
                self.remove()
            return message

        return await self.app(scope, on_receive, send)


def app_from_env():
    """uvicorn's app factory for ``--workers N``: each worker process builds the app from
    the 0600 file named by $SLANT_SERVE_CONFIG, which `serve` wrote. The worker dies with
    the `serve` process ($SLANT_SERVE_PARENT) and then removes that file."""
    path = os.environ[_CONFIG_ENV]
    parent = int(os.environ.get(_PARENT_ENV) or os.getppid())
    _die_with_parent(parent)
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    config["auth"] = ServerAuth(**config["auth"])
    return _RemoveWhenOrphaned(AccessLog(build_app(**config)), path, parent)


def _write_workers_config(path, build, auth):
    """The workers' config (it holds the password), 0600, written beside and renamed over
    any file a killed server left: never through an existing file or a link there."""
    with atomic_write(path, perms=0o600) as fh:
        json.dump({**build, "auth": {"username": auth.username, "password": auth.password,
                                     "webhook_token": auth.webhook_token}}, fh, default=str)


def serve(*, build, auth, host="127.0.0.1", port=9090, workers=1, connect=None, stream=None, log_level="info"):
    """Run the backend with uvicorn until Ctrl-C. `build` holds `build_app`'s keyword
    arguments. `connect()`, if given, runs once the server answers /health
    (``--connect``: register it with Label Studio) and its summary is printed."""
    import uvicorn

    stream = stream or sys.stdout
    if workers < 1:
        raise DataError(f"--workers {workers}: use 1 or more")
    if build.get("model_processes", 0) < 0:
        raise DataError(f"--model-processes {build['model_processes']}: use 0 (a thread) or more")
    options = dict(host=host, port=port, access_log=False, log_level=log_level, lifespan="on", timeout_graceful_shutdown=10)
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(AccessLog(build_app(auth=auth, **build)), **options))
        run = server.run
    else:
        path = Path(build["data_dir"]) / _WORKERS_FILE
        _write_workers_config(path, build, auth)
        os.environ[_CONFIG_ENV] = str(path)
        os.environ[_PARENT_ENV] = str(os.getpid())

        def run():
            try:
                uvicorn.run("slant.backend.run:app_from_env", factory=True, workers=workers, **options)
            finally:
                path.unlink(missing_ok=True)  # it holds the password
    if connect is not None:
        local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"

        def run_connect():
            if not _wait_up(local, auth):
                print(f"error: the backend did not answer on {local}/health; not registered", file=stream, flush=True)
                return
            try:
                print(connect(), file=stream, flush=True)
            except SlantError as exc:
                print(f"error: {exc}", file=stream, flush=True)

        threading.Thread(target=run_connect, name="slant-connect", daemon=True).start()
    run()
    return 0
