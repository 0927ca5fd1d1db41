"""Long-range benchmark runner: a tanh RNN, an IRNN (relu + identity recurrent init, Le et
al. 2015), an LSTM and a GRU trained and compared on the adding problem or the copy task
(:mod:`rnnkit.datasets.long_range` generates them). :mod:`rnnkit.labs.adding` runs it at
T = 200; ``bench/long_range.py`` prints its tables.

Example:
    >>> out = compare_cells(LongRangeConfig(length=10, cells=("lstm",)))  # doctest: +SKIP
    >>> out["results"]["lstm"]["test_loss"] < out["baseline"]          # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.datasets.long_range import (
    TASKS,
    adding_baseline_mse,
    adding_problem,
    copy_baseline_loss,
    copy_task,
)
from rnnkit.errors import ConfigError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.training import Callback, Trainer, TrainerConfig, seed_everything

__all__ = [
    "CELLS",
    "LongRangeConfig",
    "LongRangeNet",
    "cell_spec",
    "compare_cells",
    "network_from_bundle",
]

CELLS = ("rnn", "irnn", "lstm", "gru")


def cell_spec(name: str, hidden_size: int) -> RecurrentSpec:
    """The spec of each compared cell: ``"rnn"`` (tanh), ``"irnn"`` (relu, identity W_hh),
    ``"lstm"``, ``"gru"``."""
    check_choice("cell", name, CELLS)
    if name == "rnn":
        return RecurrentSpec(cell="rnn", hidden_size=hidden_size, activation="tanh")
    if name == "irnn":
        return RecurrentSpec(cell="rnn", hidden_size=hidden_size, activation="relu",
                             recurrent_init="identity")
    return RecurrentSpec(cell=name, hidden_size=hidden_size)


class LongRangeNet(nn.Module):
    """A recurrent layer and a linear head.

    ``"adding"``: X (B, T, 2) -> the last step's prediction (B, 1). ``"copy"``: ids (B, T) ->
    one-hot (B, T, K + 2) -> logits over the K + 2 ids at every step, (B, T, K + 2).
    """

    def __init__(self, task: str, spec: RecurrentSpec, num_symbols: int = 8) -> None:
        super().__init__()
        self.task = check_choice("task", task, TASKS)
        self.num_classes = num_symbols + 2
        in_size = 2 if task == "adding" else self.num_classes
        self.rnn = spec.build(in_size, return_sequences=task == "copy", check_finite=False)
        self.head = nn.Linear(self.rnn.output_size, 1 if task == "adding" else self.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.task == "copy":
            x = F.one_hot(x.long(), self.num_classes).float()  # (B, T, K + 2)
        out, _ = self.rnn(x)  # (B, H) for adding, (B, T, H) for copy
        return self.head(out)


def network_from_bundle(bundle: Any) -> LongRangeNet:
    """The trained :class:`LongRangeNet` of a bundle the long-range labs saved (task
    ``"long_range"``: its config holds the task, the cell spec and the copy task's symbols)."""
    from rnnkit.bundle import load_weights

    config = bundle.config
    lr = config.get("long_range", {})
    net = LongRangeNet(config["task"], RecurrentSpec.from_dict(config["spec"]),
                       num_symbols=lr.get("num_symbols", 8))
    return load_weights(net, bundle.state_dict).eval()


@dataclass(frozen=True)
class LongRangeConfig:
    """A long-range comparison: task, length, model size and training budget per cell.

    Attributes:
        task: ``"adding"`` or ``"copy"``; ``length``: T for adding, the delay for copy.
        cells: which of :data:`CELLS` to train.
        hidden_size: units of every cell. num_symbols, copy_len: the copy task's K and C.
        train_size, val_size, test_size: sequences generated (fixed sets, seeded).
        epochs: at most this many passes; ``time_budget_s``: per cell, checked after each
            epoch (the next epoch must fit); ``stop_below``: stop a cell once its validation
            loss is under this (solved).
        batch_size, lr, clipnorm, optimizer: as in :class:`~rnnkit.training.TrainerConfig`.
        cell_lr: learning rates that replace ``lr`` for some cells. The default gives the
            IRNN 1e-4: with Adam at 3e-3 its unbounded relu recurrence over 200 steps
            overflows within the first epoch.
        seed: seeds data and weights.
    """

    task: str = "adding"
    length: int = 200
    cells: tuple[str, ...] = CELLS
    hidden_size: int = 64
    num_symbols: int = 8
    copy_len: int = 10
    train_size: int = 10_000
    val_size: int = 1_000
    test_size: int = 2_000
    epochs: int = 30
    time_budget_s: float | None = 240.0
    stop_below: float | None = 1e-3
    batch_size: int = 64
    lr: float = 3e-3
    clipnorm: float | None = 1.0
    optimizer: str = "adam"
    cell_lr: dict[str, float] = field(default_factory=lambda: {"irnn": 1e-4})
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        if not isinstance(self.cell_lr, dict):
            raise ConfigError(expected("cell_lr", "a table {cell: learning rate}", self.cell_lr))
        for c in self.cell_lr:
            check_choice("cell_lr", c, CELLS)
        check_positive_int("length", self.length, minimum=2)
        if isinstance(self.cells, str) or not self.cells:
            raise ConfigError(expected("cells", f"a non-empty list of {list(CELLS)}", self.cells))
        object.__setattr__(self, "cells", tuple(self.cells))
        for c in self.cells:
            check_choice("cells", c, CELLS)
        for name in ("hidden_size", "train_size", "val_size", "test_size", "epochs",
                     "batch_size", "copy_len"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("num_symbols", self.num_symbols, minimum=2)
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError(expected("time_budget_s", "seconds > 0 or None", self.time_budget_s))
        if self.stop_below is not None and not self.stop_below > 0:
            raise ConfigError(expected("stop_below", "a loss > 0 or None", self.stop_below))
        for c in self.cells:
            self.trainer_config(c)

    def trainer_config(self, cell: str | None = None) -> TrainerConfig:
        """The trainer's configuration for ``cell`` (its ``cell_lr`` if any)."""
        lr = self.cell_lr.get(cell, self.lr) if cell is not None else self.lr
        return TrainerConfig(epochs=self.epochs, batch_size=self.batch_size, lr=lr,
                             clipnorm=self.clipnorm, optimizer=self.optimizer,
                             loss="mse" if self.task == "adding" else "cross_entropy",
                             seed=self.seed, device="cpu")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["cells"] = list(self.cells)
        out["cell_lr"] = dict(self.cell_lr)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LongRangeConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(expected("LongRangeConfig keys", f"a subset of {sorted(known)}",
                                       unknown))
        return cls(**data)

    def data(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.task == "adding":
            return adding_problem(n, self.length, seed=seed)
        return copy_task(n, self.length, num_symbols=self.num_symbols, copy_len=self.copy_len,
                         seed=seed)

    def baseline(self, y_test: torch.Tensor) -> float:
        if self.task == "adding":
            return adding_baseline_mse(y_test)
        return copy_baseline_loss(self.length, num_symbols=self.num_symbols,
                                  copy_len=self.copy_len)


class _Budget(Callback):
    """Stops when the validation loss is below ``stop_below`` or not finite (diverged), or
    when the next epoch would end past ``seconds``."""

    def __init__(self, seconds: float | None, stop_below: float | None) -> None:
        self.seconds, self.stop_below = seconds, stop_below
        self.start = 0.0

    def on_fit_begin(self, trainer: Trainer, **context: Any) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        logs = context["logs"]
        loss = logs.get("val_loss", logs["loss"])
        if not math.isfinite(loss) or (self.stop_below is not None and loss < self.stop_below):
            trainer.stop_training = True
        elapsed = time.perf_counter() - self.start
        if self.seconds is not None and elapsed + float(logs["epoch_time"]) > self.seconds:
            trainer.stop_training = True


def compare_cells(config: LongRangeConfig | dict[str, Any] | None = None, *,
                  cells: Sequence[str] | None = None) -> dict[str, Any]:
    """Train every cell of ``config.cells`` on the same data and score it on a test set.

    Returns ``{"config": ..., "baseline": test loss of the trivial predictor, "results":
    {cell: {"test_loss", "epochs", "steps", "seconds", "history", "model"}}}``: the loss is
    the MSE for the adding problem, the cross-entropy per step for the copy task (then also
    ``"accuracy"`` on the copied symbols); ``"model"`` is the trained :class:`LongRangeNet`.
    """
    if config is None:
        config = LongRangeConfig()
    elif isinstance(config, dict):
        config = LongRangeConfig.from_dict(config)
    if cells is not None:
        config = dataclasses.replace(config, cells=tuple(cells))
    cfg = config
    train = cfg.data(cfg.train_size, cfg.seed)
    val = cfg.data(cfg.val_size, cfg.seed + 1)
    X_test, y_test = cfg.data(cfg.test_size, cfg.seed + 2)
    results: dict[str, Any] = {}
    for name in cfg.cells:
        seed_everything(cfg.seed)
        net = LongRangeNet(cfg.task, cell_spec(name, cfg.hidden_size), cfg.num_symbols)
        trainer = Trainer(net, cfg.trainer_config(name),
                          callbacks=[_Budget(cfg.time_budget_s, cfg.stop_below)])
        t0 = time.perf_counter()
        history = trainer.fit(train, val_data=val)
        seconds = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            out = torch.cat([net(X_test[i : i + 500]) for i in range(0, len(X_test), 500)])
        if cfg.task == "adding":
            loss = float(F.mse_loss(out, y_test))
            extra: dict[str, float] = {}
        else:
            loss = float(F.cross_entropy(out.reshape(-1, out.shape[-1]), y_test.reshape(-1)))
            tail = slice(y_test.shape[1] - cfg.copy_len, None)
            extra = {"accuracy": float((out[:, tail].argmax(-1) == y_test[:, tail])
                                       .float().mean())}
        results[name] = {
            "test_loss": loss if math.isfinite(loss) else float("nan"),
            **extra,
            "epochs": len(history),
            "steps": len(history) * math.ceil(cfg.train_size / cfg.batch_size),
            "seconds": seconds,
            "history": history.to_list(),
            "model": net,
        }
    return {"config": cfg.to_dict(), "baseline": cfg.baseline(y_test), "results": results}
