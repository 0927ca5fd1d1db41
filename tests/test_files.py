"""Directories moved into place whole, the previous one replaced only by a complete one."""

import os
from pathlib import Path

import pytest

from rnnkit._files import check_name, check_run_path, replace_directory
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
