"""Reading tables: CSV and Parquet alike, non-numeric values named with their row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import load_series
from rnnkit.errors import DataError


def _daily(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": np.arange(n, dtype=float) * 10.0,
        "temp": np.arange(n, dtype=float) + 0.5,
    })


def test_parquet_round_trip_equals_csv(tmp_path: Path) -> None:
    frame = _daily()
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    from_csv = load_series(tmp_path / "a.csv", time_col="date", targets=["load", "temp"])
    from_parquet = load_series(tmp_path / "a.parquet", time_col="date", targets=["load", "temp"])
    assert from_csv.equals(from_parquet)


def test_non_numeric_value_is_named_with_its_row() -> None:
    frame = _daily()
    frame["load"] = frame["load"].astype(object)
    frame.loc[2, "load"] = "abc"
    with pytest.raises(DataError, match=r"column 'load': expected numeric values, "
                                        r"got 'abc' at row 2 \(1 non-numeric\)"):
        load_series(frame, time_col="date", targets=["load"])
