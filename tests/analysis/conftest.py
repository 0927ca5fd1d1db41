from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def sine_forecaster():
    """A tiny forecaster (look-back 8, horizon 2, LSTM of 4 units, one epoch) fitted once on a
    sinusoid of period 6, and its series: the fitted model the diagnostics read."""
    from rnnkit.data import load_series
    from rnnkit.tasks.forecasting import ForecastConfig, Forecaster

    t = np.arange(100)
    series = load_series(pd.DataFrame({"y": np.sin(2 * np.pi * t / 6)}), targets=["y"])
    cfg = ForecastConfig.from_dict({
        "data": {"dataset": "sinusoid"}, "forecast": {"look_back": 8, "horizon": 2},
        "model": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0, "head_dropout": 0.0},
        "training": {"epochs": 1, "batch_size": 16, "device": "cpu", "num_threads": 1,
                     "progress": "off"}})
    return Forecaster(cfg).fit(series), series
