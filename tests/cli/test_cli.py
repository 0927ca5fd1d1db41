"""The rnnkit command end to end on tiny configs: one-line errors, run directories, tuning."""

import textwrap

import optuna
import pandas as pd
import pytest

from rnnkit.cli.app import parse_sets
from rnnkit.cli.main import main
from rnnkit.datasets import load_dataset
from rnnkit.errors import ConfigError
from rnnkit.training.tuning import PruningCallback, SearchSpace, apply_update

TINY = textwrap.dedent("""
    name = "tiny"
    [data]
    dataset = "battery"
    dataset_args = { n_cycles = 200, seed = 0 }
    [forecast]
    look_back = 10
    scaling = "window"
    [model]
    cell = "gru"
    hidden_size = 8
    num_layers = 1
    [training]
    epochs = 2
    device = "cpu"
    [split]
    val = 0.1
    test = 0.2
""")


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def run(argv, capsys):
    code = 0
    try:
        main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_evaluate_predict(config, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run(["train", config, "--out", out], capsys)
    assert code == 0 and "rnnkit model" in stdout and "persistence" in stdout
    assert {"config.toml", "metrics.json", "history.json", "model"} <= {p.name for p in out.iterdir()}
    code, stdout, _ = run(["evaluate", out], capsys)
    assert code == 0 and "test part" in stdout
    history = load_dataset("battery", n_cycles=200, seed=0).series.frame.iloc[:50]
    history.to_csv(tmp_path / "hist.csv")
    forecast = tmp_path / "forecast.csv"
    code, _, _ = run(["predict", out, "--input", tmp_path / "hist.csv", "--horizon", 3,
                      "--output", forecast], capsys)
    assert code == 0
    frame = pd.read_csv(forecast, index_col=0)
    assert len(frame) == 3 and list(frame.index) == [50, 51, 52]


def test_errors_are_one_line_without_traceback(config, tmp_path, capsys):
    code, _, err = run(["train", config, "--set", "trainig.epochs=3"], capsys)
    assert code == 2
    assert "did you mean 'training'" in err and "Traceback" not in err
    code, _, err = run(["lab", "nosuch"], capsys)
    assert code == 2 and "lab: expected one of [" in err and "'battery'" in err
    code, _, err = run(["train", tmp_path / "missing.toml"], capsys)
    assert code == 2 and "Traceback" not in err
    out = tmp_path / "run"
    run(["train", config, "--out", out], capsys)
    code, _, err = run(["train", config, "--out", out], capsys)
    assert code == 2 and "out_dir: expected a path that does not exist yet" in err


def test_datasets_lists_series_corpora_and_labs(capsys):
    code, stdout, _ = run(["datasets"], capsys)
    assert code == 0
    for name in ("battery", "co2", "sunspots", "load_brown_pos", "labs (rnnkit lab NAME)"):
        assert name in stdout


def testparse_sets():
    assert parse_sets(["training.epochs=5", "forecast.scaling=minmax", "model.x=0.5"]) == {
        "training": {"epochs": 5}, "forecast": {"scaling": "minmax"}, "model": {"x": 0.5}}
    with pytest.raises(ConfigError, match="--set: expected KEY=VALUE"):
        parse_sets(["epochs"])


def test_tune_shares_a_study_through_its_storage(config, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    for _ in range(2):  # a second worker (or a rerun) continues the same study
        code, stdout, _ = run(["tune", config, "--trials", 2, "--storage", storage,
                               "--study", "s", "--out", tmp_path], capsys)
        assert code == 0 and "best value" in stdout
    study = optuna.load_study(study_name="s", storage=storage)
    assert len(study.trials) == 4
    assert set(study.best_params) == {"hidden_size", "num_layers", "dropout",
                                      "recurrent_dropout", "lr", "batch_size", "look_back"}


class _Trial:
    def __init__(self, prune_at):
        self.reported, self.prune_at = [], prune_at

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return len(self.reported) >= self.prune_at


class _Trainer:
    def __init__(self):
        self.history, self.stop_training = [], False


def test_pruning_callback_reports_and_stops():
    trial, trainer = _Trial(prune_at=2), _Trainer()
    cb = PruningCallback(trial)
    for loss in (0.5, 0.4, 0.3):
        trainer.history.append({"val_loss": loss})
        cb.on_epoch_end(trainer)
        if trainer.stop_training:
            break
    assert trial.reported == [(0, 0.5), (1, 0.4)] and cb.pruned and trainer.stop_training


def test_search_space_updates_the_config():
    from rnnkit.tasks.forecasting import ForecastConfig

    cfg = ForecastConfig.from_toml_string(TINY)
    trial = optuna.trial.FixedTrial({"hidden_size": 16, "num_layers": 2, "dropout": 0.1,
                                     "recurrent_dropout": 0.0, "lr": 1e-3, "batch_size": 64,
                                     "look_back": 20})
    new = apply_update(cfg, SearchSpace().sample(trial))
    assert (new.model.hidden_size, new.model.num_layers, new.training.batch_size,
            new.forecast.look_back) == (16, 2, 64, 20)
    assert cfg.model.hidden_size == 8  # the original is unchanged


def test_lab_reads_a_toml_config_and_set_wins(tmp_path, capsys, monkeypatch):
    import rnnkit.labs.vowels as vowels

    seen = {}

    def fake_run(config=None, *, out_dir=None, quick=False, seed=None):
        seen.update(config=config, quick=quick, seed=seed)

    monkeypatch.setattr(vowels, "run", fake_run)
    path = tmp_path / "bm.toml"
    path.write_text('[data]\ndataset = "BasicMotions"\n[training]\nepochs = 200\nbatch_size = 8\n')
    code, _, _ = run(["lab", "vowels", "--config", path, "--set", "training.epochs=5",
                      "--set", "bar.min_accuracy=0.9", "--seed", "2"], capsys)
    assert code == 0
    assert seen["config"] == {"data": {"dataset": "BasicMotions"},
                              "training": {"epochs": 5, "batch_size": 8},
                              "bar": {"min_accuracy": 0.9}}
    assert seen["seed"] == 2
    code, _, err = run(["lab", "vowels", "--config", tmp_path / "none.toml"], capsys)
    assert code == 2 and "--config: expected an existing TOML file" in err
    (tmp_path / "bad.toml").write_text("[data\n")
    code, _, err = run(["lab", "vowels", "--config", tmp_path / "bad.toml"], capsys)
    assert code == 2 and "--config: expected valid TOML" in err


def test_example_basicmotions_config_is_a_valid_vowels_override():
    import tomllib
    from pathlib import Path

    from rnnkit.labs import vowels
    from rnnkit.labs._common import merge_config

    path = Path(__file__).parents[2] / "examples" / "basicmotions.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    merged = merge_config(vowels.DEFAULTS, table)  # refuses unknown keys
    assert merged["data"]["dataset"] == "BasicMotions"
