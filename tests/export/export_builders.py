"""Tiny fitted tasks for the export tests (one epoch, a few units), and an onnxruntime
session helper (export_builders.py, imported by bare name). Fitted models are cached per
test session: fitting is the slow part."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd

from rnnkit.tasks.forecasting import ForecastConfig, Forecaster

TRAINING = {"epochs": 1, "batch_size": 16, "device": "cpu", "num_threads": 1,
            "progress": "off"}


def session(model: Any) -> ort.InferenceSession:
    """An onnxruntime CPU session of a ModelProto, bytes or a path."""
    data = model if isinstance(model, (bytes, str)) else model.SerializeToString()
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def series(n: int = 90, *, future: bool = False, seed: int = 0) -> pd.DataFrame:
    """A daily sine with a trend (``y``) and, with ``future``, a known covariate ``x``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frame = pd.DataFrame({"y": 3 + np.sin(2 * np.pi * t / 6) + 0.02 * t
                          + 0.1 * rng.normal(size=n)},
                         index=pd.date_range("2024-01-01", periods=n, freq="D", name="day"))
    if future:
        frame["x"] = np.cos(2 * np.pi * t / 7) + rng.normal(size=n) * 0.1
        frame["y"] += 0.5 * frame["x"]
    return frame


FORECASTERS: dict[str, dict[str, Any]] = {
    "direct_lstm_bi": {"forecast": {"horizon": 3, "scaling": "window"},
                       "model": {"cell": "lstm", "num_layers": 2, "bidirectional": True}},
    "recursive_gru": {"forecast": {"horizon": 3, "strategy": "recursive",
                                   "scaling": "standard"}, "model": {"cell": "gru"}},
    "direct_rnn_last": {"forecast": {"horizon": 2, "scaling": "window", "window_mode": "last"},
                        "model": {"cell": "rnn"}},
    "direct_lstm_ln_future": {"forecast": {"horizon": 3, "scaling": "minmax"},
                              "model": {"cell": "lstm", "layer_norm": True}, "future": True},
    "seq2seq_gru_future": {"forecast": {"horizon": 3, "strategy": "seq2seq",
                                        "scaling": "window"},
                           "model": {"cell": "gru", "bidirectional": True, "num_layers": 2},
                           "future": True},
    "recursive_cho_future": {"forecast": {"horizon": 3, "strategy": "recursive",
                                          "scaling": "robust"},
                             "model": {"cell": "gru", "reset_after": False}, "future": True},
    "direct_gru_standard": {"forecast": {"horizon": 2, "scaling": "standard"},
                            "model": {"cell": "gru", "num_layers": 2}},
}


@functools.cache
def fitted_forecaster(name: str) -> tuple[Forecaster, pd.DataFrame]:
    spec = dict(FORECASTERS[name])
    future = spec.pop("future", False)
    data = {"targets": ["y"], "future_covariates": ["x"]} if future else {"targets": ["y"]}
    config = ForecastConfig.from_dict({
        "data": data,
        "forecast": {"look_back": 6, **spec["forecast"]},
        "model": {"hidden_size": 5, "num_layers": 1, "dropout": 0.0, "head_dropout": 0.0,
                  **spec["model"]},
        "training": TRAINING, "early_stopping": {"patience": 0},
        "evaluation": {"baselines": False, "seasonal_period": 1},
    })
    frame = series(future=future)
    return Forecaster(config).fit(frame), frame
