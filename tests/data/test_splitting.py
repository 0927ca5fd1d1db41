"""Chronological splits: exact boundaries, no target leakage, scaler fitted on train rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import (
    PARTS,
    ChronoSplit,
    MinMaxScaler,
    StandardScaler,
    backtest_windows,
    load_series,
    rolling_origin,
    split_by_date,
    split_by_fraction,
    split_windows,
)
from rnnkit.data.timeseries import TimeSeries
from rnnkit.errors import ConfigError, DataError


def _daily_series(n: int = 200) -> TimeSeries:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"load": np.linspace(50.0, 10.0, n) + rng.normal(0, 1, n), "temp": rng.normal(20, 5, n)},
        index=pd.date_range("2023-01-01", periods=n, freq="D", name="day"),
    )
    return load_series(frame, targets=["load"], covariates=["temp"])


def _integer_series(n: int = 100) -> TimeSeries:
    return load_series(pd.DataFrame({"y": np.arange(n, dtype=float)}))


# -- boundaries ---------------------------------------------------------------------------------


def test_split_by_fraction_boundaries() -> None:
    assert split_by_fraction(1000, val=0.15, test=0.15) == ChronoSplit(700, 850, 1000)
    assert split_by_fraction(1000, val=0.0, test=0.2) == ChronoSplit(800, 800, 1000)
    assert split_by_fraction(7, val=0.2, test=0.2) == ChronoSplit(4, 5, 7)  # floors
    split = split_by_fraction(10, val=0.3, test=0.3)
    assert (split.train, split.val, split.test) == ((0, 4), (4, 7), (7, 10))


def test_split_by_fraction_errors() -> None:
    with pytest.raises(ConfigError, match=r"^val: expected a fraction in \[0, 1\), got 1.5$"):
        split_by_fraction(100, val=1.5)
    with pytest.raises(ConfigError, match=r"val \+ test: expected a total below 1"):
        split_by_fraction(100, val=0.5, test=0.5)
    with pytest.raises(ConfigError, match=r"ChronoSplit: expected 0 <= val_start <= test_start "
                                          r"<= stop, got \(5, 3, 10\)"):
        ChronoSplit(5, 3, 10)


def test_split_by_date_on_datetimes_and_integers() -> None:
    series = _daily_series()
    split = split_by_date(series, val_start="2023-05-01", test_start="2023-06-01")
    assert split == ChronoSplit(120, 151, 200)
    assert series.time_index[split.val_start] == pd.Timestamp("2023-05-01")
    assert series.time_index[split.val_start - 1] < pd.Timestamp("2023-05-01")
    # a boundary between time stamps goes to the first later row
    assert split_by_date(series.time_index, test_start="2023-05-01 12:00").test_start == 121
    assert split_by_date(series, test_start="2023-06-01") == ChronoSplit(151, 151, 200)
    assert split_by_date(_integer_series(), val_start=60, test_start=80) == ChronoSplit(60, 80, 100)


def test_split_by_date_errors() -> None:
    series = _daily_series()
    with pytest.raises(DataError, match=r"^val_start: expected a time after the first time stamp "
                                        r"2023-01-01.*training would have no rows$"):
        split_by_date(series, val_start="2022-01-01")
    with pytest.raises(DataError, match=r"test_start: expected a time up to the last time stamp"):
        split_by_date(series, test_start="2030-01-01")
    with pytest.raises(ConfigError, match=r"test_start: expected a time at or after val_start"):
        split_by_date(series, val_start="2023-05-01", test_start="2023-04-01")
    with pytest.raises(ConfigError, match=r"val_start: expected an integer time step"):
        split_by_date(_integer_series(), val_start="2023-05-01")


# -- no leakage -------------------------------------------------------------------------------


@pytest.mark.parametrize(("look_back", "horizon", "stride"), [(14, 1, 1), (10, 7, 1), (30, 5, 3)])
def test_targets_of_each_part_stay_inside_it(look_back: int, horizon: int, stride: int) -> None:
    series = _daily_series()
    split = split_by_fraction(len(series), val=0.2, test=0.2)
    parts = split_windows(series, look_back, horizon, split=split, stride=stride)
    for part in PARTS:
        lo, hi = split.bounds(part)
        rows = parts.part(part).target_rows()
        assert rows.min() >= lo and rows.max() < hi, part
    # in time: every train target precedes every val target, which precede every test target
    index = series.time_index
    train_t = parts.train.target_times(index)
    val_t, test_t = parts.val.target_times(index), parts.test.target_times(index)
    assert train_t.max() < val_t.min() and val_t.max() < test_t.min()
    assert parts.val.target_time is not None
    assert parts.val.target_time[0] == index[split.val_start]


def test_inputs_may_reach_back_into_the_previous_part() -> None:
    series = _integer_series()  # y equals the row number
    split = ChronoSplit(60, 80, 100)
    parts = split_windows(series, look_back=10, horizon=2, split=split, dtype=np.float64)
    first_val = parts.val
    assert first_val.target_start[0] == 60
    np.testing.assert_array_equal(first_val.x[0, :, 0], np.arange(50.0, 60.0))  # train rows
    np.testing.assert_array_equal(first_val.y[0, :, 0], [60.0, 61.0])
    # the last training sample ends right before validation starts
    assert parts.train.target_rows().max() == 59
    assert (len(parts.train), len(parts.val), len(parts.test)) == (49, 19, 19)


def test_exact_windows_equal_direct_windowing() -> None:
    series = _integer_series()
    parts = split_windows(series, look_back=5, horizon=3, split=ChronoSplit(50, 75, 100),
                          dtype=np.float64)
    t = parts.test.target_start
    np.testing.assert_array_equal(t, np.arange(75, 98))
    np.testing.assert_array_equal(parts.test.x[:, :, 0], t[:, None] + np.arange(-5, 0))
    np.testing.assert_array_equal(parts.test.y[:, :, 0], t[:, None] + np.arange(3))


def test_scaler_is_fitted_on_train_rows_only() -> None:
    series = _daily_series()
    split = split_by_fraction(len(series), val=0.2, test=0.2)
    template = MinMaxScaler()
    parts = split_windows(series, 14, 3, split=split, scaler=template, dtype=np.float64)
    train_rows = series.values[: split.val_start]
    assert isinstance(parts.scaler, MinMaxScaler)
    assert parts.scaler is not template and not template.is_fitted
    np.testing.assert_array_equal(parts.scaler.data_min_, train_rows.min(axis=0))
    np.testing.assert_array_equal(parts.scaler.data_max_, train_rows.max(axis=0))
    # the arrays are the scaled data; inverting the targets gives the raw values back
    raw_targets = series.values[parts.test.target_rows(), 0]  # (N, H)
    np.testing.assert_allclose(parts.inverse_targets(parts.test.y)[..., 0], raw_targets,
                               rtol=1e-12)
    # load trends down, so the test period lies below the training minimum
    assert parts.test.y.min() < 0.0


def test_fitting_on_the_whole_series_would_differ() -> None:
    # What the quick tutorial does: the scaler sees the test period's minimum.
    series = _daily_series()
    split = split_by_fraction(len(series), val=0.2, test=0.2)
    leaky = MinMaxScaler().fit(series.values)
    honest = split_windows(series, 14, 1, split=split, scaler="minmax").scaler
    assert honest is not None
    assert leaky.data_min_[0] < honest.data_min_[0]  # type: ignore[attr-defined]


def test_default_dtype_and_empty_parts() -> None:
    series = _integer_series()
    parts = split_windows(series, 10, 1, split=ChronoSplit(80, 80, 100), scaler="standard")
    assert parts.train.x.dtype == np.float32 and parts.test.y.dtype == np.float32
    assert parts.val.x.shape == (0, 10, 1) and parts.val.y.shape == (0, 1, 1)
    assert "val=0" in repr(parts)
    dated = split_windows(_daily_series(), 7, 1, split=ChronoSplit(150, 150, 200))
    assert isinstance(dated.val.target_time, pd.DatetimeIndex) and len(dated.val.target_time) == 0


def test_too_short_part_is_named() -> None:
    series = _integer_series()
    with pytest.raises(DataError, match=r"^split\.test: expected at least horizon = 5 rows for "
                                        r"one window, or none \(the test part is rows 97\.\.99 "
                                        r"of the series of 100 rows\), got 3 rows\. make the test "
                                        r"part longer or empty, or shorten horizon$"):
        split_windows(series, 10, 5, split=ChronoSplit(80, 97, 100))
    with pytest.raises(DataError, match=r"^split\.val: expected at least horizon = 4 rows .*"
                                        r"rows 80\.\.81 .* got 2 rows\."):
        split_windows(series, 10, 4, split=ChronoSplit(80, 82, 100))
    with pytest.raises(DataError, match=r"^train part \(rows 0\.\.9, 10 rows\): expected at least "
                                        r"look_back \+ horizon = 11 rows \(look_back=10, "
                                        r"horizon=1\), got 10 rows"):
        split_windows(series, 10, 1, split=ChronoSplit(10, 50, 100), scaler="minmax")
    with pytest.raises(ConfigError, match=r"split.stop: expected at most the series length 100"):
        split_windows(series, 10, 1, split=ChronoSplit(10, 50, 120))


# -- rolling origin -------------------------------------------------------------------------------


def test_rolling_origin_folds_are_exact_and_expanding() -> None:
    folds = rolling_origin(100, n_folds=3, test_size=10)
    assert folds == [ChronoSplit(70, 70, 80), ChronoSplit(80, 80, 90), ChronoSplit(90, 90, 100)]
    with_val = rolling_origin(100, n_folds=2, test_size=10, val_size=5, step=20)
    assert with_val == [ChronoSplit(65, 70, 80), ChronoSplit(85, 90, 100)]


def test_rolling_origin_too_many_folds() -> None:
    with pytest.raises(DataError, match=r"n_steps: expected at least min_train \+ val_size \+ "
                                        r"test_size \+ \(n_folds - 1\) \* step = 50 \+ 0 \+ 10 \+ "
                                        r"9 \* 10 = 150 rows, got 100"):
        rolling_origin(100, n_folds=10, test_size=10, min_train=50)


def test_backtest_windows_never_look_past_each_origin() -> None:
    series = _daily_series()
    folds = rolling_origin(len(series), n_folds=4, test_size=14, val_size=14, min_train=60)
    results = backtest_windows(series, 21, 7, folds=folds, scaler="standard")
    assert len(results) == 4
    for fold, parts in zip(folds, results):
        train_rows = series.values[: fold.val_start]
        assert isinstance(parts.scaler, StandardScaler)
        np.testing.assert_array_equal(parts.scaler.mean_, train_rows.mean(axis=0))
        assert parts.train.target_rows().max() < fold.val_start
        assert parts.val.target_rows().min() >= fold.val_start
        assert parts.val.target_rows().max() < fold.test_start
        assert parts.test.target_rows().min() >= fold.test_start
        assert parts.test.target_rows().max() < fold.stop  # nothing after the fold is used
    # expanding window: each fold trains on more rows than the last
    assert [len(p.train) for p in results] == sorted(len(p.train) for p in results)
