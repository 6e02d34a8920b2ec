"""The team file: where logins are kept, and what stops `slant team add` before any account is made."""

import pytest

from slant.errors import InputError
from slant.loop.team import add_members, read_team_file, team_file


@pytest.mark.parametrize("url, name", [
    ("http://127.0.0.1:8080", "127.0.0.1-8080.json"),
    ("https://studio.example.org", "studio.example.org-443.json"),
    ("http://localhost", "localhost-80.json"),
], ids=["port", "https", "http"])
def test_one_file_per_server(tmp_path, url, name):
    assert team_file(tmp_path, url) == tmp_path / "team" / name


def test_read_team_file(tmp_path):
    assert read_team_file(tmp_path / "absent.json") == {}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.json: not a slant team file .*move it away and rerun `slant team add`"):
        read_team_file(bad)


def test_bad_addresses_stop_before_the_server_is_asked(tmp_path):
    with pytest.raises(InputError, match=r"not an email address: 'ana', 'bo@'; pass addresses like ana@example.org"):
        add_members(None, ["ok@example.org", "ana", "bo@"], store=tmp_path / "t.json")
    assert not (tmp_path / "t.json").exists()
