"""rnnkit train / evaluate / predict end to end, for every task, on small files."""

import pandas as pd

from rnnkit.datasets import load_dataset


def test_train_evaluate_predict(config, tmp_path, cli):
    out = tmp_path / "run"
    code, stdout, _ = cli(["train", config, "--out", out])
    assert code == 0 and "rnnkit model" in stdout and "persistence" in stdout
    assert {"config.toml", "metrics.json", "history.json", "model"} <= {p.name for p in out.iterdir()}
    code, stdout, _ = cli(["evaluate", out])
    assert code == 0 and "test part" in stdout
    history = load_dataset("battery", n_cycles=200, seed=0).series.frame.iloc[:50]
    history.to_csv(tmp_path / "hist.csv")
    forecast = tmp_path / "forecast.csv"
    code, _, _ = cli(["predict", out, "--input", tmp_path / "hist.csv", "--horizon", 3,
                      "--output", forecast])
    assert code == 0
    frame = pd.read_csv(forecast, index_col=0)
    assert len(frame) == 3 and list(frame.index) == [50, 51, 52]


def test_errors_are_one_line_without_traceback(config, tmp_path, cli):
    code, _, err = cli(["train", config, "--set", "trainig.epochs=3"])
    assert code == 2
    assert "did you mean 'training'" in err and "Traceback" not in err
    code, _, err = cli(["lab", "nosuch"])
    assert code == 2 and "lab: expected one of [" in err and "'battery'" in err
    code, _, err = cli(["train", tmp_path / "missing.toml"])
    assert code == 2 and "Traceback" not in err
    out = tmp_path / "run"
    cli(["train", config, "--out", out])
    code, _, err = cli(["train", config, "--out", out])
    assert code == 2 and "out_dir: expected a path that does not exist yet" in err
