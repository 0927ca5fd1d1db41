"""A validated time series: one time index, target columns and optional covariates.

:func:`load_series` is the boundary where a CSV file, a Parquet file or a pandas DataFrame
becomes a :class:`TimeSeries`. Everything a forecasting pipeline silently gets wrong is checked
there once, with a one-line :class:`~rnnkit.errors.DataError` that names the problem:

* a column that is not in the file (the message lists the columns that are);
* a value that is not a number, a timestamp that cannot be parsed;
* duplicate or unsorted timestamps;
* missing values, handled only by an explicit policy (``missing=``);
* irregular spacing, handled only by an explicit policy (``irregular=``).

Symbols used in the shapes below:

* ``T``: number of time steps (rows);
* ``F``: number of features, targets first then covariates;
* ``n_targets``: number of target columns.

Example::

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=4, freq="D"),
    ...                       "load": [1.0, 2.0, None, 4.0]})
    >>> series = load_series(frame, time_col="day", targets=["load"], missing="interpolate")
    >>> series.values[:, 0].tolist()
    [1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from rnnkit._validation import Described, check_choice, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "DELTA_COLUMN",
    "IrregularPolicy",
    "MissingPolicy",
    "MissingReport",
    "TimeSeries",
    "find_missing",
    "load_series",
    "read_table",
]

logger = logging.getLogger(__name__)

MissingPolicy = Literal["error", "interpolate", "ffill"]
IrregularPolicy = Literal["error", "delta", "resample"]

#: Name of the covariate that ``irregular="delta"`` adds: time since the previous observation.
DELTA_COLUMN = "delta_t"

_MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "ffill")
_IRREGULAR_POLICIES: tuple[str, ...] = ("error", "delta", "resample")
_CSV_SUFFIXES = (".csv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")




def _preview(items: Sequence[Any], limit: int = 10) -> str:
    """``[a, b, c]`` for short lists, ``[a, b, ... (+n more)]`` for long ones."""
    shown = ", ".join(repr(item) for item in list(items)[:limit])
    extra = len(items) - limit
    return f"[{shown}, ... (+{extra} more)]" if extra > 0 else f"[{shown}]"


def _fmt_time(stamp: Any) -> str:
    """A time stamp or step as text: dates without a midnight ``00:00:00``, whole days as
    ``"3 days"``."""
    if isinstance(stamp, pd.Timestamp) and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    if isinstance(stamp, pd.Timedelta) and stamp == stamp.floor("D"):
        return f"{stamp.days} days"
    return str(stamp)


# --------------------------------------------------------------------------------------------
# TimeSeries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class TimeSeries:
    """A regular-or-explicitly-handled time series with named targets and covariates.

    Build one with :func:`load_series` (which cleans and validates raw data); the constructor
    only checks that ``frame`` already satisfies the invariants below and copies it.

    Invariants:

    * ``frame.index`` is a ``DatetimeIndex`` or an integer index, unique and strictly increasing;
    * ``frame.columns`` is exactly ``targets + covariates`` (targets first), all ``float64``;
    * there are no missing values.

    Args:
        frame: the data, shape ``(T, F)`` with ``F = len(targets) + len(covariates)``.
            Treat it as read-only; the series keeps its own copy.
        targets: names of the columns to forecast (at least one).
        covariates: names of extra input columns (known or observed features).
        freq: the spacing of the index: a pandas offset alias (``"MS"``, ``"D"``) for a
            ``DatetimeIndex``, the constant integer step for an integer index, ``None`` when
            irregular (the ``"delta"`` policy) or unknown (fewer than three rows).
        name: an optional label shown in ``repr``.
        gap_mask: shape ``(T,)``, bool: rows that were filled in (interpolated or resampled)
            inside a gap longer than ``load_series(max_gap=...)``; a forecaster drops the
            windows that reach them. ``None``: no such rows.
    """

    frame: pd.DataFrame
    targets: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    freq: str | int | None = None
    name: str | None = None
    gap_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise ConfigError(expected("frame", "a pandas DataFrame",
                                       Described(type(self.frame).__name__)))
        targets = tuple(self.targets)
        covariates = tuple(self.covariates)
        if not targets:
            raise ConfigError(expected("targets", "at least one target column", targets))
        columns = targets + covariates
        if tuple(self.frame.columns) != columns:
            raise DataError(
                expected("frame.columns", f"exactly targets + covariates {list(columns)}",
                         list(self.frame.columns), "build the series with load_series()")
            )
        _check_time_index(self.frame.index, label="frame.index")
        non_float = [c for c in columns if self.frame[c].dtype != np.float64]
        if non_float:
            raise DataError(expected("frame", "float64 columns",
                                     Described(f"non-float columns {non_float}"),
                                     "build the series with load_series()"))
        report = find_missing(self.frame)
        if report.count:
            raise DataError(expected("frame", "no missing values", Described(str(report)),
                                     "build the series with load_series(missing=...)"))
        if self.gap_mask is not None:
            mask = np.asarray(self.gap_mask, dtype=bool)
            if mask.shape != (len(self.frame),):
                raise ShapeError(expected("gap_mask", f"shape ({len(self.frame)},)",
                                          Described(str(mask.shape))))
            object.__setattr__(self, "gap_mask", mask if mask.any() else None)
        object.__setattr__(self, "frame", self.frame.copy())
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "covariates", covariates)

    # -- shape and names ---------------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        """All feature names, targets first: ``targets + covariates`` (length ``F``)."""
        return self.targets + self.covariates

    @property
    def target_idx(self) -> tuple[int, ...]:
        """Positions of the targets in :attr:`values`' last axis: always ``0 .. n_targets-1``."""
        return tuple(range(len(self.targets)))

    @property
    def n_steps(self) -> int:
        """``T``, the number of time steps."""
        return len(self.frame)

    @property
    def n_features(self) -> int:
        """``F``, the number of targets plus covariates."""
        return self.frame.shape[1]

    @property
    def n_targets(self) -> int:
        """The number of target columns."""
        return len(self.targets)

    @property
    def n_gap_rows(self) -> int:
        """Rows filled in inside gaps longer than ``max_gap`` (see :attr:`gap_mask`)."""
        return 0 if self.gap_mask is None else int(self.gap_mask.sum())

    def __len__(self) -> int:
        return self.n_steps

    # -- data -----------------------------------------------------------------------------------
    @property
    def time_index(self) -> pd.Index:
        """The time stamps, length ``T`` (a ``DatetimeIndex`` or an integer index)."""
        return self.frame.index

    @property
    def is_datetime(self) -> bool:
        """Whether the time index holds timestamps (``False``: integer steps)."""
        return isinstance(self.frame.index, pd.DatetimeIndex)

    @property
    def values(self) -> np.ndarray:
        """All features as a new ``float64`` array of shape ``(T, F)``, targets first."""
        return self.frame.to_numpy(dtype=np.float64, copy=True)

    @property
    def target_values(self) -> np.ndarray:
        """The targets as a new ``float64`` array of shape ``(T, n_targets)``."""
        return self.frame[list(self.targets)].to_numpy(dtype=np.float64, copy=True)

    def equals(self, other: object) -> bool:
        """Same data, index, names and frequency (``==`` is not defined on DataFrames)."""
        return (
            isinstance(other, TimeSeries)
            and self.targets == other.targets
            and self.covariates == other.covariates
            and self.freq == other.freq
            and self.frame.equals(other.frame)
            and self.frame.index.equals(other.frame.index)
        )

    def __repr__(self) -> str:
        index = self.frame.index
        parts = [f"n_steps={self.n_steps}", f"targets={list(self.targets)}"]
        if self.covariates:
            parts.append(f"covariates={list(self.covariates)}")
        if len(index):
            parts.append(f"time={_fmt_time(index[0])}..{_fmt_time(index[-1])}")
        if self.freq is not None:
            parts.append(f"freq={self.freq!r}")
        if self.n_gap_rows:
            parts.append(f"gap_rows={self.n_gap_rows}")
        if self.name:
            parts.insert(0, f"name={self.name!r}")
        return f"TimeSeries({', '.join(parts)})"


# --------------------------------------------------------------------------------------------
# Missing values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingReport:
    """Where values are missing in a frame.

    Attributes:
        count: total number of missing entries.
        by_column: missing entries per column (only columns that have some).
        first: up to ``max_positions`` of the first missing entries in row order, each
            ``(row, time, column)`` with ``row`` the 0-based position and ``time`` its label.
    """

    count: int
    by_column: dict[str, int]
    first: tuple[tuple[int, Any, str], ...]

    def __str__(self) -> str:
        if not self.count:
            return "no missing values"
        per_column = ", ".join(f"{col!r}: {n}" for col, n in self.by_column.items())
        where = ", ".join(f"row {row} ({_fmt_time(time)}) in {col!r}"
                          for row, time, col in self.first)
        return f"{self.count} missing values ({per_column}); first at {where}"


def find_missing(frame: pd.DataFrame, max_positions: int = 5) -> MissingReport:
    """Count the missing values of ``frame`` and locate the first ``max_positions`` of them."""
    mask = frame.isna().to_numpy()
    if not mask.any():
        return MissingReport(0, {}, ())
    per_column = mask.sum(axis=0)
    by_column = {str(col): int(n) for col, n in zip(frame.columns, per_column) if n}
    rows, cols = np.nonzero(mask)  # row-major: ordered by row, then column
    first = tuple(
        (int(r), frame.index[r], str(frame.columns[c]))
        for r, c in zip(rows[:max_positions], cols[:max_positions])
    )
    return MissingReport(int(mask.sum()), by_column, first)


def _handle_missing(frame: pd.DataFrame, policy: str) -> pd.DataFrame:
    """Apply the missing-value ``policy`` to ``frame`` (shape ``(T, F)``)."""
    report = find_missing(frame)
    if not report.count:
        return frame
    empty = [col for col, n in report.by_column.items() if n == len(frame)]
    if empty:
        raise DataError(expected("data", "at least one observed value per column",
                                 Described(f"no values at all in {empty}")))
    if policy == "error":
        raise DataError(expected("data", "no missing values", Described(str(report)),
                                 "pass missing='interpolate' or missing='ffill'"))
    if policy == "interpolate":
        # Interpolate along the real time axis so uneven gaps are weighted correctly; leading
        # and trailing gaps take the nearest observed value (no extrapolation).
        filled = frame.interpolate(method=_interpolation_method(frame.index),
                                   limit_direction="both")
    else:  # ffill
        filled = frame.ffill()
        leading = find_missing(filled)
        if leading.count:
            raise DataError(expected(
                "missing='ffill'", "an observed value before every gap",
                Described(f"leading missing values ({leading})"),
                "use missing='interpolate' or drop the leading rows"))
    logger.info("filled %s with missing=%r", report, policy)
    return filled


# --------------------------------------------------------------------------------------------
# Time index
# --------------------------------------------------------------------------------------------


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
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce",
                            format=date_format)
    bad = parsed.isna().to_numpy() & ~pd.isna(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = f"timestamps in the format {date_format!r}" if date_format else \
            "parseable timestamps"
        raise DataError(expected(label, what, Described(f"{values[row]!r} at row {row}"),
                                 "fix the value, pass date_format=... (data.date_format), "
                                 "or pass a frame with a DatetimeIndex"))
    return pd.DatetimeIndex(parsed, name=name)


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


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def read_table(source: str | os.PathLike[str] | pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A CSV/Parquet file (or a copy of a DataFrame, a Series as one column) as a DataFrame,
    unvalidated: what :func:`load_series` starts from."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, pd.Series):
        return source.to_frame(name=source.name if source.name is not None else "value")
    if not isinstance(source, (str, os.PathLike)):
        raise ConfigError(expected("source", "a CSV/Parquet path or a pandas DataFrame",
                                   Described(type(source).__name__)))
    path = Path(source)
    if not path.is_file():
        raise DataError(expected("source", "an existing CSV or Parquet file", str(path)))
    suffix = path.suffix.lower()
    try:
        if suffix in _CSV_SUFFIXES:
            return pd.read_csv(path)
        if suffix in _PARQUET_SUFFIXES:
            return pd.read_parquet(path)
    except (ValueError, OSError) as err:  # pandas parser errors subclass ValueError
        raise DataError(f"source: could not read {str(path)!r}: {err}") from err
    raise ConfigError(expected("source", f"a file ending in {_CSV_SUFFIXES + _PARQUET_SUFFIXES}",
                               path.name))


def _as_names(name: str, value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(n, str) for n in names):
        raise ConfigError(expected(name, "column names (strings)", names))
    return names


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as float64; non-numbers raise a DataError naming the first one."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # includes bool
        return raw.astype(np.float64)
    converted = pd.to_numeric(raw, errors="coerce")
    bad = converted.isna().to_numpy() & raw.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(expected(f"column {column!r}", "numeric values",
                                 Described(f"{raw.iloc[row]!r} at row {row} "
                                       f"({int(bad.sum())} non-numeric)")))
    return converted.astype(np.float64)


def load_series(
    source: str | os.PathLike[str] | pd.DataFrame | pd.Series,
    *,
    time_col: str | None = None,
    targets: str | Sequence[str] | None = None,
    covariates: str | Sequence[str] = (),
    missing: MissingPolicy = "error",
    irregular: IrregularPolicy = "error",
    freq: str | int | None = None,
    name: str | None = None,
    date_format: str | None = None,
    max_gap: int | str | None = None,
) -> TimeSeries:
    """Load a CSV file, a Parquet file or a DataFrame into a validated :class:`TimeSeries`.

    Args:
        source: a path ending in ``.csv``/``.txt`` or ``.parquet``/``.pq``, or a DataFrame
            (or Series; its name becomes the column).
        time_col: the column holding the time stamps (parsed as datetimes unless integer).
            ``None``: use the DataFrame's index (a file gets steps ``0 .. T-1``).
        targets: the column(s) to forecast. ``None``: every column that is not ``time_col``
            or a covariate.
        covariates: extra input columns.
        missing: what to do with missing values. ``"error"`` (default) raises a DataError that
            counts them and shows where the first ones are; ``"interpolate"`` interpolates
            linearly along the time axis (edges take the nearest observed value);
            ``"ffill"`` carries the last observation forward (a leading gap raises).
        irregular: what to do when the time stamps are not evenly spaced. ``"error"``
            (default) raises; ``"delta"`` keeps the rows and appends the covariate
            ``"delta_t"``, the time since the previous observation in units of ``freq`` (or
            of the median step), ``1.0`` on the first row; the column is added even when the
            data happen to be regular, so the feature set never depends on the file;
            ``"resample"`` interpolates the series at a regular grid every ``freq`` inside the
            observed span (point interpolation; to aggregate, e.g. monthly means, resample
            with pandas before loading).
        freq: the expected spacing: a pandas offset alias (``"D"``, ``"MS"``) for datetimes,
            a positive integer for integer steps. Required for ``"resample"``; with
            ``"error"`` the index must match it exactly. ``None``: inferred.
        name: a label for the series.
        date_format: a ``strftime`` format for text time stamps (e.g. ``"%d/%m/%Y"``);
            ``None``: pandas guesses it.
        max_gap: the longest stretch between two complete observations that may be filled
            in by ``missing`` or ``irregular="resample"``: a number of steps (of ``freq``, or
            of the median spacing) or a pandas offset such as ``"3D"`` (datetimes only). Rows
            filled inside a longer gap are marked in :attr:`TimeSeries.gap_mask` (and
            logged); forecasters drop the windows that reach them. ``None``: no limit.

    Returns:
        A :class:`TimeSeries` whose frame has shape ``(T, F)``: float64 columns, targets first.

    Raises:
        DataError: unreadable file, missing column, non-numeric value, unparseable, duplicate
            or unsorted time stamps, missing values under ``missing="error"``, irregular
            spacing under ``irregular="error"``.
        ConfigError: an unknown policy, a bad ``freq``, overlapping targets and covariates.
    """
    check_choice("missing", missing, _MISSING_POLICIES)
    check_choice("irregular", irregular, _IRREGULAR_POLICIES)
    raw = read_table(source)
    raw.columns = [str(c) for c in raw.columns]
    if raw.columns.has_duplicates:
        duplicated = sorted(set(raw.columns[raw.columns.duplicated()]))
        raise DataError(expected("source", "unique column names",
                                 Described(f"duplicated columns {duplicated}")))
    available = list(raw.columns)

    def require(arg: str, column: str) -> None:
        if column not in raw.columns:
            raise DataError(f"{arg}: column {column!r} not found; available: {_preview(available)}")

    if time_col is not None:
        require("time_col", time_col)
        label = f"time_col {time_col!r}"
        index = _to_time_index(raw[time_col], label, date_format).rename(time_col)
        if raw[time_col].dtype == object or pd.api.types.is_string_dtype(raw[time_col].dtype):
            _check_text_order(raw[time_col], index, label, date_format)
        raw = raw.drop(columns=[time_col])
    else:
        index = _to_time_index(raw.index, "index")
        if index.name is None:
            index = index.rename("time")
    raw.index = index
    _check_time_index(index, f"time_col {time_col!r}" if time_col else "index")

    cov_names = _as_names("covariates", covariates) or []
    target_names = _as_names("targets", targets)
    if target_names is None:
        target_names = [str(c) for c in raw.columns if c not in cov_names]
    for col in target_names:
        require("targets", col)
    for col in cov_names:
        require("covariates", col)
    if not target_names:
        raise ConfigError(expected("targets", "at least one target column", target_names))
    columns = target_names + cov_names
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ConfigError(expected("targets/covariates", "each column listed once",
                                   Described(f"repeated {repeated}")))
    frame = pd.DataFrame({col: _numeric(raw, col) for col in columns}, index=index)
    observed = frame.index[frame.notna().all(axis=1).to_numpy()]
    frame = _handle_missing(frame, missing)
    frame, spacing = _handle_irregular(frame, irregular, freq)
    gaps = None if max_gap is None else _long_gaps(observed, frame.index, max_gap, spacing)
    if irregular == "delta":
        cov_names = [*cov_names, DELTA_COLUMN]
    return TimeSeries(frame, tuple(target_names), tuple(cov_names), spacing, name, gaps)


def _long_gaps(observed: pd.Index, index: pd.Index, max_gap: int | str,
               freq: str | int | None) -> np.ndarray:
    """Shape ``(T,)``: the rows of ``index`` that are not observations and lie inside a
    stretch between two observations (or before the first / after the last) that is longer
    than ``max_gap``."""
    datetime = isinstance(index, pd.DatetimeIndex)
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, str)) \
            or (isinstance(max_gap, int) and max_gap < 1):
        raise ConfigError(expected("max_gap", "a number of steps >= 1 or a pandas offset "
                                   "such as '3D'", max_gap))
    if isinstance(max_gap, str):
        if not datetime:
            raise ConfigError(expected("max_gap", "a number of steps for an integer index",
                                       max_gap))
        try:
            offset = pd.tseries.frequencies.to_offset(max_gap)
        except ValueError as err:
            raise ConfigError(expected("max_gap", "a pandas offset such as '3D' or '2h'",
                                       max_gap)) from err
    elif datetime:
        if isinstance(freq, str):
            offset = pd.tseries.frequencies.to_offset(freq) * max_gap
        else:
            offset = pd.Timedelta(int(np.median(np.diff(index.asi8))), unit=index.unit) * max_gap
    else:
        offset = (freq if isinstance(freq, int) else
                  int(np.median(np.diff(index.to_numpy()))) if len(index) > 1 else 1) * max_gap
    # the stretches: from the first row to the first observation, between observations,
    # from the last observation to the last row
    bounds = observed
    if len(bounds) == 0 or bounds[0] != index[0]:
        bounds = index[:1].append(bounds)
    if bounds[-1] != index[-1]:
        bounds = bounds.append(index[-1:])
    too_long = np.asarray(bounds[1:] > bounds[:-1] + offset, dtype=bool)  # (n_bounds - 1,)
    k = np.searchsorted(bounds, index, side="right") - 1  # the stretch each row lies in
    k = np.clip(k, 0, max(len(too_long) - 1, 0))
    mask = np.zeros(len(index), dtype=bool)
    if len(too_long):
        mask = too_long[k] & ~index.isin(observed)
    if mask.any():
        logger.warning("max_gap=%r: %d rows were filled in inside longer gaps (first at "
                       "%s); windows that reach them will be dropped", max_gap,
                       int(mask.sum()), _fmt_time(index[int(np.flatnonzero(mask)[0])]))
    return mask
