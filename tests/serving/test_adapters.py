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
    clean_window,
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


def batch_forecast(task, rows, horizon=None):
    """What `rnnkit predict` answers for these rows: read through pandas, then predict."""
    return forecast_rows(task.predict(task.read_data(rows_frame(rows)), horizon=horizon))


@pytest.fixture(scope="module")
def cycles():
    """A forecaster on an integer time index (battery cycles), and rows like its file's."""
    from rnnkit.datasets.registry import load_dataset
    from rnnkit.tasks.forecasting import Forecaster

    series = load_dataset("battery", n_cycles=150, seed=0).series
    task = Forecaster({"data": {"dataset": "battery", "dataset_args": {"n_cycles": 150}},
                       "forecast": {"look_back": 10, "horizon": 2, "scaling": "window"},
                       "model": {"hidden_size": 4, "num_layers": 1},
                       "training": {"epochs": 1, "progress": "off"}})
    task.fit(task.read_data())
    rows = [{"cycle": int(t), "capacity": float(v)}
            for t, v in zip(series.time_index, series.values[:, 0])]
    return task, rows


@pytest.mark.parametrize("start", [0, 7, 33])
@pytest.mark.parametrize("length", [12, 13, 40])
@pytest.mark.parametrize("horizon", [None, 1, 5])
def test_clean_rows_skip_pandas_and_answer_the_same(tasks, cycles, start, length, horizon):
    from serving_builders import hourly_frame

    adapter = adapter_for("forecasting")
    hourly = hourly_frame().to_dict("records")
    for task, rows in ((tasks["forecasting"], hourly), cycles):
        part = rows[start:start + length]
        assert clean_window(part, task) is not None
        try:
            expected = batch_forecast(task, part, horizon)
        except ValueError as err:  # beyond the trained horizon with covariates: both refuse
            with pytest.raises(type(err), match="inputs: expected the targets only"):
                adapter.forecast(task, part, horizon, "data")
            continue
        assert adapter.forecast(task, part, horizon, "data") == expected


@pytest.mark.parametrize("change", [
    "missing", "string value", "bool value", "extra column", "late stamp", "time zone",
    "not iso", "too few rows", "other step", "duplicate stamp"])
def test_rows_that_are_not_clean_are_read_through_pandas(tasks, cycles, change):
    from serving_builders import hourly_frame

    task = tasks["forecasting"]
    rows = [dict(r) for r in hourly_frame().to_dict("records")[:20]]
    if change == "missing":
        rows[3]["temp"] = None
    elif change == "string value":
        rows[15]["load"] = "0.5"
    elif change == "bool value":
        rows[15]["load"] = True
    elif change == "extra column":
        rows[0]["note"] = 1.0
    elif change == "late stamp":
        rows[10]["time"] = "2024-01-01 10:30:00"
    elif change == "time zone":
        rows = [{**r, "time": r["time"] + "+02:00"} for r in rows]
    elif change == "not iso":
        rows = [{**r, "time": pd.Timestamp(r["time"]).strftime("%d/%m/%Y %H:%M")}
                for r in rows]
    elif change == "too few rows":
        rows = rows[:11]
    elif change == "other step":
        task, rows = cycles[0], cycles[1][::2][:20]
    else:
        rows[5]["time"] = rows[4]["time"]
    assert clean_window(rows, task) is None
    try:
        expected = batch_forecast(task, rows)
    except ValueError as err:
        with pytest.raises(type(err)):
            adapter_for("forecasting").forecast(task, rows, None, "data")
        return
    assert adapter_for("forecasting").forecast(task, rows, None, "data") == expected
