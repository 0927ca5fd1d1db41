"""The fitted preprocessing record: what preprocessing.json holds, and its round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.data import Scaler, make_scaler
from rnnkit.errors import ConfigError
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


def _tampered(**changes: object) -> dict:
    data = json.loads(json.dumps(record().to_dict()))
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(("changes", "message"), [
    ({"look_back": -3}, "look_back: expected an integer >= 1, got -3"),
    ({"look_back": 0}, "look_back: expected an integer >= 1, got 0"),
    ({"horizon": 2.5}, "horizon: expected an integer >= 1, got 2.5"),
    ({"train_horizon": True}, "train_horizon: expected an integer >= 1, got True"),
    ({"seasonal_period": "7"}, "seasonal_period: expected an integer >= 1, got '7'"),
    ({"look_back": _DELETE}, "look_back: expected a value (this key is required), got nothing"),
    ({"columns": "yx"}, "columns: expected a list of column names (strings), got 'yx'"),
    ({"targets": [1]}, "targets: expected a list of column names (strings), got [1]"),
    ({"targets": []}, "targets: expected at least one target column, got []"),
    ({"columns": ["x", "y"]},
     "columns: expected targets + covariates + future_covariates ['y', 'x'], got ['x', 'y']"),
    ({"target_idx": [5]}, "target_idx: expected the positions [0] of its columns among 2, "
                          "got [5]"),
    ({"freq": True}, "freq: expected a pandas offset alias, an integer step >= 1 or None, "
                     "got True"),
    ({"time_index": {"kind": "weekly", "name": None}},
     "time_index: expected {'kind': one of ['datetime', 'integer'], 'name': a string or "
     "None}, got {'kind': 'weekly', 'name': None}"),
])
def test_a_tampered_record_is_refused_naming_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Preprocessing.from_dict(_tampered(**changes))
    assert str(err.value) == message


def test_a_tampered_scaler_is_refused() -> None:
    good = record().to_dict()["scaler"]
    cases = [
        ({**good, "stats": {**good["stats"], "std": [0.0, -1.0]}},
         "state['stats']['std']: expected spreads >= 0, got [0.0, -1.0]"),
        ({**good, "stats": {**good["stats"], "mean": [1.0, float("inf")]}},
         "state['stats']['mean']: expected a non-empty list of finite numbers, got [1.0, inf]"),
        ({**good, "stats": {**good["stats"], "mean": [1.0]}},
         "state['stats']: expected one value per feature in every statistic, got lengths "
         "{'mean': 1, 'std': 2}"),
        ({**good, "stats": {**good["stats"], "mean": "1"}},
         "state['stats']['mean']: expected a non-empty list of finite numbers, got '1'"),
        ({**good, "params": [1]}, "state['params']: expected a dict of constructor arguments, "
                                  "got [1]"),
        ({"name": "minmax", "params": {}, "stats": {"data_min": [2.0], "data_max": [1.0]}},
         "state['stats']: expected data_min <= data_max, got data_min [2.0], data_max [1.0]"),
        ({"name": "none", "params": {}, "stats": {"n_features": [0.0]}},
         "state['stats']['n_features']: expected [a whole number >= 1], got [0.0]"),
    ]
    for state, message in cases:
        with pytest.raises(ConfigError) as err:
            Scaler.from_dict(state)
        assert str(err.value) == message
    with pytest.raises(ConfigError, match=r"^scaler: expected statistics for the 2 columns, "
                                          r"got statistics for 3$"):
        wide = make_scaler("standard").fit(np.arange(30.0).reshape(10, 3))
        Preprocessing.from_dict(_tampered(scaler=wide.to_dict()))
    with pytest.raises(ConfigError, match=r"^scaler: expected a fitted scaler"):
        Preprocessing.from_dict(_tampered(scaler=make_scaler("standard").to_dict()))


def test_a_constant_feature_keeps_scale_one_after_the_round_trip() -> None:
    scaler = make_scaler("standard").fit(np.ones((5, 1)))
    back = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert back.to_dict() == scaler.to_dict() and back.scale_.tolist() == [1.0]
