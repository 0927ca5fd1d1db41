"""Data transforms for rnnkit: time series loading from your own files, windowing, splitting
and scaling; text tokenization, vocabularies, padding and bucketing; word-vector tables.

Named datasets (synthetic generators, packaged series, corpora fetched from package
registries) live in :mod:`rnnkit.datasets`. Each concept has its own module; this package
re-exports their public names.
"""

from __future__ import annotations

from rnnkit.data.categorical import integer_encode, one_hot
from rnnkit.data.embeddings import WordVectors
from rnnkit.data.irregular import DELTA_COLUMN
from rnnkit.data.missing import MissingReport, find_missing
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
from rnnkit.data.text import BPETokenizer, CharTokenizer, WordTokenizer
from rnnkit.data.timeseries import TimeSeries, load_series
from rnnkit.data.vocabulary import Vocabulary
from rnnkit.data.windowing import Windows, as_2d, make_windows

__all__ = [
    "DELTA_COLUMN",
    "PARTS",
    "BPETokenizer",
    "BucketSampler",
    "CharTokenizer",
    "ChronoSplit",
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
    "denormalize",
    "find_missing",
    "integer_encode",
    "lengths_to_mask",
    "load_series",
    "make_scaler",
    "make_windows",
    "normalize",
    "one_hot",
    "pad_sequences",
    "padding_stats",
    "rolling_origin",
    "scaler_names",
    "split_by_date",
    "split_by_fraction",
    "split_windows",
    "window_stats",
]
