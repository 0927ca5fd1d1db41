"""Irregular time stamps: the error, delta and resample policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import DELTA_COLUMN, load_series
from rnnkit.errors import ConfigError, DataError


def _daily(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": np.arange(n, dtype=float) * 10.0,
        "temp": np.arange(n, dtype=float) + 0.5,
    })


def _irregular() -> pd.DataFrame:
    days = ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-08"]
    return pd.DataFrame({"date": days, "y": [0.0, 1.0, 3.0, 4.0, 7.0]})


def test_irregular_timestamps_error_by_default() -> None:
    with pytest.raises(DataError, match=r"time index: expected regular spacing, got irregular "
                                        r"time stamps \(steps from 1 days to 3 days, first "
                                        r"change at row 2 \(2024-01-04\)\)\. "
                                        r"pass irregular='delta'"):
        load_series(_irregular(), time_col="date")


def test_delta_policy_adds_time_since_last_observation() -> None:
    series = load_series(_irregular(), time_col="date", irregular="delta")
    assert series.covariates == (DELTA_COLUMN,)
    assert series.freq is None
    # steps of 1, 2, 1, 3 days; the median step (1.5 days) is the default unit
    np.testing.assert_allclose(series.values[:, 1], [1.0, 1 / 1.5, 2 / 1.5, 1 / 1.5, 3 / 1.5])
    in_days = load_series(_irregular(), time_col="date", irregular="delta", freq="D")
    np.testing.assert_allclose(in_days.values[:, 1], [1.0, 1.0, 2.0, 1.0, 3.0])


def test_delta_policy_on_regular_data_still_adds_the_column() -> None:
    series = load_series(_daily(4), time_col="date", targets=["load"], irregular="delta")
    np.testing.assert_array_equal(series.values[:, -1], [1.0, 1.0, 1.0, 1.0])
    assert series.freq == "D"


def test_delta_policy_on_integer_steps() -> None:
    frame = pd.DataFrame({"step": [0, 2, 3, 7], "y": [1.0, 2.0, 3.0, 4.0]})
    series = load_series(frame, time_col="step", irregular="delta", freq=1)
    np.testing.assert_array_equal(series.values[:, 1], [1.0, 2.0, 1.0, 4.0])


def test_resample_policy_interpolates_at_the_grid() -> None:
    series = load_series(_irregular(), time_col="date", irregular="resample", freq="D")
    assert series.time_index.equals(pd.date_range("2024-01-01", "2024-01-08", freq="D",
                                                  name="date"))
    # y equals the day number, so interpolation in time recovers it exactly
    np.testing.assert_allclose(series.values[:, 0], np.arange(8.0))
    assert series.freq == "D"


def test_resample_needs_a_freq_and_freq_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"freq: expected a target spacing when "
                                          r"irregular='resample', got None"):
        load_series(_irregular(), time_col="date", irregular="resample")
    with pytest.raises(DataError, match=r"expected time stamps every 'h'"):
        load_series(_daily(4), time_col="date", targets=["load"], freq="h")
    with pytest.raises(ConfigError, match=r"freq: expected a positive integer step"):
        load_series(pd.DataFrame({"y": [1.0, 2.0, 3.0]}), freq="D")
