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
