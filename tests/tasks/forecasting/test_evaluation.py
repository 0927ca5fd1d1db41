"""Evaluation: baselines chosen and scored on the model's windows, reference floors, MASE,
rolling-origin backtests, the results table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from rnnkit.baselines.forecasting import SeasonalNaive
from rnnkit.baselines.statistical import ARIMA, HistorySeasonalNaive
from rnnkit.data import load_series, make_windows
from rnnkit.errors import DataError
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster
from rnnkit.tasks.forecasting.evaluation import (
    evaluate_windows,
    make_baselines,
    period_from_freq,
    reference_report,
    report,
    results_table,
    seasonal_period,
)


def test_period_from_freq_and_config_override() -> None:
    assert [period_from_freq(f) for f in ("MS", "QS-JAN", "D", "h", "YS-JAN", 1, None)] == [
        12, 4, 7, 24, 1, 1, 1]
    series = load_series(pd.DataFrame({"y": np.arange(30.0)},
                                      index=pd.date_range("2000", periods=30, freq="MS")))
    cfg = ForecastConfig.from_dict({"data": {"path": "x.csv"}})
    assert seasonal_period(cfg, series) == 12
    assert seasonal_period(cfg.with_overrides({"evaluation": {"seasonal_period": 3}}),
                           series) == 3
    assert seasonal_period(ForecastConfig.from_dict({"data": {"dataset": "sunspots"}}),
                           series) == 11


def test_make_baselines_skips_what_is_not_meaningful() -> None:
    chosen, skipped = make_baselines(1, look_back=20, n_targets=1)
    assert "seasonal_naive" not in chosen and "persistence" in skipped["seasonal_naive"]
    assert chosen["moving_average"].window == 20
    chosen, skipped = make_baselines(24, look_back=12, n_targets=1)
    # a season longer than the look-back: one season back in the series, not in the window
    assert isinstance(chosen["seasonal_naive"], HistorySeasonalNaive) and not skipped
    assert chosen["seasonal_naive"].m == 24
    chosen, skipped = make_baselines(12, look_back=24, n_targets=1, window=3)
    assert isinstance(chosen["seasonal_naive"], SeasonalNaive)
    assert chosen["seasonal_naive"].m == 12 and chosen["moving_average"].window == 3
    assert set(chosen) == {"persistence", "seasonal_naive", "moving_average", "linear_ar", "mlp",
                           "ets", "arima"}
    assert chosen["ets"].m == chosen["arima"].m == 12
    chosen, _ = make_baselines(12, look_back=24, n_targets=2, window_mode="standard",
                               statistical=False)
    assert set(chosen) == {"persistence", "seasonal_naive", "moving_average", "linear_ar",
                           "linear_ar_window", "mlp"}
    assert chosen["linear_ar_window"].target == [0, 1]


def test_evaluate_windows_rolls_series_baselines_over_the_test_origins() -> None:
    t = np.arange(120)
    data = np.sin(t / 3.0) + 0.02 * t
    train = make_windows(data[:90], look_back=6, horizon=2)
    test = make_windows(data, look_back=6, horizon=2, target_range=(100, 120))
    chosen = {"seasonal_naive": HistorySeasonalNaive(10), "arima": ARIMA()}
    out = evaluate_windows(test.y, test.y, train=train, test=test,
                           series_train=data[:90, None], m=1, baselines=chosen,
                           series=data[:, None])
    naive = data[test.target_start[:, None] - 10 + np.arange(2)]  # (N, 2): one season back
    assert out["baselines"]["seasonal_naive"]["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((test.y[..., 0] - naive) ** 2))))
    arima = ARIMA().fit(data[:90]).predict(data, test.target_start, 2)
    assert out["baselines"]["arima"]["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((test.y - arima) ** 2))))
    # without the series they cannot run, and say so; a fit that fails is named, not raised
    out = evaluate_windows(test.y, test.y, train=train, test=test,
                           series_train=data[:90, None], m=1, baselines=chosen)
    assert set(out["skipped"]) == {"seasonal_naive", "arima"} and not out["baselines"]
    assert "needs the series" in out["skipped"]["arima"]
    out = evaluate_windows(test.y, test.y, train=train, test=test,
                           series_train=data[:90, None], m=1,
                           baselines={"seasonal_naive": HistorySeasonalNaive(101)},
                           series=data[:, None])
    assert "could not be fitted" in out["skipped"]["seasonal_naive"]
    assert "one season of history" in out["skipped"]["seasonal_naive"]


def test_evaluate_windows_scores_baselines_on_the_test_windows() -> None:
    data = np.sin(np.arange(80) / 4.0) + 2.0
    train = make_windows(data[:60], look_back=5)
    test = make_windows(data, look_back=5, target_range=(60, 80))
    pred = test.y + 0.1
    chosen, _ = make_baselines(1, 5, 1, mlp_epochs=5)
    out = evaluate_windows(test.y, pred, train=train, test=test,
                           series_train=data[:60, None], m=1, baselines=chosen)
    assert out["model"]["rmse"] == pytest.approx(0.1)
    naive = test.x[:, -1:, :]
    assert out["baselines"]["persistence"]["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((test.y - naive) ** 2))))
    scale = np.mean(np.abs(np.diff(data[:60])))
    assert out["model"]["mase"] == pytest.approx(0.1 / scale)


def test_reference_floor_and_undefined_mase() -> None:
    data = np.linspace(0.0, 1.0, 50)
    windows = make_windows(data, look_back=4, target_range=(40, 50))
    floor = reference_report(data, windows, data[:40], m=1)
    assert floor["rmse"] == 0.0
    periodic = np.tile([1.0, 2.0], 20)
    out = report(np.ones(3), np.zeros(3), periodic, m=2)  # seasonal naive error 0: no scale
    assert math.isnan(out["mase"]) and out["rmse"] == 1.0


def test_backtest_refits_at_rolling_origins() -> None:
    t = np.arange(150)
    series = load_series(pd.DataFrame({"y": np.sin(t / 3.0) + 0.01 * t}))
    cfg = ForecastConfig.from_dict({
        "data": {"path": "unused.csv"},
        "forecast": {"look_back": 6},
        "model": {"hidden_size": 3, "num_layers": 1},
        "training": {"epochs": 1, "device": "cpu", "num_threads": 1, "progress": "off"},
        "evaluation": {"mlp_epochs": 2, "statistical_baselines": False},  # fast: 3 folds
    })
    out = Forecaster(cfg).backtest(series, folds=3)
    folds = out["folds"]
    assert [f["test_rows"] for f in folds] == [10, 10, 10]  # the 30 test rows, tiled
    assert [f["train_rows"] for f in folds] == [105, 115, 125]  # expanding training part
    assert [f["origin"] for f in folds] == ["120", "130", "140"]
    assert out["mean"]["model"]["rmse"] == pytest.approx(
        np.mean([f["model"]["rmse"] for f in folds]))
    assert set(out["mean"]["baselines"]) >= {"persistence", "linear_ar"}
    with pytest.raises(DataError, match="backtest folds: expected at most 30 folds"):
        Forecaster(cfg).backtest(series, folds=31)


def test_results_table_marks_the_best_and_shows_references() -> None:
    results = {"model": {"rmse": 0.5, "mae": 0.4, "mase": 0.9, "smape": 0.1, "r2": 0.8},
               "baselines": {"persistence": {"rmse": 0.7, "mae": 0.5, "mase": 1.0,
                                             "smape": 0.2, "r2": 0.5}},
               "skipped": {"seasonal_naive": "m = 1"}}
    table = results_table(results, references={"floor": {"rmse": 0.1, "mae": 0.1}})
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "rnnkit model *" in text and "persistence" in text and "floor" in text
    assert "0.5000" in text and "seasonal_naive" in text
