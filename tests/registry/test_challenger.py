"""Retraining: champion and challenger on the same holdout of the new data, the challenger
registered either way and promoted only when better by the margin, the reason said."""

import json
import math

import pandas as pd
import pytest
from rich.console import Console

from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import example_path
from rnnkit.registry import Registry, file_sha256, retrain
from rnnkit.registry.challenger import RetrainResult, relative_improvement
from rnnkit.tasks import Forecaster, SequenceClassifier, load


@pytest.mark.parametrize("champion, challenger, higher, gain", [
    (10.0, 8.0, False, 0.2), (10.0, 12.0, False, -0.2), (0.5, 0.6, True, 0.2),
    (0.0, 1.0, False, -math.inf), (0.0, 1.0, True, math.inf), (0.0, 0.0, True, 0.0)])
def test_relative_improvement(champion, challenger, higher, gain):
    assert relative_improvement(champion, challenger, higher) == pytest.approx(gain)


def test_relative_improvement_of_a_nan_is_nan():
    assert math.isnan(relative_improvement(1.0, math.nan, False))


def test_retrain_a_run_registers_it_then_promotes_a_better_challenger(tmp_path, run, nile):
    old, new = nile
    result = retrain(tmp_path / "registry", run, new, name="nile", margin=0.0,
                     overrides={"training": {"epochs": 30}})
    assert isinstance(result, RetrainResult) and result.registered_run
    reg = Registry(tmp_path / "registry")
    v1, v2 = reg.versions("nile")
    # the run became v1, with its training data and its test report
    assert v1.parent is None and v1.data_sha256 == {"old.csv": file_sha256(old)}
    assert v1.metrics["test"] == json.loads((run / "report.json").read_text())
    # the challenger is v2, its parent v1, trained on the new file, and current
    assert (result.champion.version, result.challenger.version) == (1, 2)
    assert v2.parent == 1 and v2.data_sha256 == {"new.csv": file_sha256(new)}
    assert v2.config["data"]["path"] == str(new.resolve())
    assert v2.config["training"]["epochs"] == 30
    assert result.promoted and v2.current and reg.current("nile").version == 2
    assert result.warm.applied
    assert result.improvement == relative_improvement(
        result.champion_report.score, result.challenger_report.score, False) > 0
    assert result.reason.startswith(
        f"promoted: the challenger's rmse {result.challenger_report.score:.4g} against the "
        f"champion v1's {result.champion_report.score:.4g} on the same holdout, ")
    assert v2.metrics["retrain"] == result.decision()
    assert v2.metrics["test"] == result.challenger_report.to_dict()
    # both reports are the registered bundles' own, on the test part of the new series
    for info, report in ((v1, result.champion_report), (v2, result.challenger_report)):
        task = load(info.bundle)
        assert task.evaluate(task.read_data(new), part="test").to_dict() == report.to_dict()
    assert result.champion_report.details["n_windows"] == 18  # the last 20 of 100 years
    json.dumps(result.to_dict())  # JSON-able
    assert reg.rollback("nile").version == 1


def test_a_margin_out_of_reach_keeps_the_champion(tmp_path, fitted, nile):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    result = retrain(reg, "nile", nile[1], margin=10.0)
    assert not result.promoted and result.challenger.version == 2
    assert not result.challenger.current and reg.current("nile").version == 1
    assert result.reason.startswith("kept v1: the challenger's rmse ")
    assert result.reason.endswith("; promotion needs 1000.0% better")
    assert reg.version("nile", 2).metrics["retrain"]["promoted"] is False
    text = _rendered(result)
    assert "challenger v2, warm start: the champion's weights" in text
    assert "champion v1" in text and "baseline persistence" in text


def test_scratch_trains_without_the_champion_weights(tmp_path, fitted, nile):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    result = retrain(reg, "nile", nile[1], warm=False, margin=10.0)
    assert not result.warm.applied and result.warm.describe() == "from scratch (--scratch)"
    assert result.decision()["warm_start"] == {"applied": False, "reason": "--scratch"}


def test_retrain_refuses_bad_arguments(tmp_path, fitted, run, nile):
    reg = Registry(tmp_path / "registry")
    for margin in (-0.1, math.nan, "1%", True):
        with pytest.raises(ConfigError, match="margin: expected a relative improvement >= 0"):
            retrain(reg, "nile", nile[1], margin=margin)
    with pytest.raises(DataError, match="data: expected a data file to fingerprint"):
        retrain(reg, "nile", tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match=r"name: expected a registered model \("):
        retrain(reg, "nile", nile[1])
    reg.register("nile-csv", fitted)
    with pytest.raises(ConfigError, match="RUN_OR_NAME: expected a model with a current "
                                          "version \\('nile-csv' has none\\)"):
        retrain(reg, "nile-csv", nile[1])
    with pytest.raises(ConfigError, match="--name: expected a name not yet in the registry for "
                                          "a run, got 'nile-csv'"):
        retrain(reg, run, nile[1])  # the run's config name is taken
    with pytest.raises(ConfigError, match="--name: expected no --name when retraining a "
                                          "registered model"):
        retrain(reg, "nile-csv", nile[1], name="other")
    with pytest.raises(ConfigError, match="RUN_OR_NAME: expected a run directory, a bundle or "
                                          "a registered name"):
        retrain(reg, nile[0], nile[1])
    assert [v.version for v in reg.versions("nile-csv")] == [1]  # nothing registered


def test_a_text_classifier_is_retrained_on_the_test_part_of_its_split(tmp_path):
    overrides = {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 8}},
                 "training": {"epochs": 1, "progress": "off"}}
    champion = SequenceClassifier.from_toml(example_path("classification"), overrides)
    data = champion.read_data()
    champion.fit(data.take(range(60)))
    reg = Registry(tmp_path)
    reg.register("vader", champion, promote=True)
    new = example_path("classification").parent / "data" / "vader_sample.csv"
    result = retrain(reg, "vader", new, margin=0.0)
    assert (result.metric, result.higher_is_better) == ("accuracy", True)
    assert not result.warm.applied and "embedding.weight" in result.warm.reason
    holdout = champion.split(champion.read_data(new))[1]
    assert result.champion_report.to_dict() == champion.evaluate(holdout).to_dict()
    challenger = load(result.challenger.bundle)
    assert result.challenger_report.to_dict() == challenger.evaluate(holdout).to_dict()
    assert result.promoted == (result.improvement > 0)
    assert reg.current("vader").version == (2 if result.promoted else 1)


def _rendered(result: RetrainResult) -> str:
    console = Console(record=True, width=200)
    console.print(result)
    return console.export_text()


def test_scratch_on_the_champion_data_reproduces_the_champion(tmp_path, fitted, nile):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    result = retrain(reg, "nile", nile[0], warm=False, margin=0.0)  # the same seed and data
    assert result.challenger_report.to_dict() == result.champion_report.to_dict()
    assert result.improvement == 0.0 and not result.promoted
    assert result.reason.endswith("on the same holdout, no better; promotion needs 0.0% better")


def test_a_challenger_is_not_promoted_over_a_version_made_current_meanwhile(
        tmp_path, fitted, nile, monkeypatch):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    reg.register("nile", fitted)
    register = reg.register

    def register_then_another_process_promotes(*args, **kwargs):
        info = register(*args, **kwargs)
        reg.promote("nile", 2)
        return info

    monkeypatch.setattr(reg, "register", register_then_another_process_promotes)
    result = retrain(reg, "nile", nile[1], margin=0.0, overrides={"training": {"epochs": 30}})
    assert result.improvement > 0 and not result.promoted
    assert result.reason.endswith("not promoted after all: only_if_current: expected v1 still "
                                  "current when v3 is promoted, got v2, made current meanwhile. "
                                  "compare with v2 first")
    assert reg.current("nile").version == 2 and result.challenger.version == 3


def test_a_forecaster_of_a_packaged_dataset_retrains_on_a_csv(tmp_path):
    config = {"data": {"dataset": "battery", "dataset_args": {"n_cycles": 200, "seed": 0}},
              "forecast": {"look_back": 10, "scaling": "window"},
              "model": {"cell": "gru", "hidden_size": 8, "num_layers": 1},
              "training": {"epochs": 2, "progress": "off"}, "split": {"val": 0.1, "test": 0.2}}
    champion = Forecaster(config)
    champion.fit(champion.read_data())
    longer = Forecaster({**config, "data": {"dataset": "battery",
                                            "dataset_args": {"n_cycles": 300, "seed": 0}}})
    series = longer.read_data()  # 100 more cycles of the same cell
    frame = pd.DataFrame(series.values, index=series.time_index, columns=list(series.columns))
    frame.to_csv(tmp_path / "cycles.csv")  # a "cycle" column beside "capacity"
    reg = Registry(tmp_path / "registry")
    reg.register("battery", champion, promote=True)
    result = retrain(reg, "battery", tmp_path / "cycles.csv", margin=0.0)
    assert result.warm.applied  # read as the champion reads: capacity by cycle
    assert result.champion_report.details["n_windows"] == (
        result.challenger_report.details["n_windows"]) == 60  # the last 20% of 300 cycles
    assert result.challenger.data_sha256 == {"cycles.csv": file_sha256(tmp_path / "cycles.csv")}


@pytest.mark.parametrize("name", ["forecasting", "classification", "tagging", "language_model",
                                  "seq2seq"])
def test_every_task_retrains_and_warm_starts_on_its_own_data(tmp_path, bundles, name):
    champion = load(bundles[name])
    data = champion.config.data.path  # the file it was trained on: the same vocabulary
    reg = Registry(tmp_path)
    reg.register(name, bundles[name], promote=True)
    result = retrain(reg, name, data, margin=0.0)
    assert result.warm.applied, result.warm.reason
    assert (result.metric, result.higher_is_better) == champion.objective()
    assert math.isfinite(result.champion_report.score)
    assert math.isfinite(result.challenger_report.score)
    assert result.champion_report.baselines  # compared with the baselines as well
    assert reg.current(name).version == (2 if result.promoted else 1)
    json.dumps(result.to_dict())
