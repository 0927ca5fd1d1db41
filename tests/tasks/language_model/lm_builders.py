"""Builders the language-model tests share: a repetitive toy text and a tiny config (each fit
on it takes well under a second)."""

from rnnkit.config import merge_dicts
from rnnkit.tasks.language_model import LanguageModelConfig

TEXT = "the cat sat on the mat. the dog sat on the log. " * 30

#: a tiny model: 2 Trainer epochs per pass over the text (the old "rounds")
TINY = {"model": {"embedding_dim": 8, "encoder": {"cell": "lstm", "hidden_size": 16}},
        "data": {"epochs_per_pass": 2, "val_tokens": 200},
        "training": {"tbptt_steps": 10, "batch_size": 4, "epochs": 2, "lr": 1e-2,
                     "device": "cpu", "seed": 0, "progress": "off", "num_threads": 1}}


def tiny(**sections) -> LanguageModelConfig:
    return LanguageModelConfig.from_dict(merge_dicts(TINY, sections))

