"""ForecastConfig: defaults, TOML round trip, one-line errors naming the key, leak-free splits,
the composed [training] (TrainerConfig itself) and [early_stopping] sections, old layouts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import split_windows
from rnnkit.datasets import load_dataset
from rnnkit.errors import ConfigError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.base import EarlyStoppingSection
from rnnkit.tasks.forecasting import ForecastConfig, ModelSection, SplitSection
from rnnkit.tasks.forecasting.config import legacy_config
from rnnkit.training import TrainerConfig

BATTERY = {"data": {"dataset": "battery"}}


def test_defaults_are_the_tutorial_model() -> None:
    cfg = ForecastConfig.from_dict(BATTERY)
    spec = cfg.model.spec()
    assert (spec.cell, spec.hidden_size, spec.num_layers, spec.dropout) == ("lstm", 50, 2, 0.2)
    assert cfg.model.head_dropout == 0.2
    assert (cfg.forecast.look_back, cfg.forecast.horizon) == (20, 1)
    t = cfg.training
    assert (t.optimizer, t.lr, t.batch_size, t.epochs, t.seed) == ("adam", 1e-3, 32, 50, 0)
    assert cfg.task == "forecasting" and cfg.early_stopping.patience == 10


def test_training_is_the_trainer_config_with_forecasting_defaults() -> None:
    """[training] is TrainerConfig itself (composed, not copied); a partial table keeps the
    forecasting defaults; early stopping has its own section."""
    cfg = ForecastConfig.from_dict({"training": {"lr": 0.01},
                                    "early_stopping": {"min_delta": 0.1}})
    assert type(cfg.training) is TrainerConfig
    assert (cfg.training.lr, cfg.training.epochs, cfg.training.seed) == (0.01, 50, 0)
    assert isinstance(cfg.early_stopping, EarlyStoppingSection)
    assert (cfg.early_stopping.patience, cfg.early_stopping.min_delta) == (10, 0.1)
    given = ForecastConfig(training=TrainerConfig(epochs=3))  # an object is taken as it is
    assert given.training.epochs == 3 and given.training.seed is None
    assert ForecastConfig.from_dict({"training": {"num_threads": 1}}).training.num_threads == 1


@pytest.mark.parametrize(("key", "new"), [("patience", "patience"),
                                          ("early_stopping", "patience"),
                                          ("min_delta", "min_delta")])
def test_moved_training_keys_name_their_new_section(key, new) -> None:
    with pytest.raises(ConfigError, match=rf"^training\.{key}: expected it in the "
                                          rf"\[early_stopping\] section.*\[early_stopping\] "
                                          rf"{new} = "):
        ForecastConfig.from_dict({"training": {key: 3}})


def test_legacy_config_maps_early_stopping_out_of_training() -> None:
    old = {"data": {"dataset": "battery"},
           "training": {"epochs": 4, "early_stopping": True, "patience": 3, "min_delta": 0.0,
                        "restore_best_weights": False, "num_threads": 1}}
    cfg = ForecastConfig.from_dict(legacy_config(old))
    assert cfg.training.epochs == 4 and cfg.training.num_threads == 1
    assert (cfg.early_stopping.patience, cfg.early_stopping.restore_best_weights) == (3, False)
    off = legacy_config({"training": {"early_stopping": False, "patience": 3}})
    assert ForecastConfig.from_dict(off).early_stopping.patience == 0


def test_sections_cover_spec_fields() -> None:
    """Every RecurrentSpec field is settable from TOML (catches drift)."""
    spec_fields = {f.name for f in dataclasses.fields(RecurrentSpec)}
    assert set(ModelSection.model_fields) - {"head_dropout"} == spec_fields
    for f in dataclasses.fields(RecurrentSpec):  # same defaults except the tutorial's choices
        if f.name not in ("num_layers", "dropout"):
            assert ModelSection.model_fields[f.name].default == f.default, f.name


def test_toml_round_trip_with_every_section(tmp_path) -> None:
    cfg = ForecastConfig.from_dict({
        "name": 'quoted "name"',
        "data": {"dataset": "battery", "dataset_args": {"seed": 3, "n_cycles": 400}},
        "forecast": {"look_back": 12, "horizon": 3, "strategy": "seq2seq",
                     "teacher_forcing": 0.25, "scaling": "robust"},
        "model": {"cell": "gru", "hidden_size": 7, "bidirectional": True},
        "training": {"epochs": 4, "clipnorm": 1.0, "schedule": "cosine", "num_threads": 1},
        "early_stopping": {"patience": 4, "min_delta": 0.01},
        "split": {"val": 0.15, "test": 0.25, "unit": "windows"},
        "evaluation": {"seasonal_period": 4, "backtest_folds": 2},
    })
    path = tmp_path / "run.toml"
    path.write_text(cfg.to_toml(), encoding="utf-8")
    again = ForecastConfig.from_toml(path)
    assert again == cfg
    assert again.to_dict() == cfg.to_dict()
    assert "num_threads=1" in repr(cfg) and "hidden_size=7" in repr(cfg)


def test_relative_data_path_resolves_against_the_toml_folder(tmp_path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "run.toml").write_text(
        '[data]\npath = "series.csv"\ntime_col = "t"\n', encoding="utf-8")
    cfg = ForecastConfig.from_toml(tmp_path / "cfg" / "run.toml")
    assert cfg.data.path == str((tmp_path / "cfg" / "series.csv").resolve())


@pytest.mark.parametrize(("overrides", "pattern"), [
    ({"forecast": {"lookback": 3}},
     r"^forecast\.lookback: expected one of the keys \[.*'look_back'.*did you mean 'look_back'"),
    ({"forecast": {"strategy": "direkt"}},
     r"^forecast\.strategy: expected one of \['direct', 'recursive', 'seq2seq'\], got 'direkt'"),
    ({"forecast": {"scaling": "zscore"}}, r"forecast\.scaling: .*'window'.*got 'zscore'"),
    ({"forecast": {"look_back": 0}}, r"^forecast\.look_back: expected a number >= 1, got 0"),
    ({"training": {"lr": -1.0}}, r"^training\.lr: expected .*> 0.*got -1\.0"),
    ({"training": {"epochs": "ten"}}, r"^training\.epochs: expected an integer >= 1, got .ten."),
    ({"training": {"momentum": 0.5}}, r"^training\.momentum: expected None for optimizer='adam'"),
    ({"model": {"dropout": 1.5}}, r"^model\.dropout: expected a number < 1\.0, got 1\.5"),
    ({"modle": {}}, r"^modle: .*did you mean 'model'"),
    ({"split": {"val": 0.5, "test": 0.5}}, r"^split\.val \+ test: expected a total below 1"),
    ({"data": {"dataset": "batery"}}, r"^data\.dataset: expected one of \[.*'battery'"),
    ({"data": {"path": "x.csv"}}, r"^data\.dataset/path: expected at most one of them, got both"),
    ({"training": {"epoks": 3}}, r"^training\.epoks: expected one of the keys .*did you mean 'epochs'"),
    ({"early_stopping": {"patiense": 3}}, r"^early_stopping\.patiense: .*did you mean 'patience'"),
    ({"task": "classification"}, r"^task: expected one of \['forecasting'\]"),
    ({"data": {"max_gap": 0}}, r"^data\.max_gap: expected a number of steps >= 1"),
    ({"data": {"time_col": "t"}}, r"^data\.time_col: expected unset with a packaged dataset"),
    ({"data": {"future_covariates": ["p"]}},
     r"^data\.future_covariates: expected unset with a packaged dataset"),
    ({"data": {"calendar": ["moon"]}}, r"^data\.calendar: expected names from \['month', "),
])
def test_bad_values_name_key_allowed_and_received(overrides, pattern) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        ForecastConfig.from_dict(BATTERY).with_overrides(overrides)
    assert "\n" not in str(info.value)


def test_data_is_optional_and_bad_toml(tmp_path) -> None:
    assert ForecastConfig.from_dict({"forecast": {}}).data is None
    assert ForecastConfig().to_toml().startswith('task = "forecasting"')
    assert ForecastConfig.from_toml_string("[forecast]\nhorizon = 2").task == "forecasting"
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\ndataset = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        ForecastConfig.from_toml(bad)
    with pytest.raises(ConfigError, match="an existing TOML file"):
        ForecastConfig.from_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"^lr: expected"):  # a section on its own
        TrainerConfig(lr=0.0)


def test_window_split_matches_the_tutorial_80_20_cut() -> None:
    """unit='windows': the last 20 % of the 980 windows (784 train+val, 196 test)."""
    series = load_dataset("battery").series
    split = SplitSection(unit="windows", val=0.1, test=0.2).chrono_split(
        series.time_index, look_back=20, horizon=1)
    assert split.test_start == 20 + int(0.8 * 980) == 804
    parts = split_windows(series, 20, 1, split=split)
    assert parts.test.n_samples == 196
    assert parts.train.n_samples + parts.val.n_samples == 784
    # leak-free: every training target precedes every validation target, which precede test
    assert parts.train.target_rows().max() < parts.val.target_rows().min()
    assert parts.val.target_rows().max() < parts.test.target_rows().min()


def test_split_by_rows_and_by_date() -> None:
    index = pd.date_range("2000-01-01", periods=100, freq="MS")
    rows = SplitSection(val=0.1, test=0.2).chrono_split(index, 12, 1)
    assert (rows.val_start, rows.test_start, rows.stop) == (70, 80, 100)
    dates = SplitSection(val_start="2005-01-01", test_start="2006-01-01").chrono_split(
        index, 12, 1)
    assert index[dates.val_start] == pd.Timestamp("2005-01-01")
    assert index[dates.test_start] == pd.Timestamp("2006-01-01")


def test_with_overrides_merges_sections() -> None:
    cfg = ForecastConfig.from_dict(BATTERY).with_overrides({"training": {"epochs": 3}})
    assert cfg.training.epochs == 3 and cfg.training.batch_size == 32
    assert cfg.data.dataset == "battery"
    assert np.isclose(cfg.split.test, 0.2)


def test_future_covariates_round_trip_and_never_overlap() -> None:
    cfg = ForecastConfig.from_dict({"data": {
        "path": "sales.csv", "time_col": "day", "targets": ["sales"], "covariates": ["visits"],
        "future_covariates": ["price", "holiday"], "calendar": ["day_of_week", "month"]}})
    again = ForecastConfig.from_toml_string(cfg.to_toml())
    assert again == cfg and again.data.future_covariates == ("price", "holiday")
    assert again.data.calendar == ("day_of_week", "month")
    assert 'future_covariates = ["price", "holiday"]' in cfg.to_toml()
    assert ForecastConfig.from_dict({"data": {"dataset": "co2", "calendar": ["month"]}})
    for data, pattern in [
        ({"targets": ["y"], "future_covariates": ["y"]},
         r"^data\.future_covariates: expected columns that are not also targets"),
        ({"covariates": ["p"], "future_covariates": ["p"]},
         r"^data\.future_covariates: expected columns that are not also covariates"),
        ({"future_covariates": ["month_sin"], "calendar": ["month"]},
         r"^data\.calendar: expected columns that are not also future_covariates.*_sin/_cos"),
    ]:
        with pytest.raises(ConfigError, match=pattern):
            ForecastConfig.from_dict({"data": {"path": "x.csv", **data}})
