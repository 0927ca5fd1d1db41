"""Reading the forecaster's series with the [data] settings, and checking it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import DELTA_COLUMN, load_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting import DataSection, ForecastConfig
from rnnkit.tasks.forecasting.reading import check_series, read_series


def frame() -> pd.DataFrame:
    return pd.DataFrame({"day": pd.date_range("2024-01-01", periods=12, freq="D"),
                         "y": np.arange(12.0), "x": np.ones(12)})


def test_a_frame_is_read_with_the_data_section() -> None:
    series = read_series(frame(), DataSection(time_col="day", targets=("y",),
                                              covariates=("x",)))
    assert (series.targets, series.covariates, series.freq) == (("y",), ("x",), "D")


def test_a_fitted_time_name_finds_the_time_column() -> None:
    series = read_series(frame(), DataSection(), targets=["y"], covariates=[], time_name="day")
    assert series.time_index.name == "day" and series.columns == ("y",)


def test_delta_t_is_added_back_not_read() -> None:
    series = read_series(frame().drop(columns="x"), DataSection(time_col="day",
                                                                irregular="delta"),
                         covariates=[DELTA_COLUMN])
    assert series.covariates == (DELTA_COLUMN,)


def test_nothing_to_read_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"data\.path: expected a file to read"):
        read_series(None, DataSection())


def test_check_series_against_the_config_and_the_fit() -> None:
    series = load_series(frame(), time_col="day", targets=["y"], covariates=["x"])
    config = ForecastConfig.from_dict({"forecast": {"look_back": 8, "horizon": 2}})
    check_series(series, config)
    short = ForecastConfig.from_dict({"forecast": {"look_back": 12, "horizon": 2}})
    with pytest.raises(DataError, match=r"at least look_back \+ horizon = 14 rows"):
        check_series(series, short)
    named = ForecastConfig.from_dict({"data": {"targets": ["x"]}})
    with pytest.raises(DataError, match=r"series targets: expected \['x'\]"):
        check_series(series, named)
