"""Fuzz the data loader: ``load_series`` on generated CSV files (odd column names, mixed or
duplicated or unsorted time stamps, non-numeric cells, inf/NaN, empty files, one row) and
arguments of the wrong type or naming missing columns. Each input ends in a valid TimeSeries
or a clean DataError/ConfigError; a TimeSeries holding NaN/inf under ``missing="error"``, or
whose columns are not the ones asked for, is "silent"."""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fuzz_helpers import TALLY, TALLY_PATH, classify, record, twin
from hypothesis import strategies as st

from rnnkit.data import load_series
from rnnkit.data.timeseries import TimeSeries
from rnnkit.errors import ConfigError, DataError

#: "targets: column 'z' not found; available: ['t', 'y']": names the argument, what it got and
#: what it could have been, on one line (tests/data/test_timeseries.py pins this exact form)
_NOT_FOUND = re.compile(r"^(time_col|targets|covariates|future_covariates): column [^\n]+ "
                        r"not found; available: \[[^\n]*\]$")
AREA = "loaders: `load_series` on generated CSV files and arguments"

NAMES = st.one_of(st.sampled_from(["t", "y", "x", "", "y", "time", " ", "a,b", 'q"']),
                  st.text(max_size=4))
STAMPS = st.one_of(
    st.integers(-3, 20),
    st.sampled_from(["2024-01-01", "2024-01-02", "2024-01-02", "01/03/2024", "2024-01-04T00:00Z",
                     "2024-01-05 00:00+02:00", "yesterday", "", "2024-13-45", "1e3", "NaT",
                     "2024-01-06", "2024-01-07"]),
)
CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                  st.integers(-10**20, 10**20),
                  st.sampled_from(["", "abc", "inf", "-inf", "nan", "NaN", "1,5", "1e400",
                                   "true", " 3 "]))
WRONG_ARG = st.one_of(st.integers(), st.floats(), st.lists(st.integers(), max_size=2),
                      st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
                      st.just(object()), st.text(max_size=5))


@st.composite
def well_formed(draw):
    """A file that loads (distinct names, a sorted time column, numbers), perhaps asked for
    a column it lacks: most of these must come back as a TimeSeries."""
    names = draw(st.lists(st.sampled_from(["y", "x", "z", "w"]), min_size=1, max_size=3,
                          unique=True))
    n_rows = draw(st.integers(1, 6))
    dated = draw(st.booleans())
    stamps = ([f"2024-01-{d + 1:02d}" for d in range(n_rows)] if dated
              else list(range(0, 2 * n_rows, 2)))
    rows = [[stamps[r], *(draw(st.floats(-1e6, 1e6)) for _ in names)] for r in range(n_rows)]
    kwargs = {"time_col": "t"}
    if draw(st.booleans()):
        kwargs["targets"] = draw(st.lists(st.sampled_from([*names, "v"]), min_size=1,
                                          max_size=2, unique=True))
    if draw(st.booleans()):
        kwargs["missing"] = draw(st.sampled_from(["error", "interpolate", "ffill"]))
    return ["t", *names], rows, kwargs, None


@st.composite
def loader_cases(draw):
    if draw(st.integers(0, 3)) == 0:
        return draw(well_formed())
    n_cols = draw(st.integers(0, 4))
    header = [draw(NAMES) for _ in range(n_cols)]
    n_rows = draw(st.integers(0, 6))
    kind = draw(st.sampled_from(["clean numbers", "odd cells", "any"]))
    rows = []
    for r in range(n_rows):
        row = []
        for c in range(n_cols):
            if c == 0 and draw(st.booleans()):
                row.append(draw(STAMPS))
            elif kind == "clean numbers":
                row.append(float(r * 3 + c))
            elif kind == "odd cells":
                row.append(draw(CELLS))
            else:
                row.append(draw(st.one_of(CELLS, STAMPS)))
        rows.append(row)
    kwargs = {}
    pick = st.one_of(st.sampled_from(header) if header else st.nothing(), NAMES)
    if draw(st.booleans()):
        kwargs["time_col"] = draw(st.one_of(pick, WRONG_ARG))
    if draw(st.booleans()):
        kwargs["targets"] = draw(st.one_of(pick, st.lists(pick, max_size=3), WRONG_ARG))
    if draw(st.booleans()):
        kwargs["covariates"] = draw(st.one_of(pick, st.lists(pick, max_size=2), WRONG_ARG))
    if draw(st.booleans()):
        kwargs["missing"] = draw(st.one_of(
            st.sampled_from(["error", "interpolate", "ffill"]), WRONG_ARG))
    if draw(st.booleans()):
        kwargs["irregular"] = draw(st.one_of(
            st.sampled_from(["error", "delta", "resample"]), WRONG_ARG))
    if draw(st.booleans()):
        kwargs["freq"] = draw(st.one_of(st.sampled_from(["D", "h", 1, 2, 0, -1, "xx"]),
                                        WRONG_ARG))
    raw_text = draw(st.sampled_from([None, None, None, None, "", "\n", "a\n", ",,,\n1,2\n"]))
    return header, rows, kwargs, raw_text


def _asked_columns(kwargs, series: TimeSeries) -> str | None:
    """Why the columns of ``series`` are not those ``kwargs`` asked for (None: they are)."""
    def names(value):
        return [value] if isinstance(value, str) else list(value)

    asked = kwargs.get("targets")
    if asked is not None and list(series.targets) != names(asked):
        return f"targets {series.targets} for {asked!r}"
    if "covariates" in kwargs:
        expect = names(kwargs["covariates"])
        if kwargs.get("irregular") == "delta":
            expect = [*expect, "delta_t"]
        if list(series.covariates) != expect:
            return f"covariates {series.covariates} for {kwargs['covariates']!r}"
    if kwargs.get("time_col") in series.columns:
        return f"time column {kwargs['time_col']!r} among the values"
    return None


def check_loader(case):
    header, rows, kwargs, raw_text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.csv"
        if raw_text is not None:
            path.write_text(raw_text)
        else:
            with open(path, "w", newline="") as f:
                writer = csv.writer(f)
                if header:
                    writer.writerow(header)
                writer.writerows(rows)
        loaded: list[TimeSeries] = []
        result, err = classify(lambda: loaded.append(load_series(path, **kwargs)))
        if result == "unclear" and isinstance(err, DataError) and _NOT_FOUND.match(str(err)):
            result = "clean"  # the older one-line form, kept as tests/data pin it
            TALLY[AREA]["clean, 'column not found' form"] += 1
        if result == "silent":  # it loaded: check it is what was asked for
            series = loaded[0]
            values = series.frame.to_numpy()
            if not np.isfinite(values).all():
                result, err = "silent", ValueError("non-finite values in the series")
            elif (why := _asked_columns(kwargs, series)) is not None:
                result, err = "silent", ValueError(why)
            else:
                result = "valid"
        if result == "valid":
            TALLY[AREA]["valid"] += 1
            TALLY[AREA]["tried"] += 1
            return
        record(AREA, result, (path.read_text()[:200], kwargs), err)
        if not TALLY_PATH:
            assert result == "clean", f"{result} for {case!r}: {type(err).__name__}: {err}"


test_load_series, test_load_series_deep = twin(loader_cases(), check_loader)


def test_nan_and_inf_cells_are_refused_without_a_missing_policy(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("y\n1\ninf\n3\n")
    result, err = classify(lambda: load_series(path))
    assert result == "clean", err


# What the first deep run found (each was "raw" or "unclear" before the fix).
def test_an_empty_file_is_a_clean_error(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"^source: expected a readable CSV/Parquet file with a "
                                        r"header row, got '.*s\.csv', which could not be read: "
                                        r"No columns to parse from file$"):
        load_series(path)
    assert path.exists()


def test_time_col_of_the_wrong_type_is_named(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("t,y\n0,1\n1,2\n")
    with pytest.raises(ConfigError, match=r"^time_col: expected a column name \(a string\) or "
                                          r"None, got \['t'\]$"):
        load_series(path, time_col=["t"])

