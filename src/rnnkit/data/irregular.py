"""Irregular spacing in a series: the explicit policy that keeps, marks or resamples it.

``load_series(irregular=...)`` applies one of the :data:`IrregularPolicy` choices (see
:func:`_handle_irregular`): ``"error"`` raises, ``"delta"`` adds the covariate
:data:`DELTA_COLUMN` (time since the previous observation), ``"resample"`` interpolates at
a regular grid.

Symbols: ``T`` time steps (rows).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.timestamps import (
    _check_freq_type,
    _describe_irregular,
    _fmt_time,
    _grid,
    _infer_freq,
    _interpolation_method,
)
from rnnkit.errors import ConfigError, DataError

__all__ = ["DELTA_COLUMN", "IrregularPolicy"]

IrregularPolicy = Literal["error", "delta", "resample"]

#: Name of the covariate that ``irregular="delta"`` adds: time since the previous observation.
DELTA_COLUMN = "delta_t"

_IRREGULAR_POLICIES: tuple[str, ...] = ("error", "delta", "resample")


def _delta_feature(index: pd.Index, freq: str | int | None) -> np.ndarray:
    """Time since the previous observation in units of ``freq`` (default: the median step).

    Shape ``(T,)``. The first row has no predecessor and gets ``1.0`` (one typical step).
    """
    if isinstance(index, pd.DatetimeIndex):
        steps = np.diff(index.asi8).astype(np.float64)
        if freq is None:
            unit = float(np.median(steps)) if steps.size else 1.0
        else:
            try:
                offset = pd.tseries.frequencies.to_offset(str(freq))
                unit = float(pd.Timedelta(offset).value)  # type: ignore[arg-type]  # fixed offsets
            except ValueError as err:
                raise ConfigError(expected(
                    "freq", "a fixed-length offset ('D', 'h', '15min') as the delta unit",
                    freq, "months and years vary in length; pass freq=None for the median")
                ) from err
            unit /= pd.Timedelta(1, unit=index.unit).value  # offsets are in ns, index in unit
    else:
        steps = np.diff(index.to_numpy()).astype(np.float64)
        unit = float(np.median(steps)) if freq is None and steps.size else float(freq or 1)
    return np.concatenate([[1.0], steps / unit])


def _handle_irregular(
    frame: pd.DataFrame, policy: str, freq: str | int | None
) -> tuple[pd.DataFrame, str | int | None]:
    """Apply the irregular-spacing ``policy``; return the frame and its spacing."""
    index = frame.index
    if freq is not None:
        _check_freq_type(index, freq)
    if policy == "resample":
        if freq is None:
            raise ConfigError(expected("freq", "a target spacing when irregular='resample'", None,
                                       "pass freq='D' (datetimes) or freq=1 (integer steps)"))
        grid = _grid(index, freq)
        if len(grid) < 2:
            raise DataError(expected("freq", "a spacing giving at least 2 time steps", freq,
                                     f"the data span only {_fmt_time(index[0])}.."
                                     f"{_fmt_time(index[-1])}"))
        # Point interpolation at the grid, along the real time axis (not an aggregation).
        union = frame.reindex(index.union(grid)).interpolate(method=_interpolation_method(index))
        return union.loc[grid], freq
    inferred = _infer_freq(index)
    regular = len(index) < 3 or inferred is not None
    if freq is not None and len(index) >= 2:
        regular = _grid(index, freq).equals(index)
    if policy == "delta":
        if DELTA_COLUMN in frame.columns:
            raise ConfigError(expected("columns", f"no column named {DELTA_COLUMN!r} "
                                       "when irregular='delta'", DELTA_COLUMN,
                                       "rename that column"))
        out = frame.copy()
        out[DELTA_COLUMN] = _delta_feature(index, freq)
        return out, (freq if freq is not None else inferred) if regular else None
    if not regular:
        what = f"time stamps every {freq!r}" if freq is not None else "regular spacing"
        raise DataError(expected(
            "time index", what, Described(f"irregular time stamps ({_describe_irregular(index)})"),
            "pass irregular='delta' to add a time-since-last-observation feature, "
            "or irregular='resample' with freq=..."))
    return frame, freq if freq is not None else inferred
