"""Loading and validating time series: formats, policies and one-line error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import DELTA_COLUMN, TimeSeries, find_missing, load_series
from rnnkit.errors import ConfigError, DataError


def _daily(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": np.arange(n, dtype=float) * 10.0,
        "temp": np.arange(n, dtype=float) + 0.5,
    })


# -- formats ------------------------------------------------------------------------------------


def test_csv_without_time_column_gets_integer_steps(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    pd.DataFrame({"capacity": [1.0, 0.9, 0.8]}).to_csv(path, index=False)
    series = load_series(path)
    assert series.targets == ("capacity",)
    assert series.time_index.tolist() == [0, 1, 2]
    assert series.freq == 1
    np.testing.assert_array_equal(series.values, [[1.0], [0.9], [0.8]])


def test_csv_multivariate_with_dates_and_covariates(tmp_path: Path) -> None:
    path = tmp_path / "load.csv"
    _daily().to_csv(path, index=False)
    series = load_series(path, time_col="date", targets="load", covariates=["temp"])
    assert isinstance(series.time_index, pd.DatetimeIndex)
    assert series.time_index[0] == pd.Timestamp("2024-01-01")
    assert series.time_index.name == "date"
    assert series.columns == ("load", "temp")
    assert series.target_idx == (0,)
    assert (series.n_steps, series.n_features, series.n_targets) == (6, 2, 1)
    assert series.freq == "D"
    np.testing.assert_array_equal(series.values[:, 0], np.arange(6) * 10.0)
    np.testing.assert_array_equal(series.target_values[:, 0], np.arange(6) * 10.0)
    assert series.values.dtype == np.float64


def test_parquet_round_trip_equals_csv(tmp_path: Path) -> None:
    frame = _daily()
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    from_csv = load_series(tmp_path / "a.csv", time_col="date", targets=["load", "temp"])
    from_parquet = load_series(tmp_path / "a.parquet", time_col="date", targets=["load", "temp"])
    assert from_csv.equals(from_parquet)


def test_dataframe_with_datetime_index_and_default_targets() -> None:
    frame = _daily().set_index("date")
    frame.index = pd.to_datetime(frame.index)
    series = load_series(frame, covariates=["temp"])
    assert series.targets == ("load",)
    assert series.covariates == ("temp",)


def test_integer_valued_float_time_column_becomes_integer_index() -> None:
    frame = pd.DataFrame({"year": [1700.0, 1701.0, 1702.0], "spots": [5.0, 11.0, 16.0]})
    series = load_series(frame, time_col="year")
    assert series.time_index.dtype == np.int64
    assert series.time_index.tolist() == [1700, 1701, 1702]


def test_loaded_series_is_independent_of_the_source_frame() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0]})
    series = load_series(frame)
    frame.loc[0, "y"] = 99.0
    assert series.values[0, 0] == 1.0
    assert "n_steps=3" in repr(series) and "targets=['y']" in repr(series)


# -- bad input: one-line messages that name the problem -----------------------------------------


def test_missing_column_lists_available() -> None:
    with pytest.raises(DataError, match=r"^targets: column 'foo' not found; "
                                        r"available: \['date', 'load', 'temp'\]$"):
        load_series(_daily(), time_col="date", targets=["foo"])
    with pytest.raises(DataError, match=r"time_col: column 'when' not found"):
        load_series(_daily(), time_col="when")


def test_non_numeric_value_is_named_with_its_row() -> None:
    frame = _daily()
    frame["load"] = frame["load"].astype(object)
    frame.loc[2, "load"] = "abc"
    with pytest.raises(DataError, match=r"column 'load': expected numeric values, "
                                        r"got 'abc' at row 2 \(1 non-numeric\)"):
        load_series(frame, time_col="date", targets=["load"])


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


def test_bad_paths_and_policies(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"source: expected an existing CSV or Parquet file"):
        load_series(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"source: expected a file ending in"):
        load_series(tmp_path / "x.json")
    with pytest.raises(ConfigError, match=r"missing: expected one of \['error', 'interpolate', "
                                          r"'ffill'\], got 'drop'"):
        load_series(_daily(), time_col="date", missing="drop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"each column listed once, got repeated \['load'\]$"):
        load_series(_daily(), time_col="date", targets=["load"], covariates=["load"])


def test_duplicate_column_names() -> None:
    frame = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(DataError, match=r"source: expected unique column names, "
                                        r"got duplicated columns \['a'\]"):
        load_series(frame)


def test_timeseries_constructor_checks_invariants() -> None:
    index = pd.RangeIndex(3, name="t")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 0.0, 0.0]}, index=index)
    with pytest.raises(DataError, match=r"frame.columns: expected exactly targets \+ covariates "
                                        r"\['b', 'a'\]"):
        TimeSeries(frame, targets=("b",), covariates=("a",))
    frame.loc[1, "a"] = np.nan
    with pytest.raises(DataError, match=r"1 missing values \('a': 1\)"):
        TimeSeries(frame, targets=("a",), covariates=("b",))


# -- missing values -------------------------------------------------------------------------------


def _with_gaps() -> pd.DataFrame:
    frame = _daily(7)
    frame.loc[[0, 3, 4], "load"] = np.nan
    frame.loc[5, "temp"] = np.nan
    return frame


def test_missing_values_error_by_default_with_count_and_positions() -> None:
    with pytest.raises(DataError, match=r"^data: expected no missing values, got 4 missing values "
                                        r"\('load': 3, 'temp': 1\); first at row 0 \(2024-01-01\) "
                                        r"in 'load', row 3 \(2024-01-04\) in 'load', .*"
                                        r"pass missing='interpolate' or missing='ffill'$"):
        load_series(_with_gaps(), time_col="date", targets=["load"], covariates=["temp"])


def test_find_missing_report() -> None:
    frame = _with_gaps().set_index("date")
    report = find_missing(frame, max_positions=2)
    assert report.count == 4
    assert report.by_column == {"load": 3, "temp": 1}
    assert report.first == ((0, "2024-01-01", "load"), (3, "2024-01-04", "load"))


def test_interpolate_policy_is_linear_in_time_and_nearest_at_edges() -> None:
    series = load_series(_with_gaps(), time_col="date", targets=["load"], covariates=["temp"],
                         missing="interpolate")
    # load was 0,10,20,30,40,50,60 with rows 0,3,4 missing: the interior gap is linear
    # between 20 and 50; the leading gap takes the first observed value.
    np.testing.assert_allclose(series.values[:, 0], [10.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    np.testing.assert_allclose(series.values[5, 1], 5.5)


def test_interpolate_weights_uneven_time_gaps() -> None:
    frame = pd.DataFrame({"t": [0, 1, 4], "y": [0.0, np.nan, 4.0]})
    series = load_series(frame, time_col="t", missing="interpolate", irregular="delta")
    assert series.values[1, 0] == 1.0  # 1/4 of the way in time, not halfway by rows


def test_ffill_policy_and_its_leading_gap_error() -> None:
    frame = _daily(5)
    frame.loc[[2, 3], "load"] = np.nan
    series = load_series(frame, time_col="date", targets=["load"], missing="ffill")
    np.testing.assert_array_equal(series.values[:, 0], [0.0, 10.0, 10.0, 10.0, 40.0])
    frame.loc[0, "load"] = np.nan
    with pytest.raises(DataError, match=r"missing='ffill': expected an observed value before "
                                        r"every gap.*use missing='interpolate'"):
        load_series(frame, time_col="date", targets=["load"], missing="ffill")


def test_all_missing_column_cannot_be_filled() -> None:
    frame = _daily(4)
    frame["load"] = np.nan
    with pytest.raises(DataError, match=r"no values at all in \['load'\]"):
        load_series(frame, time_col="date", missing="interpolate")


# -- irregular time stamps ----------------------------------------------------------------------


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


# ------------------------------------------------------------ misread dates, formats, max_gap
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


def test_max_gap_marks_rows_filled_inside_longer_gaps() -> None:
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10",
                           "2024-01-11", "2024-01-13"])
    frame = pd.DataFrame({"date": days, "y": np.arange(6.0)})
    series = load_series(frame, time_col="date", irregular="resample", freq="D", max_gap=3)
    assert series.n_steps == 13
    assert series.gap_mask.tolist() == [False] * 3 + [True] * 6 + [False] * 4  # 7-day hole
    assert "gap_rows=6" in repr(series)
    by_offset = load_series(frame, time_col="date", irregular="resample", freq="D",
                            max_gap="1D")  # the 2-day step 11 -> 13 is now too long as well
    assert by_offset.n_gap_rows == 7
    assert load_series(frame, time_col="date", irregular="resample", freq="D").gap_mask is None
    missing = pd.DataFrame({"y": [1.0, np.nan, np.nan, np.nan, 5.0, 6.0, np.nan, 8.0]})
    filled = load_series(missing, missing="interpolate", max_gap=2)
    assert filled.gap_mask.tolist() == [False, True, True, True, False, False, False, False]
    with pytest.raises(ConfigError, match=r"max_gap: expected a number of steps for an "
                                          r"integer index, got '3D'"):
        load_series(missing, missing="interpolate", max_gap="3D")
