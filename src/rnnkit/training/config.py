"""TrainerConfig: everything that defines a training run, validated when it is built.

The config is a frozen dataclass of plain values, so it round-trips through JSON
(:meth:`TrainerConfig.to_json` / :meth:`TrainerConfig.from_json`) and compares by value. Every
field is checked in ``__post_init__``; a bad value raises :class:`~rnnkit.errors.ConfigError`
naming the field, what was expected and what was received.

Example:
    >>> cfg = TrainerConfig(epochs=5, optimizer="sgd", momentum=0.5)
    >>> cfg
    TrainerConfig(epochs=5, optimizer='sgd', momentum=0.5)
    >>> TrainerConfig.from_json(cfg.to_json()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.training.losses import LOSSES, LossFn
from rnnkit.training.schedules import SCHEDULES
from rnnkit.training.seeding import DEVICES

__all__ = ["OPTIMIZERS", "PRECISIONS", "TrainerConfig"]

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
PRECISIONS = (None, "bf16", "fp16")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


@dataclass(frozen=True)
class TrainerConfig:
    """Everything that defines a training run; frozen and JSON-serializable.

    Attributes:
        epochs: passes over the training data.
        batch_size: training batch size (in-memory data and Datasets).
        eval_batch_size: batch size for validation / evaluate / predict;
            None uses ``max(batch_size, 256)``.
        shuffle: reshuffle the training rows every epoch (must be False with ``tbptt_steps``).
        optimizer: ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        lr: initial learning rate.
        weight_decay: L2 penalty (decoupled for ``"adamw"``).
        momentum: for ``"sgd"`` (None means 0.9) and ``"rmsprop"`` (None means 0).
        clipnorm: clip the global gradient L2 norm to this value (None: off).
        clipvalue: clip every gradient element to [-clipvalue, clipvalue] (None: off).
            Both may be set; values are clipped first, then the norm.
        schedule: None, ``"plateau"``, ``"cosine"`` or ``"step"`` (see
            :mod:`rnnkit.training.schedules`), stepped once per epoch.
        monitor: the History key ``"plateau"`` watches (``val_loss``; falls back to ``loss``).
        warmup_epochs: linear warm-up epochs before the cosine decay.
        min_lr: the floor of ``"cosine"`` and ``"plateau"``.
        step_size, step_gamma: ``"step"`` multiplies the rate by ``step_gamma`` every
            ``step_size`` epochs.
        plateau_factor, plateau_patience: ``"plateau"`` multiplies the rate by
            ``plateau_factor`` after ``plateau_patience`` epochs without improvement.
        loss: a name in :data:`LOSSES` or a callable ``loss(y_pred, y_true) -> 0-d tensor``
            (a callable cannot be written to JSON; prefer ``Trainer(loss=...)``).
        huber_delta: the ``"huber"`` threshold.
        train_metrics: also compute the metrics on the training predictions of each epoch
            (keeps them in memory; off by default, validation metrics are always computed).
        tbptt_steps: truncated BPTT segment length; None trains on whole sequences.
        seed: seeds Python, NumPy, torch and the shuffle generator at the start of ``fit``;
            None leaves the global generators alone.
        deterministic: ask torch for deterministic kernels (see ``seed_everything``).
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"mps"``.
        mixed_precision: None, ``"bf16"`` or ``"fp16"`` autocast (CUDA only; fp16 adds a
            GradScaler).
    """

    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int | None = None
    shuffle: bool = True
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    schedule: Literal["plateau", "cosine", "step"] | None = None
    monitor: str = "val_loss"
    warmup_epochs: int = 0
    min_lr: float = 0.0
    step_size: int = 10
    step_gamma: float = 0.1
    plateau_factor: float = 0.1
    plateau_patience: int = 5
    loss: str | LossFn = "mse"
    huber_delta: float = 1.0
    train_metrics: bool = False
    tbptt_steps: int | None = None
    seed: int | None = None
    deterministic: bool = False
    device: str = "auto"
    mixed_precision: Literal["bf16", "fp16"] | None = None

    def __post_init__(self) -> None:
        def positive_int(name: str, minimum: int = 1, optional: bool = False) -> None:
            value = getattr(self, name)
            if optional and value is None:
                return
            if not _is_int(value) or value < minimum:
                what = f"an integer >= {minimum}" + (" or None" if optional else "")
                raise ConfigError(expected(name, what, value))

        def number(name: str, low: float, *, strict: bool = False, high: float | None = None,
                   optional: bool = False) -> None:
            value = getattr(self, name)
            if optional and value is None:
                return
            bad_low = value <= low if strict else value < low
            if not _is_number(value) or bad_low or (high is not None and value >= high):
                bound = f"{'>' if strict else '>='} {low}" + (f" and < {high}" if high is not None else "")
                raise ConfigError(expected(name, f"a finite number {bound}" + (" or None" if optional else ""), value))

        positive_int("epochs")
        positive_int("batch_size")
        positive_int("eval_batch_size", optional=True)
        if not isinstance(self.shuffle, bool):
            raise ConfigError(expected("shuffle", "True or False", self.shuffle))
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(expected("optimizer", f"one of {list(OPTIMIZERS)}", self.optimizer))
        number("lr", 0.0, strict=True)
        number("weight_decay", 0.0)
        number("momentum", 0.0, high=1.0, optional=True)
        if self.momentum is not None and self.optimizer not in ("sgd", "rmsprop"):
            raise ConfigError(expected("momentum", f"None for optimizer={self.optimizer!r}",
                                       self.momentum, "momentum applies to 'sgd' and 'rmsprop'"))
        number("clipnorm", 0.0, strict=True, optional=True)
        number("clipvalue", 0.0, strict=True, optional=True)
        if self.schedule not in SCHEDULES:
            raise ConfigError(expected("schedule", f"one of {list(SCHEDULES)}", self.schedule))
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ConfigError(expected("monitor", "a History key such as 'val_loss'", self.monitor))
        positive_int("warmup_epochs", minimum=0)
        if self.warmup_epochs and self.schedule != "cosine":
            raise ConfigError(expected("warmup_epochs", f"0 with schedule={self.schedule!r}",
                                       self.warmup_epochs, "warm-up is part of schedule='cosine'"))
        if self.warmup_epochs > self.epochs:
            raise ConfigError(expected("warmup_epochs", f"at most epochs={self.epochs}",
                                       self.warmup_epochs))
        number("min_lr", 0.0)
        if self.min_lr >= self.lr and self.schedule in ("cosine", "plateau"):
            raise ConfigError(expected("min_lr", f"a value below lr={self.lr}", self.min_lr))
        positive_int("step_size")
        number("step_gamma", 0.0, strict=True)
        number("plateau_factor", 0.0, strict=True, high=1.0)
        positive_int("plateau_patience", minimum=0)
        if not (callable(self.loss) or self.loss in LOSSES):
            raise ConfigError(expected("loss", f"one of {list(LOSSES)} or a callable", self.loss))
        number("huber_delta", 0.0, strict=True)
        if not isinstance(self.train_metrics, bool):
            raise ConfigError(expected("train_metrics", "True or False", self.train_metrics))
        positive_int("tbptt_steps", optional=True)
        if self.tbptt_steps is not None and self.shuffle:
            raise ConfigError(expected(
                "shuffle", "False with tbptt_steps", self.shuffle,
                "TBPTT carries each row's state into the same row of the next batch; "
                "pass shuffle=False"))
        if self.seed is not None and (not _is_int(self.seed) or not 0 <= self.seed < 2**32):
            raise ConfigError(expected("seed", "an integer in [0, 2**32) or None", self.seed))
        if not isinstance(self.deterministic, bool):
            raise ConfigError(expected("deterministic", "True or False", self.deterministic))
        kind = self.device.split(":", 1)[0] if isinstance(self.device, str) else None
        if kind not in DEVICES or (kind == "auto" and self.device != "auto"):
            raise ConfigError(expected("device", f"one of {list(DEVICES)} (or 'cuda:N')", self.device))
        if self.mixed_precision not in PRECISIONS:
            raise ConfigError(expected("mixed_precision", f"one of {list(PRECISIONS)}",
                                       self.mixed_precision))

    # -- serialization -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values; raises ConfigError when ``loss`` is a callable."""
        if callable(self.loss):
            raise ConfigError(expected("loss", f"a loss name {list(LOSSES)} to serialize the config",
                                       self.loss, "pass the callable as Trainer(loss=...) instead"))
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(expected("TrainerConfig keys", f"a subset of {sorted(known)}", unknown))
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainerConfig:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> TrainerConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        changed = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                   if getattr(self, f.name) != f.default]
        return f"TrainerConfig({', '.join(changed)})"
