"""Time stamps of a series: parsing a time column, checking the index, its spacing.

:func:`rnnkit.data.timeseries.load_series` turns a time column (or a frame's index) into a
``DatetimeIndex`` or an integer index here, and checks it once: a time stamp on every row,
unique and increasing, with messages that show the offending rows. Text that parses into
time stamps going backwards is reported as a likely misreading (two-digit years, day and
month swapped) rather than as unsorted rows.

The spacing helpers (:func:`_infer_freq`, :func:`_check_freq_type`, :func:`_grid`,
:func:`_describe_irregular`) serve the missing-value and irregular-spacing policies
(:mod:`rnnkit.data.missing`, :mod:`rnnkit.data.irregular`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError

__all__: list[str] = []


def _fmt_time(stamp: Any) -> str:
    """A time stamp or step as text: dates without a midnight ``00:00:00``, whole days as
    ``"3 days"``."""
    if isinstance(stamp, pd.Timestamp) and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    if isinstance(stamp, pd.Timedelta) and stamp == stamp.floor("D"):
        return f"{stamp.days} days"
    return str(stamp)



def _check_time_index(index: pd.Index, label: str) -> None:
    """Raise unless ``index`` is datetime-or-integer, complete, unique and increasing."""
    if not (isinstance(index, pd.DatetimeIndex) or pd.api.types.is_integer_dtype(index.dtype)):
        raise DataError(expected(label, "datetime or integer time stamps", Described(str(index.dtype))))
    if index.hasnans:
        rows = np.flatnonzero(index.isna())
        raise DataError(expected(label, "a time stamp on every row",
                                 Described(f"{rows.size} missing, first at row {int(rows[0])}")))
    if index.has_duplicates:
        dup = index[index.duplicated(keep=False)]
        rows = np.flatnonzero(index == dup[0])
        raise DataError(expected(
            label, "unique time stamps",
            Described(f"{int(index.duplicated().sum())} duplicates, first {_fmt_time(dup[0])} "
                  f"at rows {rows.tolist()}"),
            "aggregate or drop duplicate rows first"))
    if not index.is_monotonic_increasing:
        step = np.diff(index.asi8 if isinstance(index, pd.DatetimeIndex) else index.to_numpy())
        row = int(np.flatnonzero(step < 0)[0]) + 1
        raise DataError(expected(
            label, "time stamps in increasing order",
            Described(f"{_fmt_time(index[row])} after {_fmt_time(index[row - 1])} at row {row}"),
            "sort the data by time first"))


def _to_time_index(raw: pd.Series | pd.Index, label: str,
                   date_format: str | None = None) -> pd.Index:
    """Convert a time column (or an existing index) to a DatetimeIndex or an int64 index;
    text is parsed with ``date_format`` (None: pandas guesses the format)."""
    values = pd.Index(raw)
    name = values.name
    if isinstance(values, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pd.DatetimeIndex(values, name=name)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(expected(label, "datetime or integer time stamps", Described("booleans")))
    if pd.api.types.is_integer_dtype(values.dtype):
        return pd.Index(values.to_numpy(dtype=np.int64), name=name)
    if pd.api.types.is_float_dtype(values.dtype):
        floats = values.to_numpy(dtype=np.float64)
        observed = floats[~np.isnan(floats)]
        fractional = observed[observed != np.round(observed)]
        if fractional.size:
            raise DataError(expected(label, "datetime or integer time stamps",
                                     Described(f"fractional values such as {fractional[0]}")))
        if observed.size < floats.size:  # NaN stamps are reported by _check_time_index
            return pd.DatetimeIndex(pd.to_datetime(floats, errors="coerce"), name=name)
        return pd.Index(floats.astype(np.int64), name=name)
    try:
        parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce",
                                format=date_format)
    except (ValueError, TypeError) as err:  # e.g. "Mixed timezones detected"
        _check_one_zone(values, label, date_format)
        raise DataError(expected(label, "parseable timestamps", Described(str(err)),
                                 "fix the column, or pass a frame with a DatetimeIndex")) from None
    bad = parsed.isna().to_numpy() & ~pd.isna(values)
    if bad.any():
        _check_one_zone(values, label, date_format)
        row = int(np.flatnonzero(bad)[0])
        what = f"timestamps in the format {date_format!r}" if date_format else \
            "parseable timestamps"
        raise DataError(expected(label, what, Described(f"{values[row]!r} at row {row}"),
                                 "fix the value, pass date_format=... (data.date_format), "
                                 "or pass a frame with a DatetimeIndex"))
    return pd.DatetimeIndex(parsed, name=name)


def _zone(value: Any, date_format: str | None) -> str | None:
    """The time zone of one time stamp (``"no zone"`` when naive), ``None`` if unparseable."""
    try:
        stamp = value if isinstance(value, pd.Timestamp) else \
            pd.to_datetime(value, format=date_format)
    except (ValueError, TypeError, OverflowError):
        return None
    if not isinstance(stamp, pd.Timestamp) or pd.isna(stamp):
        return None
    return "no zone" if stamp.tz is None else str(stamp.tz)


def _check_one_zone(values: pd.Index, label: str, date_format: str | None) -> None:
    """Raise when the time stamps of a column carry different time zones (or some carry one
    and others none): pandas cannot put them on one index without a choice of zone."""
    zones: list[str] = []
    first_change = None
    for row, value in enumerate(values):
        if pd.isna(value):
            continue
        zone = _zone(value, date_format)
        if zone is None:
            continue
        if zones and zone not in zones and first_change is None:
            first_change = row
        if zone not in zones:
            zones.append(zone)
    if len(zones) > 1:
        raise DataError(expected(
            label, "time stamps in one time zone",
            Described(f"the zones {zones}, the first change at row {first_change}"),
            "convert the column to one zone before loading (e.g. pd.to_datetime(column, "
            "utc=True) and pass the DataFrame), or write every time stamp with the same "
            "offset"))


def _as_written(text: Any, stamp: pd.Timestamp) -> bool:
    """Whether ``text`` is ``stamp`` in ISO form (so it cannot have been misread)."""
    return str(text).strip() in {_fmt_time(stamp), str(stamp), stamp.isoformat()}


def _check_text_order(text: pd.Series, index: pd.Index, label: str,
                      date_format: str | None) -> None:
    """Raise when time stamps parsed from text go backwards.

    The file's rows are in the order it was written, so a step back usually means the text
    was read wrong (two-digit years read in two centuries, day and month swapped) rather
    than rows out of order: sorting would scramble the series. The message shows the text
    and how it was read, and suggests the format first.
    """
    if not isinstance(index, pd.DatetimeIndex) or index.hasnans \
            or index.is_monotonic_increasing:
        return
    row = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
    before, after = index[row - 1], index[row]
    if _as_written(text.iloc[row - 1], before) and _as_written(text.iloc[row], after):
        return  # ISO stamps read as written: the rows really are out of order
    found = (f"{text.iloc[row]!r} (read as {_fmt_time(after)}) after {text.iloc[row - 1]!r} "
             f"(read as {_fmt_time(before)}) at row {row}")
    if before.year - after.year >= 50:
        why = ("two-digit years were read in two different centuries: write four-digit "
               "years, or parse the column yourself and pass a DataFrame with a "
               "DatetimeIndex")
    elif date_format is None:
        why = ("pandas may have guessed the date format wrong (day and month swapped?): "
               "pass date_format=... (data.date_format, e.g. '%d/%m/%Y') or check the column")
    else:
        why = f"check the column and date_format={date_format!r}"
    raise DataError(expected(label, "time stamps in increasing order", Described(found),
                             f"{why}; sort the rows by time only if they really are out of "
                             "order"))


def _infer_freq(index: pd.Index) -> str | int | None:
    """The constant spacing of ``index``, or ``None`` if irregular or shorter than 3 rows."""
    if len(index) < 3:
        return None
    if isinstance(index, pd.DatetimeIndex):
        offset = pd.DatetimeIndex(index, freq="infer").freq
        return None if offset is None else offset.freqstr
    steps = np.unique(np.diff(index.to_numpy()))
    return int(steps[0]) if steps.size == 1 else None


def _check_freq_type(index: pd.Index, freq: str | int) -> None:
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(freq, bool) or not isinstance(freq, str):
            raise ConfigError(expected("freq", "a pandas offset alias such as 'D' or 'MS' "
                                       "for a datetime index", freq))
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError as err:
            raise ConfigError(expected("freq", "a pandas offset alias such as 'D' or 'MS'",
                                       freq)) from err
    elif isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
        raise ConfigError(expected("freq", "a positive integer step for an integer index", freq))


def _interpolation_method(index: pd.Index) -> Literal["time", "index"]:
    """Interpolate along real time (uneven gaps weigh by their length), not by row count."""
    return "time" if isinstance(index, pd.DatetimeIndex) else "index"


def _grid(index: pd.Index, freq: str | int) -> pd.Index:
    """Regular time stamps every ``freq`` inside ``[index[0], index[-1]]`` (``freq`` checked
    by :func:`_check_freq_type`: a str for datetimes, an int for integer steps)."""
    if isinstance(index, pd.DatetimeIndex):
        return pd.date_range(index[0], index[-1], freq=str(freq), name=index.name)
    steps = np.arange(int(index[0]), int(index[-1]) + 1, int(freq), dtype=np.int64)
    return pd.Index(steps, name=index.name)


def _describe_irregular(index: pd.Index) -> str:
    steps = np.diff(index.asi8 if isinstance(index, pd.DatetimeIndex) else index.to_numpy())
    row = int(np.flatnonzero(steps != steps[0])[0]) + 1 if np.unique(steps).size > 1 else 1
    if isinstance(index, pd.DatetimeIndex):
        unit = pd.Timedelta(1, unit=index.unit)  # asi8 counts in the index's unit
        lo, hi = _fmt_time(unit * int(steps.min())), _fmt_time(unit * int(steps.max()))
    else:
        lo, hi = str(int(steps.min())), str(int(steps.max()))
    return (f"steps from {lo} to {hi}, first change at row {row} "
            f"({_fmt_time(index[row])})")
