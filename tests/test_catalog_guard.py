"""Builds that cannot damage the catalogue file: killed builds, concurrent builds, full disks and
read-only targets (``evidence/catalog/guard.py``)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from evidence.catalog import build as build_mod
from evidence.catalog.build import build_catalog
from evidence.catalog.guard import lock_path, temp_files
from evidence.cli.main import app
from evidence.errors import BuildError

TESTS = Path(__file__).parent
OWN = TESTS / "fixtures" / "studies"
#: a build that stops after writing every row, before the rename (SQLite) or the swap (PostgreSQL)
PAUSED_BUILD = """
import sys, time
import evidence.catalog.build as b
real = b._create_and_insert
def paused(conn, rows):
    real(conn, rows)
    print("MID-BUILD", flush=True)
    time.sleep(120)
b._create_and_insert = paused
b.build_catalog(sys.argv[1], sys.argv[2], progress=False)
"""


def paused_build(studies: Path, target: str) -> subprocess.Popen:
    """Start a build in another process and return once it is midway (rows written, not yet visible)."""
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_BUILD, str(studies), target], cwd=TESTS.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if "MID-BUILD" not in line:
        proc.kill()
        pytest.fail(f"the paused build did not get midway: {line}{proc.stdout.read()}")
    return proc


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


@pytest.fixture
def studies(tmp_path) -> Path:
    d = tmp_path / "studies"
    d.mkdir()
    for f in OWN.glob("*.yaml"):
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture
def built(studies, tmp_path) -> Path:
    out = tmp_path / "cat" / "catalog.db"
    build_catalog(studies, out, progress=False)
    return out


def test_killed_build_leaves_old_catalogue_and_next_build_cleans_up(studies, built):
    before = built.read_bytes()
    shutil.copy(OWN / "alpha-2010-cct.yaml", studies / "alpha-copy.yaml")  # a change the killed build would add
    (studies / "alpha-copy.yaml").write_text((studies / "alpha-copy.yaml").read_text().replace(
        "id: alpha-2010-cct", "id: alpha-copy"))
    proc = paused_build(studies, str(built))
    assert temp_files(built)  # midway: the new catalogue exists only as a temp file
    kill(proc)
    assert built.read_bytes() == before  # the reader still sees the previous catalogue, byte for byte
    assert temp_files(built) and lock_path(built).exists()  # what SIGKILL leaves behind
    s = build_catalog(studies, built, progress=False)  # the next build removes it and succeeds
    assert s.n_studies == 6 and not temp_files(built) and not lock_path(built).exists()
    assert sorted(p.name for p in built.parent.iterdir()) == ["catalog.db"]


def test_two_builds_at_once_are_refused_not_interleaved(studies, built):
    before = built.read_bytes()
    proc = paused_build(studies, str(built))
    try:
        with pytest.raises(BuildError, match=rf"another `evidence build` \(pid {proc.pid}\) is writing"):
            build_catalog(studies, built, progress=False)
        res = CliRunner().invoke(app, ["build", "--studies", str(studies), "--catalog", str(built), "--no-progress"])
        assert res.exit_code == 1 and "another `evidence build`" in res.output and "Traceback" not in res.output
        assert built.read_bytes() == before
    finally:
        kill(proc)
    build_catalog(studies, built, progress=False)  # the lock died with its holder
    assert sorted(p.name for p in built.parent.iterdir()) == ["catalog.db"]


@pytest.mark.parametrize("failure", [
    OSError(errno.ENOSPC, "No space left on device"),
    OperationalError("INSERT INTO effect ...", {}, Exception("database or disk is full")),  # SQLite's own words
])
def test_full_disk_is_one_line_and_keeps_the_old_catalogue(studies, built, monkeypatch, failure):
    before = built.read_bytes()

    def full(engine, rows, **kw):
        raise failure

    monkeypatch.setattr(build_mod, "write_rows", full)
    with pytest.raises(BuildError) as err:
        build_catalog(studies, built, progress=False)
    msg = str(err.value)
    assert msg.startswith("no space left on the disk holding") and "previous catalogue is unchanged" in msg
    assert "\n" not in msg
    assert built.read_bytes() == before and sorted(p.name for p in built.parent.iterdir()) == ["catalog.db"]


def test_read_only_target_is_one_line(studies, monkeypatch, tmp_path):
    target = Path("/sys/catalog.db")  # sysfs refuses new files even to root
    if os.access("/sys", os.W_OK) and os.geteuid() != 0:
        pytest.skip("/sys is writable here")
    with pytest.raises(BuildError, match=r"cannot write to /sys \(read-only or no permission\)"):
        build_catalog(studies, target, progress=False)
    out = tmp_path / "catalog.db"

    def read_only_fs(*a, **kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(build_mod.tempfile, "mkstemp", read_only_fs)
    res = CliRunner().invoke(app, ["build", "--studies", str(studies), "--catalog", str(out), "--no-progress"])
    assert res.exit_code == 1 and "read-only or no permission" in res.output and "nothing was written" in res.output
    assert not out.exists() and not list(tmp_path.glob(".catalog.db*"))


def test_stale_temp_files_are_removed_only_by_the_lock_holder(studies, built):
    stale = built.parent / f".{built.name}.abc123.tmp"
    stale.write_bytes(b"half a catalogue")
    other = built.parent / ".other.db.x.tmp"  # another target's temp file is not ours to remove
    other.write_bytes(b"")
    time.sleep(0.01)
    build_catalog(studies, built, progress=False)
    assert not stale.exists() and other.exists()
