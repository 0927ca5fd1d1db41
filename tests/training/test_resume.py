"""Exact resume and reproducibility: 6 straight epochs == 3 epochs + resume to 6; same seed,
same history and predictions."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from rnnkit.errors import ConfigError
from rnnkit.training import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    TrainerConfig,
)


class DropoutLSTM(nn.Module):
    """Dropout draws from the global torch RNG every batch, so resume must restore it."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 8, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x)  # (B, T, H)
        return self.head(self.drop(y[:, -1]))  # (B, 1)


def data(n: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, 4, 2, generator=torch.Generator().manual_seed(3))
    return x, x[:, -1, :1] - x[:, 0, 1:]


CONFIG = TrainerConfig(epochs=6, batch_size=16, lr=0.01, seed=11, device="cpu", schedule="cosine",
                       warmup_epochs=1, clipnorm=0.5)


class CrashAtEpoch(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
        if context["epoch"] == self.epoch:
            raise KeyboardInterrupt  # the run is killed after epoch (self.epoch - 1) was saved


class Noise(Callback):
    """Consumes numpy and Python RNGs each epoch, as augmentation code would."""

    def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
        trainer.history.record("noise", float(np.random.rand()) + random.random())


def without_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "epoch_time"} for r in rows]


def run(train: Any, val: Any, tmp: Path, crash_at: int | None, resume: bool) -> Trainer:
    torch.manual_seed(123 if resume else 0)  # a resumed run may start from other weights
    stopper = EarlyStopping(patience=50)
    callbacks: list[Callback] = [Noise(), stopper, ModelCheckpoint(tmp)]
    if crash_at is not None:
        callbacks.insert(0, CrashAtEpoch(crash_at))
    trainer = Trainer(DropoutLSTM(), CONFIG, callbacks=callbacks)
    trainer.fit(train, val_data=val, resume_from=tmp / "last.pt" if resume else None)
    return trainer


@pytest.mark.parametrize("kind", ["tensors", "dataset"])
def test_resume_ends_exactly_where_an_uninterrupted_run_does(tmp_path: Path, kind: str) -> None:
    x, y = data()
    train: Any = (x[:48], y[:48]) if kind == "tensors" else TensorDataset(x[:48], y[:48])
    val = (x[48:], y[48:])
    straight = run(train, val, tmp_path / "a", crash_at=None, resume=False)

    with pytest.raises(KeyboardInterrupt):
        run(train, val, tmp_path / "b", crash_at=4, resume=False)
    resumed = run(train, val, tmp_path / "b", crash_at=None, resume=True)

    for (name, a), (_, b) in zip(straight.model.state_dict().items(),
                                 resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert without_time(straight.history.rows) == without_time(resumed.history.rows)
    assert len(resumed.history) == 6
    assert straight.history["clipped_steps"] == resumed.history["clipped_steps"]
    a_stop, b_stop = straight.callbacks[1], resumed.callbacks[1]
    assert isinstance(a_stop, EarlyStopping) and isinstance(b_stop, EarlyStopping)
    assert (a_stop.best, a_stop.best_epoch, a_stop.wait) == (b_stop.best, b_stop.best_epoch, b_stop.wait)
    assert straight.optimizer.param_groups[0]["lr"] == resumed.optimizer.param_groups[0]["lr"]


def test_resume_reports_the_resumed_start_to_callbacks(tmp_path: Path) -> None:
    x, y = data()
    seen: dict[str, Any] = {}

    class Probe(Callback):
        def on_fit_begin(self, trainer: Trainer, **context: Any) -> None:
            seen.update(context)

    trainer = Trainer(DropoutLSTM(), CONFIG.replace(epochs=2), callbacks=[ModelCheckpoint(tmp_path, save_best=False)])
    trainer.fit((x, y))
    more = Trainer(DropoutLSTM(), CONFIG.replace(epochs=3), callbacks=[Probe(), ModelCheckpoint(tmp_path, save_best=False)])
    h = more.fit((x, y), resume_from=tmp_path / "last.pt")  # more epochs: no config warning
    assert seen == {"start_epoch": 2, "epochs": 3, "resumed": True}
    assert h["epoch"] == [1, 2, 3]


def test_resume_after_early_stopping_trains_no_further(tmp_path: Path) -> None:
    x, y = data()

    class StopAt2(Callback):
        def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
            if context["epoch"] == 2:
                trainer.stop_training = True

    Trainer(DropoutLSTM(), CONFIG, callbacks=[StopAt2(), ModelCheckpoint(tmp_path, save_best=False)]).fit((x, y))
    again = Trainer(DropoutLSTM(), CONFIG, callbacks=[ModelCheckpoint(tmp_path, save_best=False)])
    assert len(again.fit((x, y), resume_from=tmp_path / "last.pt")) == 2


def test_resume_with_a_different_config_warns(tmp_path: Path) -> None:
    x, y = data()
    Trainer(DropoutLSTM(), CONFIG.replace(epochs=1), callbacks=[ModelCheckpoint(tmp_path, save_best=False)]).fit((x, y))
    other = Trainer(DropoutLSTM(), CONFIG.replace(lr=0.05))
    with pytest.warns(UserWarning, match=r"differs from the checkpoint's in \['lr'\]"):
        other.fit((x, y), resume_from=tmp_path / "last.pt")


def test_resume_needs_the_same_kind_of_schedule(tmp_path: Path) -> None:
    x, y = data()
    Trainer(DropoutLSTM(), CONFIG.replace(epochs=1), callbacks=[ModelCheckpoint(tmp_path, save_best=False)]).fit((x, y))
    other = Trainer(DropoutLSTM(), CONFIG.replace(schedule=None, warmup_epochs=0))
    with pytest.raises(ConfigError, match="schedule: expected the schedule the checkpoint was trained with"):
        other.fit((x, y), resume_from=tmp_path / "last.pt")


# -- reproducibility --------------------------------------------------------------------------
def fit_and_predict(seed: int) -> tuple[list[dict[str, Any]], torch.Tensor]:
    x, y = data()
    torch.manual_seed(seed)  # the model's initial weights
    trainer = Trainer(DropoutLSTM(), CONFIG.replace(seed=seed, epochs=3), callbacks=[Noise()])
    trainer.fit((x[:48], y[:48]), val_data=(x[48:], y[48:]))
    return without_time(trainer.history.rows), trainer.predict(x)


def test_same_seed_same_history_and_predictions() -> None:
    h1, p1 = fit_and_predict(5)
    h2, p2 = fit_and_predict(5)
    assert h1 == h2
    assert torch.equal(p1, p2)
    h3, _ = fit_and_predict(6)
    assert h3 != h1
