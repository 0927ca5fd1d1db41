"""Sliding windows equal a naive loop, carry their target rows/times, and fail loudly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import Windows, make_windows
from rnnkit.errors import ConfigError, DataError, ShapeError


def naive_windows(data: np.ndarray, look_back: int, horizon: int, stride: int,
                  target_idx: list[int], input_idx: list[int],
                  target_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The textbook loop: one sample per first-target row t, inputs t-L..t-1, targets t..t+H-1."""
    xs, ys, starts = [], [], []
    start, stop = target_range
    t = max(start, look_back)
    while t + horizon <= stop:
        xs.append(data[t - look_back:t][:, input_idx])
        ys.append(data[t:t + horizon][:, target_idx])
        starts.append(t)
        t += stride
    return np.array(xs), np.array(ys), np.array(starts)


@pytest.mark.parametrize(
    ("look_back", "horizon", "stride", "target_idx", "input_idx", "target_range"),
    [
        (20, 1, 1, [0], [0, 1, 2], (0, 97)),
        (5, 3, 1, [0, 2], [0, 1, 2], (0, 97)),
        (7, 4, 3, [1], [2, 0], (0, 97)),
        (1, 1, 1, [2], [0], (0, 97)),
        (10, 5, 2, [0, 1, 2], [0, 1, 2], (40, 70)),  # targets confined to rows [40, 70)
        (30, 2, 1, [0], [0], (10, 50)),  # look_back pushes the first target past the start
        (96, 1, 1, [0], [0, 1, 2], (0, 97)),  # exactly one window
    ],
)
def test_equals_naive_loop(look_back: int, horizon: int, stride: int, target_idx: list[int],
                           input_idx: list[int], target_range: tuple[int, int]) -> None:
    data = np.random.default_rng(0).normal(size=(97, 3))
    w = make_windows(data, look_back, horizon, stride=stride, target_idx=target_idx,
                     input_idx=input_idx, target_range=target_range)
    x, y, starts = naive_windows(data, look_back, horizon, stride, target_idx, input_idx,
                                 target_range)
    np.testing.assert_array_equal(w.x, x)
    np.testing.assert_array_equal(w.y, y)
    np.testing.assert_array_equal(w.target_start, starts)
    assert w.x.shape == (len(starts), look_back, len(input_idx))
    assert w.y.shape == (len(starts), horizon, len(target_idx))
    assert w.x.flags.c_contiguous and w.y.flags.c_contiguous


def test_tutorial_one_step_univariate_case() -> None:
    # The battery lab's setup: 1000 cycles, 20 cycles in, the next cycle out -> 980 samples.
    series = np.linspace(1.0, 0.1, 1000)
    w = make_windows(series, look_back=20)
    assert w.x.shape == (980, 20, 1) and w.y.shape == (980, 1, 1)
    np.testing.assert_array_equal(w.x[0, :, 0], series[:20])
    assert w.y[0, 0, 0] == series[20] and w.y[-1, 0, 0] == series[-1]
    assert (w.n_samples, w.look_back, w.horizon, len(w)) == (980, 20, 1, 980)


def test_target_rows_and_timestamps() -> None:
    index = pd.date_range("2024-01-01", periods=12, freq="h")
    w = make_windows(np.arange(12.0), look_back=4, horizon=3, stride=2, time_index=index)
    np.testing.assert_array_equal(w.target_start, [4, 6, 8])
    assert w.target_time is not None
    assert list(w.target_time) == list(index[[4, 6, 8]])
    np.testing.assert_array_equal(w.target_rows(), [[4, 5, 6], [6, 7, 8], [8, 9, 10]])
    times = w.target_times(index)
    assert times.shape == (3, 3) and times[2, 2] == index[10]
    # targets are the data at those rows (data = row number)
    np.testing.assert_array_equal(w.y[:, :, 0], w.target_rows())
    timed = make_windows(np.arange(12.0), 4, 3).with_time(index)
    assert timed.target_time is not None and timed.target_time[0] == index[4]


def test_empty_windows_shapes() -> None:
    empty = Windows.empty(look_back=5, horizon=2, n_inputs=3, n_targets=1)
    assert empty.x.shape == (0, 5, 3) and empty.y.shape == (0, 2, 1) and len(empty) == 0
    assert "n_samples=0" in repr(empty)


def test_too_few_rows_names_the_numbers() -> None:
    with pytest.raises(DataError, match=r"^data: expected at least look_back \+ horizon = 25 rows "
                                        r"\(look_back=20, horizon=5\), got 10 rows\. "):
        make_windows(np.zeros(10), look_back=20, horizon=5)


def test_target_range_without_room() -> None:
    with pytest.raises(DataError, match=r"target_range: expected room for one window: targets in "
                                        r"rows \[50, 53\) need 5 rows \(horizon\) after row 50 "
                                        r"\(look_back=10\), got 3 rows"):
        make_windows(np.zeros(100), look_back=10, horizon=5, target_range=(50, 53))
    with pytest.raises(ConfigError, match=r"target_range: expected 0 <= start <= stop <= 100"):
        make_windows(np.zeros(100), look_back=10, target_range=(50, 120))


def test_bad_arguments() -> None:
    data = np.zeros((30, 2))
    with pytest.raises(ConfigError, match=r"^look_back: expected an integer >= 1, got 0$"):
        make_windows(data, look_back=0)
    with pytest.raises(ConfigError, match=r"^stride: expected an integer >= 1, got 1.5$"):
        make_windows(data, look_back=3, stride=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^target_idx: expected positions in \[0, 2\), "
                                          r"got \[0, 2\]$"):
        make_windows(data, look_back=3, target_idx=[0, 2])
    with pytest.raises(ShapeError, match=r"data: expected a \(time, features\) array or a 1-D "
                                         r"series, got shape \(2, 3, 4\)"):
        make_windows(np.zeros((2, 3, 4)), look_back=1)
    with pytest.raises(ShapeError, match=r"time_index: expected length 30"):
        make_windows(data, look_back=3, time_index=pd.RangeIndex(29))


def test_long_series_keeps_dtype_and_alignment() -> None:
    data = np.random.default_rng(1).normal(size=(50_000, 4)).astype(np.float32)
    w = make_windows(data, look_back=48, horizon=12, stride=1, target_idx=[0])
    assert w.x.shape == (50_000 - 60 + 1, 48, 4)
    assert w.x.dtype == np.float32
    np.testing.assert_array_equal(w.x[-1], data[-60:-12])
    np.testing.assert_array_equal(w.y[-1, :, 0], data[-12:, 0])


# -- known-future covariates ------------------------------------------------------------------


def test_future_values_are_the_target_rows_of_the_future_columns() -> None:
    """Window i reads rows i .. i+L-1 and its future covariates are rows L+i .. L+i+H-1."""
    T, L, H = 7, 3, 2
    data = np.stack([np.arange(T) * 1.0, 100 + np.arange(T) * 1.0, 200 + np.arange(T) * 1.0],
                    axis=1)  # (T, 3): target, past covariate, future covariate
    w = make_windows(data, L, H, target_idx=[0], future_idx=[2])
    assert w.x.shape == (3, L, 3) and w.y.shape == (3, H, 1) and w.future.shape == (3, H, 1)
    assert w.future[:, :, 0].tolist() == [[203.0, 204.0], [204.0, 205.0], [205.0, 206.0]]
    for i in range(3):
        np.testing.assert_array_equal(w.future[i, :, 0], data[L + i:L + i + H, 2])
        np.testing.assert_array_equal(w.x[i, :, 2], data[i:i + L, 2])  # their past: inputs
    assert make_windows(data, L, H).future is None
    assert "future=(3, 2, 1)" in repr(w)


def test_with_future_and_take_agree_with_make_windows() -> None:
    data = np.arange(40.0).reshape(20, 2)
    w = make_windows(data, 4, 3, target_idx=[0], future_idx=[1], stride=2,
                     time_index=pd.RangeIndex(20))
    plain = make_windows(data, 4, 3, target_idx=[0], stride=2, time_index=pd.RangeIndex(20))
    np.testing.assert_array_equal(plain.with_future(data, [1]).future, w.future)
    keep = np.array([True, False] * (w.n_samples // 2) + [True] * (w.n_samples % 2))
    sub = w.take(keep)
    np.testing.assert_array_equal(sub.future, w.future[keep])
    np.testing.assert_array_equal(sub.target_start, w.target_start[keep])
    assert list(sub.target_time) == list(w.target_time[keep])
    np.testing.assert_array_equal(w.with_time(pd.RangeIndex(20)).future, w.future)
    with pytest.raises(ShapeError, match="data: expected at least 19 rows"):
        plain.with_future(data[:10], [1])
    with pytest.raises(ConfigError, match=r"future_idx: expected positions in \[0, 2\)"):
        make_windows(data, 4, 3, future_idx=[5])
