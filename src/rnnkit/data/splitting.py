"""Chronological splits and rolling-origin backtests that never leak future targets.

A split cuts the rows (time steps) of a series into three consecutive parts::

    rows  0 ........ val_start ........ test_start ........ stop
          |   train   |       val        |       test       |

and a forecasting sample belongs to the part that holds **all** of its target steps. Its
inputs are the ``look_back`` rows before its first target, which may lie in an earlier part:
that is the past, known at forecast time, so it is legal. The consequence, checked by the
tests, is that every train target lies before every validation target, which lies before
every test target, and a scaler fitted on the train rows has seen nothing after
``val_start``.

Contrast with splitting the *windows* 80/20 after windowing the whole series (the quick
tutorial way): the last training windows then have targets inside the test period's inputs,
and a scaler fitted before the split has seen the test period.

Rolling-origin backtesting (:func:`rolling_origin`) repeats the split at several forecast
origins with an expanding training window; each fold is an ordinary :class:`ChronoSplit`, so
:func:`split_windows` builds its arrays.

Symbols: ``T`` rows of the series, ``F`` features, ``N`` samples, ``L`` look-back,
``H`` horizon, ``n_targets`` target features.

Example::

    >>> import numpy as np, pandas as pd
    >>> from rnnkit.data import load_series
    >>> series = load_series(pd.DataFrame({"y": np.arange(100.0)}))
    >>> parts = split_windows(series, look_back=10, horizon=2,
    ...                       split=split_by_fraction(len(series), val=0.2, test=0.2))
    >>> parts.train.y.shape, int(parts.train.target_rows().max()), int(parts.val.target_start[0])
    ((49, 2, 1), 59, 60)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.data.scalers import Scaler, make_scaler
from rnnkit.data.timeseries import TimeSeries
from rnnkit.data.windowing import Windows, make_windows
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "PARTS",
    "ChronoSplit",
    "SplitWindows",
    "backtest_windows",
    "rolling_origin",
    "split_by_date",
    "split_by_fraction",
    "split_windows",
]

Part = Literal["train", "val", "test"]
#: The parts of a split, in time order.
PARTS: tuple[Part, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class ChronoSplit:
    """Row boundaries of a chronological split.

    ``train = [0, val_start)``, ``val = [val_start, test_start)``, ``test = [test_start, stop)``
    (half-open row ranges). Rows from ``stop`` on are not used (a backtest fold's future).
    An empty validation or test part is allowed (``val_start == test_start`` etc.).
    """

    val_start: int
    test_start: int
    stop: int

    def __post_init__(self) -> None:
        values = (self.val_start, self.test_start, self.stop)
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            raise ConfigError(expected("ChronoSplit", "integer row positions", values))
        if not 0 <= self.val_start <= self.test_start <= self.stop:
            raise ConfigError(expected("ChronoSplit", "0 <= val_start <= test_start <= stop",
                                       values))
        for field_name, value in zip(("val_start", "test_start", "stop"), values):
            object.__setattr__(self, field_name, int(value))

    def bounds(self, part: Part) -> tuple[int, int]:
        """``(start, stop)`` rows of ``part`` (``"train"``, ``"val"`` or ``"test"``)."""
        if part == "train":
            return 0, self.val_start
        if part == "val":
            return self.val_start, self.test_start
        if part == "test":
            return self.test_start, self.stop
        raise ConfigError(expected("part", f"one of {list(PARTS)}", part))

    @property
    def train(self) -> tuple[int, int]:
        return self.bounds("train")

    @property
    def val(self) -> tuple[int, int]:
        return self.bounds("val")

    @property
    def test(self) -> tuple[int, int]:
        return self.bounds("test")


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ConfigError(expected(name, "a fraction in [0, 1)", value))
    return float(value)


def split_by_fraction(n_steps: int, *, val: float = 0.15, test: float = 0.15) -> ChronoSplit:
    """Split ``n_steps`` rows: the last ``test`` fraction is test, the ``val`` before it val.

    Boundaries are ``floor(n_steps * (1 - val - test))`` and ``floor(n_steps * (1 - test))``
    (computed to 1e-9 so ``0.7 + 0.15`` is not ``0.8499999``).
    """
    check_positive_int("n_steps", n_steps)
    val, test = _check_fraction("val", val), _check_fraction("test", test)
    if val + test >= 1.0:
        raise ConfigError(expected("val + test", "a total below 1 (training needs rows)",
                                   val + test))
    val_start = math.floor(round(n_steps * (1.0 - val - test), 9))
    test_start = math.floor(round(n_steps * (1.0 - test), 9))
    if val_start == 0:
        raise DataError(expected("n_steps", f"enough rows for a training part with val={val}, "
                                 f"test={test}", n_steps))
    return ChronoSplit(val_start, test_start, n_steps)


def _position(index: pd.Index, name: str, value: Any) -> int:
    """The first row whose time stamp is >= ``value``."""
    stamp: Any
    if isinstance(index, pd.DatetimeIndex):
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(expected(name, "a date (str, datetime or Timestamp)", value)) from err
        if stamp.tzinfo is None and index.tz is not None:
            stamp = stamp.tz_localize(index.tz)
    else:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(expected(name, "an integer time step (the index is integer)",
                                       value))
        stamp = value
    pos = int(index.searchsorted(stamp, side="left"))
    if pos == len(index):
        raise DataError(expected(name, f"a time up to the last time stamp {index[-1]!s}", value,
                                 "its part would be empty"))
    return pos


def split_by_date(
    index: pd.Index | TimeSeries,
    *,
    val_start: Any = None,
    test_start: Any = None,
) -> ChronoSplit:
    """Split at time stamps: validation from ``val_start``, test from ``test_start``.

    Each boundary is the first row whose time is ``>= `` the given date (or integer step for
    an integer index). ``val_start=None`` gives an empty validation part; ``test_start=None``
    an empty test part.

    Args:
        index: the series' time index (or the :class:`TimeSeries` itself).
        val_start: first validation time stamp (str, datetime, Timestamp, or int).
        test_start: first test time stamp.

    Raises:
        ConfigError: both boundaries ``None``, ``test_start`` before ``val_start``, a date
            for an integer index (or the reverse).
        DataError: a boundary at or before the first time stamp (no training rows) or after
            the last one.
    """
    time_index = index.time_index if isinstance(index, TimeSeries) else index
    if val_start is None and test_start is None:
        raise ConfigError(expected("val_start/test_start", "at least one boundary", None))
    n_steps = len(time_index)
    test_pos = n_steps if test_start is None else _position(time_index, "test_start", test_start)
    val_pos = test_pos if val_start is None else _position(time_index, "val_start", val_start)
    if val_pos > test_pos:
        raise ConfigError(expected("test_start", f"a time at or after val_start={val_start!s}",
                                   test_start))
    if val_pos == 0:
        first = "val_start" if val_start is not None else "test_start"
        raise DataError(expected(first, f"a time after the first time stamp {time_index[0]!s}",
                                 val_start if val_start is not None else test_start,
                                 "training would have no rows"))
    return ChronoSplit(val_pos, test_pos, n_steps)


def rolling_origin(
    n_steps: int,
    *,
    n_folds: int,
    test_size: int,
    val_size: int = 0,
    step: int | None = None,
    min_train: int = 1,
) -> list[ChronoSplit]:
    """Rolling-origin (expanding window) backtest folds.

    Fold ``k`` (``0 .. n_folds-1``) has its forecast origin at
    ``origin_k = n_steps - test_size - (n_folds - 1 - k) * step``: test rows
    ``[origin_k, origin_k + test_size)``, validation rows ``[origin_k - val_size, origin_k)``,
    training rows everything before. The last fold's test part ends at ``n_steps``; each
    earlier fold moves the origin back by ``step`` (default ``test_size``: test parts that
    tile the end of the series without overlap).

    Returns:
        ``n_folds`` :class:`ChronoSplit` objects, earliest origin first.

    Raises:
        DataError: the first fold would have fewer than ``min_train`` training rows.
    """
    check_positive_int("n_steps", n_steps)
    check_positive_int("n_folds", n_folds)
    check_positive_int("test_size", test_size)
    check_positive_int("val_size", val_size, minimum=0)
    step = test_size if step is None else check_positive_int("step", step)
    check_positive_int("min_train", min_train)
    first_train = n_steps - test_size - (n_folds - 1) * step - val_size
    if first_train < min_train:
        raise DataError(expected(
            "n_steps", f"at least min_train + val_size + test_size + (n_folds - 1) * step = "
            f"{min_train} + {val_size} + {test_size} + {n_folds - 1} * {step} = "
            f"{min_train + val_size + test_size + (n_folds - 1) * step} rows", n_steps,
            "use fewer folds, a smaller step or test_size"))
    folds = []
    for k in range(n_folds):  # a handful of folds: the loop is over folds, not data
        origin = n_steps - test_size - (n_folds - 1 - k) * step
        folds.append(ChronoSplit(origin - val_size, origin, origin + test_size))
    return folds


@dataclass(frozen=True, repr=False, eq=False)
class SplitWindows:
    """Windowed arrays for each part of one split, ready for a model.

    Attributes:
        train, val, test: :class:`~rnnkit.data.Windows` with ``x`` ``(N, L, F)``, ``y``
            ``(N, H, n_targets)``, ``target_start`` (rows) and ``target_time`` (time stamps
            of the first target step). An empty part has ``N = 0``.
        split: the row boundaries used.
        scaler: the scaler fitted on the training rows (``None`` if unscaled); ``x`` and ``y``
            are in its scaled units.
        columns: feature names of ``x``'s last axis, targets first.
        target_idx: positions of the targets among ``columns``.
    """

    train: Windows
    val: Windows
    test: Windows
    split: ChronoSplit
    scaler: Scaler | None
    columns: tuple[str, ...]
    target_idx: tuple[int, ...]

    def part(self, name: Part) -> Windows:
        """The windows of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in PARTS:
            raise ConfigError(expected("part", f"one of {list(PARTS)}", name))
        return getattr(self, name)

    def inverse_targets(self, values: npt.ArrayLike) -> np.ndarray:
        """Scaled targets or predictions ``(..., n_targets)`` back in data units."""
        if self.scaler is None:
            return np.asarray(values, dtype=np.float64)
        return self.scaler.inverse_transform_targets(values, self.target_idx)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{p}={self.part(p).n_samples}" for p in PARTS)
        scaler = f", scaler={self.scaler!r}" if self.scaler is not None else ""
        return f"SplitWindows({sizes}, split={self.split}{scaler})"


def split_windows(
    series: TimeSeries,
    look_back: int,
    horizon: int = 1,
    *,
    split: ChronoSplit,
    stride: int = 1,
    scaler: str | Scaler | None = None,
    dtype: np.dtype | type = np.float32,
) -> SplitWindows:
    """From a series and a split to windowed train/val/test arrays, without leakage.

    Steps: take the rows before ``split.stop``; fit ``scaler`` (if any) on the training rows
    ``[0, val_start)`` only and transform all rows with it; cut each part's windows so that
    all ``horizon`` target steps of a sample lie inside that part (inputs may reach back into
    earlier parts).

    Args:
        series: the data, ``T`` rows and ``F`` features (targets first).
        look_back: ``L``, input steps per sample.
        horizon: ``H``, target steps per sample.
        split: row boundaries, from :func:`split_by_fraction`, :func:`split_by_date` or
            :func:`rolling_origin`.
        stride: rows between consecutive samples' first targets (every part).
        scaler: a name for :func:`~rnnkit.data.make_scaler`, a scaler to copy (it is not
            modified; a fresh copy is fitted), or ``None`` for raw values.
        dtype: dtype of ``x`` and ``y`` (float32 for torch by default).

    Returns:
        :class:`SplitWindows`. The training part always has samples; an empty validation or
        test part gives ``N = 0``.

    Raises:
        ConfigError: ``split.stop`` beyond the series.
        DataError: a non-empty part too short for one window (the message names the part,
            its rows, ``look_back`` and ``horizon``).
    """
    if not isinstance(series, TimeSeries):
        raise ConfigError(expected("series", "a TimeSeries (see load_series)",
                                   Described(type(series).__name__)))
    if split.stop > series.n_steps:
        raise ConfigError(expected("split.stop", f"at most the series length {series.n_steps}",
                                   split.stop))
    check_positive_int("look_back", look_back)
    check_positive_int("horizon", horizon)
    if split.val_start < look_back + horizon:  # before fitting a scaler on too few rows
        raise DataError(expected(
            f"train part (rows 0..{split.val_start - 1}, {split.val_start} rows)",
            f"at least look_back + horizon = {look_back + horizon} rows "
            f"(look_back={look_back}, horizon={horizon})", Described(f"{split.val_start} rows"),
            "move the validation start later or shorten look_back/horizon"))
    data = series.values[: split.stop]  # (T', F), float64
    time_index = series.time_index[: split.stop]
    fitted: Scaler | None = None
    if scaler is not None:
        train_lo, train_hi = split.train
        fitted = make_scaler(scaler).fit(data[train_lo:train_hi])  # training rows only
        data = fitted.transform(data)
    parts: dict[str, Windows] = {}
    for part in PARTS:  # three parts; the windowing itself is vectorized
        lo, hi = split.bounds(part)
        if hi == lo and part != "train":
            parts[part] = Windows.empty(look_back, horizon, series.n_features, series.n_targets,
                                        dtype=dtype, time_index=time_index)
            continue
        if part != "train" and hi - lo < horizon:  # train was checked above
            raise DataError(expected(
                f"split.{part}", f"at least horizon = {horizon} rows for one window, or none "
                f"(the {part} part is rows {lo}..{hi - 1} of the series of "
                f"{series.n_steps} rows)", Described(f"{hi - lo} rows"),
                f"make the {part} part longer or empty, or shorten horizon"))
        windows = make_windows(data, look_back, horizon, stride=stride,
                               target_idx=series.target_idx, target_range=(lo, hi),
                               time_index=time_index)
        parts[part] = Windows(windows.x.astype(dtype, copy=False),
                              windows.y.astype(dtype, copy=False),
                              windows.target_start, windows.target_time)
    return SplitWindows(parts["train"], parts["val"], parts["test"], split, fitted,
                        series.columns, series.target_idx)


def backtest_windows(
    series: TimeSeries,
    look_back: int,
    horizon: int = 1,
    *,
    folds: Sequence[ChronoSplit],
    stride: int = 1,
    scaler: str | Scaler | None = None,
    dtype: np.dtype | type = np.float32,
) -> list[SplitWindows]:
    """:func:`split_windows` for each fold of :func:`rolling_origin`, each with its own
    scaler fitted on that fold's training rows."""
    return [split_windows(series, look_back, horizon, split=fold, stride=stride, scaler=scaler,
                          dtype=dtype) for fold in folds]
