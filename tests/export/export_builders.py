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
    "seq2seq_lstm_bi_ln": {"forecast": {"horizon": 2, "strategy": "seq2seq",
                                        "scaling": "standard"},
                           "model": {"cell": "lstm", "bidirectional": True, "num_layers": 2,
                                     "layer_norm": True}},
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


CLASSIFIERS: dict[str, dict[str, Any]] = {
    "text_lstm_bi_attention": {"kind": "text", "encoder": {"cell": "lstm"},
                               "pooling": "attention"},
    "text_cho_ln_mean": {"kind": "text", "encoder": {"cell": "gru", "reset_after": False,
                                                     "layer_norm": True}, "pooling": "mean"},
    "series_rnn_stacked_max": {"kind": "numeric", "encoder": {"cell": "rnn", "num_layers": 2},
                               "pooling": "max"},
    "series_gru_last_cut": {"kind": "numeric", "encoder": {"cell": "gru"}, "pooling": "last",
                            "max_length": 6},
    "text_lstm_uni_last": {"kind": "text", "encoder": {"cell": "lstm", "bidirectional": False,
                                                       "num_layers": 2}, "pooling": "last"},
}


def texts(n: int = 40, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short sentences; the label follows the sentiment word somewhere in each."""
    rng = np.random.default_rng(seed)
    pos, neg = ["good", "great", "fine"], ["bad", "awful", "dull"]
    filler = ["the", "movie", "was", "a", "plot", "it", "and"]
    out, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        words = list(rng.choice(filler, size=int(rng.integers(1, 9))))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(pos if label else neg)))
        out.append(" ".join(words))
        labels.append("pos" if label else "neg")
    return out, labels


def numeric(n: int = 40, seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """Two-feature series of 3..11 steps, unscaled; the class sets feature 0's trend."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        c = int(rng.integers(0, 3))
        t = np.arange(int(rng.integers(3, 12)))
        X.append(np.stack([(c - 1) * 0.5 * t + rng.normal(0, 0.3, t.size),
                           rng.normal(0, 1, t.size)], axis=1) * 10 + 3)
        y.append(c)
    return X, y


@functools.cache
def fitted_classifier(name: str) -> tuple[Any, list[Any]]:
    from rnnkit.tasks.classification import SequenceClassifier

    spec = dict(CLASSIFIERS[name])
    kind = spec.pop("kind")
    encoder = {"hidden_size": 5, "bidirectional": True, **spec.pop("encoder")}
    task = SequenceClassifier({
        "model": {"encoder": encoder, "embedding_dim": 4, "dropout": 0.0, **spec},
        "training": {**TRAINING, "lr": 0.02}, "evaluation": {"baselines": False}})
    X, y = texts() if kind == "text" else numeric()
    return task.fit(X, y), X


TAGGERS: dict[str, dict[str, Any]] = {
    "lstm_bi_crf": {"encoder": {"cell": "lstm"}, "crf": True},
    "gru_uni_softmax": {"encoder": {"cell": "gru", "bidirectional": False, "num_layers": 2},
                        "crf": False},
    "rnn_ln_words_only": {"encoder": {"cell": "rnn", "layer_norm": True}, "crf": False,
                          "suffix_length": 0, "shape_dim": 0},
}


def sentences(n: int = 30, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """'can' / 'fish' are VERB after a pronoun, NOUN after a determiner."""
    rng = np.random.default_rng(seed)
    sents, tags = [], []
    for _ in range(n):
        s: list[str] = []
        t: list[str] = []
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                s += [str(rng.choice(["We", "they"])), str(rng.choice(["can", "fish"]))]
                t += ["PRON", "VERB"]
            else:
                s += [str(rng.choice(["the", "A"])), str(rng.choice(["can", "fish", "dog"]))]
                t += ["DET", "NOUN"]
        sents.append(s)
        tags.append(t)
    return sents, tags


@functools.cache
def fitted_tagger(name: str) -> tuple[Any, list[list[str]]]:
    from rnnkit.tasks.tagging import SequenceTagger

    spec = dict(TAGGERS[name])
    encoder = {"hidden_size": 5, "bidirectional": True, **spec.pop("encoder")}
    model = {"encoder": encoder, "embedding_dim": 4, "suffix_dim": 3, "shape_dim": 2,
             "dropout": 0.0, "min_freq": 1, **spec}
    task = SequenceTagger({"model": model, "training": {**TRAINING, "lr": 0.03},
                           "evaluation": {"baselines": False}})
    sents, tags = sentences()
    return task.fit(sents, tags), sents
