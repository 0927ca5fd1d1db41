"""Sliding windows for forecasting: ``(T, F)`` rows in, ``(X, y)`` samples out, without loops.

A sample whose first target step is row ``t`` reads the ``look_back`` rows before it and
predicts the ``horizon`` rows from it::

    inputs   X[i] = data[t - look_back : t, input_idx]        shape (look_back, F_in)
    targets  y[i] = data[t : t + horizon, target_idx]         shape (horizon, n_targets)
    future   U[i] = data[t : t + horizon, future_idx]         shape (horizon, F_future)

``U`` is cut only when ``future_idx`` is given: the values of *known-future* covariates
(calendar features, a price schedule) over the forecast steps, which a forecaster may read
because they are known when it forecasts. Their past values are in ``X`` like any input.

Symbols:

* ``T``: rows (time steps) of the data; ``F``: its features;
* ``N``: samples (windows); ``L``: ``look_back``; ``H``: ``horizon``;
* ``F_in``: features fed to the model (``len(input_idx)``, default ``F``);
* ``n_targets``: target features (``len(target_idx)``, default ``F``);
* ``F_future``: known-future features (``len(future_idx)``, default none).

The windows are views made by :func:`numpy.lib.stride_tricks.sliding_window_view` and then
gathered once, so building them costs one copy of ``N * (L + H)`` rows and no Python loop.

Example::

    >>> import numpy as np
    >>> w = make_windows(np.arange(10.0), look_back=3, horizon=2, stride=2)
    >>> w.x[:, :, 0].tolist()
    [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0], [4.0, 5.0, 6.0]]
    >>> w.y[:, :, 0].tolist(), w.target_start.tolist()
    ([[3.0, 4.0], [5.0, 6.0], [7.0, 8.0]], [3, 5, 7])
    >>> data = np.stack([np.arange(6.0), 10 + np.arange(6.0)], axis=1)  # (T=6, F=2)
    >>> w = make_windows(data, look_back=2, horizon=2, target_idx=[0], future_idx=[1])
    >>> w.future[:, :, 0].tolist()  # window i: rows look_back + i .. look_back + i + H - 1
    [[12.0, 13.0], [13.0, 14.0], [14.0, 15.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["Windows", "as_2d", "make_windows"]


@dataclass(frozen=True, repr=False, eq=False)
class Windows:
    """Forecasting samples cut from one series.

    Attributes:
        x: inputs, shape ``(N, L, F_in)``.
        y: targets, shape ``(N, H, n_targets)``.
        target_start: shape ``(N,)``, int64: the row of each sample's first target step;
            its targets are rows ``target_start[i] .. target_start[i] + H - 1``.
        target_time: shape ``(N,)``: the time stamp of each sample's first target step, or
            ``None`` when the windows were built from a bare array.
        future: shape ``(N, H, F_future)``: the known-future covariates at each sample's
            target steps (rows ``target_start[i] .. target_start[i] + H - 1``), or ``None``
            when the series has none.
    """

    x: np.ndarray
    y: np.ndarray
    target_start: np.ndarray
    target_time: pd.Index | None = None
    future: np.ndarray | None = None

    @classmethod
    def empty(cls, look_back: int, horizon: int, n_inputs: int, n_targets: int,
              dtype: np.dtype | type = np.float64, time_index: pd.Index | None = None
              ) -> Windows:
        """Zero samples with the right trailing shapes (for an empty split part).

        With ``time_index``, :attr:`target_time` is its empty slice (same dtype).
        """
        return cls(
            x=np.empty((0, look_back, n_inputs), dtype=dtype),
            y=np.empty((0, horizon, n_targets), dtype=dtype),
            target_start=np.empty(0, dtype=np.int64),
            target_time=None if time_index is None else time_index[:0],
        )

    @property
    def n_samples(self) -> int:
        """``N``."""
        return self.x.shape[0]

    @property
    def look_back(self) -> int:
        """``L``, input steps per sample."""
        return self.x.shape[1]

    @property
    def horizon(self) -> int:
        """``H``, target steps per sample."""
        return self.y.shape[1]

    def __len__(self) -> int:
        return self.n_samples

    def target_rows(self) -> np.ndarray:
        """Rows of every target step, shape ``(N, H)``: ``target_start[:, None] + arange(H)``."""
        return self.target_start[:, None] + np.arange(self.horizon)

    def target_times(self, time_index: pd.Index) -> np.ndarray:
        """Time stamps of every target step, shape ``(N, H)``, taken from ``time_index``."""
        return np.asarray(time_index)[self.target_rows()]

    def with_time(self, time_index: pd.Index) -> Windows:
        """The same windows with :attr:`target_time` filled from ``time_index`` (length ``T``)."""
        return Windows(self.x, self.y, self.target_start, time_index[self.target_start],
                       self.future)

    def with_future(self, data: np.ndarray, future_idx: Sequence[int]) -> Windows:
        """The same windows with :attr:`future` cut from ``data`` (``(T, F)``, the rows the
        windows were cut from, in the units wanted): ``data[target_rows()][..., future_idx]``,
        shape ``(N, H, F_future)``, in the dtype of :attr:`x`."""
        arr = as_2d(data)
        idx = _indices("future_idx", future_idx, arr.shape[1])
        need = int(self.target_start[-1]) + self.horizon if self.n_samples else 0
        if need > arr.shape[0]:
            raise ShapeError(expected("data", f"at least {need} rows (the windows' last target "
                                      "row + 1)", Described(f"{arr.shape[0]} rows")))
        future = arr[self.target_rows()][:, :, idx].astype(self.x.dtype, copy=False)
        return Windows(self.x, self.y, self.target_start, self.target_time, future)

    def take(self, keep: np.ndarray) -> Windows:
        """The samples selected by ``keep`` (a boolean mask or positions, shape ``(N,)`` or
        fewer), every array alike."""
        return Windows(self.x[keep], self.y[keep], self.target_start[keep],
                       None if self.target_time is None else self.target_time[keep],
                       None if self.future is None else self.future[keep])

    def __repr__(self) -> str:
        parts = [f"n_samples={self.n_samples}", f"x={tuple(self.x.shape)}",
                 f"y={tuple(self.y.shape)}"]
        if self.future is not None:
            parts.append(f"future={tuple(self.future.shape)}")
        if self.n_samples:
            parts.append(f"target_start={int(self.target_start[0])}..{int(self.target_start[-1])}")
        return f"Windows({', '.join(parts)})"


def as_2d(data: np.ndarray, name: str = "data") -> np.ndarray:
    """``data`` as a ``(T, F)`` array: a 1-D series becomes ``(T, 1)``; other ranks raise."""
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr[:, None]  # (T,) -> (T, 1)
    if arr.ndim != 2:
        raise ShapeError(expected(name, "a (time, features) array or a 1-D series",
                                  Described(f"shape {arr.shape}")))
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(expected(name, "numeric values", Described(f"dtype {arr.dtype}")))
    return arr


def _indices(name: str, idx: Sequence[int] | None, n_features: int) -> np.ndarray:
    if idx is None:
        return np.arange(n_features)
    out = np.asarray(list(idx))
    if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer):
        raise ConfigError(expected(name, "a non-empty list of feature positions", list(idx)))
    if out.min() < -n_features or out.max() >= n_features:
        raise ConfigError(expected(name, f"positions in [0, {n_features})", out.tolist()))
    return out % n_features  # negative positions count from the end


def _take(windows: np.ndarray, features: np.ndarray, steps: slice) -> np.ndarray:
    """Copy ``windows[:, features, steps]`` (a ``(N, F, W)`` view) out as ``(N, steps, features)``.

    All features are taken with a slice (no gather); one contiguous copy does the transpose.
    """
    picked = windows[:, :, steps]  # (N, F, S), view
    if not np.array_equal(features, np.arange(windows.shape[1])):
        picked = picked[:, features]  # (N, F_sel, S)
    return np.ascontiguousarray(picked.transpose(0, 2, 1))  # (N, S, F_sel)


def make_windows(
    data: np.ndarray,
    look_back: int,
    horizon: int = 1,
    *,
    stride: int = 1,
    target_idx: Sequence[int] | None = None,
    input_idx: Sequence[int] | None = None,
    target_range: tuple[int, int] | None = None,
    time_index: pd.Index | None = None,
    future_idx: Sequence[int] | None = None,
) -> Windows:
    """Cut ``data`` into forecasting samples.

    Args:
        data: shape ``(T, F)``, or ``(T,)`` for one feature.
        look_back: ``L``, input steps per sample (>= 1).
        horizon: ``H``, target steps per sample (>= 1).
        stride: rows between the first target steps of consecutive samples (>= 1).
        target_idx: features to predict (default: all), giving ``n_targets``.
        input_idx: features fed as inputs (default: all), giving ``F_in``.
        target_range: ``(start, stop)``: only samples whose ``H`` target rows all lie in
            ``[start, stop)`` are made. Inputs may still read rows before ``start`` (they are
            the past). Default ``(0, T)``. This is how split parts avoid leaking targets.
        time_index: length ``T``; when given, :attr:`Windows.target_time` is filled.
        future_idx: known-future features whose values at the target steps fill
            :attr:`Windows.future` (default: none, ``future`` is None).

    Returns:
        :class:`Windows` with ``x`` ``(N, L, F_in)``, ``y`` ``(N, H, n_targets)``,
        ``target_start`` ``(N,)`` and, with ``future_idx``, ``future`` ``(N, H, F_future)``.
        The first sample's target starts at
        ``max(start, look_back)``, the next ones every ``stride`` rows.

    Raises:
        ConfigError: non-positive ``look_back``/``horizon``/``stride``, bad feature positions,
            a ``target_range`` outside the data.
        DataError: too few rows for one window (the message names the numbers).
    """
    arr = as_2d(data)
    n_steps, n_features = arr.shape
    check_positive_int("look_back", look_back)
    check_positive_int("horizon", horizon)
    check_positive_int("stride", stride)
    targets = _indices("target_idx", target_idx, n_features)
    inputs = _indices("input_idx", input_idx, n_features)
    futures = None if future_idx is None else _indices("future_idx", future_idx, n_features)
    if time_index is not None and len(time_index) != n_steps:
        raise ShapeError(expected("time_index", f"length {n_steps} (rows of data)",
                                  len(time_index)))

    width = look_back + horizon
    if n_steps < width:
        raise DataError(expected(
            "data", f"at least look_back + horizon = {width} rows "
            f"(look_back={look_back}, horizon={horizon})", Described(f"{n_steps} rows"),
            "shorten look_back or horizon, or use a longer series"))
    start, stop = (0, n_steps) if target_range is None else target_range
    if not (0 <= start <= stop <= n_steps):
        raise ConfigError(expected("target_range", f"0 <= start <= stop <= {n_steps}",
                                   target_range))
    first = max(start, look_back)  # first target row with a full input window behind it
    last = stop - horizon  # last target row whose horizon still ends before `stop`
    if last < first:
        raise DataError(expected(
            "target_range", f"room for one window: targets in rows [{start}, {stop}) need "
            f"{horizon} rows (horizon) after row {first} (look_back={look_back})",
            Described(f"{stop - first} rows"), "shorten look_back or horizon, or widen the range"))

    target_start = np.arange(first, last + 1, stride, dtype=np.int64)  # (N,)
    # sliding_window_view over time: (T - W + 1, F, W), window w covering rows w .. w + W - 1.
    # The chosen windows are an arithmetic progression, so a basic slice keeps it a view.
    view = sliding_window_view(arr, width, axis=0)
    chosen = view[first - look_back : last - look_back + 1 : stride]  # (N, F, W), a view
    x = _take(chosen, inputs, slice(0, look_back))  # (N, L, F_in)
    y = _take(chosen, targets, slice(look_back, width))  # (N, H, n_targets)
    future = None if futures is None else _take(chosen, futures, slice(look_back, width))
    target_time = None if time_index is None else time_index[target_start]
    return Windows(x, y, target_start, target_time, future)  # future: (N, H, F_future)
