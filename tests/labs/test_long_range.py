"""Long-range benchmark runner: the cells compared, the runner, its errors (the data
generators are tested in tests/datasets/test_long_range.py)."""

import math

import pytest
import torch

from rnnkit.datasets.long_range import adding_problem, copy_task
from rnnkit.errors import ConfigError
from rnnkit.labs._long_range import LongRangeConfig, cell_spec, compare_cells


def test_cell_specs():
    irnn = cell_spec("irnn", 6).build(2)
    cell = irnn.cells[0]
    assert cell.activation_name == "relu"
    assert torch.equal(cell.weight_hh.detach(), torch.eye(6))
    assert cell_spec("rnn", 6).activation == "tanh"
    assert cell_spec("gru", 6).cell == "gru"


def test_compare_cells_runs_every_cell_on_both_tasks():
    cfg = LongRangeConfig(length=8, hidden_size=4, train_size=64, val_size=32, test_size=32,
                          epochs=2, batch_size=32, time_budget_s=None, stop_below=None)
    out = compare_cells(cfg)
    assert set(out["results"]) == {"rnn", "irnn", "lstm", "gru"}
    assert out["baseline"] == pytest.approx(0.167, abs=0.08)
    for r in out["results"].values():
        assert math.isfinite(r["test_loss"]) and r["epochs"] == 2 and len(r["history"]) == 2
    copy = compare_cells(LongRangeConfig(task="copy", length=5, copy_len=3, hidden_size=8,
                                         train_size=64, val_size=32, test_size=32, epochs=1,
                                         batch_size=32, cells=("lstm",)))
    assert 0 <= copy["results"]["lstm"]["accuracy"] <= 1
    assert copy["baseline"] == pytest.approx(3 * math.log(8) / 11)


def test_stop_below_ends_training_early():
    cfg = LongRangeConfig(length=6, hidden_size=4, train_size=64, val_size=32, test_size=32,
                          epochs=20, batch_size=32, stop_below=100.0, cells=("gru",))
    assert compare_cells(cfg)["results"]["gru"]["epochs"] == 1


def test_lstm_learns_a_short_adding_problem():
    cfg = LongRangeConfig(length=10, hidden_size=16, train_size=2000, val_size=200,
                          test_size=500, epochs=6, batch_size=32, lr=1e-2, stop_below=None,
                          time_budget_s=None, cells=("lstm",))
    out = compare_cells(cfg)
    assert out["results"]["lstm"]["test_loss"] < out["baseline"] / 4


@pytest.mark.slow
def test_the_bar_at_length_200():
    from rnnkit.labs import adding

    metrics = adding.run(out_dir=None)
    assert metrics["cells"]["lstm"]["mse"] < 0.01 and metrics["cells"]["gru"]["mse"] < 0.01
    assert metrics["cells"]["rnn"]["mse"] >= 0.1


def test_errors():
    with pytest.raises(ConfigError, match="task: expected one of"):
        LongRangeConfig(task="sort")
    with pytest.raises(ConfigError, match="cells: expected one of"):
        LongRangeConfig(cells=("lstm", "transformer"))
    with pytest.raises(ConfigError, match="cells: expected a non-empty list"):
        LongRangeConfig(cells="lstm")
    with pytest.raises(ConfigError, match="LongRangeConfig keys: expected a subset"):
        LongRangeConfig.from_dict({"lenght": 3})
    with pytest.raises(ConfigError, match="length: expected an integer >= 2"):
        adding_problem(3, 1)
    with pytest.raises(ConfigError, match="num_symbols: expected an integer >= 2"):
        copy_task(3, 5, num_symbols=1)
    with pytest.raises(ConfigError, match="cell: expected one of"):
        cell_spec("lstmx", 3)
