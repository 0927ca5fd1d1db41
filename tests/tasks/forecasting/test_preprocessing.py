"""The fitted preprocessing record: what preprocessing.json holds, and its round trip."""

from __future__ import annotations

import json

import numpy as np

from rnnkit.data import make_scaler
from rnnkit.tasks.forecasting.preprocessing import Preprocessing


def record() -> Preprocessing:
    scaler = make_scaler("standard").fit(np.arange(20.0).reshape(10, 2))
    return Preprocessing(("y", "x"), ("y",), ("x",), scaler, 8, 3, 1, "D", "datetime",
                         "day", 7)


def test_targets_come_first() -> None:
    assert record().target_idx == [0]


def test_json_round_trip_keeps_every_field_and_the_scaler() -> None:
    prep = record()
    data = json.loads(json.dumps(prep.to_dict()))
    assert data["time_index"] == {"kind": "datetime", "name": "day"}
    back = Preprocessing.from_dict(data)
    assert back.to_dict() == prep.to_dict()
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(back.scaler.transform(x), prep.scaler.transform(x))


def test_future_covariates_and_calendar_round_trip_and_old_records_load() -> None:
    scaler = make_scaler("standard").fit(np.arange(30.0).reshape(10, 3))
    prep = Preprocessing(("y", "price", "month_sin"), ("y",), (), scaler, 8, 3, 3,
                         "MS", "datetime", "month", 12, ("price", "month_sin"), ("month",))
    assert prep.future_idx == [1, 2] and prep.supplied_future == ("price",)
    data = json.loads(json.dumps(prep.to_dict()))
    assert data["future_covariates"] == ["price", "month_sin"] and data["calendar"] == ["month"]
    assert Preprocessing.from_dict(data).to_dict() == prep.to_dict()
    old = record().to_dict()
    for key in ("future_covariates", "future_idx", "calendar"):
        del old[key]  # a bundle written before known-future covariates
    back = Preprocessing.from_dict(old)
    assert back.future_covariates == () and back.calendar == () and back.future_idx == []
