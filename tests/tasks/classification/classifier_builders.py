"""Builders the classifier tests share: synthetic texts and series (each fit on them takes
well under a second) and a small model, training and task."""

from __future__ import annotations

import numpy as np

from rnnkit.tasks.classification import ClassifierModel, SequenceClassifier
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.training import TrainerConfig

POS, NEG = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"]
FILLER = ["the", "movie", "was", "a", "plot", "it", "and", "so"]


def _texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Sentences of filler words with one sentiment word somewhere; the label follows it."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        words = list(rng.choice(FILLER, size=int(rng.integers(1, 9))))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(POS if label else NEG)))
        texts.append(" ".join(words))
        labels.append("pos" if label else "neg")
    return texts, labels


def _series(n: int, seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """Two-feature series of 4..12 steps; the class (0, 1, 2) sets the trend of feature 0."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        c = int(rng.integers(0, 3))
        T = int(rng.integers(4, 13))
        t = np.arange(T)
        f0 = (c - 1) * 0.5 * t + rng.normal(0, 0.3, T)
        f1 = rng.normal(0, 1, T)
        X.append(np.stack([f0, f1], axis=1) * 10 + 3)  # unscaled on purpose
        y.append(c)
    return X, y


def _small(**changes) -> ClassifierModel:
    base = {"encoder": EncoderSection(hidden_size=8, bidirectional=True), "embedding_dim": 8,
            "dropout": 0.0}
    return ClassifierModel(**{**base, **changes})


def _training(**changes) -> TrainerConfig:
    return TrainerConfig(**{"epochs": 12, "batch_size": 16, "lr": 2e-2, "seed": 0,
                            "device": "cpu", **changes})


def _clf(model: ClassifierModel, training: TrainerConfig, **early_stopping) -> SequenceClassifier:
    """The classifier of a model section, a TrainerConfig and early-stopping fields."""
    config = {"model": model, "training": training}
    if early_stopping:
        config["early_stopping"] = early_stopping
    return SequenceClassifier(config)
