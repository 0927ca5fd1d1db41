"""rnnkit.labs.adding in its quick version: the four cells (rnn, irnn, lstm, gru) train and
are saved, and the trivial baseline's MSE is near 1/6."""

import json

from rnnkit.labs import adding

from lab_builders import assert_report


def test_adding_quick(tmp_path):
    metrics = adding.run(out_dir=tmp_path, quick=True)
    assert set(metrics["cells"]) == {"rnn", "irnn", "lstm", "gru"}
    assert 0.05 < metrics["baseline_mse"] < 0.3
    assert {"rnn", "irnn", "lstm", "gru"} == {p.name for p in (tmp_path / "models").iterdir()}
    assert "lstm" in json.loads((tmp_path / "history.json").read_text())
    html = assert_report(tmp_path, models=("gru", "irnn", "lstm", "rnn"))
    assert "Gradient flow through time (irnn)" in html



#: two cells suffice for the run-directory tests (the first model is saved, then the disk fails)
TWO_CELLS = {"model": {"cells": ["rnn", "gru"]}}


def test_a_lab_that_fails_mid_run_leaves_no_partial_and_the_earlier_run_unchanged(
        tmp_path, monkeypatch):
    import pytest

    out = tmp_path / "run"
    first = adding.run(TWO_CELLS, out_dir=out, quick=True)
    assert first["run_dir"] == str(out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    saved = []

    def save_then_fail(path, **kwargs):  # the first model is saved, then the disk fills up
        if saved:
            raise OSError(28, "No space left on device")
        saved.append(path)
        return real_save(path, **kwargs)

    real_save = adding.save_bundle
    monkeypatch.setattr(adding, "save_bundle", save_then_fail)
    with pytest.raises(OSError, match="No space left"):
        adding.run(TWO_CELLS, out_dir=out, quick=True, overwrite=True, seed=1)
    assert saved and saved[0].parent.parent != out  # it was writing a temporary sibling
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no partial, no lock
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    with pytest.raises(OSError):
        adding.run(TWO_CELLS, out_dir=tmp_path / "new", quick=True)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_second_writer_of_a_lab_run_gets_the_lock_error(tmp_path):
    import os

    import pytest

    from rnnkit._files import write_lock
    from rnnkit.errors import ConfigError

    out = tmp_path / "run"
    adding.run(TWO_CELLS, out_dir=out, quick=True)
    before = (out / "metrics.json").read_text()
    with write_lock(out), pytest.raises(ConfigError) as info:  # another writer holds "run"
        adding.run(TWO_CELLS, out_dir=out, quick=True, overwrite=True)
    assert str(info.value).startswith("--out: expected an output no other rnnkit process is "
                                      f"writing, got {str(out)!r}, locked by process "
                                      f"{os.getpid()} ({tmp_path / '.run.lock'})")
    assert (out / "metrics.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
