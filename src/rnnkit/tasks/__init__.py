"""Domain-level tasks built by composition from rnnkit.nn, rnnkit.data and rnnkit.training.

Every task implements one interface, :class:`~rnnkit.tasks.base.Task`: ``Task(config)`` or
``Task.from_toml(path)``; ``fit(data) -> self`` (the record in ``history_``); ``predict``;
``evaluate -> Report`` (the model and every baseline side by side); ``save`` / ``load`` (one
bundle directory, see :mod:`rnnkit.bundle`); ``read_data`` / ``split`` / ``predict_frame`` for
files in the task's format. :func:`load` loads a bundle of any task, :func:`task_from_toml`
the task a config file names:

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
    "TASK_NAMES",
    "ForecastConfig",
    "Forecaster",
    "LanguageModel",
    "Report",
    "Seq2Seq",
    "SequenceClassifier",
    "SequenceTagger",
    "Task",
    "load",
    "task_class",
    "task_from_toml",
]

_WHERE = {
    "ForecastConfig": "rnnkit.tasks.forecasting",
    "Forecaster": "rnnkit.tasks.forecasting",
    "LanguageModel": "rnnkit.tasks.language_model",
    "Seq2Seq": "rnnkit.tasks.seq2seq",
    "SequenceClassifier": "rnnkit.tasks.classification",
    "SequenceTagger": "rnnkit.tasks.tagging",
    "Report": "rnnkit.tasks.base",
    "Task": "rnnkit.tasks.base",
    "TASK_NAMES": "rnnkit.tasks.registry",
    "load": "rnnkit.tasks.registry",
    "task_class": "rnnkit.tasks.registry",
    "task_from_toml": "rnnkit.tasks.registry",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rnnkit.tasks' has no attribute {name!r}")
