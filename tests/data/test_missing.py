"""Missing values: the report and the explicit policies that fill them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import find_missing, load_series
from rnnkit.errors import DataError


def _daily(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": np.arange(n, dtype=float) * 10.0,
        "temp": np.arange(n, dtype=float) + 0.5,
    })


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
