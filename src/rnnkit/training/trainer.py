"""The trainer every rnnkit task shares: fit / evaluate / predict over any ``nn.Module``.

The model is any module whose ``forward`` takes the input tensor, and optionally
``lengths=`` (a (B,) tensor of valid steps). A forward that returns a tuple, such as
rnnkit's recurrent layers returning ``(output, state)``, contributes its first element.
With ``tbptt_steps`` set, the model follows the TBPTT protocol of :mod:`rnnkit.training.tbptt`.

Data, for ``fit(train_data, val_data)``, ``evaluate`` and ``predict``:

* a tuple ``(X, y)`` or ``(X, y, lengths)`` of tensors or NumPy arrays. These stay in memory
  on the device; each epoch indexes one permutation of them directly (no DataLoader);
* a ``torch.utils.data.Dataset`` whose items are such tuples (batched by a DataLoader the
  trainer builds, shuffled with the trainer's seeded generator);
* a ``DataLoader`` yielding such tuples (used as given: its own batch size and order).

Floating inputs are cast to the model's dtype (NumPy's float64 to float32); integer targets
become int64 for ``"cross_entropy"`` and floats for the other named losses. ``predict`` also
takes ``X`` alone.

Shapes (B batch, T steps, F features, C classes):

===============  ===============================  ================================
loss             prediction                       target
===============  ===============================  ================================
mse, mae, huber  any shape S                      S
bce              logits S                         S, in [0, 1]
cross_entropy    logits (B, C) or (B, T, C)       (B,) or (B, T) class indices,
                                                  or probabilities shaped like the logits
===============  ===============================  ================================

Example:
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(8, 1))
    >>> X, y = torch.randn(64, 4, 2), torch.randn(64, 1)
    >>> trainer = Trainer(model, TrainerConfig(epochs=2, seed=0, device="cpu"))
    >>> history = trainer.fit((X[:48], y[:48]), val_data=(X[48:], y[48:]))
    >>> len(history), sorted(history[-1])[:3]
    (2, ['clipped_steps', 'epoch', 'epoch_time'])
    >>> trainer.predict(X).shape
    torch.Size([64, 1])
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from rnnkit._validation import check_finite, expected
from rnnkit.errors import ConfigError, DataError, RnnkitWarning, ShapeError
from rnnkit.training.callbacks import Callback
from rnnkit.training.checkpoint import load_checkpoint, save_checkpoint
from rnnkit.training.history import History, infer_mode
from rnnkit.training.schedules import SCHEDULES, Scheduler, build_scheduler, step_scheduler
from rnnkit.training.seeding import (
    DEVICES,
    capture_rng_state,
    restore_rng_state,
    seed_everything,
    select_device,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["LOSSES", "OPTIMIZERS", "PassResult", "Trainer", "TrainerConfig", "resolve_loss"]

logger = logging.getLogger(__name__)

LOSSES = ("mse", "mae", "huber", "cross_entropy", "bce")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
PRECISIONS = (None, "bf16", "fp16")

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[..., float]
Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]  # (x, y, lengths)


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# losses and metrics
# ---------------------------------------------------------------------------------------------
def _same_shape(name: str) -> Callable[[LossFn], LossFn]:
    def wrap(fn: LossFn) -> LossFn:
        def loss(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
            if y_pred.shape != y_true.shape:
                raise ShapeError(expected(
                    f"loss={name!r} targets", f"the prediction's shape {tuple(y_pred.shape)}",
                    tuple(y_true.shape), "reshape y to the model's output shape (e.g. (N, 1))"))
            return fn(y_pred, y_true)

        loss.__name__ = name
        return loss

    return wrap


def _cross_entropy(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    if y_pred.shape == y_true.shape:  # class probabilities
        return F.cross_entropy(y_pred.reshape(-1, y_pred.shape[-1]),
                               y_true.reshape(-1, y_true.shape[-1]))
    if y_pred.ndim != y_true.ndim + 1 or y_pred.shape[:-1] != y_true.shape:
        raise ShapeError(expected(
            "loss='cross_entropy' targets",
            f"class indices of shape {tuple(y_pred.shape[:-1])} for logits {tuple(y_pred.shape)}",
            tuple(y_true.shape)))
    c = y_pred.shape[-1]
    return F.cross_entropy(y_pred.reshape(-1, c), y_true.reshape(-1))  # (B*T, C) vs (B*T,)


def resolve_loss(loss: str | LossFn, huber_delta: float = 1.0) -> LossFn:
    """The loss function for a name in :data:`LOSSES`, or ``loss`` itself if callable."""
    if callable(loss):
        return loss
    if loss == "mse":
        return _same_shape("mse")(F.mse_loss)
    if loss == "mae":
        return _same_shape("mae")(F.l1_loss)
    if loss == "huber":
        return _same_shape("huber")(lambda p, t: F.huber_loss(p, t, delta=huber_delta))
    if loss == "bce":
        return _same_shape("bce")(F.binary_cross_entropy_with_logits)
    if loss == "cross_entropy":
        return _cross_entropy
    raise ConfigError(expected("loss", f"one of {list(LOSSES)} or a callable", loss))


def _metric_caller(name: str, fn: Any) -> Callable[[torch.Tensor, torch.Tensor], float]:
    """Metrics are called as ``fn(y_pred, y_true)``, except that a function whose parameters
    are named ``y_true`` and ``y_pred`` (rnnkit.metrics, scikit-learn) is called by keyword,
    so either argument order is right."""
    if not callable(fn):
        raise ConfigError(expected(f"metrics[{name!r}]", "a callable fn(y_pred, y_true) -> float", fn))
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    if "y_true" in params and "y_pred" in params:
        return lambda p, t: float(fn(y_true=t, y_pred=p))
    return lambda p, t: float(fn(p, t))


def _accepts_kwarg(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
class _InMemory:
    """(X, y, lengths) tensors already on the device, batched by slicing one permutation."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, lengths: torch.Tensor | None):
        self.x, self.y, self.lengths = x, y, lengths
        self.n = x.shape[0]

    def num_batches(self, batch_size: int) -> int:
        return -(-self.n // batch_size)

    def batches(self, batch_size: int, shuffle: bool, generator: torch.Generator) -> Iterator[Batch]:
        x, y, lengths = self.x, self.y, self.lengths
        if shuffle:  # one gather per epoch, then contiguous slices
            perm = torch.randperm(self.n, generator=generator).to(x.device)
            x = x[perm]
            y = y[perm] if y is not None else None
            lengths = lengths[perm] if lengths is not None else None
        for s in range(0, self.n, batch_size):
            e = s + batch_size
            yield (x[s:e], None if y is None else y[s:e], None if lengths is None else lengths[s:e])


class _Streamed:
    """A Dataset (batched by a DataLoader built per epoch) or a user's DataLoader."""

    def __init__(self, source: Dataset[Any] | DataLoader[Any], convert: Callable[[Any], Batch]):
        self.source = source
        self.convert = convert

    def num_batches(self, batch_size: int) -> int | None:
        loader = self.source
        try:
            if isinstance(loader, DataLoader):
                return len(loader)
            return -(-len(loader) // batch_size)  # type: ignore[arg-type]
        except TypeError:
            return None

    def batches(self, batch_size: int, shuffle: bool, generator: torch.Generator) -> Iterator[Batch]:
        if isinstance(self.source, DataLoader):
            loader: DataLoader[Any] = self.source
        else:
            loader = DataLoader(self.source, batch_size=batch_size, shuffle=shuffle,
                                generator=generator if shuffle else None)
        for batch in loader:
            yield self.convert(batch)


_Data = _InMemory | _Streamed


class PassResult(NamedTuple):
    """What one pass over the data returns to the trainer (sums stay on the device)."""

    loss_sum: torch.Tensor | None  # Σ batch_loss * weight, 0-d
    count: int  # Σ weight (rows; rows × steps in TBPTT mode)
    clipped: torch.Tensor | None  # number of clipped steps, 0-d int64
    preds: list[torch.Tensor]  # per-batch predictions when collected
    targets: list[torch.Tensor]


# ---------------------------------------------------------------------------------------------
# the trainer
# ---------------------------------------------------------------------------------------------
class Trainer:
    """Train, evaluate and predict with any ``nn.Module``.

    Args:
        model: the module; moved to the configured device.
        config: a :class:`TrainerConfig` (defaults if None).
        loss: overrides ``config.loss``; a name or ``fn(y_pred, y_true) -> 0-d tensor``.
        metrics: ``{name: fn(y_pred, y_true) -> float}``, computed on the whole validation set
            each epoch (History keys ``val_<name>``) and by :meth:`evaluate`. Functions with
            parameters named ``y_true``/``y_pred`` are called by keyword. They receive
            detached CPU tensors.
        callbacks: :class:`~rnnkit.training.callbacks.Callback` instances.

    Attributes:
        history: the :class:`History` of the last (or running) ``fit``.
        stop_training: set it to True (from a callback) to stop after the current epoch.
        epoch: completed epochs of the current run.
        optimizer, scheduler, device, config, model, callbacks.

    Calling ``fit`` again continues from the current weights and optimizer state with a fresh
    History and a fresh schedule; ``fit(..., resume_from=checkpoint)`` instead continues an
    interrupted run exactly (same weights and History as if it had not stopped).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainerConfig | None = None,
        *,
        loss: str | LossFn | None = None,
        metrics: Mapping[str, MetricFn] | None = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ConfigError(expected("model", "a torch.nn.Module", type(model).__name__))
        config = TrainerConfig() if config is None else config
        if not isinstance(config, TrainerConfig):
            raise ConfigError(expected("config", "a TrainerConfig", type(config).__name__))
        self.config = config
        self.device = select_device(config.device)
        if config.mixed_precision is not None and self.device.type != "cuda":
            raise ConfigError(expected("mixed_precision", f"None on device {self.device.type!r}",
                                       config.mixed_precision,
                                       "mixed precision needs a CUDA device; drop it on the CPU"))
        self.model = model.to(self.device)
        self._params = [p for p in self.model.parameters() if p.requires_grad]
        if not self._params:
            raise ConfigError(expected("model", "a module with trainable parameters",
                                       type(model).__name__))
        floats = [p.dtype for p in self.model.parameters() if p.is_floating_point()]
        self._dtype = floats[0] if floats else torch.get_default_dtype()

        loss = config.loss if loss is None else loss
        if not (callable(loss) or loss in LOSSES):
            raise ConfigError(expected("loss", f"one of {list(LOSSES)} or a callable", loss))
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self.loss_fn = resolve_loss(loss, config.huber_delta)

        metrics = dict(metrics or {})
        reserved = ("epoch", "loss", "lr", "clipped_steps", "epoch_time")
        for name in metrics:
            if not isinstance(name, str) or not name or name in reserved or name.startswith("val_"):
                raise ConfigError(expected("metrics", f"names other than {list(reserved)} and "
                                           "not starting with 'val_'", name))
        self.metrics: dict[str, MetricFn] = metrics
        self._metric_calls = {name: _metric_caller(name, fn) for name, fn in metrics.items()}

        callbacks = list(callbacks or [])
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise ConfigError(expected(f"callbacks[{i}]", "a rnnkit Callback instance",
                                           type(cb).__name__))
        self.callbacks: list[Callback] = ([cb for cb in callbacks if not cb.runs_last]
                                          + [cb for cb in callbacks if cb.runs_last])
        self._batch_hooks = [cb.on_batch_end for cb in self.callbacks
                             if type(cb).on_batch_end is not Callback.on_batch_end]

        self.optimizer = self._build_optimizer()
        self.scheduler: Scheduler | None = None
        self.scaler = (torch.amp.GradScaler(self.device.type)
                       if config.mixed_precision == "fp16" else None)
        self._amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(
            config.mixed_precision or "")
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self._shuffle_gen = torch.Generator()
        self._accepts_lengths = _accepts_kwarg(self.model.forward, "lengths")
        self._warned: set[str] = set()
        self._loop: Any = _StandardLoop()
        if config.tbptt_steps is not None:
            # imported here: tbptt builds on this module's PassResult
            from rnnkit.training.tbptt import TBPTTLoop

            self._loop = TBPTTLoop(config.tbptt_steps)

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, {self.config!r}, "
                f"loss={self.loss_name!r}, metrics={list(self.metrics)}, "
                f"callbacks={self.callbacks})")

    # -- building blocks ---------------------------------------------------------------
    def _build_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        # Fused kernels (one op for all parameters) cut the optimizer step by ~2x for small
        # recurrent models on the CPU as on CUDA; used wherever torch supports them.
        fused = {"fused": True} if self._fusable() else {}
        if cfg.optimizer == "adam":
            return torch.optim.Adam(self._params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(self._params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(self._params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                       momentum=cfg.momentum or 0.0)
        momentum = 0.9 if cfg.momentum is None else cfg.momentum
        return torch.optim.SGD(self._params, lr=cfg.lr, momentum=momentum,
                               weight_decay=cfg.weight_decay, **fused)

    def _fusable(self) -> bool:
        devices = {p.device.type for p in self._params}
        ok = (len(devices) == 1 and devices <= {"cpu", "cuda"}
              and all(p.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16)
                      for p in self._params))
        if not ok:
            logger.info("optimizer: parameters on %s with dtypes %s; using the unfused "
                        "implementation", sorted(devices), sorted({str(p.dtype) for p in self._params}))
        return ok

    def _start_schedule(self) -> None:
        """A fresh schedule from ``config.lr`` (each ``fit`` call)."""
        cfg = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr
            group.pop("initial_lr", None)
        self.scheduler = build_scheduler(
            self.optimizer, cfg.schedule, epochs=cfg.epochs, warmup_epochs=cfg.warmup_epochs,
            min_lr=cfg.min_lr, step_size=cfg.step_size, step_gamma=cfg.step_gamma,
            plateau_factor=cfg.plateau_factor, plateau_patience=cfg.plateau_patience,
            plateau_mode=infer_mode(cfg.monitor))

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The forward-pass context: CUDA autocast under mixed precision, else a no-op."""
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._amp_dtype)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Call the model (passing ``lengths=`` when given) and keep a tuple's first element."""
        out = self.model(x) if lengths is None else self.model(x, lengths=lengths)
        return out[0] if isinstance(out, tuple) else out

    def backward_step(self, loss: torch.Tensor) -> torch.Tensor | None:
        """Backward, clip, optimizer step. Returns a 0-d bool tensor (was the step clipped?)
        when clipping is on, else None; no host sync either way."""
        cfg, scaler = self.config, self.scaler
        if scaler is not None:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        clipped: torch.Tensor | None = None
        if cfg.clipvalue is not None or cfg.clipnorm is not None:
            if scaler is not None:
                scaler.unscale_(self.optimizer)
            if cfg.clipvalue is not None:
                grads = [p.grad for p in self._params if p.grad is not None]
                peak = torch.nn.utils.get_total_norm(grads, norm_type=math.inf)
                clipped = peak > cfg.clipvalue
                torch.nn.utils.clip_grad_value_(self._params, cfg.clipvalue)
            if cfg.clipnorm is not None:
                norm = torch.nn.utils.clip_grad_norm_(self._params, cfg.clipnorm)
                over = norm > cfg.clipnorm
                clipped = over if clipped is None else clipped | over
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        return clipped

    def call_batch_hooks(self, **context: Any) -> None:
        """Run ``on_batch_end`` of the callbacks that define it."""
        for hook in self._batch_hooks:
            hook(self, **context)

    def _call(self, hook: str, **context: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, **context)

    @property
    def eval_batch_size(self) -> int:
        return self.config.eval_batch_size or max(self.config.batch_size, 256)

    # -- data --------------------------------------------------------------------------
    def _tensor(self, name: str, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value
        try:
            return torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as exc:
            raise DataError(expected(name, "a tensor or array", type(value).__name__)) from exc

    def _cast(self, x: torch.Tensor, y: torch.Tensor | None, lengths: torch.Tensor | None,
              *, non_blocking: bool = False) -> Batch:
        dev = self.device
        if x.is_floating_point() and x.dtype != self._dtype:
            x = x.to(self._dtype)
        x = x.to(dev, non_blocking=non_blocking)
        if y is not None:
            if y.is_floating_point():
                if y.dtype != self._dtype:
                    y = y.to(self._dtype)
            elif self.loss_name == "cross_entropy":
                y = y.long()
            elif self.loss_name in LOSSES:
                y = y.to(self._dtype)
            y = y.to(dev, non_blocking=non_blocking)
        if lengths is not None:
            lengths = lengths.long().to(dev, non_blocking=non_blocking)
        return x, y, lengths

    def _split(self, name: str, data: Any, *, targets: bool) -> tuple[Any, Any, Any]:
        """Unpack a tuple (X, y[, lengths]); with ``targets=False`` also accept X alone."""
        if isinstance(data, (tuple, list)):
            if len(data) == 1 and not targets:
                return data[0], None, None
            if len(data) in (2, 3):
                return data[0], data[1], data[2] if len(data) == 3 else None
            raise DataError(expected(name, "a tuple (X, y) or (X, y, lengths)",
                                     tuple(type(d).__name__ for d in data)))
        if not targets and isinstance(data, (torch.Tensor, np.ndarray)):
            return data, None, None
        raise DataError(expected(name, "(X, y), (X, y, lengths), a Dataset or a DataLoader",
                                 type(data).__name__))

    def _check_lengths_accepted(self, name: str, lengths: Any) -> None:
        if lengths is not None and not self._accepts_lengths:
            raise DataError(expected(
                name, f"(X, y) for {type(self.model).__name__}, whose forward has no lengths=",
                "(X, y, lengths)", "add a lengths= parameter to forward, or drop the lengths"))

    def _as_data(self, name: str, data: Any, *, targets: bool = True,
                 lengths: Any = None) -> _Data:
        if isinstance(data, (Dataset, DataLoader)):
            def convert(batch: Any) -> Batch:
                x, y, ln = self._split(name, batch, targets=targets)
                self._check_lengths_accepted(name, ln)
                return self._cast(self._tensor(name, x), None if y is None else self._tensor(name, y),
                                  None if ln is None else self._tensor(name, ln),
                                  non_blocking=True)

            return _Streamed(data, convert)
        x, y, ln = self._split(name, data, targets=targets)
        if lengths is not None:
            if ln is not None:
                raise DataError(expected("lengths", "lengths given once", "both in data and lengths="))
            ln = lengths
        xt = self._tensor(f"{name} X", x)
        yt = None if y is None else self._tensor(f"{name} y", y)
        lt = None if ln is None else self._tensor(f"{name} lengths", ln)
        n = xt.shape[0] if xt.ndim else 0
        if n == 0:
            raise DataError(expected(f"{name} X", "at least one row", tuple(xt.shape)))
        if yt is not None and (yt.ndim == 0 or yt.shape[0] != n):
            raise ShapeError(expected(f"{name} y", f"{n} rows like X", tuple(yt.shape)))
        if lt is not None:
            self._check_lengths_accepted(name, lt)
            if lt.ndim != 1 or lt.shape[0] != n or lt.is_floating_point():
                raise ShapeError(expected(f"{name} lengths", f"({n},) integers", tuple(lt.shape)))
            t_max = xt.shape[1] if xt.ndim > 1 else 1
            if bool((lt < 1).any()) or bool((lt > t_max).any()):
                raise DataError(expected(f"{name} lengths", f"values in [1, {t_max}]",
                                         f"[{int(lt.min())}, {int(lt.max())}]"))
        check_finite(f"{name} X", xt)
        if yt is not None:
            check_finite(f"{name} y", yt)
        return _InMemory(*self._cast(xt, yt, lt))

    # -- public API --------------------------------------------------------------------
    def fit(self, train_data: Any, val_data: Any = None, *,
            resume_from: str | os.PathLike[str] | None = None) -> History:
        """Train for ``config.epochs`` epochs (fewer if a callback stops it).

        Args:
            train_data: (X, y), (X, y, lengths), a Dataset or a DataLoader.
            val_data: the same forms; adds ``val_loss`` and ``val_<metric>`` to the History.
            resume_from: a checkpoint written by :meth:`save_checkpoint` (or ModelCheckpoint):
                model, optimizer, schedule, callbacks, History and RNG states are restored and
                training continues after its epoch, ending exactly where an uninterrupted run
                would.

        Returns:
            the History (also ``self.history``).
        """
        cfg = self.config
        train = self._as_data("train_data", train_data)
        val = None if val_data is None else self._as_data("val_data", val_data)
        if cfg.seed is not None:
            seed_everything(cfg.seed, deterministic=cfg.deterministic)
            self._shuffle_gen.manual_seed(cfg.seed)
        else:
            self._shuffle_gen.manual_seed(int(torch.randint(0, 2**62, (1,))))
        self._start_schedule()
        self.history = History()
        self.epoch = 0
        self.stop_training = False
        ckpt = None
        if resume_from is not None:
            ckpt = load_checkpoint(resume_from)
            self._load_training_state(ckpt)
        self._call("on_fit_begin", start_epoch=self.epoch, epochs=cfg.epochs,
                   resumed=ckpt is not None)
        if ckpt is not None:
            self._load_callback_states(ckpt["callbacks"])
            restore_rng_state(ckpt["rng"])
            self._shuffle_gen.set_state(ckpt["rng"]["shuffle"])
        completed = False
        try:
            for epoch in range(self.epoch + 1, cfg.epochs + 1):
                if self.stop_training:
                    break
                self._run_epoch(epoch, train, val)
            completed = True
        finally:
            self._call("on_fit_end", completed=completed)
        return self.history

    def _run_epoch(self, epoch: int, train: _Data, val: _Data | None) -> None:
        cfg = self.config
        t0 = time.perf_counter()
        row = self.history.new_epoch(epoch)
        lr = float(self.optimizer.param_groups[0]["lr"])
        self.model.train()
        self._call("on_epoch_begin", epoch=epoch, n_batches=train.num_batches(cfg.batch_size))
        collect = cfg.train_metrics and bool(self.metrics)
        res = self._loop.train_epoch(self, train, collect=collect)
        if res.count == 0 or res.loss_sum is None:
            raise DataError(expected("train_data", "at least one batch", "an empty iterable"))
        sums = [res.loss_sum.float()]
        if res.clipped is not None:
            sums.append(res.clipped.float())
        synced = torch.stack(sums).tolist()  # the epoch's one host sync
        row["loss"] = synced[0] / res.count
        if collect:
            row.update(self._metric_values(res.preds, res.targets))
        if val is not None:
            vres = self._loop.eval_pass(self, val, with_loss=True, collect=bool(self.metrics))
            row["val_loss"] = _mean_loss(vres, "val_data")
            row.update({f"val_{k}": v
                        for k, v in self._metric_values(vres.preds, vres.targets).items()})
        row["lr"] = lr
        row["clipped_steps"] = int(synced[1]) if res.clipped is not None else 0
        row["epoch_time"] = time.perf_counter() - t0
        self.epoch = epoch
        step_scheduler(self.scheduler, self._monitored(row) if cfg.schedule == "plateau" else None)
        self._call("on_epoch_end", epoch=epoch, logs=row)

    def _monitored(self, row: dict[str, Any]) -> float | None:
        monitor = self.config.monitor
        if monitor in row:
            return float(row[monitor])
        fallback = monitor.removeprefix("val_")
        if fallback in row:
            if monitor not in self._warned:
                self._warned.add(monitor)
                logger.warning("schedule='plateau' monitors %r, which is not recorded (no "
                               "validation data); using %r", monitor, fallback)
            return float(row[fallback])
        return None

    def _metric_values(self, preds: list[torch.Tensor], targets: list[torch.Tensor]) -> dict[str, float]:
        if not self.metrics:
            return {}
        p = _concat(preds).float()
        t = _concat(targets)
        return {name: call(p, t) for name, call in self._metric_calls.items()}

    def evaluate(self, data: Any) -> dict[str, float]:
        """Loss and metrics on ``data`` ((X, y[, lengths]), a Dataset or a DataLoader), with the
        model in eval mode: ``{"loss": ..., "<metric>": ...}``."""
        d = self._as_data("data", data)
        with _eval_mode(self.model):
            res = self._loop.eval_pass(self, d, with_loss=True, collect=bool(self.metrics))
        out = {"loss": _mean_loss(res, "data")}
        out.update(self._metric_values(res.preds, res.targets))
        return out

    def predict(self, data: Any, *, lengths: Any = None) -> torch.Tensor:
        """Model outputs for ``data`` (X, a tuple whose first element is X, a Dataset or a
        DataLoader), in eval mode, as one CPU tensor. Outputs of differing lengths along dim 1
        (per-batch padding from a DataLoader) are right-padded with NaN."""
        d = self._as_data("data", data, targets=False, lengths=lengths)
        with _eval_mode(self.model):
            res = self._loop.eval_pass(self, d, with_loss=False, collect=True)
        out = _concat(res.preds)
        return out.to(self._dtype) if out.is_floating_point() else out  # undo autocast's half

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume exactly (see :mod:`rnnkit.training.checkpoint`)."""
        try:
            config = self.config.to_dict()
        except ConfigError:
            config = None
        return {
            "epoch": self.epoch,
            "stop_training": self.stop_training,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "callbacks": {key: cb.state_dict() for key, cb in self._callback_keys().items()},
            "history": self.history.state_dict(),
            "rng": {**capture_rng_state(), "shuffle": self._shuffle_gen.get_state()},
            "config": config,
        }

    def save_checkpoint(self, path: str | os.PathLike[str],
                        state: dict[str, Any] | None = None) -> Path:
        """Write a resumable checkpoint atomically; returns its path."""
        return save_checkpoint(self.checkpoint_state() if state is None else state, path)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Load weights, optimizer, schedule, History and epoch from a checkpoint (to inspect or
        use a saved model; use ``fit(..., resume_from=path)`` to continue training).
        Returns the raw checkpoint dict."""
        ckpt = load_checkpoint(path)
        if self.scheduler is None and ckpt.get("scheduler") is not None:
            self._start_schedule()
        self._load_training_state(ckpt)
        return ckpt

    def _load_training_state(self, ckpt: dict[str, Any]) -> None:
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if (ckpt["scheduler"] is None) != (self.scheduler is None):
            raise ConfigError(expected("schedule", "the schedule the checkpoint was trained with",
                                       self.config.schedule))
        if self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        if self.scaler is not None and ckpt.get("scaler") is not None:
            self.scaler.load_state_dict(ckpt["scaler"])
        self.history.load_state_dict(ckpt["history"])
        self.epoch = int(ckpt["epoch"])
        self.stop_training = bool(ckpt.get("stop_training", False))
        stored = ckpt.get("config")
        if stored is not None and not callable(self.config.loss):
            current = self.config.to_dict()
            changed = sorted(k for k in current if k != "epochs" and stored.get(k) != current[k])
            if changed:
                warnings.warn(f"resuming with a config that differs from the checkpoint's in "
                              f"{changed}; the run will not match an uninterrupted one",
                              RnnkitWarning, stacklevel=3)

    def _callback_keys(self) -> dict[str, Callback]:
        keys: dict[str, Callback] = {}
        for cb in self.callbacks:
            base, k, i = type(cb).__name__, type(cb).__name__, 0
            while k in keys:
                i += 1
                k = f"{base}_{i}"
            keys[k] = cb
        return keys

    def _load_callback_states(self, states: dict[str, Any]) -> None:
        for key, cb in self._callback_keys().items():
            if key in states:
                cb.load_state_dict(states[key])
            else:
                logger.warning("checkpoint has no state for callback %s; it starts fresh", key)


class _StandardLoop:
    """Whole-sequence training: one optimizer step per batch."""

    def train_epoch(self, trainer: Trainer, data: _Data, *, collect: bool) -> PassResult:
        cfg, opt, loss_fn = trainer.config, trainer.optimizer, trainer.loss_fn
        total: torch.Tensor | None = None
        clipped: torch.Tensor | None = None
        count = 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        hooks = bool(trainer._batch_hooks)
        for i, (x, y, lengths) in enumerate(data.batches(cfg.batch_size, cfg.shuffle,
                                                          trainer._shuffle_gen)):
            opt.zero_grad(set_to_none=True)
            with trainer.autocast():
                out = trainer.forward(x, lengths)
                loss = loss_fn(out, y)  # type: ignore[arg-type]
            was_clipped = trainer.backward_step(loss)
            n = x.shape[0]
            batch_loss = loss.detach().float()  # a no-op unless the loss came out in half
            total = batch_loss * n if total is None else total + batch_loss * n
            count += n
            if was_clipped is not None:
                clipped = was_clipped.long() if clipped is None else clipped + was_clipped
            if collect:
                preds.append(out.detach())
                targets.append(y)  # type: ignore[arg-type]
            if hooks:
                trainer.call_batch_hooks(batch=i, loss=batch_loss, batch_size=n)
        return PassResult(total, count, clipped, preds, targets)

    @torch.no_grad()
    def eval_pass(self, trainer: Trainer, data: _Data, *, with_loss: bool,
                  collect: bool) -> PassResult:
        total: torch.Tensor | None = None
        count = 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        for x, y, lengths in data.batches(trainer.eval_batch_size, False, trainer._shuffle_gen):
            with trainer.autocast():
                out = trainer.forward(x, lengths)
                if with_loss:
                    batch_loss = trainer.loss_fn(out, y).detach().float() * x.shape[0]  # type: ignore[arg-type]
                    total = batch_loss if total is None else total + batch_loss
            count += x.shape[0]
            if collect:
                preds.append(out)
                if y is not None:
                    targets.append(y)
        return PassResult(total, count, None, preds, targets)


def _mean_loss(res: PassResult, name: str) -> float:
    if res.loss_sum is None or res.count == 0:
        raise DataError(expected(name, "at least one batch", "an empty iterable"))
    return float(res.loss_sum) / res.count


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _concat(chunks: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-batch outputs along dim 0 on the CPU, right-padding dim 1 with NaN (or
    0 for integer outputs) when batches differ there."""
    if not chunks:
        return torch.empty(0)
    chunks = [c.detach().cpu() for c in chunks]
    if len(chunks) == 1:
        return chunks[0]
    if chunks[0].ndim >= 2 and len({c.shape[1:] for c in chunks}) > 1:
        t_max = max(c.shape[1] for c in chunks)
        fill = math.nan if chunks[0].is_floating_point() else 0
        padded = []
        for c in chunks:
            if c.shape[1] < t_max:
                pad = c.new_full((c.shape[0], t_max - c.shape[1], *c.shape[2:]), fill)
                c = torch.cat([c, pad], dim=1)
            padded.append(c)
        chunks = padded
    return torch.cat(chunks, dim=0)
