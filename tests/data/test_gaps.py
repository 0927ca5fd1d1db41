"""Long gaps: rows filled in inside a stretch longer than max_gap are marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import load_series
from rnnkit.errors import ConfigError


def test_max_gap_marks_rows_filled_inside_longer_gaps() -> None:
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10",
                           "2024-01-11", "2024-01-13"])
    frame = pd.DataFrame({"date": days, "y": np.arange(6.0)})
    series = load_series(frame, time_col="date", irregular="resample", freq="D", max_gap=3)
    assert series.n_steps == 13
    assert series.gap_mask.tolist() == [False] * 3 + [True] * 6 + [False] * 4  # 7-day hole
    assert "gap_rows=6" in repr(series)
    by_offset = load_series(frame, time_col="date", irregular="resample", freq="D",
                            max_gap="1D")  # the 2-day step 11 -> 13 is now too long as well
    assert by_offset.n_gap_rows == 7
    assert load_series(frame, time_col="date", irregular="resample", freq="D").gap_mask is None
    missing = pd.DataFrame({"y": [1.0, np.nan, np.nan, np.nan, 5.0, 6.0, np.nan, 8.0]})
    filled = load_series(missing, missing="interpolate", max_gap=2)
    assert filled.gap_mask.tolist() == [False, True, True, True, False, False, False, False]
    with pytest.raises(ConfigError, match=r"max_gap: expected a number of steps for an "
                                          r"integer index, got '3D'"):
        load_series(missing, missing="interpolate", max_gap="3D")
