r"""Calendar features: known-future covariates computed from the time stamps alone.

A calendar feature is a cycle of the time stamp (the month of the year, the day of the week,
the hour of the day). Each becomes a **sin/cos pair** of columns::

    phase  = position in the cycle / cycle length          in [0, 1)
    <name>_sin = sin(2 pi phase),  <name>_cos = cos(2 pi phase)

so December sits next to January and every column lies in [-1, 1]: an integer month would
put 12 far from 1 and would have to be scaled; a one-hot month would add 12 columns. The pair
is the usual encoding for recurrent and linear models alike.

=================  ============================  ==================================
name               position in the cycle         cycle length
=================  ============================  ==================================
``month``          month - 1                     12
``day_of_week``    Monday 0 .. Sunday 6          7
``day_of_month``   day - 1                       days in that month (28 .. 31)
``day_of_year``    day of the year - 1           days in that year (365 or 366)
``hour``           hour                          24
``minute``         minute                        60
=================  ============================  ==================================

Calendar columns are future covariates whose future values need no input: a forecaster
with ``data.calendar = ["month"]`` adds them to the history at fit and predict time
(:func:`add_calendar`) and computes them for the forecast steps' time stamps.

Example::

    >>> index = pd.date_range("2024-01-01", periods=3, freq="MS")
    >>> calendar_features(index, ["month"]).round(3).to_numpy().tolist()
    [[0.0, 1.0], [0.5, 0.866], [0.866, 0.5]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.timeseries import TimeSeries
from rnnkit.errors import ConfigError, DataError

__all__ = ["CALENDAR_FEATURES", "add_calendar", "calendar_columns", "calendar_features"]


def _phase_of_day_of_month(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.day.to_numpy() - 1) / index.days_in_month.to_numpy()


def _phase_of_day_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    days = np.where(index.is_leap_year, 366, 365)
    return (index.day_of_year.to_numpy() - 1) / days


#: Each calendar feature's phase in [0, 1) as a function of a DatetimeIndex.
_PHASES: dict[str, Callable[[pd.DatetimeIndex], np.ndarray]] = {
    "month": lambda index: (index.month.to_numpy() - 1) / 12,
    "day_of_week": lambda index: index.day_of_week.to_numpy() / 7,
    "day_of_month": _phase_of_day_of_month,
    "day_of_year": _phase_of_day_of_year,
    "hour": lambda index: index.hour.to_numpy() / 24,
    "minute": lambda index: index.minute.to_numpy() / 60,
}
#: The calendar features :func:`calendar_features` knows, in documentation order.
CALENDAR_FEATURES: tuple[str, ...] = tuple(_PHASES)


def _checked(features: Sequence[str]) -> list[str]:
    names = [features] if isinstance(features, str) else list(features)
    unknown = [f for f in names if f not in _PHASES]
    if unknown:
        raise ConfigError(expected("calendar", f"names from {list(CALENDAR_FEATURES)}", unknown))
    repeated = sorted({f for f in names if names.count(f) > 1})
    if repeated:
        raise ConfigError(expected("calendar", "each feature once", Described(
            f"repeated {repeated}")))
    return names


def calendar_columns(features: Sequence[str]) -> tuple[str, ...]:
    """The column names of ``features``: ``<name>_sin, <name>_cos`` for each, in order."""
    return tuple(f"{name}_{part}" for name in _checked(features) for part in ("sin", "cos"))


def calendar_features(index: pd.Index, features: Sequence[str]) -> pd.DataFrame:
    """The sin/cos columns of ``features`` for the time stamps ``index``.

    Args:
        index: a DatetimeIndex (length T).
        features: names from :data:`CALENDAR_FEATURES`.

    Returns:
        a float64 DataFrame of shape (T, 2 * len(features)) on ``index``, columns
        :func:`calendar_columns`.

    Raises:
        ConfigError: an unknown or repeated feature name.
        DataError: an index without dates (integer steps have no calendar).
    """
    names = _checked(features)
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(expected("calendar", "a series indexed by dates",
                                 Described(f"a {type(index).__name__} of steps"),
                                 "read the time column as dates, or drop data.calendar"))
    columns: dict[str, np.ndarray] = {}
    for name in names:
        angle = 2 * np.pi * _PHASES[name](index)  # (T,)
        columns[f"{name}_sin"] = np.sin(angle)
        columns[f"{name}_cos"] = np.cos(angle)
    return pd.DataFrame(columns, index=index, dtype=np.float64)


def add_calendar(series: TimeSeries, features: Sequence[str]) -> TimeSeries:
    """``series`` with the calendar columns of ``features`` appended to its future
    covariates (and to its :attr:`~rnnkit.data.TimeSeries.future` rows, if any).

    A series that already has them all as future covariates is returned unchanged, so
    reading a prediction input twice adds nothing twice; one that has some of them as other
    columns is refused (a name clash).
    """
    columns = calendar_columns(features)
    if not columns or set(columns) <= set(series.future_covariates):
        return series
    frame = calendar_features(series.time_index, features)
    future = (None if series.future is None
              else calendar_features(series.future.index, features))
    return series.with_future_columns(frame, future)
