"""Domain-level tasks built by composition from rnnkit.nn, rnnkit.data and rnnkit.training.

Each task has the same symmetric API: ``fit`` / ``predict`` / ``evaluate`` / ``save`` /
``load`` (one bundle directory, see :mod:`rnnkit.bundle`):

==============================  ====================================================
:class:`Forecaster`             time-series forecasting (:mod:`.forecasting`)
:class:`SequenceClassifier`     many-to-one classification (:mod:`.classification`)
:class:`SequenceTagger`         a label per step, optional CRF (:mod:`.tagging`)
:class:`LanguageModel`          character/word language models and generation
:class:`Seq2Seq`                encoder-decoder with attention, greedy and beam search
==============================  ====================================================

The baselines every task is compared against live in :mod:`rnnkit.baselines`, the named
datasets in :mod:`rnnkit.datasets`. Names are imported lazily, so importing one task stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ForecastConfig",
    "Forecaster",
    "LanguageModel",
    "Seq2Seq",
    "SequenceClassifier",
    "SequenceTagger",
]

_WHERE = {
    "ForecastConfig": "rnnkit.tasks.forecasting",
    "Forecaster": "rnnkit.tasks.forecasting",
    "LanguageModel": "rnnkit.tasks.language_model",
    "Seq2Seq": "rnnkit.tasks.seq2seq",
    "SequenceClassifier": "rnnkit.tasks.classification",
    "SequenceTagger": "rnnkit.tasks.tagging",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rnnkit.tasks' has no attribute {name!r}")
