"""The wheel carries schemas/ and labels/ and works outside the repository."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True, cwd=out,
    )
    (path,) = out.glob("slant-*.whl")
    return path


def test_wheel_carries_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "slant/schemas/taxonomy.schema.json" in names
    assert "slant/schemas/reviewed.schema.json" in names
    assert "slant/labels/rhetoric.json" in names
    assert any(n.startswith("slant/labels/lexicons/") for n in names)
    assert any(n.startswith("slant/labels/seed/") and n.endswith(".jsonl") for n in names)


def test_wheel_carries_every_subpackage(wheel):
    """pyproject.toml lists the packages by hand: a new subpackage must be added there."""
    names = set(zipfile.ZipFile(wheel).namelist())
    pkg = ROOT / "plugin" / "slant"
    on_disk = {p.parent.relative_to(pkg.parent).as_posix() for p in pkg.rglob("__init__.py")}
    assert on_disk == {n.rpartition("/")[0] for n in names if n.endswith("/__init__.py") and n.startswith("slant/")} - {
        "slant/schemas", "slant/labels"}
    for d in on_disk:
        assert {p.relative_to(pkg.parent).as_posix() for p in (pkg.parent / d).glob("*.py")} <= names


@pytest.mark.slow
@pytest.mark.heavy
def test_installed_wheel_checks_default_taxonomy_outside_repo(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True, cwd=tmp_path)
    where = subprocess.run(
        [str(py), "-c", "from slant._files import default_taxonomy_path; print(default_taxonomy_path())"],
        check=True, cwd=tmp_path, capture_output=True, text=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    done = subprocess.run(
        [str(venv / "bin" / "slant"), "taxonomy", "check", where], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "ok, taxonomy rhetoric 1.0.0" in done.stdout
    default = subprocess.run([str(py), "-m", "slant", "taxonomy", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert default.returncode == 0, default.stderr


def test_heavy_parts_have_their_own_marker_that_make_test_still_runs():
    import tomllib

    markers = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("heavy:") for m in markers)
    assert "pytestmark = [pytest.mark.heavy," in (ROOT / "tests" / "model" / "test_encoder.py").read_text(encoding="utf-8")
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    quick = make[make.index("\ntest-quick:"):].split("\n\n")[0]
    full = make[make.index("\ntest:"):].split("\n\n")[0]
    assert '-m "not heavy"' in quick and "encoder" not in quick.split("\n")[1]  # no torch install for the quick run
    assert "not heavy" not in full and "encoder" in full.split("\n")[1]      # the full run (CI) keeps them
