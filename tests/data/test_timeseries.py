"""Loading and validating time series: formats, policies and one-line error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import TimeSeries, load_series
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


def test_dataframe_with_datetime_index_and_default_targets() -> None:
    frame = _daily().set_index("date")
    frame.index = pd.to_datetime(frame.index)
    series = load_series(frame, covariates=["temp"])
    assert series.targets == ("load",)
    assert series.covariates == ("temp",)


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


# -- known-future covariates ------------------------------------------------------------------


def _with_future_rows() -> pd.DataFrame:
    frame = _daily(6)
    frame["price"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    frame.loc[4:, "load"] = np.nan  # the last two rows: the known future
    frame.loc[4:, "temp"] = np.nan  # past-only: unknown there, ignored
    return frame


def test_future_covariates_come_last_and_trailing_empty_targets_are_the_future() -> None:
    series = load_series(_with_future_rows(), time_col="date", targets=["load"],
                         covariates=["temp"], future_covariates=["price"])
    assert series.columns == ("load", "temp", "price") and series.future_idx == (2,)
    assert series.covariates == ("temp",) and series.future_covariates == ("price",)
    assert series.n_steps == 4 and series.time_index[-1] == pd.Timestamp("2024-01-04")
    assert series.future is not None and series.future["price"].tolist() == [5.0, 6.0]
    assert list(series.future.index) == list(pd.date_range("2024-01-05", periods=2))
    assert "future_covariates=['price']" in repr(series) and "future_rows=2" in repr(series)
    again = load_series(_with_future_rows(), time_col="date", targets=["load"],
                        covariates=["temp"], future_covariates=["price"])
    assert series.equals(again)
    no_future = load_series(_daily(), time_col="date", future_covariates=["temp"])
    assert no_future.future is None and no_future.targets == ("load",)


def test_future_rows_need_every_future_covariate() -> None:
    frame = _with_future_rows()
    frame.loc[5, "price"] = np.nan
    with pytest.raises(DataError, match=r"future rows: expected a value of every future "
                                        r"covariate \['price'\].*'price' at 2024-01-06"):
        load_series(frame, time_col="date", targets=["load"], future_covariates=["price"])
    with pytest.raises(DataError, match="future_covariates: column 'rain' not found"):
        load_series(frame, time_col="date", targets=["load"], future_covariates=["rain"])
    with pytest.raises(ConfigError, match="targets/covariates/future_covariates: expected each "
                                          "column listed once"):
        load_series(frame, time_col="date", targets=["load"], covariates=["price"],
                    future_covariates=["price"])


def test_series_checks_its_future_and_adds_future_columns() -> None:
    series = load_series(_daily(4), time_col="date", targets=["load"], covariates=["temp"])
    frame = series.frame.assign(promo=[0.0, 1.0, 0.0, 1.0])
    stamps = pd.date_range("2024-01-05", periods=2, name="date")
    ok = TimeSeries(frame, ("load",), ("temp",), "D", future_covariates=("promo",),
                    future=pd.DataFrame({"promo": [1, 0]}, index=stamps))
    assert ok.future["promo"].dtype == np.float64
    with pytest.raises(DataError, match="future.index: expected strictly increasing time "
                                        "stamps after the last row 2024-01-04"):
        TimeSeries(frame, ("load",), ("temp",), "D", future_covariates=("promo",),
                   future=pd.DataFrame({"promo": [1.0]}, index=stamps[:1] - pd.Timedelta("2D")))
    with pytest.raises(DataError, match=r"future.columns: expected exactly future_covariates"):
        TimeSeries(frame, ("load",), ("temp",), "D", future_covariates=("promo",),
                   future=pd.DataFrame({"other": [1.0]}, index=stamps[:1]))
    extended = ok.with_future_columns(pd.DataFrame({"hol": [0.0] * 4}, index=ok.time_index),
                                      pd.DataFrame({"hol": [1.0, 1.0]}, index=stamps))
    assert extended.future_covariates == ("promo", "hol")
    assert extended.future.columns.tolist() == ["promo", "hol"]
    with pytest.raises(DataError, match="future covariates: expected new column names"):
        ok.with_future_columns(frame[["temp"]])
