"""Reading a table: a CSV or Parquet file, or a DataFrame, as raw columns.

:func:`read_table` is what :func:`rnnkit.data.timeseries.load_series` starts from; the
column helpers turn the names and values it is given into checked lists and float64 columns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError

__all__ = ["read_table"]

_CSV_SUFFIXES = (".csv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _preview(items: Sequence[Any], limit: int = 10) -> str:
    """``[a, b, c]`` for short lists, ``[a, b, ... (+n more)]`` for long ones."""
    shown = ", ".join(repr(item) for item in list(items)[:limit])
    extra = len(items) - limit
    return f"[{shown}, ... (+{extra} more)]" if extra > 0 else f"[{shown}]"



def read_table(source: str | os.PathLike[str] | pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A CSV/Parquet file (or a copy of a DataFrame, a Series as one column) as a DataFrame,
    unvalidated: what :func:`load_series` starts from."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, pd.Series):
        return source.to_frame(name=source.name if source.name is not None else "value")
    if not isinstance(source, (str, os.PathLike)):
        raise ConfigError(expected("source", "a CSV/Parquet path or a pandas DataFrame",
                                   Described(type(source).__name__)))
    path = Path(source)
    if not path.is_file():
        raise DataError(expected("source", "an existing CSV or Parquet file", str(path)))
    suffix = path.suffix.lower()
    try:
        if suffix in _CSV_SUFFIXES:
            return pd.read_csv(path)
        if suffix in _PARQUET_SUFFIXES:
            return pd.read_parquet(path)
    except (ValueError, OSError) as err:  # pandas parser errors subclass ValueError
        raise DataError(f"source: could not read {str(path)!r}: {err}") from err
    raise ConfigError(expected("source", f"a file ending in {_CSV_SUFFIXES + _PARQUET_SUFFIXES}",
                               path.name))


def _as_names(name: str, value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(n, str) for n in names):
        raise ConfigError(expected(name, "column names (strings)", names))
    return names


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as float64; non-numbers raise a DataError naming the first one."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # includes bool
        return raw.astype(np.float64)
    converted = pd.to_numeric(raw, errors="coerce")
    bad = converted.isna().to_numpy() & raw.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(expected(f"column {column!r}", "numeric values",
                                 Described(f"{raw.iloc[row]!r} at row {row} "
                                       f"({int(bad.sum())} non-numeric)")))
    return converted.astype(np.float64)
