"""The embedded Label Studio server behind `slant studio` and `slant demo`.

Runs ``label-studio start`` from the ``studio`` extra with SQLite under a data directory
(``$XDG_DATA_HOME/slant/studio`` by default), or on PostgreSQL: a cluster of its own under
the same directory (``database="postgresql"``, see `slant.studio.postgres`) or an existing
server (``database_url="postgresql://..."``). The first start creates an admin user with
a random password and API token, kept in ``credentials.json`` (mode 0600) next to the
database; ``server.json`` records the running process so a second start reuses it.

>>> with start_studio(port=8080) as server:     # stops it on exit unless it was reused
...     print(server.url, server.username)
"""

import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from slant import _files
from slant.errors import StudioError
from slant.studio.postgres import LocalPostgres, external_target, redact_url

__all__ = ["StudioServer", "default_data_dir", "local_connection", "read_credentials", "run_studio", "start_studio", "server_env"]

_CREDENTIALS = "credentials.json"
_STATE = "server.json"
_LOG = "server.log"
_STARTED = re.compile(r"Starting development server at https?://[^\s:/]+:(\d+)/")


def default_data_dir():
    """``$XDG_DATA_HOME/slant/studio``, else ``~/.local/share/slant/studio``."""
    return _files.data_dir("studio")


def _write_private(path, data):
    """Write JSON readable by the owner only; the mode is set before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_credentials(data_dir):
    """The stored ``{"username", "password", "api_key", ...}`` of a data dir, or None."""
    creds = _read_json(Path(data_dir) / _CREDENTIALS)
    return creds if isinstance(creds, dict) and creds.get("api_key") else None


def _ensure_credentials(data_dir):
    creds = read_credentials(data_dir)
    if creds:
        return creds, False
    creds = {
        "username": "admin@slant.local",
        "password": secrets.token_urlsafe(18),
        "api_key": secrets.token_hex(20),  # Label Studio's legacy token field holds 40 chars
        "secret_key": secrets.token_urlsafe(48),  # a fixed Django key keeps logins across restarts
    }
    _write_private(Path(data_dir) / _CREDENTIALS, creds)
    return creds, True


def _health(url, timeout=2.0):
    try:
        r = httpx.get(f"{url}/health", timeout=timeout)
        return r.status_code == 200 and r.json().get("status") == "UP"
    except (httpx.HTTPError, ValueError):
        return False


def _alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, ValueError, TypeError):
        return False


def _token_works(url, api_key):
    try:
        r = httpx.get(f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {api_key}"}, timeout=5)
        return r.status_code == 200
    except httpx.HTTPError:
        return False


def local_connection(data_dir):
    """``(url, api_key)`` of the embedded server running for `data_dir`, or None."""
    creds, state = read_credentials(data_dir), _read_json(Path(data_dir) / _STATE)
    if not creds or not isinstance(state, dict) or not _alive(state.get("pid")) or not _health(state.get("url", "")):
        return None
    return state["url"], creds["api_key"]


def server_env(data_dir, creds, base=None, database_env=None):
    """The environment `label-studio start` runs with: local, quiet, legacy tokens on.

    `database_env` (``PostgresTarget.label_studio_env()``) points it at PostgreSQL; SQLite otherwise.
    """
    env = dict(os.environ if base is None else base)
    for key in [k for k in env if k.startswith("POSTGRE_")]:
        del env[key]  # only the database slant chose
    env.update(database_env or {"DJANGO_DB": "sqlite"})
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_USERNAME": creds["username"],
        "LABEL_STUDIO_PASSWORD": creds["password"],
        "LABEL_STUDIO_USER_TOKEN": creds["api_key"],
        "SECRET_KEY": creds["secret_key"],
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "COLLECT_ANALYTICS": "false",
        "LATEST_VERSION_CHECK": "false",  # no call to pypi.org at start-up
        # The live ML backend runs on this machine; Label Studio must be allowed to call it.
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
    })
    return env


@dataclass
class StudioServer:
    """A running embedded Label Studio; `process` is None when it was already running."""

    url: str
    port: int
    username: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    data_dir: Path
    process: subprocess.Popen = field(default=None, repr=False)
    first_start: bool = False
    requested_port: int = None
    database: str = "SQLite"
    postgres: LocalPostgres = field(default=None, repr=False)

    @property
    def reused(self):
        return self.process is None

    @property
    def credentials_path(self):
        return Path(self.data_dir) / _CREDENTIALS

    @property
    def log_path(self):
        return Path(self.data_dir) / _LOG

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def describe(self):
        """What a person needs to log in; neither the password nor the token is shown."""
        lines = [f"Label Studio is {'already ' if self.reused else ''}running at {self.url} ({self.database})"]
        if self.requested_port and self.port != self.requested_port and not self.reused:
            lines.append(f"  (port {self.requested_port} was busy, so it took port {self.port})")
        lines.append(f"  login:     {self.username}")
        # Passwords are never printed: the file (mode 0600) holds it for its owner.
        lines.append(f"  password:  the \"password\" field of {self.credentials_path} (readable by you only)")
        lines.append("  API token: in the same file; `slant push` uses it when no --url/--api-key is given")
        return "\n".join(lines)

    def stop(self, *, kill=False, timeout=20):
        """Stop the server if this object started it, then its PostgreSQL (SIGKILL to both with `kill`, for fault tests)."""
        try:
            self._stop_studio(kill=kill, timeout=timeout)
        finally:
            if self.postgres is not None:
                self.postgres.stop(kill=kill)

    def _stop_studio(self, *, kill, timeout):
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        state = _read_json(Path(self.data_dir) / _STATE)
        if isinstance(state, dict) and state.get("pid") == proc.pid:
            (Path(self.data_dir) / _STATE).unlink(missing_ok=True)

    def serve_forever(self, poll=0.5):
        """Block until Ctrl-C (or SIGTERM), then stop the server; returns its exit code."""
        if self.process is None:
            return 0  # a reused server belongs to the process that started it

        def _term(signum, frame):
            raise KeyboardInterrupt

        main = threading.current_thread() is threading.main_thread()
        # SIGINT too: a process started in the background inherits SIGINT ignored, and
        # Python then never raises KeyboardInterrupt, so Ctrl-C would not stop the server.
        previous = {sig: signal.signal(sig, _term) for sig in (signal.SIGTERM, signal.SIGINT)} if main else {}
        try:
            while self.process.poll() is None:
                time.sleep(poll)
            self.stop()  # Label Studio died: its PostgreSQL goes too
            return self.process.returncode
        except KeyboardInterrupt:
            self.stop()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _log_tail(path, lines=15):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _reuse(data_dir, creds, requested_port, database):
    state = _read_json(Path(data_dir) / _STATE)
    if not isinstance(state, dict) or not _alive(state.get("pid")):
        return None
    url = state.get("url", "")
    if not (_health(url) and _token_works(url, creds["api_key"])):
        return None
    running = state.get("database", "SQLite")
    if running != database:
        raise StudioError(f"a Label Studio on {running} is already running for {data_dir} at {url}; stop it (Ctrl-C "
                          f"where it was started) before starting it on {database}")
    return StudioServer(url=url, port=int(state["port"]), username=creds["username"], password=creds["password"],
                        api_key=creds["api_key"], data_dir=Path(data_dir), requested_port=requested_port,
                        database=running)


def _database(data_dir, database, database_url):
    """``(description, LocalPostgres or None, env for Label Studio or None)``; the cluster is not started yet."""
    if database_url:
        target = external_target(database_url, env_password=os.environ.get("PGPASSWORD"),
                                 pgpass_path=os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
        return f"PostgreSQL at {redact_url(database_url)}", None, target.label_studio_env()
    if database in (None, "sqlite"):
        return "SQLite", None, None
    if database != "postgresql":
        raise StudioError(f"--database {database!r}: choose sqlite or postgresql")
    return "PostgreSQL (local cluster)", LocalPostgres(data_dir), None


def start_studio(*, data_dir=None, port=8080, host="127.0.0.1", timeout=300.0, progress=None, database="sqlite",
                 database_url=None):
    """Start (or reuse) the embedded Label Studio for `data_dir` and wait for ``/health``.

    Label Studio silently moves to the next free port when `port` is busy; the port it
    really took is read from its log. `database` is ``"sqlite"`` (the default) or
    ``"postgresql"`` (a cluster under `data_dir`, started first and stopped after Label
    Studio); `database_url` uses an existing PostgreSQL server. Raises `StudioError` when
    the ``studio`` extra is missing or the server does not come up within `timeout` seconds.
    `progress`, if given, is called with a line of text when the start begins and every
    30 s while it waits.
    """
    say = progress or (lambda line: None)
    if importlib.util.find_spec("label_studio") is None:
        raise StudioError("Label Studio is not installed; install it with: pip install 'slant[studio]'")
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)  # it will hold the credentials
    creds, first = _ensure_credentials(data_dir)
    described, postgres, db_env = _database(data_dir, database, database_url)
    reused = _reuse(data_dir, creds, port, described)
    if reused is not None:
        return reused
    if postgres is not None:
        db_env = postgres.start().target.label_studio_env()
    log_path = data_dir / _LOG
    say(f"starting Label Studio ({'the first start sets up its database and takes a few minutes' if first else 'about a minute'}; "
        f"log: {log_path})")
    log = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8")
    cmd = [sys.executable, "-m", "label_studio.server", "start", "--no-browser", "--port", str(port),
           "--internal-host", host, "--data-dir", str(data_dir), "--enable-legacy-api-token"]
    # Own session: a Ctrl-C in the terminal reaches slant, which stops the server in order.
    try:
        proc = subprocess.Popen(cmd, env=server_env(data_dir, creds, database_env=db_env), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    except BaseException:
        if postgres is not None:
            postgres.stop()
        raise
    log.close()
    server = StudioServer(url="", port=0, username=creds["username"], password=creds["password"],
                          api_key=creds["api_key"], data_dir=data_dir, process=proc, first_start=first,
                          requested_port=port, database=described, postgres=postgres)
    try:
        began = time.monotonic()
        deadline, told = began + timeout, began
        while time.monotonic() < deadline:
            if time.monotonic() - told >= 30:
                told = time.monotonic()
                say(f"  still starting Label Studio ({told - began:.0f} s so far)")
            if proc.poll() is not None:
                raise StudioError(
                    f"Label Studio exited with code {proc.returncode} while starting; its log {log_path} ends with:\n"
                    f"{_log_tail(log_path)}"
                )
            if not server.port:
                found = _STARTED.findall(_log_tail(log_path, 400))
                if found:
                    server.port = int(found[-1])
                    server.url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{server.port}"
            if server.port and _health(server.url):
                _write_private(data_dir / _STATE, {"pid": proc.pid, "port": server.port, "url": server.url,
                                                   "database": described})
                return server
            time.sleep(0.5)
        raise StudioError(
            f"Label Studio did not answer on /health within {timeout:.0f} s; see {log_path}, "
            "or stop other Label Studio servers and try again"
        )
    except BaseException:
        server._stop_studio(kill=True, timeout=20)
        if postgres is not None:
            postgres.stop()  # cleanly: its data is fine
        raise


def run_studio(*, data_dir=None, port=8080, host="127.0.0.1", stream=None, database="sqlite", database_url=None):
    """`slant studio`: start or reuse the embedded server, print the login, serve until Ctrl-C."""
    stream = stream or sys.stdout
    server = start_studio(data_dir=data_dir, port=port, host=host, progress=lambda line: print(line, file=stream, flush=True),
                          database=database, database_url=database_url)
    print(server.describe(), file=stream, flush=True)
    if server.reused:
        print("Another slant process (`slant studio` or `slant demo`) started it; stop it there with Ctrl-C.", file=stream)
        return 0
    print("Press Ctrl-C to stop.", file=stream, flush=True)
    code = server.serve_forever()
    print("Label Studio" + (" and its PostgreSQL" if server.postgres else "") + " stopped.", file=stream)
    return code
