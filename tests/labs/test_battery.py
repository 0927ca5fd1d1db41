"""The battery lab: the tutorial's model, leak-free protocol, every baseline, a run directory."""

from __future__ import annotations

import json

import pytest

from rnnkit.examples import example_path
from rnnkit.labs import battery
from rnnkit.tasks.forecasting import ForecastConfig


def test_lab_config_is_the_tutorial_model() -> None:
    cfg = battery.config()
    assert (cfg.model.cell, cfg.model.hidden_size, cfg.model.num_layers) == ("lstm", 50, 2)
    assert cfg.model.dropout == cfg.model.head_dropout == 0.2
    assert (cfg.forecast.look_back, cfg.forecast.horizon) == (20, 1)
    t = cfg.training
    assert (t.optimizer, t.batch_size, t.epochs) == ("adam", 32, 50)
    assert cfg.early_stopping.patience == 5
    assert (cfg.split.unit, cfg.split.test) == ("windows", 0.2)
    example = example_path("battery")
    assert ForecastConfig.from_toml(example) == cfg  # the example is the lab
    seeded = battery.config(seed=3)
    assert seeded.data.dataset_args["seed"] == 3 and seeded.training.seed == 3


def test_quick_lab_writes_the_run_and_prints_the_table(tmp_path, capsys) -> None:
    out = battery.run(quick=True, out_dir=tmp_path / "lab")
    text = capsys.readouterr().out
    for name in ("rnnkit model", "persistence", "moving_average", "linear_ar",
                 "linear_ar_window", "mlp", "ets", "arima", "noiseless curve (floor)"):
        assert name in text
    assert set(out["baselines"]) == {"persistence", "moving_average", "linear_ar",
                                     "linear_ar_window", "mlp", "ets", "arima"}
    best = min(out["baselines"], key=out["baselines"].get)  # the headline names the best one
    assert f"vs best baseline {best} {out['baselines'][best]:.4g}" in text.replace("\n", " ")
    assert 0 < out["floor_rmse"] < out["baselines"]["persistence"]
    assert out["n_test_windows"] == 280 - int(0.8 * 280)  # the last 20 % of 280 windows
    assert out["rmse"] > 0 and out["fit_seconds"] > 0
    run = tmp_path / "lab"
    assert (run / "model" / "model.safetensors").is_file()
    assert sorted(p.name for p in (run / "plots").iterdir()) == [
        "forecast.png", "loss.png", "residuals.png"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["evaluation"]["model"]["rmse"] == out["rmse"]


@pytest.mark.slow
def test_full_lab_beats_persistence_seed_0(tmp_path) -> None:
    out = battery.run(out_dir=tmp_path / "lab", seed=0, verbose=False)
    assert out["rmse"] < out["baselines"]["persistence"]
    assert out["rmse"] <= 0.0095
