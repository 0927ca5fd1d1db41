"""Builders the tagger tests share: a synthetic corpus whose ambiguous words only context
tags, and a small model, training and task."""

from __future__ import annotations

import numpy as np

from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.tagging import SequenceTagger, TaggerModel
from rnnkit.training import TrainerConfig


def _corpus(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """'can' / 'fish' are VERB after 'we' / 'they' and NOUN after 'the' / 'a': only context
    tells; other words have one tag each."""
    rng = np.random.default_rng(seed)
    sents, tags = [], []
    for _ in range(n):
        s: list[str] = []
        t: list[str] = []
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                s += [str(rng.choice(["we", "they"])), str(rng.choice(["can", "fish"]))]
                t += ["PRON", "VERB"]
            else:
                s += [str(rng.choice(["the", "a"])), str(rng.choice(["can", "fish", "dog"]))]
                t += ["DET", "NOUN"]
            if rng.random() < 0.3:
                s.append(".")
                t.append(".")
        sents.append(s)
        tags.append(t)
    return sents, tags


def _small(**changes) -> TaggerModel:
    base = {"encoder": EncoderSection(hidden_size=8, bidirectional=True), "embedding_dim": 8,
            "suffix_dim": 4, "shape_dim": 2, "dropout": 0.0, "min_freq": 1}
    return TaggerModel(**{**base, **changes})


def _training(**changes) -> TrainerConfig:
    return TrainerConfig(**{"epochs": 10, "batch_size": 16, "lr": 3e-2, "seed": 0,
                            "device": "cpu", **changes})


def _tagger(model: TaggerModel, training: TrainerConfig, **early_stopping) -> SequenceTagger:
    """The tagger of a model section, a TrainerConfig and early-stopping fields."""
    config = {"model": model, "training": training}
    if early_stopping:
        config["early_stopping"] = early_stopping
    return SequenceTagger(config)
