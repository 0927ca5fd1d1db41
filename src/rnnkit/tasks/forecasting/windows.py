"""Windows and forecasts of the forecaster: running the network on raw windows, dropping
the windows that reach a long gap, dating the forecasts, laying them out as rows.

Symbols: T rows, L ``look_back``, H ``horizon``, F features (targets first), K targets,
N windows, S forecast steps, F_u known-future covariates.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.data.splitting import PARTS, SplitWindows
from rnnkit.data.timeseries import TimeSeries
from rnnkit.data.windowing import Windows
from rnnkit.errors import DataError
from rnnkit.tasks.forecasting.model import rollout, with_future
from rnnkit.tasks.forecasting.preprocessing import Preprocessing

__all__ = ["forecast_windows", "future_index", "future_steps", "scale_future", "window_frame",
           "without_gaps"]

_PREDICT_BATCH = 4096


def future_steps(prep: Preprocessing, steps: int) -> int:
    """How many rows of known-future covariates a forecast of ``steps`` reads: none without
    them, else ``max(steps, H)`` (the model reads its trained H steps at once)."""
    return max(steps, prep.train_horizon) if prep.future_covariates else 0


def scale_future(prep: Preprocessing, future_raw: np.ndarray) -> np.ndarray:
    """Known-future covariates (N, S, F_u) in original units -> in the scaler's units (each
    column scaled as that column of the series)."""
    N, S, _ = future_raw.shape
    full = np.zeros((N, S, len(prep.columns)))  # (N, S, F): the scaler transforms all columns
    full[..., prep.future_idx] = future_raw
    return prep.scaler.transform(full)[..., prep.future_idx]  # (N, S, F_u)


def forecast_windows(model: nn.Module, prep: Preprocessing, x_raw: np.ndarray,
                     steps: int, future_raw: np.ndarray | None = None) -> np.ndarray:
    """Forecasts (N, steps, K) in original units for raw windows ``x_raw`` (N, L, F):
    scaled with ``prep.scaler``, run through ``model`` in batches, rolled out beyond the
    trained horizon, scaled back. A model with known-future covariates also reads
    ``future_raw`` (N, :func:`future_steps`, F_u), their values at the forecast steps."""
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    need = future_steps(prep, steps)
    if need and (future_raw is None or future_raw.shape[:2] != (x_raw.shape[0], need)):
        raise DataError(expected("future", f"known-future covariates of shape "
                                 f"({x_raw.shape[0]}, {need}, {len(prep.future_covariates)})",
                                 None if future_raw is None else future_raw.shape))
    outputs = []
    model.eval()
    with torch.no_grad():
        for start in range(0, x_raw.shape[0], _PREDICT_BATCH):
            # C order: a window sliced from a column-major frame computes like any other
            chunk = np.ascontiguousarray(prep.scaler.transform(x_raw[start:start + _PREDICT_BATCH]))
            x = torch.as_tensor(chunk, dtype=dtype, device=device)  # (B, L, F)
            future = None
            if need:
                scaled = scale_future(prep, future_raw[start:start + _PREDICT_BATCH])
                future = torch.as_tensor(scaled, dtype=dtype, device=device)  # (B, S, F_u)
            if steps <= prep.train_horizon:
                if future is not None:
                    x = with_future(x, future[:, :prep.train_horizon], prep.future_idx)
                y = model(x)[:, :steps]  # (B, steps, K)
            else:
                y = rollout(model, x, steps, prep.target_idx, future=future,
                            future_idx=prep.future_idx)
            outputs.append(y.double().cpu().numpy())
    scaled = np.concatenate(outputs, axis=0)
    forecasts = prep.scaler.inverse_transform_targets(scaled, prep.target_idx)  # (N, S, K)
    if not np.isfinite(forecasts).all():
        raise DataError(_not_finite(prep, x_raw, forecasts))
    return forecasts


def _not_finite(prep: Preprocessing, x_raw: np.ndarray, forecasts: np.ndarray) -> str:
    """The message for forecasts that overflowed: how many windows, and each input column's
    largest absolute value beside the scale the model was trained on."""
    N, F = forecasts.shape[0], x_raw.shape[-1]
    bad = int((~np.isfinite(forecasts.reshape(N, -1))).any(axis=1).sum())
    largest = np.abs(x_raw.reshape(-1, F)).max(axis=0)  # (F,)
    center, scale = prep.scaler.center_, prep.scaler.scale_
    columns = "; ".join(
        f"{name!r}: {big:.3g} (training center {c:.3g}, scale {s:.3g})"
        for name, big, c, s in zip(prep.columns, largest, center, scale, strict=True))
    return expected(
        "forecast", "finite values",
        Described(f"inf/NaN in {bad} of {N} windows; largest absolute input per column: "
                  f"{columns}"),
        "the inputs are far outside the training range: scale the data (e.g. divide it by a "
        "constant) before fitting and forecasting, or refit on data of this size "
        "(forecast.scaling fits its scaler on the training rows)")


def without_gaps(windows: SplitWindows, gap_mask: np.ndarray | None, look_back: int
                 ) -> tuple[SplitWindows, dict[str, int]]:
    """``windows`` without the samples whose rows (inputs and targets) reach a row of
    ``gap_mask`` (shape (T,)), and how many each part lost."""
    dropped = dict.fromkeys(PARTS, 0)
    if gap_mask is None:
        return windows, dropped
    in_gap = np.concatenate([[0], np.cumsum(gap_mask)])  # (T + 1,) gap rows before each row
    kept = {}
    for part in PARTS:
        w: Windows = windows.part(part)  # type: ignore[arg-type]
        H = w.y.shape[1]
        first, stop = w.target_start - look_back, w.target_start + H  # rows [first, stop)
        keep = in_gap[stop] - in_gap[first] == 0  # (N,)
        dropped[part] = int((~keep).sum())
        kept[part] = w if keep.all() else w.take(keep)
    return dataclasses.replace(windows, **kept), dropped


def future_index(series: TimeSeries, steps: int, fitted_freq: str | int | None) -> pd.Index:
    """The ``steps`` time stamps after the end of ``series``."""
    index = series.time_index
    freq = series.freq if series.freq is not None else fitted_freq
    if isinstance(index, pd.DatetimeIndex):
        if not isinstance(freq, str):
            raise DataError(expected("series", "a regular frequency to date the forecasts",
                                     Described("an irregular or unknown one"),
                                     "load it with freq=... or irregular='resample'"))
        return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
    step = freq if isinstance(freq, int) else int(index[-1] - index[-2]) if len(index) > 1 else 1
    return pd.Index(int(index[-1]) + step * np.arange(1, steps + 1), name=index.name)


def window_frame(series: TimeSeries, windows: Windows, pred: np.ndarray,
                 prep: Preprocessing, part: str) -> pd.DataFrame:
    """Long rows (window x step) of actual and forecast values, indexed by target time."""
    N, H, K = pred.shape
    rows = windows.target_rows().reshape(-1)  # (N*H,) row of each target step
    times = series.time_index[rows]
    frame = pd.DataFrame({
        "origin": np.repeat(np.asarray(series.time_index[windows.target_start - 1]), H),
        "step": np.tile(np.arange(1, H + 1), N),
        "part": part,
    }, index=times)
    for k, name in enumerate(prep.targets):
        frame[name] = windows.y[:, :, k].reshape(-1)
        frame[f"{name}_pred"] = pred[:, :, k].reshape(-1)
    return frame
