"""Directories moved into place whole, the previous one replaced only by a complete one."""

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rnnkit._files import (
    check_name,
    check_run_path,
    follow_umask,
    lock_path,
    replace_directory,
    write_lock,
)
from rnnkit.errors import ConfigError


def _dir(path, **files):
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_a_new_path_gets_the_directory(tmp_path):
    work = _dir(tmp_path / ".work", a="1")
    replace_directory(work, tmp_path / "final")
    assert (tmp_path / "final" / "a").read_text() == "1" and not work.exists()


def test_an_old_directory_is_replaced_and_nothing_is_left_aside(tmp_path):
    final = _dir(tmp_path / "final", old="x")
    replace_directory(_dir(tmp_path / ".work", new="y"), final)
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]


def test_a_failed_move_puts_the_old_directory_back(tmp_path, monkeypatch):
    final = _dir(tmp_path / "final", old="x")
    work = _dir(tmp_path / ".work", new="y")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) == 2:  # the move of the new directory into place
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        replace_directory(work, final)
    assert (final / "old").read_text() == "x"  # the user's previous result survived
    assert work.exists()


@pytest.mark.parametrize("name", ["", " ", ".", "..", "../x", "a/b", "a\\b", "x/..", "a..b",
                                  "nul\0"])
def test_names_that_are_not_one_directory_entry_are_refused(name):
    with pytest.raises(ConfigError) as info:
        check_name(name, "name", "rename it")
    assert str(info.value) == (f"name: expected a name without path separators or '..' "
                               f"(not empty), got {name!r}. rename it")


@pytest.mark.parametrize("name", ["battery", "a*", "r[x]", "run 2", ".hidden", "v1.2"])
def test_ordinary_names_pass(name):
    assert check_name(name, "name") == name
    assert check_run_path(Path("runs") / name, "--out") == Path("runs") / name


@pytest.mark.parametrize("path", [".", "..", "runs/..", "/"])
def test_a_run_path_must_end_in_a_name(path):
    with pytest.raises(ConfigError) as info:
        check_run_path(Path(path), "--out")
    assert str(info.value) == (f"--out: expected a directory path ending in a name without "
                               f"'..', got {str(Path(path))!r}. name the run directory "
                               f"itself, e.g. runs/NAME")


def dead_pid():
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def held_message(final, pid, option="--out"):
    lock = lock_path(final)
    return (f"{option}: expected an output no other rnnkit process is writing, got "
            f"{str(final)!r}, locked by process {pid} ({lock}). wait for it to finish or "
            f"choose another path; if no such process is running, delete {lock}")


def test_the_lock_holds_the_pid_and_goes_away_with_the_block(tmp_path):
    final = tmp_path / "runs" / "a"
    with write_lock(final) as lock:
        assert lock == tmp_path / "runs" / ".a.lock"
        assert lock.read_text() == f"{os.getpid()}\n"
        with pytest.raises(ConfigError) as info, write_lock(final):  # a second writer
            pass
        assert str(info.value) == held_message(final, os.getpid())
        assert lock.is_file()
    assert list(final.parent.iterdir()) == []
    with pytest.raises(RuntimeError), write_lock(final):
        raise RuntimeError("killed")
    assert list(final.parent.iterdir()) == []


def test_a_lock_held_by_a_live_process_refuses_and_is_left_alone(tmp_path):
    final = tmp_path / "a"
    lock = lock_path(final)
    lock.write_text(f"{os.getppid()}\n")
    with pytest.raises(ConfigError) as info, write_lock(final, "out_dir"):
        pass
    assert str(info.value) == held_message(final, os.getppid(), "out_dir")
    assert lock.read_text() == f"{os.getppid()}\n"


def test_a_lock_being_written_counts_as_held(tmp_path):
    final = tmp_path / "a"
    lock_path(final).write_text("")
    with pytest.raises(ConfigError, match="locked by another process"), write_lock(final):
        pass


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    final = tmp_path / "a"
    lock = lock_path(final)
    lock.write_text(f"{dead_pid()}\n")
    with write_lock(final):
        assert lock.read_text() == f"{os.getpid()}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def umask():
    """Set the umask for a test; the previous one is restored."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def modes(tree):
    return {str(p.relative_to(tree)): stat.S_IMODE(p.stat().st_mode)
            for p in [tree, *sorted(tree.rglob("*"))]}


@pytest.mark.parametrize(("mask", "dirs", "files"), [(0o022, 0o755, 0o644),
                                                     (0o027, 0o750, 0o640)])
def test_a_directory_moved_into_place_follows_the_umask(tmp_path, umask, mask, dirs, files):
    umask(mask)
    work = Path(tempfile.mkdtemp(dir=tmp_path))  # 0700, as tempfile makes it
    sub = Path(tempfile.mkdtemp(dir=work))
    fd, name = tempfile.mkstemp(dir=sub)  # 0600
    os.close(fd)
    (work / "plain.txt").write_text("x")
    replace_directory(work, tmp_path / "final")
    final = tmp_path / "final"
    assert modes(final) == {".": dirs, sub.name: dirs, f"{sub.name}/{Path(name).name}": files,
                            "plain.txt": files}


def test_follow_umask_leaves_links_alone(tmp_path, umask):
    target = tmp_path / "target.txt"
    target.write_text("x")
    target.chmod(0o600)
    tree = _dir(tmp_path / "tree")
    (tree / "link").symlink_to(target)
    follow_umask(tree)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
