"""Scoring forecasts: metrics in original units, baselines on the same windows, backtests.

A forecaster's numbers mean something only next to simple baselines scored on exactly the
windows it was scored on. :func:`evaluate_windows` does that for one part of a split:
the model's forecasts and every baseline's (persistence, seasonal naive when m > 1 fits in
the look-back, moving average, linear AR, MLP on the flattened window, see
:mod:`rnnkit.tasks.baselines`) go through the same :func:`~rnnkit.metrics.regression_report`
(MSE, RMSE, MAE, R², MAPE, sMAPE and MASE scaled by the in-sample seasonal-naive error of the
training rows). :func:`backtest` repeats fit-and-score at several rolling origins.

Symbols: N windows, L look-back, H horizon, F features, K targets, m seasonal period.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnkit._validation import check_positive_int, expected
from rnnkit.baselines.forecasting import (
    Baseline,
    LinearAR,
    MLPBaseline,
    MovingAverage,
    Persistence,
    SeasonalNaive,
)
from rnnkit.data.splitting import ChronoSplit, rolling_origin
from rnnkit.data.timeseries import TimeSeries
from rnnkit.data.windowing import Windows
from rnnkit.datasets.registry import dataset_info
from rnnkit.errors import DataError
from rnnkit.metrics.regression import regression_report

if TYPE_CHECKING:
    from rich.table import Table

    from rnnkit.tasks.forecasting.config import ForecastConfig
    from rnnkit.tasks.forecasting.forecaster import Forecaster

__all__ = [
    "METRICS",
    "backtest",
    "evaluate_windows",
    "frame_of",
    "make_baselines",
    "period_from_freq",
    "reference_report",
    "report",
    "results_table",
    "seasonal_period",
]

logger = logging.getLogger(__name__)

#: The metric keys of every report, in display order.
METRICS = ("mse", "rmse", "mae", "r2", "mape", "smape", "mase")
_FREQ_PERIODS = {"M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "D": 7, "B": 5,
                 "h": 24, "H": 24, "W": 52}


def period_from_freq(freq: str | int | None) -> int:
    """A seasonal period for a pandas frequency: 12 monthly, 4 quarterly, 7 daily, 24 hourly,
    52 weekly, 1 otherwise (yearly, integer steps, unknown)."""
    if not isinstance(freq, str):
        return 1
    base = freq.split("-", 1)[0].lstrip("0123456789")
    return _FREQ_PERIODS.get(base, 1)


def seasonal_period(config: ForecastConfig, series: TimeSeries) -> int:
    """m: ``evaluation.seasonal_period``, else the packaged dataset's, else from the frequency."""
    if config.evaluation.seasonal_period is not None:
        return config.evaluation.seasonal_period
    if config.data.dataset is not None:
        return dataset_info(config.data.dataset).seasonal_period
    return period_from_freq(series.freq)


def report(y_true: np.ndarray, y_pred: np.ndarray, series_train: np.ndarray, m: int
           ) -> dict[str, float]:
    """Every metric of :data:`METRICS`; MASE is NaN when the training series is too short or
    exactly m-periodic (its scale would be 0)."""
    try:
        return regression_report(y_true, y_pred, y_train=series_train, m=m)
    except DataError:
        out = regression_report(y_true, y_pred)
        out["mase"] = math.nan
        return out


def make_baselines(m: int, look_back: int, n_targets: int, *, window: int | None = None,
                   mlp_epochs: int = 300, seed: int = 0) -> tuple[dict[str, Baseline],
                                                                 dict[str, str]]:
    """The baselines that make sense here, and why the others were skipped.

    Seasonal naive needs 1 < m <= look_back (m = 1 is persistence); the moving average uses
    ``window`` (default m when m > 1, else the whole look-back).
    """
    target = list(range(n_targets)) if n_targets > 1 else 0
    chosen: dict[str, Baseline] = {"persistence": Persistence(target)}
    skipped: dict[str, str] = {}
    if m == 1:
        skipped["seasonal_naive"] = "m = 1: the same forecast as persistence"
    elif m > look_back:
        skipped["seasonal_naive"] = f"m = {m} is longer than look_back = {look_back}"
    else:
        chosen["seasonal_naive"] = SeasonalNaive(m, target)
    ma_window = window if window is not None else (m if 1 < m <= look_back else look_back)
    chosen["moving_average"] = MovingAverage(min(ma_window, look_back), target)
    chosen["linear_ar"] = LinearAR()
    chosen["mlp"] = MLPBaseline(epochs=mlp_epochs, seed=seed)
    return chosen, skipped


def evaluate_windows(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    train: Windows,
    test: Windows,
    series_train: np.ndarray,
    m: int,
    baselines: Mapping[str, Baseline] | None,
) -> dict[str, Any]:
    """Score the model's forecasts and fit-then-score each baseline on the same windows.

    Args:
        y_true, y_pred: (N, H, K) in original units, the targets and forecasts of ``test``.
        train, test: raw-unit windows: baselines fit on ``train`` and forecast ``test.x``.
        series_train: (T_train, K) training rows of the targets (the MASE scale).
        m: the seasonal period.
        baselines: unfitted baselines by name, or None for none.
    """
    out: dict[str, Any] = {"model": report(y_true, y_pred, series_train, m), "baselines": {}}
    for name, baseline in (baselines or {}).items():
        forecast = baseline.fit(train.x, train.y).predict(test.x)  # (N, H, K)
        out["baselines"][name] = report(y_true, forecast, series_train, m)
    return out


def reference_report(curve: np.ndarray, windows: Windows, series_train: np.ndarray, m: int
                     ) -> dict[str, float]:
    """Score a known reference curve (length T, e.g. a synthetic series before noise) as if it
    were the forecast of each window's target steps: the error floor of the data."""
    values = np.asarray(curve, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]  # (T,) -> (T, 1)
    forecast = values[windows.target_rows()]  # (N, H, K)
    return report(windows.y, forecast, series_train, m)


def backtest(forecaster: Forecaster, series: TimeSeries, folds: int, *,
             test_size: int | None = None) -> dict[str, Any]:
    """Rolling-origin evaluation: refit a copy of ``forecaster``'s configuration at each of
    ``folds`` origins (expanding training window) and score the next ``test_size`` rows.

    The folds tile the configured test part (``test_size`` defaults to its rows divided by
    ``folds``); each fold's validation part has as many rows as the configured one and ends at
    the fold's origin. Returns ``{"folds": [...], "mean": {"model": ..., "baselines": ...}}``
    where each fold has ``origin`` (the first forecast time), its ``train_rows`` and
    ``test_rows``, and the model's and baselines' metrics.
    """
    from rnnkit.tasks.forecasting.forecaster import Forecaster

    check_positive_int("folds", folds)
    config = forecaster.config
    L, H = config.forecast.look_back, config.forecast.horizon
    base = config.split.chrono_split(series.time_index, L, H)
    test_rows = base.stop - base.test_start
    size = test_size if test_size is not None else test_rows // folds
    if size < H:
        raise DataError(expected("backtest folds", f"at most {max(test_rows // H, 1)} folds "
                                 f"(each needs horizon = {H} test rows)", folds))
    splits: Sequence[ChronoSplit] = rolling_origin(
        series.n_steps, n_folds=folds, test_size=size, val_size=base.test_start - base.val_start,
        min_train=L + H)
    results = []
    for k, split in enumerate(splits):
        fold = Forecaster(config)
        fold._fit_split(series, split)
        scores = fold._evaluate_split(series, split, "test")
        scores.update(fold=k, origin=str(series.time_index[split.test_start]),
                      train_rows=split.val_start, test_rows=split.stop - split.test_start,
                      fit_time_s=fold.fit_time_s)
        logger.info("backtest fold %d/%d: model rmse %.4g", k + 1, folds,
                    scores["model"]["rmse"])
        results.append(scores)
    mean = {"model": _mean([r["model"] for r in results]),
            "baselines": {name: _mean([r["baselines"][name] for r in results])
                          for name in results[0]["baselines"]}}
    return {"folds": results, "mean": mean}


def _mean(reports: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in reports])) for k in reports[0]}


def results_table(results: Mapping[str, Any], *, title: str = "forecast evaluation",
                  references: Mapping[str, Mapping[str, float]] | None = None,
                  metrics: Sequence[str] = ("rmse", "mae", "mase", "smape", "r2")) -> Table:
    """A rich table: the model, every baseline and any reference (e.g. a noiseless floor),
    one row each, best RMSE marked; ``results`` is :meth:`Forecaster.evaluate`'s dict."""
    from rich.table import Table

    rows: list[tuple[str, Mapping[str, float]]] = [("rnnkit model", results["model"])]
    rows += [(name, rep) for name, rep in results.get("baselines", {}).items()]
    rows += [(name, rep) for name, rep in (references or {}).items()]
    table = Table(title=title)
    table.add_column("forecast")
    for name in metrics:
        table.add_column(name.upper() if name != "smape" else "sMAPE", justify="right")
    compared = [rep["rmse"] for name, rep in rows if name not in (references or {})]
    best = min(compared) if compared else math.nan
    for name, rep in rows:
        cells = [_fmt(rep.get(k, math.nan)) for k in metrics]
        mark = " *" if rep["rmse"] == best and name not in (references or {}) else ""
        style = "dim" if name in (references or {}) else None
        table.add_row(name + mark, *cells, style=style)
    for name, why in results.get("skipped", {}).items():
        table.add_row(f"{name} (skipped: {why.split(':')[0]})", *(["-"] * len(metrics)),
                      style="dim")
    return table


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


def frame_of(results: Mapping[str, Any]) -> pd.DataFrame:
    """The model's and baselines' metrics as a DataFrame (one row per forecast)."""
    rows = {"model": results["model"], **results.get("baselines", {})}
    return pd.DataFrame.from_dict(rows, orient="index")
