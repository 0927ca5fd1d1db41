"""Callbacks: early stopping on scripted sequences, checkpoints, progress bar, loggers."""

from __future__ import annotations

import csv
import io
import math
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console
from torch import nn

from rnnkit.errors import ConfigError, RnnkitWarning
from rnnkit.training import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    JSONLogger,
    MissingDependencyError,
    ModelCheckpoint,
    ProgressBar,
    TensorBoard,
    TimeBudget,
    Trainer,
    load_checkpoint,
)

from helpers import trainer


def data(n: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    return x, x.sum(1, keepdim=True)


class Script(Callback):
    """Overwrite ``key`` of each epoch's row with a scripted value (runs before the callbacks
    after it in the list, exactly as a metric would have written it)."""

    def __init__(self, values: list[float], key: str = "val_loss") -> None:
        self.values, self.key = values, key

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        trainer.history.record(self.key, self.values[context["epoch"] - 1])


class Snapshots(Callback):
    """The model's weights at the end of every epoch."""

    def __init__(self) -> None:
        self.weights: dict[int, dict[str, torch.Tensor]] = {}

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        self.weights[context["epoch"]] = {k: v.clone() for k, v in trainer.model.state_dict().items()}


def assert_weights(model: nn.Module, expected: dict[str, torch.Tensor]) -> None:
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


# -- EarlyStopping ----------------------------------------------------------------------------
def test_early_stopping_stops_at_best_plus_patience_and_restores_best() -> None:
    x, y = data()
    script = Script([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6])
    snaps = Snapshots()
    stopper = EarlyStopping(patience=2)
    t = trainer(7, [script, snaps, stopper])
    h = t.fit((x, y), val_data=(x, y))
    assert len(h) == 4  # best at 2, no improvement at 3 and 4 -> stop after epoch 4
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (0.8, 2, 4)
    assert_weights(t.model, snaps.weights[2])
    assert not torch.equal(snaps.weights[2]["weight"], snaps.weights[4]["weight"])


def test_early_stopping_without_restore_keeps_the_last_weights() -> None:
    x, y = data()
    snaps = Snapshots()
    t = trainer(7, [Script([1.0, 0.8, 0.9, 0.85]), snaps,
                    EarlyStopping(patience=2, restore_best_weights=False)])
    t.fit((x, y), val_data=(x, y))
    assert_weights(t.model, snaps.weights[4])


def test_early_stopping_min_delta_and_improvement_resets_wait() -> None:
    x, y = data()
    # improvements smaller than 0.1 do not count: best stays 1.0 at epoch 1 -> stop at epoch 3
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    h = trainer(6, [Script([1.0, 0.95, 0.92, 0.5, 0.4, 0.3]), stopper]).fit((x, y), val_data=(x, y))
    assert len(h) == 3 and stopper.best_epoch == 1
    # a real improvement at epoch 3 resets the wait: stop at 3 + 2
    stopper = EarlyStopping(patience=2)
    h = trainer(9, [Script([1.0, 1.1, 0.5, 0.6, 0.7, 0.1, 0, 0, 0]), stopper]).fit((x, y), val_data=(x, y))
    assert len(h) == 5 and stopper.best_epoch == 3


def test_early_stopping_mode_max() -> None:
    x, y = data()
    stopper = EarlyStopping(monitor="val_acc", patience=1)
    h = trainer(5, [Script([0.5, 0.7, 0.6, 0.9, 0.95], key="val_acc"), stopper]).fit((x, y))
    assert stopper.mode == "max" and len(h) == 3 and stopper.best == 0.7


def test_early_stopping_falls_back_to_train_loss_with_a_warning() -> None:
    x, y = data()
    with pytest.warns(RnnkitWarning, match="'val_loss' is not recorded .* monitoring 'loss'"):
        trainer(2, [EarlyStopping(patience=1)]).fit((x, y))


def test_early_stopping_errors() -> None:
    x, y = data()
    with pytest.raises(ConfigError, match=r"EarlyStopping\(monitor=...\): expected a key of the epoch row .* got 'val_auc'"):
        trainer(2, [EarlyStopping(monitor="val_auc")]).fit((x, y))
    with pytest.raises(ConfigError, match="patience: expected an integer >= 1, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match="min_delta: expected a number >= 0, got -0.1"):
        EarlyStopping(min_delta=-0.1)


# -- ModelCheckpoint --------------------------------------------------------------------------
def test_model_checkpoint_writes_last_and_best(tmp_path: Path) -> None:
    x, y = data()
    snaps = Snapshots()
    ckpt = ModelCheckpoint(tmp_path / "ckpt")
    t = trainer(5, [ckpt, Script([0.9, 0.5, 0.7, 0.6, 0.8]), snaps])
    assert t.callbacks[-1] is ckpt  # checkpoint writers run last
    t.fit((x, y), val_data=(x, y))
    last = load_checkpoint(ckpt.last_path)
    best = load_checkpoint(ckpt.best_path)
    assert last["epoch"] == 5 and best["epoch"] == 2
    assert best["history"][-1]["val_loss"] == 0.5  # the scripted value, written before saving
    assert_weights_dict(best["model"], snaps.weights[2])
    assert_weights_dict(last["model"], snaps.weights[5])
    assert best["callbacks"]["ModelCheckpoint"] == {"best": 0.5, "best_epoch": 2}
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["best.pt", "last.pt"]


def assert_weights_dict(actual: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert actual.keys() == expected.keys()
    for key in actual:
        assert torch.equal(actual[key], expected[key]), key


def test_model_checkpoint_only_best(tmp_path: Path) -> None:
    x, y = data()
    ckpt = ModelCheckpoint(tmp_path, save_last=False)
    trainer(3, [ckpt]).fit((x, y), val_data=(x, y))
    assert ckpt.best_path.exists() and not ckpt.last_path.exists()
    with pytest.raises(ConfigError, match="save_best/save_last: expected at least one True"):
        ModelCheckpoint(tmp_path, save_best=False, save_last=False)


# -- TimeBudget -------------------------------------------------------------------------------
def test_max_time_stops_after_the_epoch_that_crosses_it() -> None:
    x, y = data()
    t = trainer(5, [], max_time=1e-9)
    assert sum(isinstance(cb, TimeBudget) for cb in t.callbacks) == 1  # added by the trainer
    h = t.fit((x, y), val_data=(x, y))
    assert len(h) == 1 and t.epoch == 1 and t.stop_training
    assert h[-1]["stop_reason"] == "max_time" and "val_loss" in h[-1]  # the epoch is complete


def test_a_budget_that_is_not_crossed_changes_nothing() -> None:
    x, y = data()
    t = trainer(3, [], max_time=3600)
    h = t.fit((x, y))
    assert len(h) == 3 and "stop_reason" not in h
    assert h["loss"] == trainer(3, []).fit((x, y))["loss"]  # same run as without a budget


def test_time_budget_checks_its_argument_and_resumes_what_was_spent() -> None:
    for bad in (0, -1.0, math.inf, True, "60"):
        with pytest.raises(ConfigError, match=r"max_time: expected a finite number of seconds > 0"):
            TimeBudget(bad)  # type: ignore[arg-type]
    budget = TimeBudget(60)
    budget.on_fit_begin(None, epochs=3)  # type: ignore[arg-type]
    budget.load_state_dict({"spent": 59.5})
    assert 59.5 <= budget.elapsed() < 60 and budget.state_dict()["spent"] >= 59.5
    assert repr(budget) == "TimeBudget(max_time=60)"


# -- ProgressBar ------------------------------------------------------------------------------
def test_progress_bar_is_silent_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = data()
    bar = ProgressBar()
    seen = []

    class Probe(Callback):
        def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
            seen.append(bar.active)

    trainer(2, [bar, Probe()]).fit((x, y))
    assert seen == [False, False]  # pytest's stdout is not a TTY
    assert capsys.readouterr().out == ""


def test_progress_bar_is_silent_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the bar draws on stderr
    monkeypatch.setenv("CI", "true")
    assert not ProgressBar.auto_enabled()
    monkeypatch.delenv("CI")
    assert ProgressBar.auto_enabled()


def test_progress_bar_draws_epochs_eta_and_metrics() -> None:
    x, y = data()
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160, color_system=None)
    bar = ProgressBar(enabled=True, per_batch=True, console=console)
    trainer(3, [bar]).fit((x, y), val_data=(x, y))
    out = buf.getvalue()
    assert "epochs" in out and "3/3" in out and "eta" in out
    assert "val_loss=" in out and "lr=0.01" in out
    assert not bar.active


# -- loggers ----------------------------------------------------------------------------------
def test_csv_and_json_loggers_hold_the_history(tmp_path: Path) -> None:
    x, y = data()
    t = trainer(3, [CSVLogger(tmp_path / "h.csv"), JSONLogger(tmp_path / "h.json")])
    h = t.fit((x, y), val_data=(x, y))
    rows = list(csv.DictReader((tmp_path / "h.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(h["val_loss"])
    assert History.from_json(tmp_path / "h.json") == h


# -- TensorBoard ------------------------------------------------------------------------------
def test_tensorboard_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    with pytest.raises(MissingDependencyError, match=r"'tensorboard' package.*pip install tensorboard"):
        TensorBoard("runs")


def test_tensorboard_logs_scalars(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    written: list[tuple[str, float, int]] = []

    class FakeWriter:
        def __init__(self, log_dir: str) -> None:
            self.log_dir = log_dir

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            written.append((tag, value, step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            written.append(("closed", 0.0, 0))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    x, y = data()
    trainer(2, [TensorBoard(tmp_path)]).fit((x, y), val_data=(x, y))
    tags = {tag for tag, _, step in written if step == 2}
    assert {"loss", "val_loss", "lr", "clipped_steps", "epoch_time"} <= tags
    assert written[-1][0] == "closed"
