"""run_experiment: a complete run directory, written atomically, resumable; load_data errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rnnkit._files import MARKER, is_run
from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import FOLDER
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster, load_data, run_experiment
from rnnkit.training import Callback, History

EXAMPLES = FOLDER
PNG = b"\x89PNG\r\n\x1a\n"


def tiny(**sections: dict[str, Any]) -> ForecastConfig:
    base: dict[str, Any] = {
        "name": "tiny battery",
        "data": {"dataset": "battery", "dataset_args": {"n_cycles": 200}},
        "forecast": {"look_back": 10},
        "model": {"hidden_size": 4, "num_layers": 1},
        "training": {"epochs": 3, "device": "cpu", "num_threads": 1, "progress": "off"},
        "split": {"unit": "windows"},
        "evaluation": {"mlp_epochs": 5},
    }
    return ForecastConfig.from_dict(base).with_overrides(sections)


class Crash(Callback):
    """Simulates a crash (or Ctrl-C) at the end of an epoch."""

    def __init__(self, epoch: int, error: type[BaseException] = RuntimeError) -> None:
        self.epoch, self.error = epoch, error

    def on_epoch_end(self, trainer, **context) -> None:
        if context["epoch"] == self.epoch:
            raise self.error("simulated crash")


def test_run_directory_is_complete(tmp_path) -> None:
    result = run_experiment(tiny(), tmp_path / "run")
    run = result.run_dir
    assert run == tmp_path / "run"
    for name in ("config.toml", "history.json", "history.csv", "metrics.json",
                 "predictions.csv", "checkpoints/last.pt", "checkpoints/best.pt",
                 "model/model.safetensors", "model/manifest.json"):
        assert (run / name).is_file(), name
    for path in result.plots.values():
        assert path.read_bytes()[:8] == PNG
    assert ForecastConfig.from_toml(result.config_path) == tiny()
    metrics = json.loads(result.metrics_path.read_text())
    assert metrics["evaluation"]["part"] == "test"
    assert set(metrics["evaluation"]["baselines"]) == {
        "persistence", "moving_average", "linear_ar", "linear_ar_window", "mlp", "ets", "arima"}
    assert "noiseless curve (floor)" in metrics["references"]
    assert metrics["epochs_run"] == 3 and metrics["fit_seconds"] > 0
    assert metrics["evaluation"]["per_step"]["model"]["rmse"] == [
        metrics["evaluation"]["model"]["rmse"]]  # horizon 1: one step
    assert result.report is not None and result.report.primary == "rmse"
    assert History.from_json(result.history_json) == result.history
    assert pd.read_csv(result.history_csv)["loss"].tolist() == result.history["loss"]
    loaded = Forecaster.load(result.model_dir)
    pd.testing.assert_frame_equal(loaded.predict_windows(result.series),
                                  result.forecaster.predict_windows(result.series),
                                  check_exact=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    assert is_run(run) and json.loads((run / MARKER).read_text())["task"] == "forecasting"


def test_crash_leaves_no_complete_looking_run_and_resume_finishes_it(tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(tiny(), out, callbacks=[Crash(2)], plots=False)
    assert not out.exists()
    partial = [p for p in tmp_path.iterdir() if p.name.startswith(".run.partial-")]
    assert len(partial) == 1 and (partial[0] / "checkpoints" / "last.pt").is_file()
    assert not (partial[0] / "metrics.json").exists()

    resumed = run_experiment(tiny(), out, resume=True, plots=False)
    straight = run_experiment(tiny(), tmp_path / "straight", plots=False)
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.metrics["evaluation"]["model"] == straight.metrics["evaluation"]["model"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_leaves_no_run_directory(tmp_path) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_experiment(tiny(), tmp_path / "run", callbacks=[Crash(1, KeyboardInterrupt)])
    assert [p.name[:13] for p in tmp_path.iterdir()] == [".run.partial-"]


def test_existing_run_directory_needs_overwrite(tmp_path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / MARKER).write_text("{}")  # an earlier rnnkit run
    (out / "old.txt").write_text("old")
    with pytest.raises(ConfigError, match="out_dir: expected a path that does not exist yet"):
        run_experiment(tiny(), out)
    run_experiment(tiny(training={"epochs": 1}), out, overwrite=True, plots=False)
    assert not (out / "old.txt").exists() and (out / "metrics.json").is_file()
    with pytest.raises(ConfigError, match="resume: expected an interrupted run"):
        run_experiment(tiny(), tmp_path / "other", resume=True)


def test_overwrite_never_replaces_a_users_folder_or_file(tmp_path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    notes = tmp_path / "notes.txt"
    notes.write_text("keep")
    for path in (mine, notes):
        with pytest.raises(ConfigError) as info:
            run_experiment(tiny(training={"epochs": 1}), path, overwrite=True, plots=False)
        assert str(info.value) == (
            f"out_dir: expected an rnnkit run directory to overwrite, got {str(path)!r}, which "
            f"rnnkit did not write. it has no {MARKER}; choose another path")
    assert (mine / "thesis.tex").read_text() == "years of work"
    assert notes.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "notes.txt"]


def test_overwrite_replaces_a_run_written_before_markers(tmp_path) -> None:
    old = tmp_path / "run"
    (old / "model").mkdir(parents=True)
    for name in ("config.toml", "metrics.json", "model/manifest.json"):
        (old / name).write_text("old")
    run_experiment(tiny(training={"epochs": 1}), old, overwrite=True, plots=False)
    assert is_run(old) and (old / "metrics.json").read_text() != "old"


def test_wildcards_in_a_run_name_touch_no_other_runs_partial(tmp_path) -> None:
    """Partial directories are listed and compared, never globbed: completing (or resuming)
    run ``a*`` or ``r[x]`` leaves the interrupted runs ``ab`` and ``rx`` resumable."""
    for other in ("ab", "rx"):
        with pytest.raises(RuntimeError, match="simulated crash"):
            run_experiment(tiny(), tmp_path / other, callbacks=[Crash(2)], plots=False)
    partials = sorted(p.name[:9] for p in tmp_path.iterdir())
    assert partials == [".ab.parti", ".rx.parti"]
    for name in ("a*", "r[x]"):
        with pytest.raises(ConfigError, match="resume: expected an interrupted run"):
            run_experiment(tiny(), tmp_path / name, resume=True)
        run_experiment(tiny(training={"epochs": 1}), tmp_path / name, plots=False)
    for other in ("ab", "rx"):
        [partial] = [p for p in tmp_path.iterdir() if p.name.startswith(f".{other}.partial-")]
        assert (partial / "checkpoints" / "last.pt").is_file()
    assert run_experiment(tiny(), tmp_path / "ab", resume=True, plots=False).run_dir.is_dir()


def test_a_second_writer_to_the_same_run_is_refused(tmp_path) -> None:
    """A lock held by a live process (here the test's parent) refuses a new run and a resume,
    touching neither the lock nor the interrupted run's partial; a dead one is taken over."""
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(tiny(), out, callbacks=[Crash(2)], plots=False)
    [partial] = [p for p in tmp_path.iterdir() if p.name.startswith(".run.partial-")]
    lock = tmp_path / ".run.lock"
    lock.write_text(f"{os.getppid()}\n")
    for resume in (False, True):
        with pytest.raises(ConfigError) as info:
            run_experiment(tiny(), out, resume=resume, plots=False)
        assert str(info.value).startswith(
            f"out_dir: expected an output no other rnnkit process is writing, got "
            f"{str(out)!r}, locked by process {os.getppid()} ({lock})")
    assert lock.read_text() == f"{os.getppid()}\n"
    assert (partial / "checkpoints" / "last.pt").is_file() and not out.exists()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    lock.write_text(f"{child.pid}\n")  # its writer is gone: taken over
    run_experiment(tiny(), out, resume=True, plots=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_resume_refuses_a_config_the_checkpoint_cannot_honour(tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(tiny(), out, callbacks=[Crash(2)], plots=False)
    [partial] = [p for p in tmp_path.iterdir() if p.name.startswith(".run.partial-")]
    lr = tiny().training.lr
    for changes, listed in (
            ({"model": {"hidden_size": 8}}, "model.hidden_size: 4 -> 8"),
            ({"training": {"lr": 0.5}}, f"training.lr: {lr!r} -> 0.5"),
            ({"model": {"hidden_size": 8}, "training": {"lr": 0.5, "epochs": 2}},
             f"model.hidden_size: 4 -> 8, training.epochs: 3 -> 2, training.lr: {lr!r} -> 0.5")):
        with pytest.raises(ConfigError) as info:
            run_experiment(tiny(**changes), out, resume=True, plots=False)
        assert str(info.value) == (
            "resume: expected the config the interrupted run was started with (only "
            "training.progress, training.num_threads and training.max_time may change, and "
            f"training.epochs grow), got changed {listed}. restore these keys, or start a new "
            "run without resume")
        checkpoint = partial / "checkpoints" / "last.pt"
        with pytest.raises(ConfigError, match=f"got changed {listed}"):
            run_experiment(tiny(**changes), out, resume=checkpoint, plots=False)
    assert (partial / "checkpoints" / "last.pt").is_file() and not out.exists()
    assert ForecastConfig.from_toml(partial / "config.toml") == tiny()
    # what cannot change the result may differ, and epochs may grow
    free = tiny(training={"epochs": 4, "max_time": 600.0})
    result = run_experiment(free, out, resume=True, plots=False)
    assert result.metrics["epochs_run"] == 4
    assert ForecastConfig.from_toml(result.config_path) == free


def test_run_files_follow_the_umask(tmp_path) -> None:
    """The run is built in a tempfile.mkdtemp directory (0700), yet a teammate can read it."""
    import stat

    previous = os.umask(0o022)
    try:
        run = run_experiment(tiny(training={"epochs": 1}), tmp_path / "run").run_dir
    finally:
        os.umask(previous)
    found = {p: stat.S_IMODE(p.stat().st_mode) for p in [run, *run.rglob("*")]}
    assert {"checkpoints/last.pt", "model/manifest.json", "plots/loss.png"} <= {
        str(p.relative_to(run)) for p in found}
    assert {str(p.relative_to(run)): mode for p, mode in found.items()
            if mode != (0o755 if p.is_dir() else 0o644)} == {}


def test_a_run_path_must_end_in_a_name(tmp_path) -> None:
    with pytest.raises(ConfigError, match="out_dir: expected a directory path ending in a name"):
        run_experiment(tiny(), tmp_path / "runs" / "..")


@pytest.mark.parametrize("name", ["battery", "airline", "co2", "sunspots", "nile", "macrodata"])
def test_example_configs_are_valid(name) -> None:
    cfg = ForecastConfig.from_toml(EXAMPLES / f"{name}.toml")
    assert cfg.data.dataset == name and cfg.name == name
    assert (cfg.split.unit, cfg.split.test) == ("windows", 0.2)


def _csv(tmp_path: Path, text: str, **data: Any) -> ForecastConfig:
    path = tmp_path / "series.csv"
    path.write_text(text, encoding="utf-8")
    section = {"path": str(path), "time_col": "t", "targets": ["y"], **data}
    return ForecastConfig.from_dict({"data": section})


@pytest.mark.parametrize(("text", "extra", "error", "pattern"), [
    ("t,y\n1,1\n2,2\n", {"targets": ["z"]}, DataError,
     r"targets: column 'z' not found; available: \['t', 'y'\]"),
    ("t,y\n1,1\n2,oops\n3,3\n", {}, DataError,
     r"column 'y': expected numeric values, got 'oops' at row 1"),
    ("t,y\n1,1\n2,\n3,3\n", {}, DataError,
     r"data: expected no missing values.*missing='interpolate'"),
    ("t,y\n1,1\n3,3\n2,2\n", {}, DataError, r"time_col 't'.*sorted|increasing"),
    ("t,y\n1,1\n2,2\n2,3\n", {}, DataError, r"time_col 't'.*duplicate"),
])
def test_load_data_bad_files(tmp_path, text, extra, error, pattern) -> None:
    with pytest.raises(error, match=pattern) as info:
        load_data(_csv(tmp_path, text, **extra))
    assert "\n" not in str(info.value)


def test_load_data_csv_with_policy_and_too_short(tmp_path) -> None:
    rows = "\n".join(f"{i},{np.sin(i / 3):.4f}" for i in range(30))
    text = "t,y\n" + rows.replace("\n5,", "\n5,,x").replace(",,x", ",") + "\n"
    cfg = _csv(tmp_path, text, missing="interpolate")
    data = load_data(cfg)
    assert data.series.n_steps == 30 and not np.isnan(data.series.values).any()
    with pytest.raises(DataError, match=r"series: expected at least look_back \+ horizon = 41"):
        Forecaster(cfg.with_overrides({"forecast": {"look_back": 40}})).fit(data.series)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["airline", "co2", "sunspots", "nile", "macrodata"])
def test_example_beats_seasonal_naive(name) -> None:
    cfg = ForecastConfig.from_toml(EXAMPLES / f"{name}.toml")
    series = load_data(cfg).series
    forecaster = Forecaster(cfg)
    result = forecaster.fit(series).evaluate(series)
    naive = result["baselines"].get("seasonal_naive", result["baselines"]["persistence"])
    assert result["model"]["mase"] < min(1.0, naive["mase"])
