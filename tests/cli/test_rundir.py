"""Run directories: written whole or not at all, and only rnnkit's own are ever replaced."""

import os
import stat
import subprocess
import sys
import tempfile

import pytest

from rnnkit._files import lock_path
from rnnkit.cli.rundir import MARKER, is_run, run_directory
from rnnkit.errors import ConfigError


def test_a_completed_block_becomes_the_run_with_its_marker(tmp_path):
    out = tmp_path / "runs" / "a"
    with run_directory(out, task="classification") as work:
        (work / "model.txt").write_text("weights")
        assert not out.exists()
    assert is_run(out) and (out / "model.txt").read_text() == "weights"
    assert [p.name for p in out.parent.iterdir()] == ["a"]  # no partial left behind


def test_a_failed_block_leaves_nothing(tmp_path):
    out = tmp_path / "a"
    with pytest.raises(RuntimeError), run_directory(out) as work:
        (work / "half.txt").write_text("x")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_existing_paths_are_refused_and_a_users_folder_is_never_replaced(tmp_path):
    out = tmp_path / "a"
    with run_directory(out) as work:
        (work / "v1").write_text("1")
    with pytest.raises(ConfigError, match="--out: expected a path that does not exist yet"), \
            run_directory(out):
        pass
    with run_directory(out, overwrite=True) as work:
        (work / "v2").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "v2"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(ConfigError, match="which rnnkit did not write"), \
            run_directory(mine, overwrite=True):
        pass
    assert (mine / "thesis.tex").read_text() == "years of work"
    afile = tmp_path / "notes.txt"
    afile.write_text("keep")
    with pytest.raises(ConfigError), run_directory(afile, overwrite=True):
        pass
    assert afile.read_text() == "keep"


def test_one_writer_per_run_directory(tmp_path):
    out = tmp_path / "a"
    with run_directory(out) as work:
        (work / "v1").write_text("1")
        with pytest.raises(ConfigError) as info, run_directory(out, overwrite=True):
            pass
        assert f"locked by process {os.getpid()} ({tmp_path / '.a.lock'})" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        lock_path(out).write_text(f"{sleeper.pid}\n")  # another live process writes "a"
        with pytest.raises(ConfigError, match=f"--out: .*locked by process {sleeper.pid}"), \
                run_directory(out, overwrite=True):
            pass
        assert (out / "v1").read_text() == "1" and lock_path(out).is_file()
    finally:
        sleeper.kill()
        sleeper.wait()
    with run_directory(out, overwrite=True) as work:  # its writer died: the lock is stale
        (work / "v2").write_text("2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "v2"]


def test_the_run_follows_the_umask_not_tempfiles_0700(tmp_path):
    previous = os.umask(0o022)
    try:
        with run_directory(tmp_path / "a") as work:
            fd, name = tempfile.mkstemp(dir=work)  # 0600, as tempfile makes it
            os.close(fd)
    finally:
        os.umask(previous)
    out = tmp_path / "a"
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {
        MARKER: 0o644, os.path.basename(name): 0o644}
