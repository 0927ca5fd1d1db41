"""Baselines every task is compared against: a recurrent model earns its keep only if it beats
them on the same data, scored by the same metrics.

==============================  ====================================================
:mod:`.forecasting`             persistence, seasonal naive, moving average, linear AR, MLP
:mod:`.text`                    bag of words / of features, most frequent tag per word
:mod:`.language_model`          unigram and bigram models, add-k or Witten-Bell smoothed
:mod:`.seq2seq`                 translation memory (nearest TF-IDF source), copying the source
:mod:`.window_ar`               ridge AR on window-normalized inputs (as the model sees them)
:mod:`.statistical`             ETS, (S)ARIMA, seasonal naive over the whole history
:mod:`.series`                  summary statistics + random forest, resampled 1-nearest neighbour
==============================  ====================================================

Names are imported lazily (the text baselines use the classification and tagging tasks'
metrics), so importing one baseline stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ARIMA",
    "ETS",
    "SUMMARY_STATISTICS",
    "BagOfFeaturesClassifier",
    "BagOfWordsClassifier",
    "Baseline",
    "BigramLM",
    "CopySource",
    "HistorySeasonalNaive",
    "LinearAR",
    "MLPBaseline",
    "MostFrequentTagTagger",
    "MovingAverage",
    "Persistence",
    "ResampledNearestNeighbor",
    "SeasonalNaive",
    "SeriesBaseline",
    "SummaryForestClassifier",
    "TranslationMemory",
    "UnigramLM",
    "WindowLinearAR",
    "all_baselines",
    "evaluate_baselines",
    "evaluate_lm_baselines",
    "shared_vocabulary",
    "summary_features",
]

_WHERE = {
    "Baseline": "rnnkit.baselines.forecasting",
    "LinearAR": "rnnkit.baselines.forecasting",
    "MLPBaseline": "rnnkit.baselines.forecasting",
    "MovingAverage": "rnnkit.baselines.forecasting",
    "Persistence": "rnnkit.baselines.forecasting",
    "SeasonalNaive": "rnnkit.baselines.forecasting",
    "all_baselines": "rnnkit.baselines.forecasting",
    "evaluate_baselines": "rnnkit.baselines.forecasting",
    "SUMMARY_STATISTICS": "rnnkit.baselines.text",
    "BagOfFeaturesClassifier": "rnnkit.baselines.text",
    "BagOfWordsClassifier": "rnnkit.baselines.text",
    "MostFrequentTagTagger": "rnnkit.baselines.text",
    "summary_features": "rnnkit.baselines.text",
    "BigramLM": "rnnkit.baselines.language_model",
    "UnigramLM": "rnnkit.baselines.language_model",
    "evaluate_lm_baselines": "rnnkit.baselines.language_model",
    "CopySource": "rnnkit.baselines.seq2seq",
    "TranslationMemory": "rnnkit.baselines.seq2seq",
    "shared_vocabulary": "rnnkit.baselines.seq2seq",
    "WindowLinearAR": "rnnkit.baselines.window_ar",
    "ETS": "rnnkit.baselines.statistical",
    "ARIMA": "rnnkit.baselines.statistical",
    "HistorySeasonalNaive": "rnnkit.baselines.statistical",
    "SeriesBaseline": "rnnkit.baselines.statistical",
    "SummaryForestClassifier": "rnnkit.baselines.series",
    "ResampledNearestNeighbor": "rnnkit.baselines.series",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rnnkit.baselines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
