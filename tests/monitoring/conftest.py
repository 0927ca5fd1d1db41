"""A tiny forecaster fitted on the Nile after its 1898 level shift (the real series that
statsmodels ships), shared by the monitoring tests."""

import pandas as pd
import pytest

from rnnkit.datasets import load_dataset
from rnnkit.tasks.forecasting import Forecaster

#: rows of the Nile before the 1898 dam (1871-1898): a higher level, the other regime
SHIFT = 28


def nile_frame() -> pd.DataFrame:
    s = load_dataset("nile").series
    return pd.DataFrame(s.values, index=s.time_index, columns=list(s.columns))


def tiny_forecaster(look_back: int = 6) -> Forecaster:
    return Forecaster({"forecast": {"look_back": look_back}, "model": {"hidden_size": 4},
                       "training": {"epochs": 1, "progress": "off", "seed": 0},
                       "split": {"val": 0.15, "test": 0.15}})


@pytest.fixture(scope="session")
def nile():
    """``(fitted forecaster, frame of the whole Nile)``; fitted on 1899-1970 only."""
    frame = nile_frame()
    return tiny_forecaster().fit(frame.iloc[SHIFT:]), frame
