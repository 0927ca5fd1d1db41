"""The optimizer and schedule a Trainer builds: every optimizer trains, fused where torch
can, and each fit starts the schedule afresh from config.lr."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnkit.training import Trainer
from rnnkit.training.optimizers import build_optimizer, fresh_schedule

from helpers import TinyLSTM, cfg, regression_data


@pytest.mark.parametrize("name", ["adam", "adamw", "rmsprop", "sgd"])
def test_every_optimizer_trains(name: str) -> None:
    x, y = regression_data(32)
    trainer = Trainer(TinyLSTM(), cfg(optimizer=name, epochs=5, lr=0.02, weight_decay=1e-4))
    assert type(trainer.optimizer).__name__.lower() == name
    h = trainer.fit((x, y))
    assert h["loss"][-1] < h["loss"][0]


def test_fused_kernels_where_torch_has_them() -> None:
    params = list(nn.Linear(3, 1).parameters())
    assert build_optimizer(params, cfg(optimizer="adam")).defaults["fused"] is True
    sgd = build_optimizer(params, cfg(optimizer="sgd"))
    assert sgd.defaults["momentum"] == 0.9 and sgd.defaults["fused"] is True
    assert not build_optimizer(params, cfg(optimizer="rmsprop")).defaults.get("fused")
    complex_params = [nn.Parameter(torch.zeros(2, dtype=torch.complex64))]
    assert not build_optimizer(complex_params, cfg(optimizer="adam")).defaults["fused"]


def test_fresh_schedule_resets_the_learning_rate() -> None:
    optimizer = build_optimizer(list(nn.Linear(3, 1).parameters()), cfg(lr=0.1))
    optimizer.param_groups[0]["lr"] = 0.001
    assert fresh_schedule(optimizer, cfg(lr=0.1)) is None  # no schedule configured
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    schedule = fresh_schedule(optimizer, cfg(lr=0.1, schedule="cosine", epochs=4))
    assert schedule is not None and optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
