"""Domain-level tasks (forecasting, classification, tagging, language model, seq2seq) built by
composition from rnnkit.nn, rnnkit.data and rnnkit.training, plus the non-sequential
baselines every task is compared against (:mod:`rnnkit.tasks.baselines`)."""

from __future__ import annotations

__all__: list[str] = []
