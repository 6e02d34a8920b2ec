"""PostgreSQL for Label Studio: targets from URLs and ~/.pgpass, the binaries, and a real local cluster."""

import json
import os
import stat
import tempfile

import pytest

from slant.errors import StudioError
from slant.studio.postgres import LocalPostgres, PostgresTarget, external_target, find_bindir, redact_url
from slant.studio.server import server_env, start_studio


def test_redact_url_hides_only_the_password():
    assert redact_url("postgresql://ls:s3cr%40t@db.example.org:5433/ls") == "postgresql://ls:***@db.example.org:5433/ls"
    assert redact_url("postgresql://ls@db/ls") == "postgresql://ls@db/ls"


def test_external_target_from_the_url_the_environment_or_pgpass(tmp_path):
    t = external_target("postgresql://ls:p%40ss@db.example.org:5433/studio")
    assert (t.host, t.port, t.name, t.user, t.password) == ("db.example.org", 5433, "studio", "ls", "p@ss")
    assert "p@ss" not in repr(t)
    assert external_target("postgresql://ls@db/studio", env_password="fromenv").password == "fromenv"
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("# comment\nother:5432:*:ls:nope\ndb:*:studio:ls:pa\\:ss\n", encoding="utf-8")
    pgpass.chmod(0o600)
    assert external_target("postgresql://ls@db/studio", pgpass_path=pgpass).password == "pa:ss"
    env = t.label_studio_env()
    assert env["DJANGO_DB"] == "default" and env["POSTGRE_PORT"] == "5433" and env["POSTGRE_HOST"] == "db.example.org"


@pytest.mark.parametrize("url, message", [
    ("mysql://u@h/db", r"expected postgresql://USER@HOST\[:PORT\]/DATABASE"),
    ("postgresql://u:secret@h/", r"'postgresql://u:\*\*\*@h/': expected"),
    ("postgresql://u@h/db", r"no password for postgresql://u@h/db: put it in the URL, set PGPASSWORD, or add a line "
                            r"'h:5432:db:u:PASSWORD' to ~/.pgpass"),
], ids=["scheme", "no-database", "no-password"])
def test_external_target_errors(url, message):
    with pytest.raises(StudioError, match=message):
        external_target(url)


def test_a_pgpass_readable_by_others_is_refused(tmp_path):
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("*:*:*:*:pw\n", encoding="utf-8")
    pgpass.chmod(0o644)
    with pytest.raises(StudioError, match=r"is readable by others \(mode 644\); run `chmod 600"):
        external_target("postgresql://u@h/db", pgpass_path=pgpass)


def test_missing_binaries_name_the_debian_package(tmp_path):
    with pytest.raises(StudioError, match=r"PostgreSQL server binaries not found .*apt-get install postgresql"):
        find_bindir(pg_config=str(tmp_path / "no-pg_config"), search=str(tmp_path / "*" / "bin"))


def test_server_env_points_label_studio_at_one_database():
    base = {"PATH": "/usr/bin", "POSTGRE_HOST": "stray", "DJANGO_DB": "default"}
    creds = {"username": "u", "password": "p", "api_key": "k", "secret_key": "s"}
    assert server_env("/d", creds, base=base)["DJANGO_DB"] == "sqlite" and "POSTGRE_HOST" not in server_env("/d", creds, base=base)
    target = PostgresTarget(host="/run/pg", port=5432, name="label_studio", user="label_studio", password="pw")
    env = server_env("/d", creds, base=base, database_env=target.label_studio_env())
    assert (env["DJANGO_DB"], env["POSTGRE_HOST"], env["POSTGRE_PASSWORD"]) == ("default", "/run/pg", "pw")


def test_unknown_database_is_one_message(tmp_path):
    pytest.importorskip("label_studio")
    with pytest.raises(StudioError, match="--database 'mysql': choose sqlite or postgresql"):
        start_studio(data_dir=tmp_path, database="mysql")


@pytest.fixture
def pg_dir():
    try:
        find_bindir()
    except StudioError as exc:
        pytest.skip(f"{exc} (`make test` installs it when run as root)")
    d = tempfile.mkdtemp(prefix="slant-pg-unit-")  # /tmp: the postgres user can reach it when we are root
    yield d
    import shutil

    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.integration
def test_local_cluster_keeps_its_data_across_restarts_and_its_secrets_private(pg_dir):
    pg = LocalPostgres(pg_dir).start()
    try:
        with pg.target.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    finally:
        pg.stop()
    assert pg.process.returncode == 0  # a clean fast shutdown
    creds = json.loads((pg.data_dir / "postgres.json").read_text())
    assert stat.S_IMODE((pg.data_dir / "postgres.json").stat().st_mode) == 0o600
    assert not (pg.root / "initdb.pw").exists()
    log = pg.log_path.read_text()
    assert creds["password"] not in log and creds["superuser_password"] not in log
    pg = LocalPostgres(pg_dir).start()  # no second initdb: the same cluster, the same row
    try:
        with pg.target.connect() as conn:
            assert conn.execute("SELECT x FROM kept").fetchall() == [(42,)]
    finally:
        pg.stop(kill=True)
    pg = LocalPostgres(pg_dir).start()  # and after a crash, recovery
    try:
        with pg.target.connect() as conn:
            assert conn.execute("SELECT x FROM kept").fetchall() == [(42,)]
    finally:
        pg.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="the postgres-user path is taken only when running as root")
def test_as_root_a_data_dir_the_postgres_user_cannot_enter_is_one_message(pg_dir):
    os.chmod(pg_dir, 0o700)  # as mkdtemp makes it
    with pytest.raises(StudioError, match=rf"runs as the 'postgres' user \(it refuses root\), which cannot enter {pg_dir} "
                                          rf"\(mode 700\); run `chmod o\+x {pg_dir}`"):
        LocalPostgres(os.path.join(pg_dir, "studio")).start()


@pytest.mark.integration
def test_a_cluster_left_running_by_a_killed_slant_is_adopted_and_stopped(pg_dir):
    first = LocalPostgres(pg_dir).start()  # its owner "dies" without stopping it
    try:
        second = LocalPostgres(pg_dir).start()
        assert second.process is None and second.pid == first.process.pid
        with second.target.connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        second.stop()
        assert first.process.wait(timeout=60) == 0  # stopped cleanly through the adopted pid
    finally:
        first.stop()
