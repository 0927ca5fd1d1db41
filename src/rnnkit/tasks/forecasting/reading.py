"""How a file or a DataFrame becomes the forecaster's series, and the checks it must pass.

:func:`read_series` reads with the ``[data]`` settings (the same code for the config's file,
a DataFrame passed to ``fit`` and a prediction input); :func:`check_series` checks the
result against the config (before fitting) or against the fitted columns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.irregular import DELTA_COLUMN
from rnnkit.data.tables import read_table
from rnnkit.data.timeseries import TimeSeries, load_series
from rnnkit.datasets.registry import load_dataset
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting.config import DataSection, ForecastConfig
from rnnkit.tasks.forecasting.preprocessing import Preprocessing

__all__ = ["check_series", "read_series"]


def read_series(source: str | os.PathLike[str] | pd.DataFrame | pd.Series | None,
                section: DataSection, *, targets: Sequence[str] | None = None,
                covariates: Sequence[str] | None = None,
                time_name: str | None = None) -> TimeSeries:
    """The one way a file or a DataFrame becomes the forecaster's series.

    Args:
        source: a CSV/Parquet path or a DataFrame; None reads what ``section`` names (a
            packaged dataset or ``section.path``).
        section: the ``[data]`` settings (time column, targets, covariates, missing and
            irregular policies, freq, max_gap, date format).
        targets, covariates: the columns to take instead of ``section``'s (a fitted
            forecaster passes its own; ``delta_t`` is added back by ``irregular="delta"``).
        time_name: the fitted time index's name: used as the time column when ``section``
            names none and the input has a column of that name.
    """
    if source is None:
        if section.dataset is not None:
            return load_dataset(section.dataset, **section.dataset_args).series
        if section.path is None:
            raise ConfigError(expected("data.path", "a file to read", None,
                                       "set [data] path (or dataset) in the config, or pass "
                                       "a path"))
        source = section.path
    frame = read_table(source)
    time_col = section.time_col
    if time_col is None and time_name is not None and time_name in frame.columns:
        time_col = time_name
    if time_col is not None and time_col not in frame.columns and frame.index.name == time_col:
        time_col = None  # a DataFrame indexed by the time column
    if targets is None:
        targets = None if section.targets is None else list(section.targets)
    if covariates is None:
        covariates = list(section.covariates)
    if section.irregular == "delta":
        covariates = [c for c in covariates if c != DELTA_COLUMN]
    name = Path(source).stem if isinstance(source, (str, os.PathLike)) else None
    return load_series(frame, time_col=time_col, targets=targets, covariates=covariates,
                       missing=section.missing, irregular=section.irregular,
                       freq=section.freq, date_format=section.date_format,
                       max_gap=section.max_gap, name=name)


def check_series(series: TimeSeries, config: ForecastConfig,
                 prep: Preprocessing | None = None) -> None:
    """Raise unless ``series`` fits: the fitted columns when ``prep`` is given (a fitted
    forecaster), else the ``[data]`` targets and covariates and enough rows for one window
    of ``config``."""
    if prep is not None:
        if series.columns != prep.columns:
            raise DataError(expected("series columns", f"{list(prep.columns)} (as in fit)",
                                     list(series.columns)))
        return
    data = config.data_or_default
    if data.targets is not None and series.targets != tuple(data.targets):
        raise DataError(expected("series targets", f"{list(data.targets)} (data.targets)",
                                 list(series.targets)))
    covariates = tuple(data.covariates) + (
        (DELTA_COLUMN,) if data.irregular == "delta" else ())
    if data.path is not None and series.covariates != covariates:
        raise DataError(expected("series covariates", f"{list(covariates)} "
                                 "(data.covariates)", list(series.covariates)))
    need = config.forecast.look_back + config.forecast.horizon
    if series.n_steps < need:
        raise DataError(expected(
            "series", f"at least look_back + horizon = {need} rows",
            Described(f"{series.n_steps} rows"), "shorten look_back or horizon"))
