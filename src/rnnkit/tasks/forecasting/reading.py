"""How a file or a DataFrame becomes the forecaster's series, and the checks it must pass.

:func:`read_series` reads with the ``[data]`` settings (the same code for the config's file,
a DataFrame passed to ``fit`` and a prediction input); :func:`check_series` checks the
result against the config (before fitting) or against the fitted columns.

With future covariates, the trailing rows of the input whose targets are all empty are the
known future (:attr:`~rnnkit.data.TimeSeries.future`), not missing data: one CSV can hold the
history and the future covariates of the steps to forecast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.irregular import DELTA_COLUMN
from rnnkit.data.tables import read_table
from rnnkit.data.timeseries import TimeSeries, load_series
from rnnkit.data.timestamps import _fmt_time
from rnnkit.datasets.registry import load_dataset
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting.calendar import calendar_columns, calendar_features
from rnnkit.tasks.forecasting.config import DataSection, ForecastConfig
from rnnkit.tasks.forecasting.preprocessing import Preprocessing
from rnnkit.tasks.forecasting.windows import future_index

__all__ = ["check_series", "read_future", "read_series"]


def read_series(source: str | os.PathLike[str] | pd.DataFrame | pd.Series | None,
                section: DataSection, *, targets: Sequence[str] | None = None,
                covariates: Sequence[str] | None = None,
                future_covariates: Sequence[str] | None = None,
                time_name: str | None = None) -> TimeSeries:
    """The one way a file or a DataFrame becomes the forecaster's series.

    Args:
        source: a CSV/Parquet path or a DataFrame; None reads what ``section`` names (a
            packaged dataset or ``section.path``).
        section: the ``[data]`` settings (time column, targets, covariates, future
            covariates, missing and irregular policies, freq, max_gap, date format).
        targets, covariates, future_covariates: the columns to take instead of
            ``section``'s (a fitted forecaster passes its own, without the calendar's, which
            it adds itself; ``delta_t`` is added back by ``irregular="delta"``).
        time_name: the fitted time index's name: used as the time column when ``section``
            names none and the input has a column of that name.
    """
    if source is None:
        if section.dataset is not None:
            return load_dataset(section.dataset, **section.dataset_args).series
        if section.path is None:
            raise ConfigError(expected("data.path", "a file to read", None,
                                       "set [data] path (or dataset) in the config, or pass "
                                       "a path"))
        source = section.path
    frame = read_table(source)
    time_col = section.time_col
    if time_col is None and time_name is not None and time_name in frame.columns:
        time_col = time_name
    if time_col is not None and time_col not in frame.columns and frame.index.name == time_col:
        time_col = None  # a DataFrame indexed by the time column
    if targets is None:
        targets = None if section.targets is None else list(section.targets)
    if covariates is None:
        covariates = list(section.covariates)
    if future_covariates is None:
        future_covariates = list(section.future_covariates)
    if section.irregular == "delta":
        covariates = [c for c in covariates if c != DELTA_COLUMN]
    name = Path(source).stem if isinstance(source, (str, os.PathLike)) else None
    return load_series(frame, time_col=time_col, targets=targets, covariates=covariates,
                       missing=section.missing, irregular=section.irregular,
                       freq=section.freq, date_format=section.date_format,
                       max_gap=section.max_gap, name=name,
                       future_covariates=future_covariates)


def check_series(series: TimeSeries, config: ForecastConfig,
                 prep: Preprocessing | None = None) -> None:
    """Raise unless ``series`` fits: the fitted columns when ``prep`` is given (a fitted
    forecaster), else the ``[data]`` targets and covariates and enough rows for one window
    of ``config``."""
    if prep is not None:
        if series.columns != prep.columns:
            raise DataError(expected("series columns", f"{list(prep.columns)} (as in fit)",
                                     list(series.columns)))
        return
    data = config.data_or_default
    if data.targets is not None and series.targets != tuple(data.targets):
        raise DataError(expected("series targets", f"{list(data.targets)} (data.targets)",
                                 list(series.targets)))
    covariates = tuple(data.covariates) + (
        (DELTA_COLUMN,) if data.irregular == "delta" else ())
    if data.path is not None and series.covariates != covariates:
        raise DataError(expected("series covariates", f"{list(covariates)} "
                                 "(data.covariates)", list(series.covariates)))
    computed = set(calendar_columns(data.calendar))
    supplied = tuple(c for c in series.future_covariates if c not in computed)
    if (data.path is not None or data.future_covariates) and \
            supplied != tuple(data.future_covariates):
        raise DataError(expected("series future covariates", f"{list(data.future_covariates)} "
                                 "(data.future_covariates)", list(supplied)))
    need = config.forecast.look_back + config.forecast.horizon
    if series.n_steps < need:
        raise DataError(expected(
            "series", f"at least look_back + horizon = {need} rows",
            Described(f"{series.n_steps} rows"), "shorten look_back or horizon"))


def _span(stamps: pd.Index) -> str:
    return f"{_fmt_time(stamps[0])}..{_fmt_time(stamps[-1])}" if len(stamps) > 1 else \
        _fmt_time(stamps[0])


def _some(stamps: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(_fmt_time(s) for s in list(stamps)[:limit])
    return shown + (f" and {len(stamps) - limit} more" if len(stamps) > limit else "")


def read_future(source: pd.DataFrame | None, stamps: pd.Index, columns: Sequence[str],
                time_name: str | None = None) -> pd.DataFrame:
    """The known-future covariates ``columns`` at the forecast time stamps ``stamps``.

    Args:
        source: a DataFrame indexed by time stamps (or with the time column ``time_name``)
            holding ``columns``; rows are looked up by time stamp, so extra rows (the
            history, steps beyond the forecast) are ignored. None: nothing was given.
        stamps: the time stamps of the forecast steps (after the end of the history).
        columns: the future covariates the forecast needs.

    Returns:
        a float64 DataFrame (len(stamps), len(columns)) on ``stamps``.

    Raises:
        DataError: no source, a missing column, a missing time stamp or value; the message
            names the rows, columns and time stamps needed.
    """
    need = f"{len(stamps)} rows at {_span(stamps)} (the steps after the history)"
    fix = ("pass predict(data, future=frame), a DataFrame indexed by those time stamps, or "
           "end the input with those rows, their targets empty")
    if source is None:
        raise DataError(expected("future", f"the known-future covariates {list(columns)} in "
                                 f"{need}", Described("none"), fix))
    if not isinstance(source, pd.DataFrame):
        raise ConfigError(expected("future", "a pandas DataFrame", Described(
            type(source).__name__)))
    frame = source
    if time_name is not None and time_name in frame.columns:
        frame = frame.set_index(time_name)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(expected("future", f"columns {list(columns)}",
                                 [str(c) for c in frame.columns], f"missing {missing}"))
    index = frame.index
    if isinstance(stamps, pd.DatetimeIndex) and not isinstance(index, pd.DatetimeIndex):
        try:
            index = pd.DatetimeIndex(pd.to_datetime(index))
        except (TypeError, ValueError) as err:
            raise DataError(expected("future.index", "time stamps", Described(
                f"{index[:3].tolist()}..."))) from err
    if not index.is_unique:
        raise DataError(expected("future.index", "unique time stamps", Described(
            f"repeated {_some(index[index.duplicated()].unique())}")))
    rows = index.get_indexer(stamps)  # (S,), -1 where absent
    if (rows < 0).any():
        absent = stamps[rows < 0]
        raise DataError(expected("future", need, Described(
            f"{int((rows >= 0).sum())} of them; missing {_some(absent)}"), fix))
    values = frame[list(columns)].iloc[rows]
    values = values.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    holes = values.isna().to_numpy()
    if holes.any():
        r, c = map(int, np.argwhere(holes)[0])
        raise DataError(expected("future", f"a number in every row of {list(columns)}",
                                 Described(f"{int(holes.sum())} missing or non-numeric, the "
                                           f"first {columns[c]!r} at "
                                           f"{_fmt_time(stamps[r])}")))
    values.index = stamps
    return values


def known_future(prep: Preprocessing, series: TimeSeries, future: pd.DataFrame | None,
                 need: int) -> np.ndarray | None:
    """The future covariates (1, need, F_u) of the ``need`` steps after ``series``, in
    original units: the supplied ones from ``future`` (else ``series.future``), the calendar's
    computed; None for a model without future covariates."""
    if not need:
        if future is not None:
            raise ConfigError(expected("future", "None for a model without future covariates",
                                       Described("a DataFrame")))
        return None
    stamps = future_index(series, need, prep.freq)
    parts = []
    if prep.supplied_future:
        source = future if future is not None else series.future
        parts.append(read_future(source, stamps, prep.supplied_future, prep.time_name))
    if prep.calendar:
        parts.append(calendar_features(stamps, prep.calendar))
    frame = pd.concat(parts, axis=1)[list(prep.future_covariates)]
    return frame.to_numpy(dtype=np.float64)[None]  # (1, need, F_u)
