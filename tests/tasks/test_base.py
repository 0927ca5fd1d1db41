"""The one task interface: Report, Examples, the shared config sections, the Task contract."""

import json

import pandas as pd
import pytest
from rich.console import Console

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.base import (
    EarlyStoppingSection,
    Examples,
    Report,
    Task,
    TaskConfig,
    split_examples,
)
from rnnkit.training.callbacks import EarlyStopping


def _report(higher=True):
    return Report("classification", {"accuracy": 0.9, "f1_macro": 0.8},
                  baselines={"majority": {"accuracy": 0.5, "f1_macro": 0.33},
                             "bag of words": {"accuracy": 0.75}},
                  primary="accuracy", higher_is_better=higher,
                  details={"n": 40, "confusion": [[18, 2], [2, 18]]})


def test_report_is_a_mapping_of_the_model_metrics_and_details():
    r = _report()
    assert r["accuracy"] == 0.9 and r["n"] == 40
    assert r["model"] == {"accuracy": 0.9, "f1_macro": 0.8}
    assert r["baselines"]["majority"]["accuracy"] == 0.5
    assert set(r) == {"accuracy", "f1_macro", "n", "confusion", "model", "baselines"}
    with pytest.raises(KeyError, match="'rmse': not in this classification report"):
        r["rmse"]


def test_report_frame_has_the_model_then_every_baseline():
    frame = _report().to_frame()
    assert list(frame.index) == ["model", "majority", "bag of words"]
    assert list(frame.columns) == ["accuracy", "f1_macro"]
    assert frame.loc["bag of words", "accuracy"] == 0.75
    assert pd.isna(frame.loc["bag of words", "f1_macro"])


def test_report_summary_compares_with_the_best_baseline_in_its_direction():
    r = _report()
    assert r.best_baseline() == ("bag of words", 0.75)
    assert r.summary() == ("classification: accuracy 0.9 vs best baseline bag of words 0.75: "
                           "better (+20.0%)")
    low = Report("forecasting", {"rmse": 2.0}, baselines={"persistence": {"rmse": 1.6},
                                                          "mean": {"rmse": 3.0}},
                 primary="rmse", higher_is_better=False)
    assert low.best_baseline() == ("persistence", 1.6)
    assert low.summary().endswith("persistence 1.6: worse (-25.0%)")
    assert Report("x", {"rmse": 1.0}, primary="rmse", higher_is_better=False).best_baseline() is None


def test_report_to_dict_is_json_and_renders_with_rich():
    r = _report()
    data = json.loads(json.dumps(r.to_dict()))
    assert data["primary"] == "accuracy" and data["details"]["confusion"] == [[18, 2], [2, 18]]
    console = Console(record=True, width=120)
    console.print(r)
    text = console.export_text()
    assert "bag of words" in text and "0.75" in text and "majority" in text
    assert "bag of words" in str(r) and repr(r).startswith("Report('classification: accuracy")


def test_examples_take_and_split_are_seeded_and_disjoint():
    ex = Examples([f"text {i}" for i in range(10)], list(range(10)))
    rest, held = split_examples(ex, 0.3, seed=1)
    assert len(held.inputs) == 3 and len(rest.inputs) == 7
    assert sorted(rest.targets + held.targets) == list(range(10))
    assert [f"text {t}" for t in held.targets] == list(held.inputs)
    assert split_examples(ex, 0.3, seed=1) == (rest, held)
    assert Examples(["a", "b"]).take([1]) == Examples(["b"], None)
    with pytest.raises(DataError, match="examples: expected enough examples to hold out 50%"):
        split_examples(Examples(["a"], [0]), 0.5)


def test_early_stopping_section_builds_the_callback_or_none():
    cb = EarlyStoppingSection(patience=3, monitor="val_accuracy").callback()
    assert isinstance(cb, EarlyStopping) and cb.patience == 3 and cb.mode == "max"
    assert EarlyStoppingSection(patience=0).callback() is None
    off = EarlyStoppingSection(patience=None)  # Python's None means off, as 0
    assert off.patience == 0 and not off.enabled and off.callback() is None
    with pytest.raises(ConfigError, match="patience: expected a number >= 0, got -1"):
        EarlyStoppingSection(patience=-1)
    # "off" survives TOML, which has no null
    assert _Config.from_toml_string(_Config(early_stopping={"patience": 0}).to_toml()
                                    ).early_stopping.patience == 0


class _Config(TaskConfig):
    task: str = "toy"


class _Toy(Task):
    """The smallest task: it learns the mean of its numbers."""

    name = "toy"
    config_class = _Config
    primary_metric = "mae"
    higher_is_better = False

    def read_data(self, path=None, *, labelled=True):
        return [float(v) for v in open(path).read().split()]

    def split(self, data):
        return data[:-1], data[-1:]

    def fit(self, data):
        self.mean_ = sum(data) / len(data)
        self.model_ = self._build()
        return self

    def predict(self, data):
        return [self.mean_] * len(data)

    def predict_frame(self, data):
        return pd.DataFrame({"x": data, "prediction": self.predict(data)})

    def evaluate(self, data):
        err = sum(abs(v - self.mean_) for v in data) / len(data)
        return Report(self.name, {"mae": err}, primary="mae", higher_is_better=False)

    def _build(self):
        import torch

        model = torch.nn.Linear(1, 1)
        with torch.no_grad():
            model.bias.fill_(getattr(self, "mean_", 0.0))
        return model

    def _preprocessing(self):
        return {"mean": self.mean_}

    def _restore(self, preprocessing):
        self.mean_ = preprocessing["mean"]


def test_task_contract_save_load_and_errors(tmp_path):
    task = _Toy({"name": "mine"})
    assert task.config.name == "mine" and not task.is_fitted
    with pytest.raises(ConfigError, match=r"_Toy: expected a fitted toy task, got an unfitted "
                                          r"one. call fit\(...\) or _Toy.load\(path\) first"):
        task.save(tmp_path / "m")
    assert task.objective() == ("mae", False)
    assert task.fit([1.0, 2.0, 6.0]) is task
    task.save(tmp_path / "m")
    again = _Toy.load(tmp_path / "m")
    assert again.mean_ == 3.0 and again.config == task.config
    assert float(again.model_.bias.detach()) == 3.0
    with pytest.raises(ConfigError, match="did you mean 'name'"):
        _Toy({"nme": "x"})
    with pytest.raises(ConfigError, match="config: expected a _Config or a dict, got list"):
        _Toy([1, 2])
    toml = tmp_path / "toy.toml"
    toml.write_text('name = "from file"\n[early_stopping]\npatience = 2\n')
    loaded = _Toy.from_toml(toml, {"early_stopping": {"monitor": "val_mae"}})
    assert loaded.config.early_stopping.patience == 2
    assert loaded.config.early_stopping.monitor == "val_mae"
    assert _Config.from_toml_string(loaded.config.to_toml()) == loaded.config


def _rewrite(bundle, name, text):
    """Change a bundle file and its checksum, as a careless hand edit would."""
    import hashlib

    (bundle / name).write_text(text)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_a_bundle_that_does_not_fit_its_task_is_a_bundle_error(tmp_path):
    from rnnkit.bundle import BundleError

    _Toy().fit([1.0, 2.0]).save(tmp_path / "m")
    _rewrite(tmp_path / "m", "preprocessing.json", '{"average": 1.5}')  # the key is "mean"
    with pytest.raises(BundleError, match="preprocessing.json"):
        _Toy.load(tmp_path / "m")
    _Toy().fit([1.0, 2.0]).save(tmp_path / "n")
    _rewrite(tmp_path / "n", "config.json",
             json.dumps({"task": "toy", "config": {"task": "toy", "nme": "x"}}))
    with pytest.raises(BundleError, match="config.json"):
        _Toy.load(tmp_path / "n")
