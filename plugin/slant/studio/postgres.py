"""PostgreSQL for the embedded Label Studio: a local cluster under the data dir, or an existing server.

`LocalPostgres` runs Debian's PostgreSQL binaries (``pg_config --bindir``, else the newest
``/usr/lib/postgresql/*/bin``) on a cluster in ``DATA_DIR/postgres``: ``initdb`` on the
first start (superuser password from a 0600 ``--pwfile``, scram-sha-256 logins), then
``postgres`` listening on a Unix socket in ``DATA_DIR/postgres/run`` only (no TCP port is
opened), and a role and database ``label_studio`` for Label Studio. The passwords live in
``DATA_DIR/postgres.json`` (mode 0600); none is ever put in argv or a log.

PostgreSQL refuses to run as root. When slant runs as root, the cluster is owned by and
run as the ``postgres`` system user that Debian's ``postgresql`` package creates; that
user must be able to reach the data dir (every parent directory needs ``o+x``).

`external_target` reads a ``postgresql://`` URL (password from the URL, else the
``PGPASSWORD`` value or ``~/.pgpass`` file the caller passes) for a server run elsewhere.

>>> pg = LocalPostgres(data_dir).start()      # doctest: +SKIP
>>> env = pg.target.label_studio_env()        # DJANGO_DB=default, POSTGRE_* for Label Studio
"""

import glob
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from slant.errors import StudioError

__all__ = ["LocalPostgres", "PostgresTarget", "external_target", "find_bindir", "redact_url"]

_CREDENTIALS = "postgres.json"
_ROLE = "label_studio"
_SUPERUSER = "slant"
_RUN_AS = "postgres"  # the system user of Debian's postgresql package
_INSTALL = "install Debian's PostgreSQL with `apt-get install postgresql` (as root), then run the command again"


@dataclass(frozen=True)
class PostgresTarget:
    """Where Label Studio's database is: host (or socket directory), port, name, role, password."""

    host: str
    port: int
    name: str
    user: str
    password: str = field(repr=False)

    def label_studio_env(self):
        """The settings Label Studio reads for PostgreSQL (passed in its environment, never argv)."""
        return {"DJANGO_DB": "default", "POSTGRE_NAME": self.name, "POSTGRE_USER": self.user,
                "POSTGRE_PASSWORD": self.password, "POSTGRE_HOST": self.host, "POSTGRE_PORT": str(self.port)}

    def describe(self):
        where = f"socket {self.host}" if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"PostgreSQL database {self.name!r} as {self.user!r} on {where}"

    def connect(self, **kwargs):
        """A psycopg connection (psycopg comes with label-studio)."""
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, dbname=self.name, user=self.user,
                               password=self.password, connect_timeout=10, **kwargs)


def redact_url(url):
    """`url` with its password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


def _pgpass_lookup(text, host, port, name, user):
    """The password of the first matching ``host:port:db:user:password`` line (``*`` matches all)."""
    for line in (text or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.replace("\\:", ":").replace("\\\\", "\\") for p in re.split(r"(?<!\\):", line.rstrip("\n"), maxsplit=4)]
        if len(parts) == 5 and all(p in ("*", str(v)) for p, v in zip(parts[:4], (host, port, name, user))):
            return parts[4]
    return None


def external_target(url, *, env_password=None, pgpass_path=None):
    """A `PostgresTarget` for ``postgresql://user[:password]@host[:port]/database``.

    The password comes from the URL, else `env_password` (the caller's ``PGPASSWORD``),
    else a matching line of the ``~/.pgpass``-style file at `pgpass_path` (which must be
    0600, as libpq demands). Messages never show the password.
    """
    parts = urlsplit(str(url))
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.path.strip("/"):
        raise StudioError(f"--database-url {redact_url(url)!r}: expected postgresql://USER@HOST[:PORT]/DATABASE")
    host, port = parts.hostname, parts.port or 5432
    name, user = unquote(parts.path.strip("/")), unquote(parts.username or "") or "postgres"
    password = unquote(parts.password) if parts.password is not None else env_password
    if password is None and pgpass_path and Path(pgpass_path).is_file():
        mode = stat.S_IMODE(Path(pgpass_path).stat().st_mode)
        if mode & 0o077:
            raise StudioError(f"{pgpass_path} is readable by others (mode {mode:o}); run `chmod 600 {pgpass_path}`")
        password = _pgpass_lookup(Path(pgpass_path).read_text(encoding="utf-8"), host, port, name, user)
    if not password:
        raise StudioError(f"no password for {redact_url(url)}: put it in the URL, set PGPASSWORD, or add a line "
                          f"'{host}:{port}:{name}:{user}:PASSWORD' to ~/.pgpass (chmod 600)")
    return PostgresTarget(host=host, port=port, name=name, user=user, password=password)


def find_bindir(pg_config=None, search="/usr/lib/postgresql/*/bin"):
    """The directory holding ``initdb`` and ``postgres``; `StudioError` naming the package when absent."""
    candidates = []
    pg_config = pg_config or shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    # Debian installs each major version side by side; newest first.
    candidates += sorted(glob.glob(search), key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
                         reverse=True)
    for d in candidates:
        if d and all(os.access(Path(d) / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return Path(d)
    raise StudioError("PostgreSQL server binaries not found (no initdb/postgres from `pg_config --bindir` or in "
                      f"/usr/lib/postgresql/*/bin); {_INSTALL}")


def _write_private(path, data, owner=None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    if owner is not None:
        os.fchown(fd, owner[0], owner[1])
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data if isinstance(data, str) else json.dumps(data, indent=2))


def _run_as():
    """``(uid, gid)`` to run PostgreSQL as: None for a normal user, the postgres user for root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(_RUN_AS)
    except KeyError:
        raise StudioError(f"PostgreSQL refuses to run as root and there is no {_RUN_AS!r} system user to run it as; "
                          f"{_INSTALL} (it creates that user)") from None
    return entry.pw_uid, entry.pw_gid


def _check_reachable(path):
    """Root's directories are often 0700; the postgres user must be able to traverse them."""
    for parent in reversed(Path(path).resolve().parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise StudioError(f"PostgreSQL runs as the {_RUN_AS!r} user (it refuses root), which cannot enter {parent} "
                              f"(mode {stat.S_IMODE(mode):o}); run `chmod o+x {parent}` or pass --data-dir under a "
                              "directory every user can enter, e.g. /var/lib/slant")


class LocalPostgres:
    """A PostgreSQL cluster in ``data_dir/postgres`` run by this process (see the module docstring)."""

    def __init__(self, data_dir, *, bindir=None, port=5432):
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "postgres"
        self.cluster, self.socket_dir, self.log_path = self.root / "data", self.root / "run", self.root / "postgres.log"
        self.bindir = Path(bindir) if bindir else None
        self.port = port  # names the socket file only: no TCP port is opened
        self.process = None
        self.orphan = None
        self.target = None

    def __repr__(self):
        return f"LocalPostgres({str(self.root)!r})"

    def _popen(self, args, owner, **kwargs):
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}  # nothing of ours leaks in
        ids = {"user": owner[0], "group": owner[1], "extra_groups": []} if owner else {}
        return subprocess.Popen([str(self.bindir / args[0]), *args[1:]], env=env, cwd="/", stdin=subprocess.DEVNULL,
                                **ids, **kwargs)

    def _log(self):
        return os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8")

    def _credentials(self):
        path = self.data_dir / _CREDENTIALS
        try:
            creds = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            creds = None
        if not isinstance(creds, dict) or not creds.get("password"):
            creds = {"superuser": _SUPERUSER, "superuser_password": secrets.token_urlsafe(24),
                     "user": _ROLE, "password": secrets.token_urlsafe(24), "database": _ROLE}
            _write_private(path, creds)
        return creds

    def _initdb(self, creds, owner):
        self.root.mkdir(mode=0o700, exist_ok=True)
        for d in (self.root, self.socket_dir):
            d.mkdir(mode=0o700, exist_ok=True)
            if owner:
                os.chown(d, *owner)
        pwfile = self.root / "initdb.pw"
        _write_private(pwfile, creds["superuser_password"] + "\n", owner)
        try:
            with self._log() as log:
                proc = self._popen(["initdb", "-D", str(self.cluster), "-U", creds["superuser"], "--pwfile", str(pwfile),
                                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8",
                                    "--locale=C.UTF-8"], owner, stdout=log, stderr=subprocess.STDOUT)
                code = proc.wait(timeout=300)
        finally:
            pwfile.unlink(missing_ok=True)
        if code != 0:
            raise StudioError(f"initdb failed (exit {code}); see {self.log_path}")

    def start(self, timeout=120):
        """Create the cluster on the first start, run it, and make sure the role and database exist."""
        self.bindir = self.bindir or find_bindir()
        owner = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if owner:  # traverse only: the files in it stay private (credentials are 0600)
            _check_reachable(self.data_dir)
            self.data_dir.chmod(stat.S_IMODE(self.data_dir.stat().st_mode) | 0o711)
        creds = self._credentials()
        if not (self.cluster / "PG_VERSION").exists():
            if self.cluster.exists():
                shutil.rmtree(self.cluster)  # a half-made cluster from an interrupted initdb
            self._initdb(creds, owner)
        admin = PostgresTarget(host=str(self.socket_dir), port=self.port, name="postgres", user=creds["superuser"],
                               password=creds["superuser_password"])
        self.orphan = self._running_orphan(admin)
        if self.orphan is None:
            log = self._log()
            self.process = self._popen(
                ["postgres", "-D", str(self.cluster), "-k", str(self.socket_dir), "-p", str(self.port),
                 "-c", "listen_addresses=", "-c", "max_connections=200"],
                owner, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            self._wait(admin, timeout)
        self._ensure_database(admin, creds)
        self.target = PostgresTarget(host=str(self.socket_dir), port=self.port, name=creds["database"],
                                     user=creds["user"], password=creds["password"])
        return self

    def _running_orphan(self, admin):
        """The pid of this cluster's postmaster left running by a slant that was killed, else None."""
        import psycopg

        try:
            pid = int((self.cluster / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            admin.connect().close()
        except (OSError, ValueError, IndexError, psycopg.Error):
            return None
        return pid  # it answers with our password: adopt it, and stop it when we stop

    def _wait(self, admin, timeout):
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise StudioError(f"PostgreSQL exited with code {self.process.returncode} while starting; see {self.log_path}")
            try:
                admin.connect().close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise StudioError(f"PostgreSQL did not accept connections within {timeout:.0f} s; see {self.log_path}") from None
                time.sleep(0.3)

    @staticmethod
    def _ensure_database(admin, creds):
        from psycopg import sql

        with admin.connect(autocommit=True) as conn:
            role = sql.Identifier(creds["user"])
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (creds["user"],)).fetchone() is None:
                # The password travels in the protocol as a literal, never in argv or a log line.
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(creds["password"])))
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (creds["database"],)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(creds["database"]), role))

    @property
    def pid(self):
        return self.orphan if self.process is None else self.process.pid

    def stop(self, *, kill=False, timeout=60):
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint); SIGKILL with `kill`."""
        if self.orphan is not None:
            self._stop_orphan(signal.SIGKILL if kill else signal.SIGINT, timeout)
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        if kill:  # the whole group: a crash takes the backends down with the postmaster
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def _stop_orphan(self, sig, timeout):
        pid, self.orphan = self.orphan, None
        try:
            os.kill(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.2)
