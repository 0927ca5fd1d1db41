"""Calendar features: the sin/cos values of known dates, names, and adding them to a series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import load_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting.calendar import (
    CALENDAR_FEATURES,
    add_calendar,
    calendar_columns,
    calendar_features,
)


def angle(phase: float) -> tuple[float, float]:
    return np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)


def test_known_dates() -> None:
    stamps = pd.DatetimeIndex(["2024-01-01 00:00", "2024-04-01 06:00", "2024-07-04 12:30",
                               "2024-12-31 18:45", "2023-02-15 00:00"])
    out = calendar_features(stamps, CALENDAR_FEATURES)
    assert list(out.columns) == list(calendar_columns(CALENDAR_FEATURES))
    assert out.index.equals(stamps) and (out.dtypes == np.float64).all()
    expected = {  # row -> feature -> phase in its cycle
        0: {"month": 0, "day_of_week": 0, "day_of_month": 0, "day_of_year": 0, "hour": 0,
            "minute": 0},  # Monday 1 January
        1: {"month": 3 / 12, "day_of_week": 0, "day_of_month": 0, "day_of_year": 91 / 366,
            "hour": 6 / 24, "minute": 0},  # Monday 1 April, leap year
        2: {"month": 6 / 12, "day_of_week": 3 / 7, "day_of_month": 3 / 31,
            "day_of_year": 185 / 366, "hour": 12 / 24, "minute": 30 / 60},  # a Thursday
        3: {"month": 11 / 12, "day_of_week": 1 / 7, "day_of_month": 30 / 31,
            "day_of_year": 365 / 366, "hour": 18 / 24, "minute": 45 / 60},  # a Tuesday
        4: {"month": 1 / 12, "day_of_week": 2 / 7, "day_of_month": 14 / 28,
            "day_of_year": 45 / 365, "hour": 0, "minute": 0},  # Wednesday, 2023 not leap
    }
    for row, phases in expected.items():
        for name, phase in phases.items():
            got = (out[f"{name}_sin"].iloc[row], out[f"{name}_cos"].iloc[row])
            np.testing.assert_allclose(got, angle(phase), atol=1e-12, err_msg=f"{row} {name}")
    april = calendar_features(pd.DatetimeIndex(["2024-04-01"]), ["month"])
    np.testing.assert_allclose(april.to_numpy(), [[1.0, 0.0]], atol=1e-12)  # a quarter turn


def test_names_and_index_are_checked() -> None:
    assert calendar_columns(["month"]) == ("month_sin", "month_cos")
    with pytest.raises(ConfigError, match=r"calendar: expected names from \['month'"):
        calendar_features(pd.date_range("2024-01-01", periods=2), ["moon"])
    with pytest.raises(ConfigError, match="calendar: expected each feature once"):
        calendar_columns(["hour", "hour"])
    with pytest.raises(DataError, match="calendar: expected a series indexed by dates"):
        calendar_features(pd.RangeIndex(3), ["month"])


def test_add_calendar_to_a_series_and_its_future_rows_once() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, np.nan], "price": [5.0, 6.0, 7.0, 8.0]},
                         index=pd.date_range("2024-01-01", periods=4, freq="MS", name="m"))
    series = load_series(frame, future_covariates=["price"], targets=["y"])
    out = add_calendar(series, ["month"])
    assert out.future_covariates == ("price", "month_sin", "month_cos")
    np.testing.assert_allclose(out.frame["month_sin"], np.sin(2 * np.pi * np.arange(3) / 12))
    assert out.future.columns.tolist() == ["price", "month_sin", "month_cos"]
    np.testing.assert_allclose(out.future.iloc[0].to_numpy(), [8.0, *angle(3 / 12)])
    assert add_calendar(out, ["month"]) is out  # already there: unchanged
    assert add_calendar(series, []) is series
