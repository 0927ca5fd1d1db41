"""Forecaster as a Task: the one constructor shape, fit -> self, evaluate -> Report, the CLI
contract (read_data / split / fit / evaluate / save / load / predict_frame) on a user's file,
DataFrames in, per-step metrics, resampled and delta models, max_gap, older bundles."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from rich.console import Console

from rnnkit.bundle import load_bundle, save_bundle
from rnnkit.data import DELTA_COLUMN, load_series
from rnnkit.errors import ConfigError
from rnnkit.examples import example_path
from rnnkit.nn.lstm import LSTMCell
from rnnkit.tasks import registry
from rnnkit.tasks.base import Report, Task
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster
from rnnkit.tasks.forecasting.evaluation import per_step_frame, results_table

FAST: dict[str, Any] = {
    "forecast": {"look_back": 8},
    "model": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0, "head_dropout": 0.0},
    "training": {"epochs": 2, "batch_size": 16, "device": "cpu", "num_threads": 1,
                 "progress": "off"},
    "evaluation": {"mlp_epochs": 5},
}


def fast(**sections: dict[str, Any]) -> dict[str, Any]:
    """The FAST config with ``sections`` merged in, section by section."""
    out = {k: dict(v) for k, v in FAST.items()}
    for name, values in sections.items():
        out[name] = {**out.get(name, {}), **values}
    return out


def hourly(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Two columns on a datetime index: what a user has in a notebook."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"load": 10 + np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=n),
                         "temp": 20 + np.cos(2 * np.pi * t / 24)},
                        index=pd.date_range("2024-01-01", periods=n, freq="h", name="time"))


def irregular_csv(path: Path, n: int = 90) -> Path:
    """Daily rows with some days missing (irregular time stamps)."""
    days = pd.date_range("2023-01-01", periods=n + n // 6, freq="D")
    keep = np.ones(len(days), dtype=bool)
    keep[5::7] = False  # one day in seven missing
    days = days[keep][:n]
    t = np.arange(len(days))
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"),
                  "y": 5 + np.sin(t / 3.0) + 0.01 * t}).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------- the one shape
def test_one_constructor_shape() -> None:
    assert issubclass(Forecaster, Task) and Forecaster.name == "forecasting"
    assert Forecaster.config_class is ForecastConfig
    assert Forecaster().config == ForecastConfig()  # defaults; no [data] needed
    f = Forecaster({"forecast": {"horizon": 3}})
    assert f.config.forecast.horizon == 3 and f.config.data is None
    cfg = ForecastConfig.from_dict(fast())
    assert Forecaster(cfg).config is cfg
    assert not f.is_fitted and f.model_ is None and len(f.history_) == 0
    with pytest.raises(ConfigError, match="config: expected a ForecastConfig or a dict"):
        Forecaster(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Forecaster(cfg, cfg.training)  # type: ignore[call-arg]  # no second argument


def test_unknown_key_is_a_config_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"^forecast\.lookback: .*did you mean 'look_back'"):
        Forecaster({"forecast": {"lookback": 3}})
    with pytest.raises(ConfigError, match=r"^training\.epoks: .*did you mean 'epochs'"):
        Forecaster({"training": {"epoks": 3}})


def test_fit_returns_self_and_fills_history() -> None:
    f = Forecaster(fast())
    assert f.fit(hourly()) is f
    assert len(f.history_) == 2 and "val_loss" in f.history_
    assert f.is_fitted and f.fit_seconds_ > 0 and f.split_ is not None


def test_from_toml_round_trip(tmp_path) -> None:
    cfg = ForecastConfig.from_dict(fast(data={"path": str(tmp_path / "s.csv"), "time_col": "t",
                                              "max_gap": "3D", "date_format": "%Y-%m-%d"},
                                        early_stopping={"patience": 3}))
    path = tmp_path / "run.toml"
    path.write_text(cfg.to_toml(), encoding="utf-8")
    task = Forecaster.from_toml(path)
    assert task.config == cfg
    assert ForecastConfig.from_toml_string(task.config.to_toml()) == cfg
    assert registry.task_from_toml(path).config == cfg


def test_a_cell_class_of_your_own_trains() -> None:
    calls = []

    class CountingLSTMCell(LSTMCell):
        def step(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return super().step(*args, **kwargs)

    f = Forecaster(fast(model={"cell": CountingLSTMCell, "backend": "loop"}))
    out = f.fit(hourly()).predict(hourly())
    assert out.shape == (1, 2) and calls
    assert isinstance(f.model_.encoder.cells[0], CountingLSTMCell)
    assert f.config.to_dict()["model"]["cell"].endswith("CountingLSTMCell")  # module:QualName


# ----------------------------------------------------------------------- report, per step
def test_evaluate_returns_a_report_with_every_baseline_and_per_step_metrics() -> None:
    f = Forecaster(fast(forecast={"horizon": 3})).fit(hourly())
    report = f.evaluate(hourly())
    assert isinstance(report, Report)
    assert report.primary == "rmse" and not report.higher_is_better
    frame = report.to_frame()
    assert list(frame.index) == ["model", "persistence", "seasonal_naive", "moving_average",
                                 "linear_ar", "linear_ar_window", "mlp", "ets", "arima"]
    assert not report["skipped"]  # m = 24 > L = 8: seasonal naive reads the series' history
    assert frame.loc["model", "rmse"] == report["model"]["rmse"] == report.score
    # the mapping view old callers use
    assert report["n_windows"] == report.details["n_windows"] > 0
    assert set(report["baselines"]) == set(frame.index[1:])
    assert report["part"] == "test" and report["horizon"] == 3
    # per step: H values for the model and every baseline; their mean square is the total
    per_step = report.details["per_step"]
    assert set(per_step) == {"model", *report.baselines}
    steps = np.array(per_step["model"]["rmse"])
    assert steps.shape == (3,)
    assert np.sqrt(np.mean(steps ** 2)) == pytest.approx(report["model"]["rmse"], rel=1e-9)
    assert np.mean(per_step["persistence"]["mae"]) == pytest.approx(
        report.baselines["persistence"]["mae"], rel=1e-9)
    assert per_step_frame(report).shape == (3 * 9, 2)  # the model and 8 baselines
    console = Console(width=200, record=True)
    console.print(report)  # the report's own table
    console.print(results_table(report))
    text = console.export_text()
    assert "RMSE h1" in text and "RMSE h3" in text and "persistence" in text
    assert report.to_dict()["details"]["per_step"]["model"]["rmse"] == steps.tolist()


# ------------------------------------------------------------------------ user DataFrames
def test_a_dataframe_with_a_datetime_index_and_several_columns_just_works() -> None:
    frame = hourly()
    f = Forecaster(fast(forecast={"horizon": 2})).fit(frame)
    assert f.targets == ("load", "temp") and f.covariates == ()
    out = f.predict(frame)
    assert list(out.columns) == ["load", "temp"] and out.shape == (2, 2)
    assert out.index[0] == frame.index[-1] + pd.Timedelta(hours=1)
    assert f.evaluate(frame)["n_windows"] > 0
    pd.testing.assert_frame_equal(f.predict_frame(frame), out)
    # the same frame as a TimeSeries gives the same forecast
    pd.testing.assert_frame_equal(f.predict(load_series(frame)), out)


def test_dataframe_targets_and_covariates_from_the_data_section() -> None:
    frame = hourly()
    f = Forecaster(fast(data={"targets": ["load"], "covariates": ["temp"]})).fit(frame)
    assert f.targets == ("load",) and f.covariates == ("temp",)
    assert list(f.predict(frame).columns) == ["load"]


# ------------------------------------------------------------------ the CLI contract, files
def test_cli_contract_end_to_end_on_a_users_file(tmp_path) -> None:
    frame = hourly(100)
    frame.reset_index().to_csv(tmp_path / "load.csv", index=False)
    (tmp_path / "load.toml").write_text(
        'task = "forecasting"\nname = "load"\n\n'
        '[data]\npath = "load.csv"\ntime_col = "time"\ntargets = ["load"]\n'
        'covariates = ["temp"]\n\n'
        '[forecast]\nlook_back = 8\nhorizon = 2\n\n'
        '[model]\nhidden_size = 4\nnum_layers = 1\n\n'
        '[training]\nepochs = 2\ndevice = "cpu"\nnum_threads = 1\nprogress = "off"\n\n'
        '[early_stopping]\npatience = 2\n\n'
        '[evaluation]\nmlp_epochs = 5\n', encoding="utf-8")
    task = registry.task_from_toml(tmp_path / "load.toml")
    assert isinstance(task, Forecaster)
    data = task.read_data()
    fit_data, test_data = task.split(data)
    report = task.fit(fit_data).evaluate(test_data)
    assert report.details["part"] == "test" and "persistence" in report.baselines
    task.save(tmp_path / "model")
    loaded = registry.load(tmp_path / "model")
    assert isinstance(loaded, Forecaster) and loaded.config == task.config
    new = loaded.read_data(tmp_path / "load.csv", labelled=False)
    pd.testing.assert_frame_equal(loaded.predict_frame(new), task.predict_frame(data),
                                  check_exact=True)
    assert loaded.evaluate(new).model == report.model


def test_predict_on_a_resampled_model_reads_the_input_with_its_freq(tmp_path) -> None:
    csv = irregular_csv(tmp_path / "daily.csv")
    cfg = fast(data={"path": str(csv), "time_col": "day", "irregular": "resample",
                     "freq": "D"})
    f = Forecaster(cfg)
    f.fit(f.read_data())
    f.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    history = loaded.read_data(csv, labelled=False)  # freq and policy come from the model
    assert history.freq == "D"
    out = loaded.predict(history)
    assert out.index[0] == pd.Timestamp(pd.read_csv(csv)["day"].iloc[-1]) + pd.Timedelta("1D")
    pd.testing.assert_frame_equal(out, f.predict(f.read_data()), check_exact=True)
    frame_out = loaded.predict(pd.read_csv(csv))  # a raw DataFrame goes the same way
    pd.testing.assert_frame_equal(frame_out, out, check_exact=True)


def test_delta_policy_trains_from_a_config(tmp_path) -> None:
    csv = irregular_csv(tmp_path / "daily.csv")
    f = Forecaster(fast(data={"path": str(csv), "time_col": "day", "irregular": "delta",
                              "freq": "D"}))
    f.fit(f.read_data())
    assert f.covariates == (DELTA_COLUMN,)
    assert f.evaluate(f.read_data())["n_windows"] > 0
    f.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.read_data(csv, labelled=False).covariates == (DELTA_COLUMN,)


# ------------------------------------------------------------------------------- max_gap
def test_max_gap_drops_and_reports_windows_that_reach_a_long_gap(tmp_path, caplog) -> None:
    days = pd.date_range("2023-01-01", periods=120, freq="D")
    keep = np.ones(len(days), dtype=bool)
    keep[30:40] = False  # a ten-day hole in the training part
    keep[100:105] = False  # a five-day hole in the test part
    t = np.arange(len(days))
    pd.DataFrame({"day": days[keep].strftime("%Y-%m-%d"),
                  "y": (5 + np.sin(t / 3.0))[keep]}).to_csv(tmp_path / "s.csv", index=False)
    base = {"path": str(tmp_path / "s.csv"), "time_col": "day", "irregular": "resample",
            "freq": "D"}
    quick = {"statistical_baselines": False}  # ETS/SARIMA (m = 7) refitted would take 20 s
    unlimited = Forecaster(fast(data=base, evaluation=quick))
    unlimited.fit(unlimited.read_data())
    full = unlimited.evaluate(unlimited.read_data())
    assert full.details["gap_windows_dropped"] == 0

    f = Forecaster(fast(data={**base, "max_gap": 3}, evaluation=quick))
    series = f.read_data()
    assert series.n_gap_rows == 10 + 5  # rows filled inside holes longer than 3 days
    with caplog.at_level(logging.WARNING, logger="rnnkit"):
        f.fit(series)
        report = f.evaluate(series)
    dropped = report.details["gap_windows_dropped"]
    assert dropped == 5 + (8 + 1) - 1  # windows of L + H = 9 rows reaching 5 filled rows
    assert report["n_windows"] == full["n_windows"] - dropped
    assert any("max_gap" in r.getMessage() for r in caplog.records)
    windows = f.predict_windows(series, "test")
    assert len(windows) == report["n_windows"]


# --------------------------------------------------------------------------- old bundles
def test_a_bundle_written_before_the_task_interface_still_loads(tmp_path) -> None:
    f = Forecaster(fast(data={"dataset": "sinusoid"})).fit(hourly()[["load"]])
    new = load_bundle(f.save(tmp_path / "new"))
    old_config = f.config.to_dict()
    del old_config["task"], old_config["early_stopping"]
    old_config["training"].update(early_stopping=True, patience=4, min_delta=0.0,
                                  restore_best_weights=True)
    save_bundle(tmp_path / "old", task="forecasting", model=f.model_,
                config={"forecast_config": old_config}, preprocessing=new.preprocessing,
                metrics={"history": f.history_.to_list(), "fit_time_s": 1.5})
    old = Forecaster.load(tmp_path / "old")
    assert old.config.early_stopping.patience == 4 and old.fit_seconds_ == 1.5
    assert old.history_ == f.history_
    pd.testing.assert_frame_equal(old.predict(hourly()[["load"]]),
                                  f.predict(hourly()[["load"]]), check_exact=True)
    with torch.no_grad():
        x = torch.randn(2, 8, 1)
        assert torch.equal(old.model_(x), f.model_(x))


def test_the_user_file_example_reads_its_sample() -> None:
    example = example_path("forecasting")
    task = registry.task_from_toml(example)
    assert isinstance(task, Forecaster) and task.config.forecast.horizon == 3
    series = task.read_data()
    assert (series.n_steps, series.targets, series.freq) == (100, ("volume",), "YS-JAN")
