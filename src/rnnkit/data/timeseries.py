"""A validated time series: one time index, target columns and optional covariates.

Covariates are of two kinds. ``covariates`` are *past-only*: observed up to the last row and
unknown after it. ``future_covariates`` are *known in advance* (calendar features, holidays, a
planned price): a forecaster reads their values over the forecast steps too, which a series
carries after its last row in :attr:`TimeSeries.future`.

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
* ``F``: number of features: targets, then covariates, then future covariates;
* ``n_targets``: number of target columns;
* ``T_future``: rows of known future values after the series (:attr:`TimeSeries.future`).

Example::

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=4, freq="D"),
    ...                       "load": [1.0, 2.0, None, 4.0]})
    >>> series = load_series(frame, time_col="day", targets=["load"], missing="interpolate")
    >>> series.values[:, 0].tolist()
    [1.0, 2.0, 3.0, 4.0]
"""


from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnkit._validation import Described, check_choice, expected
from rnnkit.data.gaps import _long_gaps
from rnnkit.data.irregular import (
    _IRREGULAR_POLICIES,
    DELTA_COLUMN,
    IrregularPolicy,
    _handle_irregular,
)
from rnnkit.data.missing import _MISSING_POLICIES, MissingPolicy, _handle_missing, find_missing
from rnnkit.data.tables import _as_names, _numeric, _preview, read_table
from rnnkit.data.timestamps import (
    _check_text_order,
    _check_time_index,
    _fmt_time,
    _to_time_index,
)
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["TimeSeries", "load_series"]


@dataclass(frozen=True, repr=False, eq=False)
class TimeSeries:
    """A regular-or-explicitly-handled time series with named targets and covariates.

    Build one with :func:`load_series` (which cleans and validates raw data); the constructor
    only checks that ``frame`` already satisfies the invariants below and copies it.

    Invariants:

    * ``frame.index`` is a ``DatetimeIndex`` or an integer index, unique and strictly increasing;
    * ``frame.columns`` is exactly ``targets + covariates + future_covariates`` (targets
      first), all ``float64``;
    * there are no missing values;
    * ``future`` (if any) holds the ``future_covariates`` columns, ``float64`` without
      missing values, at strictly increasing time stamps after the last row.

    Args:
        frame: the data, shape ``(T, F)`` with ``F = len(targets) + len(covariates) +
            len(future_covariates)``. Treat it as read-only; the series keeps its own copy.
        targets: names of the columns to forecast (at least one).
        covariates: names of extra input columns observed up to the last row (past-only).
        freq: the spacing of the index: a pandas offset alias (``"MS"``, ``"D"``) for a
            ``DatetimeIndex``, the constant integer step for an integer index, ``None`` when
            irregular (the ``"delta"`` policy) or unknown (fewer than three rows).
        name: an optional label shown in ``repr``.
        gap_mask: shape ``(T,)``, bool: rows that were filled in (interpolated or resampled)
            inside a gap longer than ``load_series(max_gap=...)``; a forecaster drops the
            windows that reach them. ``None``: no such rows.
        future_covariates: names of input columns whose future values are known in advance
            (calendar features, holidays, planned values).
        future: shape ``(T_future, len(future_covariates))``: the future covariates' values
            at the time stamps after the last row (what a forecast from the end of the series
            reads), or ``None``. :func:`load_series` takes them from trailing rows whose
            targets are empty.
    """

    frame: pd.DataFrame
    targets: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    freq: str | int | None = None
    name: str | None = None
    gap_mask: np.ndarray | None = None
    future_covariates: tuple[str, ...] = ()
    future: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise ConfigError(expected("frame", "a pandas DataFrame",
                                       Described(type(self.frame).__name__)))
        targets = tuple(self.targets)
        covariates = tuple(self.covariates)
        future_covariates = tuple(self.future_covariates)
        if not targets:
            raise ConfigError(expected("targets", "at least one target column", targets))
        columns = targets + covariates + future_covariates
        if tuple(self.frame.columns) != columns:
            what = "targets + covariates" + (" + future_covariates" if future_covariates else "")
            raise DataError(
                expected("frame.columns", f"exactly {what} {list(columns)}",
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
        if self.future is not None:
            object.__setattr__(self, "future", _checked_future(self.future, future_covariates,
                                                               self.frame.index))
        object.__setattr__(self, "frame", self.frame.copy())
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "covariates", covariates)
        object.__setattr__(self, "future_covariates", future_covariates)

    # -- shape and names ---------------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        """All feature names, targets first: ``targets + covariates + future_covariates``
        (length ``F``)."""
        return self.targets + self.covariates + self.future_covariates

    @property
    def future_idx(self) -> tuple[int, ...]:
        """Positions of the future covariates in :attr:`values`' last axis (the last ones)."""
        first = len(self.targets) + len(self.covariates)
        return tuple(range(first, first + len(self.future_covariates)))

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
        """``F``, the number of targets plus covariates (past-only and future)."""
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
            and self.future_covariates == other.future_covariates
            and self.freq == other.freq
            and self.frame.equals(other.frame)
            and self.frame.index.equals(other.frame.index)
            and _same_future(self.future, other.future)
        )

    def with_future_columns(self, columns: pd.DataFrame, future: pd.DataFrame | None = None
                            ) -> TimeSeries:
        """A copy with more future covariates: ``columns`` (``T`` rows on this series' index)
        appended to :attr:`frame`, and ``future`` (their values at the :attr:`future` time
        stamps; needed when this series has a :attr:`future`) appended to it."""
        clash = sorted(set(columns.columns) & set(self.columns))
        if clash:
            raise DataError(expected("future covariates", "new column names",
                                     Described(f"{clash}, already columns of the series")))
        if not columns.index.equals(self.frame.index):
            raise DataError(expected("columns", "the series' time index", Described(
                f"{len(columns)} rows on another index")))
        frame = pd.concat([self.frame, columns.astype(np.float64)], axis=1)
        extended = None
        if self.future is not None:
            if future is None or not future.index.equals(self.future.index):
                raise DataError(expected("future", f"values at the {len(self.future)} future "
                                         "time stamps of the series", Described(
                                             "none" if future is None else "other rows")))
            extended = pd.concat([self.future, future.astype(np.float64)], axis=1)
        return TimeSeries(frame, self.targets, self.covariates, self.freq, self.name,
                          self.gap_mask, self.future_covariates + tuple(columns.columns),
                          extended)

    def __repr__(self) -> str:
        index = self.frame.index
        parts = [f"n_steps={self.n_steps}", f"targets={list(self.targets)}"]
        if self.covariates:
            parts.append(f"covariates={list(self.covariates)}")
        if self.future_covariates:
            parts.append(f"future_covariates={list(self.future_covariates)}")
        if len(index):
            parts.append(f"time={_fmt_time(index[0])}..{_fmt_time(index[-1])}")
        if self.freq is not None:
            parts.append(f"freq={self.freq!r}")
        if self.n_gap_rows:
            parts.append(f"gap_rows={self.n_gap_rows}")
        if self.future is not None:
            parts.append(f"future_rows={len(self.future)}")
        if self.name:
            parts.insert(0, f"name={self.name!r}")
        return f"TimeSeries({', '.join(parts)})"


def _same_future(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.equals(b) and a.index.equals(b.index)


def _checked_future(future: pd.DataFrame, columns: tuple[str, ...], index: pd.Index
                    ) -> pd.DataFrame:
    """``future`` as a float64 copy, after checking its columns, values and time stamps."""
    if not isinstance(future, pd.DataFrame):
        raise ConfigError(expected("future", "a pandas DataFrame", Described(
            type(future).__name__)))
    if tuple(future.columns) != columns:
        raise DataError(expected("future.columns", f"exactly future_covariates {list(columns)}",
                                 list(future.columns)))
    out = future.astype(np.float64)
    report = find_missing(out)
    if report.count:
        raise DataError(expected("future", "no missing values", Described(str(report))))
    stamps = out.index
    if len(stamps) and len(index):
        if isinstance(index, pd.DatetimeIndex) != isinstance(stamps, pd.DatetimeIndex):
            raise DataError(expected("future.index", f"the kind of the series' index "
                                     f"({type(index).__name__})", Described(
                                         type(stamps).__name__)))
        if not stamps.is_monotonic_increasing or not stamps.is_unique or stamps[0] <= index[-1]:
            raise DataError(expected("future.index", f"strictly increasing time stamps after "
                                     f"the last row {_fmt_time(index[-1])}", Described(
                                         f"{_fmt_time(stamps[0])}..{_fmt_time(stamps[-1])}")))
    return out.copy()


def _split_future_rows(frame: pd.DataFrame, targets: list[str], future_covariates: list[str]
                       ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Split off the trailing rows whose targets are all missing: ``(history, future)``.

    They hold the known-future values of ``future_covariates`` (which must all be present)
    for a forecast from the end of the history; None when there are no such rows.
    """
    empty = frame[targets].isna().all(axis=1).to_numpy()  # (T,)
    n_future = int(np.argmin(empty[::-1])) if not empty.all() else len(empty)
    if n_future == 0:
        return frame, None
    if n_future == len(frame):
        raise DataError(expected("targets", "observed values before the future rows",
                                 Described("every row's targets empty")))
    future = frame.iloc[-n_future:][future_covariates]
    holes = future.isna().to_numpy()
    if holes.any():
        row, col = map(int, np.argwhere(holes)[0])
        raise DataError(expected(
            "future rows", f"a value of every future covariate {future_covariates} in the "
            f"{n_future} trailing rows whose targets are empty", Described(
                f"{int(holes.sum())} missing, the first {future_covariates[col]!r} at "
                f"{_fmt_time(future.index[row])}"), "fill them, or drop the rows"))
    return frame.iloc[:-n_future], future


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
    future_covariates: str | Sequence[str] = (),
) -> TimeSeries:
    """Load a CSV file, a Parquet file or a DataFrame into a validated :class:`TimeSeries`.

    Args:
        source: a path ending in ``.csv``/``.txt`` or ``.parquet``/``.pq``, or a DataFrame
            (or Series; its name becomes the column).
        time_col: the column holding the time stamps (parsed as datetimes unless integer).
            ``None``: use the DataFrame's index (a file gets steps ``0 .. T-1``).
        targets: the column(s) to forecast. ``None``: every column that is not ``time_col``
            or a covariate.
        covariates: extra input columns observed up to the last row (past-only).
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
        future_covariates: input columns whose future values are known in advance (calendar
            features, holidays, a price schedule). With them, the trailing rows whose targets
            are all empty are not part of the series: they are its :attr:`TimeSeries.future`
            (their future covariates must be filled; other columns are ignored), so one file
            can hold the history and the known future of a forecast.

    Returns:
        A :class:`TimeSeries` whose frame has shape ``(T, F)``: float64 columns, targets
        first, then covariates, then future covariates.

    Raises:
        DataError: unreadable file, missing column, non-numeric value, unparseable, duplicate
            or unsorted time stamps, missing values under ``missing="error"``, irregular
            spacing under ``irregular="error"``.
        ConfigError: an unknown policy, a bad ``freq``, overlapping targets and covariates.
    """
    check_choice("missing", missing, _MISSING_POLICIES)
    check_choice("irregular", irregular, _IRREGULAR_POLICIES)
    if time_col is not None and not isinstance(time_col, str):
        raise ConfigError(expected("time_col", "a column name (a string) or None", time_col))
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
    future_names = _as_names("future_covariates", future_covariates) or []
    target_names = _as_names("targets", targets)
    if target_names is None:
        target_names = [str(c) for c in raw.columns if c not in cov_names + future_names]
    for col in target_names:
        require("targets", col)
    for col in cov_names:
        require("covariates", col)
    for col in future_names:
        require("future_covariates", col)
    if not target_names:
        raise ConfigError(expected("targets", "at least one target column", target_names))
    columns = target_names + cov_names + future_names
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ConfigError(expected("targets/covariates/future_covariates",
                                   "each column listed once", Described(f"repeated {repeated}")))
    frame = pd.DataFrame({col: _numeric(raw, col) for col in columns}, index=index)
    future = None
    if future_names:
        frame, future = _split_future_rows(frame, target_names, future_names)
    observed = frame.index[frame.notna().all(axis=1).to_numpy()]
    frame = _handle_missing(frame, missing)
    frame, spacing = _handle_irregular(frame, irregular, freq)
    gaps = None if max_gap is None else _long_gaps(observed, frame.index, max_gap, spacing)
    if irregular == "delta":
        cov_names = [*cov_names, DELTA_COLUMN]
        frame = frame[target_names + cov_names + future_names]  # delta_t before the future
    return TimeSeries(frame, tuple(target_names), tuple(cov_names), spacing, name, gaps,
                      tuple(future_names), future)
