"""Scoring forecasts: metrics in original units, baselines on the same windows, backtests.

A forecaster's numbers mean something only next to simple baselines scored on exactly the
windows it was scored on. :func:`evaluate_windows` does that for one part of a split:
the model's forecasts and every baseline's (persistence, seasonal naive when m > 1, moving
average, linear AR, plain and on window-normalized inputs, MLP on the flattened window, ETS
and (S)ARIMA rolled forward over the series; see :mod:`rnnkit.baselines`) go through the same :func:`~rnnkit.metrics.regression_report`
(MSE, RMSE, MAE, R², MAPE, sMAPE and MASE scaled by the in-sample seasonal-naive error of the
training rows), overall and per forecast step (:func:`per_step`).
:func:`backtest_splits` places the rolling origins of a backtest and :func:`mean_reports`
averages its folds; :meth:`Forecaster.backtest` refits at each origin.

These are pure functions of arrays, windows and configs: this module imports no other module
of the forecasting package but the config, so the forecaster can use it without a cycle.

Symbols: N windows, L look-back, H horizon, F features, K targets, m seasonal period.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

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
from rnnkit.baselines.statistical import ARIMA, ETS, HistorySeasonalNaive, SeriesBaseline
from rnnkit.baselines.window_ar import WindowLinearAR
from rnnkit.data.splitting import ChronoSplit, rolling_origin
from rnnkit.data.timeseries import TimeSeries
from rnnkit.data.windowing import Windows
from rnnkit.datasets.registry import dataset_info
from rnnkit.errors import DataError
from rnnkit.metrics.regression import regression_report
from rnnkit.tasks.forecasting.config import ForecastConfig

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "METRICS",
    "PER_STEP_METRICS",
    "backtest",
    "backtest_splits",
    "evaluate_windows",
    "frame_of",
    "make_baselines",
    "mean_reports",
    "per_step",
    "per_step_frame",
    "period_from_freq",
    "reference_report",
    "report",
    "results_dict",
    "results_table",
    "seasonal_period",
]

logger = logging.getLogger(__name__)

#: A window baseline (fit on windows) or a series baseline (fit on the training rows).
AnyBaseline = Baseline | SeriesBaseline

#: The metric keys of every report, in display order.
METRICS = ("mse", "rmse", "mae", "r2", "mape", "smape", "mase")
#: The metrics also given per forecast step (``details["per_step"]`` of a report).
PER_STEP_METRICS = ("rmse", "mae")
#: The most per-step columns :func:`results_table` shows (evenly spaced steps beyond it).
_TABLE_STEPS = 6
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
    if config.data is not None and config.data.dataset is not None:
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


def per_step(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, list[float]]:
    """RMSE and MAE at each forecast step h = 1 .. H, over the windows and targets.

    Args:
        y_true, y_pred: (N, H, K) or (N, H).

    Returns:
        ``{"rmse": [H values], "mae": [H values]}``.
    """
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    err = err.reshape(err.shape[0], err.shape[1], -1)  # (N, H, K)
    return {"rmse": np.sqrt(np.mean(err ** 2, axis=(0, 2))).tolist(),
            "mae": np.mean(np.abs(err), axis=(0, 2)).tolist()}


def make_baselines(m: int, look_back: int, n_targets: int, *, window: int | None = None,
                   mlp_epochs: int = 300, seed: int = 0, window_mode: str | None = None,
                   statistical: bool = True
                   ) -> tuple[dict[str, AnyBaseline], dict[str, str]]:
    """The baselines that make sense here, and why the others were skipped.

    Seasonal naive needs m > 1 (m = 1 is persistence); with m <= look_back it reads the window
    (:class:`SeasonalNaive`), beyond it the series (:class:`HistorySeasonalNaive`, one season
    back before each origin). The moving average uses ``window`` (default m when
    1 < m <= look_back, else the whole look-back). ``window_mode`` (the forecaster's
    ``forecast.window_mode`` when it normalizes per window, else None) adds
    ``linear_ar_window``, the ridge AR on inputs normalized the same way, beside the plain
    ``linear_ar``. ``statistical`` adds ``ets`` and ``arima`` (fitted on the training series).
    """
    target = list(range(n_targets)) if n_targets > 1 else 0
    chosen: dict[str, AnyBaseline] = {"persistence": Persistence(target)}
    skipped: dict[str, str] = {}
    if m == 1:
        skipped["seasonal_naive"] = "m = 1: the same forecast as persistence"
    elif m > look_back:
        chosen["seasonal_naive"] = HistorySeasonalNaive(m)
    else:
        chosen["seasonal_naive"] = SeasonalNaive(m, target)
    ma_window = window if window is not None else (m if 1 < m <= look_back else look_back)
    chosen["moving_average"] = MovingAverage(min(ma_window, look_back), target)
    chosen["linear_ar"] = LinearAR()
    if window_mode is not None:
        chosen["linear_ar_window"] = WindowLinearAR(target, mode=window_mode)
    chosen["mlp"] = MLPBaseline(epochs=mlp_epochs, seed=seed)
    if statistical:
        chosen["ets"] = ETS(m)
        chosen["arima"] = ARIMA(m)
    return chosen, skipped


def evaluate_windows(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    train: Windows,
    test: Windows,
    series_train: np.ndarray,
    m: int,
    baselines: Mapping[str, AnyBaseline] | None,
    series: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score the model's forecasts and fit-then-score each baseline on the same windows.

    Args:
        y_true, y_pred: (N, H, K) in original units, the targets and forecasts of ``test``.
        train, test: raw-unit windows: window baselines fit on ``train`` and forecast
            ``test.x``.
        series_train: (T_train, K) training rows of the targets (the MASE scale, and what the
            series baselines are fitted on).
        m: the seasonal period.
        baselines: unfitted baselines by name, or None for none.
        series: (T, K) every row of the targets, whose first rows are ``series_train``: the
            series baselines (:class:`~rnnkit.baselines.statistical.SeriesBaseline`) forecast
            from it at each test window's origin (``test.target_start``). Without it they
            are skipped.

    Returns:
        ``{"model": metrics, "baselines": {name: metrics}, "per_step": {"model": ...,
        name: ...}, "skipped": {name: why}, "notes": [...]}`` with :func:`per_step`'s lists
        under ``per_step``; a series baseline that cannot be fitted (statsmodels fails, the
        forecasts diverge) is skipped with the reason, and one whose optimizer did not
        converge is kept and noted.
    """
    out: dict[str, Any] = {"model": report(y_true, y_pred, series_train, m), "baselines": {},
                           "per_step": {"model": per_step(y_true, y_pred)}, "skipped": {},
                           "notes": []}
    H = y_true.shape[1]
    for name, baseline in (baselines or {}).items():
        if isinstance(baseline, SeriesBaseline):
            if series is None:
                out["skipped"][name] = "needs the series (evaluate_windows(series=...))"
                continue
            try:
                baseline.fit(series_train)
                forecast = baseline.predict(series, test.target_start, H)  # (N, H, K)
            except DataError as err:
                logger.warning("baseline %s skipped: %s", name, err)
                out["skipped"][name] = f"could not be fitted: {err}"
                continue
            out["notes"] += baseline.notes_
        else:
            forecast = baseline.fit(train.x, train.y).predict(test.x)  # (N, H, K)
        out["baselines"][name] = report(y_true, forecast, series_train, m)
        out["per_step"][name] = per_step(y_true, forecast)
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


class _Backtests(Protocol):
    def backtest(self, series: Any, folds: int | None = None, *,
                 test_size: int | None = None) -> dict[str, Any]: ...


def backtest(forecaster: _Backtests, series: Any, folds: int, *,
             test_size: int | None = None) -> dict[str, Any]:
    """``forecaster.backtest(series, folds, test_size=test_size)`` (see
    :meth:`Forecaster.backtest`); kept for callers of the function."""
    return forecaster.backtest(series, folds, test_size=test_size)


def backtest_splits(config: ForecastConfig, series: TimeSeries, folds: int, *,
                    test_size: int | None = None) -> list[ChronoSplit]:
    """The rolling origins of a backtest: ``folds`` splits with an expanding training part.

    The folds tile the configured test part (``test_size`` defaults to its rows divided by
    ``folds``); each fold's validation part has as many rows as the configured one and ends
    at the fold's origin.
    """
    check_positive_int("folds", folds)
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
    return list(splits)


def mean_reports(folds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The mean over backtest folds of the model's and each baseline's metrics."""
    return {"model": _mean([f["model"] for f in folds]),
            "baselines": {name: _mean([f["baselines"][name] for f in folds])
                          for name in folds[0]["baselines"]}}


def _mean(reports: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in reports])) for k in reports[0]}


def results_dict(results: Mapping[str, Any]) -> dict[str, Any]:
    """A report (or its mapping) as the JSON layout of ``metrics.json``: the details
    (``part``, ``n_windows``, ``horizon``, ``per_step``...) beside ``model`` and
    ``baselines``."""
    details = getattr(results, "details", None)
    if details is None:
        return dict(results)
    return {**details, "model": dict(results["model"]), "baselines": dict(results["baselines"])}


def per_step_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """The per-step metrics of a report as a DataFrame: one row per (forecast, step), columns
    ``rmse`` and ``mae``."""
    rows = []
    for name, metrics in results.get("per_step", {}).items():
        for h, values in enumerate(zip(*(metrics[k] for k in PER_STEP_METRICS)), start=1):
            rows.append((name, h, *values))
    return pd.DataFrame(rows, columns=["forecast", "step", *PER_STEP_METRICS]
                        ).set_index(["forecast", "step"])


def results_table(results: Mapping[str, Any], *, title: str = "forecast evaluation",
                  references: Mapping[str, Mapping[str, float]] | None = None,
                  metrics: Sequence[str] = ("rmse", "mae", "mase", "smape", "r2")) -> Table:
    """A rich table: the model, every baseline and any reference (e.g. a noiseless floor),
    one row each, best RMSE marked; ``results`` is :meth:`Forecaster.evaluate`'s
    :class:`~rnnkit.tasks.base.Report` (or its dict). With horizon H > 1 the RMSE of each
    forecast step follows (``RMSE h1`` .. ``RMSE hH``; at most six evenly spaced steps)."""
    from rich.table import Table

    rows: list[tuple[str, str, Mapping[str, float]]] = [
        ("rnnkit model", "model", results["model"])]
    rows += [(name, name, rep) for name, rep in results.get("baselines", {}).items()]
    rows += [(name, name, rep) for name, rep in (references or {}).items()]
    steps_by_name = results.get("per_step", {})
    horizon = len(steps_by_name.get("model", {}).get("rmse", []))
    steps = (list(range(1, horizon + 1)) if horizon <= _TABLE_STEPS else
             sorted(set(np.linspace(1, horizon, _TABLE_STEPS).round().astype(int).tolist())))
    if horizon <= 1:
        steps = []
    table = Table(title=title)
    table.add_column("forecast")
    for name in metrics:
        table.add_column(name.upper() if name != "smape" else "sMAPE", justify="right")
    for h in steps:
        table.add_column(f"RMSE h{h}", justify="right", style="cyan")
    compared = [rep["rmse"] for name, _, rep in rows if name not in (references or {})]
    best = min(compared) if compared else math.nan
    for name, key, rep in rows:
        cells = [_fmt(rep.get(k, math.nan)) for k in metrics]
        per = steps_by_name.get(key, {}).get("rmse")
        cells += [_fmt(per[h - 1]) if per else "-" for h in steps]
        mark = " *" if rep["rmse"] == best and name not in (references or {}) else ""
        style = "dim" if name in (references or {}) else None
        table.add_row(name + mark, *cells, style=style)
    for name, why in results.get("skipped", {}).items():
        table.add_row(f"{name} (skipped: {why.split(':')[0]})",
                      *(["-"] * (len(metrics) + len(steps))), style="dim")
    return table


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


def frame_of(results: Mapping[str, Any]) -> pd.DataFrame:
    """The model's and baselines' metrics as a DataFrame (one row per forecast)."""
    rows = {"model": results["model"], **results.get("baselines", {})}
    return pd.DataFrame.from_dict(rows, orient="index")
