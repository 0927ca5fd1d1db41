"""Parsing and checking time stamps: integer steps, order, duplicates, misread dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import load_series
from rnnkit.errors import DataError


def _daily(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": np.arange(n, dtype=float) * 10.0,
        "temp": np.arange(n, dtype=float) + 0.5,
    })


def test_integer_valued_float_time_column_becomes_integer_index() -> None:
    frame = pd.DataFrame({"year": [1700.0, 1701.0, 1702.0], "spots": [5.0, 11.0, 16.0]})
    series = load_series(frame, time_col="year")
    assert series.time_index.dtype == np.int64
    assert series.time_index.tolist() == [1700, 1701, 1702]


def test_unsorted_timestamps() -> None:
    frame = _daily().iloc[[0, 1, 3, 2, 4]]
    with pytest.raises(DataError, match=r"time stamps in increasing order, "
                                        r"got 2024-01-03 after 2024-01-04 at row 3\. "
                                        r"sort the data by time first$"):
        load_series(frame, time_col="date", targets=["load"])


def test_duplicate_timestamps() -> None:
    frame = _daily().iloc[[0, 1, 1, 2]]
    with pytest.raises(DataError, match=r"unique time stamps, got 1 duplicates, first "
                                        r"2024-01-02 at rows \[1, 2\]\."):
        load_series(frame, time_col="date", targets=["load"])


def test_unparseable_timestamp() -> None:
    frame = _daily()
    frame.loc[3, "date"] = "not a date"
    with pytest.raises(DataError, match=r"parseable timestamps, got 'not a date' at row 3\."):
        load_series(frame, time_col="date")


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_two_digit_years_across_centuries_are_not_told_to_sort() -> None:
    """'Dec-75' then 'Jan-76' can be read as 2075 then 1976: sorting would scramble the
    file, so the message shows the text and how it was read, and suggests the real fix."""
    frame = pd.DataFrame({"month": ["Oct-75", "Nov-75", "Dec-75", "Jan-76", "Feb-76"],
                          "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(DataError, match=r"time_col 'month': expected time stamps in increasing "
                                        r"order, got 'Jan-76' \(read as 1976-01-01\) after "
                                        r"'Dec-75' \(read as 2075-12-01\) at row 3\. two-digit "
                                        r"years .*four-digit years") as info:
        load_series(frame, time_col="month")
    assert "sort the rows by time only if they really are out of order" in str(info.value)


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_day_first_dates_suggest_date_format() -> None:
    frame = pd.DataFrame({"day": ["11/1/20", "12/1/20", "13/1/20", "14/1/20"],
                          "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DataError, match=r"got '13/1/20' \(read as 2020-01-13\) after "
                                        r"'12/1/20' \(read as 2020-12-01\).*date_format"):
        load_series(frame, time_col="day")
    series = load_series(frame, time_col="day", date_format="%d/%m/%y")
    assert series.time_index[0] == pd.Timestamp("2020-01-11") and series.freq == "D"
    with pytest.raises(DataError, match=r"expected timestamps in the format '%Y-%m-%d', got "
                                        r"'11/1/20' at row 0"):
        load_series(frame, time_col="day", date_format="%Y-%m-%d")


_ZONE_FIX = ("convert the column to one zone before loading (e.g. pd.to_datetime(column, "
             "utc=True) and pass the DataFrame), or write every time stamp with the same offset")


@pytest.mark.parametrize(("stamps", "zones"), [
    (["2024-01-01T00:00+00:00", "2024-01-02T00:00+01:00", "2024-01-03T00:00+00:00"],
     "['UTC', 'UTC+01:00']"),
    (["2024-01-01T00:00+00:00", "2024-01-02T00:00", "2024-01-03T00:00"],
     "['UTC', 'no zone']"),
])
def test_mixed_time_zones_in_a_text_column_are_named(tmp_path, stamps, zones) -> None:
    path = tmp_path / "tz.csv"
    path.write_text("t,x\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    with pytest.raises(DataError) as err:
        load_series(path, time_col="t")
    assert str(err.value) == (f"time_col 't': expected time stamps in one time zone, got the "
                              f"zones {zones}, the first change at row 1. {_ZONE_FIX}")


def test_mixed_time_zones_in_a_frame_of_timestamps_are_named() -> None:
    frame = pd.DataFrame({"t": [pd.Timestamp("2024-01-01", tz="UTC"),
                                pd.Timestamp("2024-01-02", tz="UTC"),
                                pd.Timestamp("2024-01-03", tz="Europe/Paris")],
                          "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError) as err:
        load_series(frame, time_col="t")
    assert str(err.value) == ("time_col 't': expected time stamps in one time zone, got the "
                              f"zones ['UTC', 'Europe/Paris'], the first change at row 2. "
                              f"{_ZONE_FIX}")


def test_one_time_zone_loads() -> None:
    frame = pd.DataFrame({"t": ["2024-01-01T00:00+01:00", "2024-01-02T00:00+01:00",
                                "2024-01-03T00:00+01:00"], "x": [1.0, 2.0, 3.0]})
    series = load_series(frame, time_col="t")
    assert str(series.time_index.tz) == "UTC+01:00" and series.freq == "D"
