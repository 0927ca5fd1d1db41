"""The task adapters on their own: limits, rows <-> frames, forecast rows."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.serving.adapters import (
    ADAPTERS,
    LimitError,
    Limits,
    adapter_for,
    forecast_rows,
    rows_frame,
)
from rnnkit.serving.schemas import ClassifyRequest


def test_every_task_has_an_adapter():
    from rnnkit.tasks.registry import TASK_NAMES

    assert set(ADAPTERS) == set(TASK_NAMES)
    with pytest.raises(ConfigError, match=r"^task: expected one of"):
        adapter_for("clustering")


def test_limits_name_the_field():
    limits = Limits(max_batch=2, max_length=3)
    limits.each("texts", ["abc", "de"], "characters")
    with pytest.raises(LimitError, match=r"^texts: expected at most 2 items") as info:
        limits.each("texts", ["a", "b", "c"], "characters")
    assert info.value.field == "texts"
    with pytest.raises(LimitError, match=r"^texts\[1\]: expected at most 3 characters"):
        limits.each("texts", ["a", "abcd"], "characters")


def test_rows_become_the_frame_a_csv_would_give(tmp_path):
    rows = [{"time": "2024-01-01", "y": 1.5, "x": None}, {"time": "2024-01-02", "y": None, "x": 2}]
    frame = rows_frame(rows)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    pd.testing.assert_frame_equal(frame, pd.read_csv(path), check_dtype=False)
    with pytest.raises(DataError, match=r"^data: expected at least one row"):
        rows_frame([])


def test_forecast_rows_name_the_time_column_and_drop_nan():
    index = pd.date_range("2024-01-01", periods=2, freq="D", name="day")
    frame = pd.DataFrame({"y": [1.0, np.float64("nan")]}, index=index)
    assert forecast_rows(frame) == [{"day": "2024-01-01T00:00:00", "y": 1.0},
                                    {"day": "2024-01-02T00:00:00", "y": None}]
    integer = pd.DataFrame({"y": [2.0]}, index=pd.Index([np.int64(7)]))
    assert forecast_rows(integer) == [{"time": 7, "y": 2.0}]


def test_classify_series_of_a_text_model_is_refused(tasks):
    adapter = adapter_for("classification")
    with pytest.raises(DataError, match=r"^series: expected 'texts' for this model"):
        adapter.predict(tasks["classification"], ClassifyRequest(series=[[1.0]]), Limits())


def test_warmup_runs_for_every_task(tasks):
    for task in tasks.values():
        adapter_for(task.name).warmup(task)  # raises on a broken set-up
        inputs, outputs = adapter_for(task.name).describe(task)
        assert inputs and outputs
