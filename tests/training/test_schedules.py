"""Learning-rate schedules: the lr of every epoch against hand computation."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.training import Callback, Trainer, TrainerConfig
from rnnkit.training.schedules import build_scheduler, cosine_factor, step_scheduler


def lrs(epochs: int, callbacks: list[Callback] | None = None, val: bool = True, **kw: Any) -> tuple[list[float], Trainer]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 2, generator=g)
    y = x.sum(1, keepdim=True)
    config = TrainerConfig(epochs=epochs, batch_size=8, seed=0, device="cpu", **kw)
    t = Trainer(nn.Linear(2, 1), config, callbacks=callbacks)
    h = t.fit((x, y), val_data=(x, y) if val else None)
    return h["lr"], t


def test_constant_without_schedule() -> None:
    values, _ = lrs(3, lr=0.05)
    assert values == [0.05] * 3


def test_step_decay() -> None:
    values, t = lrs(5, lr=0.1, schedule="step", step_size=2, step_gamma=0.5)
    assert values == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)  # for an epoch 6


def test_cosine_with_warmup_by_hand() -> None:
    lr, min_lr, epochs, warm = 0.1, 0.01, 7, 2
    values, _ = lrs(epochs, lr=lr, schedule="cosine", warmup_epochs=warm, min_lr=min_lr)
    hand = [lr * 1 / 3, lr * 2 / 3]  # warm-up: lr (e+1)/(W+1)
    for e in range(warm, epochs):  # cosine over the remaining E - W = 5 epochs
        hand.append(min_lr + (lr - min_lr) * (1 + math.cos(math.pi * (e - warm) / 5)) / 2)
    assert values == pytest.approx(hand, rel=1e-12)


def test_cosine_without_warmup_matches_torch() -> None:
    values, _ = lrs(6, lr=0.2, schedule="cosine", min_lr=0.02)
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.02)
    expected = []
    for _ in range(6):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    assert values == pytest.approx(expected, rel=1e-9)


class Script(Callback):
    """Write a scripted ``key`` into the row at epoch begin, so the plateau schedule (stepped
    before on_epoch_end) sees it."""

    def __init__(self, key: str, values: list[float]) -> None:
        self.key, self.values = key, values

    def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
        trainer.history.record(self.key, self.values[context["epoch"] - 1])


def test_plateau_by_hand() -> None:
    # patience 1: a reduction after 2 epochs without improvement (num_bad_epochs > patience)
    score = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    values, t = lrs(6, [Script("watched", score)], lr=0.1, schedule="plateau", monitor="watched",
                    plateau_patience=1, plateau_factor=0.5)
    assert values == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05])
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)


def test_plateau_respects_min_lr_and_max_mode() -> None:
    values, _ = lrs(5, [Script("watched", [1.0] * 5)], lr=0.1, schedule="plateau", monitor="watched",
                    plateau_patience=0, plateau_factor=0.1, min_lr=0.005)
    # patience 0: reduce after every epoch that does not improve on epoch 1
    assert values == pytest.approx([0.1, 0.1, 0.01, 0.005, 0.005])
    # "acc"-like monitors improve upwards: rising values never reduce the rate
    values, _ = lrs(4, [Script("val_acc", [0.1, 0.2, 0.3, 0.4])], lr=0.1,
                    schedule="plateau", monitor="val_acc", plateau_patience=0)
    assert values == pytest.approx([0.1] * 4)


def test_plateau_without_validation_monitors_the_training_loss(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        values, _ = lrs(3, val=False, lr=0.1, schedule="plateau")
    assert values == pytest.approx([0.1] * 3)
    assert "using 'loss'" in caplog.text


def test_each_fit_restarts_the_schedule() -> None:
    _, t = lrs(3, lr=0.1, schedule="step", step_size=1, step_gamma=0.5)
    x = torch.randn(8, 2)
    h = t.fit((x, x.sum(1, keepdim=True)))
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_cosine_factor_shape() -> None:
    f = cosine_factor(epochs=4, warmup_epochs=1, lr=1.0, min_lr=0.0)
    assert [round(f(e), 6) for e in range(6)] == [0.5, 1.0, 0.75, 0.25, 0.0, 0.0]


def test_build_scheduler_rejects_unknown_and_plateau_needs_a_value() -> None:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match="schedule: expected one of .* got 'exp'"):
        build_scheduler(opt, "exp")  # type: ignore[arg-type]
    sched = build_scheduler(opt, "plateau")
    with pytest.raises(ConfigError, match="a monitored value for 'plateau'"):
        step_scheduler(sched, None)
    assert build_scheduler(opt, None) is None
    step_scheduler(None, None)  # a no-op


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"schedule": "step", "step_size": 0}, r"step_size: expected an integer >= 1, got 0"),
    ({"schedule": "step", "step_gamma": 0.0}, r"step_gamma: expected a finite number > 0.0, got 0.0"),
    ({"schedule": "cosine", "min_lr": 0.5, "lr": 0.1}, r"min_lr: expected a value below lr=0.1, got 0.5"),
    ({"schedule": "plateau", "plateau_patience": -1}, r"plateau_patience: expected an integer >= 0, got -1"),
    ({"schedule": "cosine", "warmup_epochs": -1}, r"warmup_epochs: expected an integer >= 0, got -1"),
])
def test_schedule_config_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TrainerConfig(**kwargs)
