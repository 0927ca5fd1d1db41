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


def test_duplicate_column_names_in_a_csv_are_refused_not_renamed(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("date,load,temp,load\n2024-01-01,1,2,3\n2024-01-02,2,3,4\n")
    with pytest.raises(DataError) as err:
        load_series(path, time_col="date", targets=["load"])
    assert str(err.value) == (
        f"source: expected unique column names, got duplicated columns ['load'] in "
        f"{str(path)!r}. rename the columns in the file's header")


@pytest.mark.parametrize(("text", "shown"), [("inf", "inf"), ("-inf", "-inf"),
                                              ("Infinity", "inf")])
def test_infinite_value_in_a_csv_is_refused_at_load_naming_column_and_row(
        tmp_path: Path, text: str, shown: str) -> None:
    path = tmp_path / "inf.csv"
    path.write_text(f"date,load,temp\n2024-01-01,1,2\n2024-01-02,2,3\n2024-01-03,3,{text}\n")
    with pytest.raises(DataError) as err:
        load_series(path, time_col="date", targets=["load"], covariates=["temp"])
    assert str(err.value) == (
        f"column 'temp': expected finite values, got {shown} at row 2 (1 infinite). replace "
        "the infinite values (leave a cell empty for a missing value)")


def test_infinite_text_in_a_frame_is_refused_with_the_text() -> None:
    frame = _daily(3).astype({"load": object})
    frame.loc[1, "load"] = "inf"
    with pytest.raises(DataError, match=r"^column 'load': expected finite values, got 'inf' "
                                        r"at row 1 \(1 infinite\)"):
        load_series(frame, time_col="date", targets=["load"])


@pytest.mark.parametrize("targets", [3, 2.5, {"load": 1}, {"load"}, b"load"])
def test_targets_that_are_not_names_are_a_config_error(targets: object) -> None:
    from rnnkit.errors import ConfigError
    with pytest.raises(ConfigError) as err:
        load_series(_daily(), time_col="date", targets=targets)  # type: ignore[arg-type]
    assert str(err.value) == (
        f"targets: expected a column name or a list of column names, got {targets!r}")


@pytest.mark.parametrize("argument", ["covariates", "future_covariates"])
def test_other_column_lists_that_are_not_names_are_a_config_error(argument: str) -> None:
    from rnnkit.errors import ConfigError
    with pytest.raises(ConfigError, match=rf"^{argument}: expected a column name or a list "
                                          r"of column names, got 7$"):
        load_series(_daily(), time_col="date", targets=["load"], **{argument: 7})
