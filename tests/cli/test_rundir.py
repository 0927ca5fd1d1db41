"""Run directories: written whole or not at all, and only rnnkit's own are ever replaced."""

import pytest

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
