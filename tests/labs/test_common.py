"""What every lab shares: the verdict line."""

import pytest

from rnnkit.labs._common import verdict


def test_a_quick_run_is_a_smoke_test_not_a_failed_bar():
    assert verdict(True, quick=False) == "passed"
    assert verdict(False, quick=False) == "NOT passed"
    for passed in (True, False, None):
        assert verdict(passed, quick=True) == (
            "not checked (--quick is a smoke test; the bar is for the full run)")


def test_a_lab_never_writes_into_a_folder_it_did_not_make(tmp_path):
    from rnnkit.errors import ConfigError
    from rnnkit.labs._common import run_directory

    first = run_directory(tmp_path / "run", "adding")
    (first / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match="--out: expected a new or empty directory.*--overwrite"):
        run_directory(first, "adding")
    again = run_directory(first, "adding", overwrite=True)  # an earlier lab run: replaced
    assert again == first and not (first / "metrics.json").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(ConfigError, match="which rnnkit did not write"):
        run_directory(mine, "adding", overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep"
    assert run_directory(tmp_path / "empty", "adding").is_dir()  # new or empty: fine
