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

__all__ = ["check_unique_header", "read_table"]

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
            check_unique_header(path)
            return pd.read_csv(path)
        if suffix in _PARQUET_SUFFIXES:
            return pd.read_parquet(path)
    except DataError:
        raise
    except (ValueError, OSError) as err:  # pandas parser errors subclass ValueError
        reason = " ".join(str(err).split())  # pandas' reasons may end in a newline
        raise DataError(expected("source", "a readable CSV/Parquet file with a header row",
                                 Described(f"{str(path)!r}, which could not be read: {reason}"))
                        ) from err
    raise ConfigError(expected("source", f"a file ending in {_CSV_SUFFIXES + _PARQUET_SUFFIXES}",
                               path.name))


def check_unique_header(path: Path, option: str = "source") -> None:
    """Refuse a CSV whose header repeats a name (pandas would rename the second ``x.1``);
    the error names ``option``."""
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    names = [str(name) for name in header.iloc[0]] if len(header) else []
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DataError(expected(option, "unique column names",
                                 Described(f"duplicated columns {duplicated} in {str(path)!r}"),
                                 "rename the columns in the file's header"))


def _as_names(name: str, value: str | Sequence[str] | None) -> list[str] | None:
    """``value`` (one column name or a list of them) as a list; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple, pd.Index, np.ndarray)):
        raise ConfigError(expected(name, "a column name or a list of column names", value))
    names = list(value)
    if not all(isinstance(n, str) for n in names):
        raise ConfigError(expected(name, "column names (strings)", names))
    return names


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as float64; non-numbers and infinities raise a DataError naming the
    first one and its row (missing values stay NaN, for the missing-value policy)."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # includes bool
        converted = raw.astype(np.float64)
    else:
        converted = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        bad = converted.isna().to_numpy() & raw.notna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(expected(f"column {column!r}", "numeric values",
                                     Described(f"{raw.iloc[row]!r} at row {row} "
                                               f"({int(bad.sum())} non-numeric)")))
    infinite = np.isinf(converted.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        value = raw.iloc[row]
        shown = repr(value) if isinstance(value, str) else repr(float(value))
        raise DataError(expected(f"column {column!r}", "finite values",
                                 Described(f"{shown} at row {row} "
                                           f"({int(infinite.sum())} infinite)"),
                                 "replace the infinite values (leave a cell empty for a "
                                 "missing value)"))
    return converted
