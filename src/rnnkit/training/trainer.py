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

The shapes each named loss takes (prediction and target) are tabled in
:mod:`~rnnkit.training.losses`.

The pieces live beside this module: :mod:`~rnnkit.training.config` (:class:`TrainerConfig`),
:mod:`~rnnkit.training.losses` (the named losses), :mod:`~rnnkit.training.data` (the data
forms above, as batches), :mod:`~rnnkit.training.optimizers` (the optimizer and schedule) and
:mod:`~rnnkit.training.loop` (the standard epoch loop).

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
import logging
import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, RnnkitWarning
from rnnkit.training.callbacks import TimeBudget
from rnnkit.training.checkpoint import load_checkpoint, save_checkpoint
from rnnkit.training.config import OPTIMIZERS, TrainerConfig
from rnnkit.training.data import BatchConverter, _accepts_kwarg, _Data
from rnnkit.training.history import History
from rnnkit.training.loop import (
    StandardLoop,
    concat_outputs,
    eval_mode,
    intra_op_threads,
    mean_loss,
)
from rnnkit.training.losses import LOSSES, LossFn, MetricFn, _metric_caller, resolve_loss
from rnnkit.training.optimizers import build_optimizer, fresh_schedule
from rnnkit.training.progress import EpochLines, ProgressBar, progress_callback
from rnnkit.training.protocol import Callback, Loop, PassResult
from rnnkit.training.schedules import Scheduler, step_scheduler
from rnnkit.training.seeding import (
    capture_rng_state,
    restore_rng_state,
    seed_everything,
    select_device,
)
from rnnkit.training.tbptt import TBPTTLoop

if TYPE_CHECKING:
    from pathlib import Path

# TrainerConfig and OPTIMIZERS live in rnnkit.training.config, LOSSES and resolve_loss in
# rnnkit.training.losses, PassResult in rnnkit.training.protocol; they are re-exported here,
# where they were first defined.
__all__ = ["LOSSES", "OPTIMIZERS", "PassResult", "Trainer", "TrainerConfig", "resolve_loss"]

logger = logging.getLogger(__name__)

# config fields that do not change the numbers of a run: resuming with other values is fine
_RUN_ONLY_FIELDS = ("epochs", "max_time", "progress", "num_threads")

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
        callbacks: :class:`~rnnkit.training.callbacks.Callback` instances. The trainer adds
            a :class:`~rnnkit.training.callbacks.TimeBudget` for ``config.max_time`` and the
            progress display of ``config.progress`` (:mod:`rnnkit.training.progress`; not
            when a ProgressBar or EpochLines is passed here) after them.

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
        if config.max_time is not None:
            callbacks.append(TimeBudget(config.max_time))
        if not any(isinstance(cb, (ProgressBar, EpochLines)) for cb in callbacks):
            progress = progress_callback(config.progress)
            if progress is not None:
                callbacks.append(progress)
        self.callbacks: list[Callback] = ([cb for cb in callbacks if not cb.runs_last]
                                          + [cb for cb in callbacks if cb.runs_last])
        self._batch_hooks = [cb.on_batch_end for cb in self.callbacks
                             if type(cb).on_batch_end is not Callback.on_batch_end]

        self.optimizer = build_optimizer(self._params, config)
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
        self._loop: Loop = (StandardLoop() if config.tbptt_steps is None
                            else TBPTTLoop(config.tbptt_steps))

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, {self.config!r}, "
                f"loss={self.loss_name!r}, metrics={list(self.metrics)}, "
                f"callbacks={self.callbacks})")

    # -- building blocks ---------------------------------------------------------------
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
    def _as_data(self, name: str, data: Any, *, targets: bool = True,
                 lengths: Any = None) -> _Data:
        """Check ``data`` and wrap it as batches on this trainer's device and dtype (see
        :mod:`rnnkit.training.data`)."""
        converter = BatchConverter(device=self.device, dtype=self._dtype, loss_name=self.loss_name,
                                   model_name=type(self.model).__name__,
                                   accepts_lengths=self._accepts_lengths)
        return converter.as_data(name, data, targets=targets, lengths=lengths)

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
        with intra_op_threads(self.config.num_threads):
            return self._fit(train_data, val_data, resume_from)

    def _fit(self, train_data: Any, val_data: Any,
             resume_from: str | os.PathLike[str] | None) -> History:
        cfg = self.config
        train = self._as_data("train_data", train_data)
        val = None if val_data is None else self._as_data("val_data", val_data)
        if cfg.seed is not None:
            seed_everything(cfg.seed, deterministic=cfg.deterministic)
            self._shuffle_gen.manual_seed(cfg.seed)
        else:
            self._shuffle_gen.manual_seed(int(torch.randint(0, 2**62, (1,))))
        self.scheduler = fresh_schedule(self.optimizer, cfg)
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
            with eval_mode(self.model):  # no dropout of any kind in validation
                vres = self._loop.eval_pass(self, val, with_loss=True,
                                            collect=bool(self.metrics))
            row["val_loss"] = mean_loss(vres, "val_data")
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
        p = concat_outputs(preds).float()
        t = concat_outputs(targets)
        return {name: call(p, t) for name, call in self._metric_calls.items()}

    def evaluate(self, data: Any) -> dict[str, float]:
        """Loss and metrics on ``data`` ((X, y[, lengths]), a Dataset or a DataLoader), with the
        model in eval mode: ``{"loss": ..., "<metric>": ...}``."""
        d = self._as_data("data", data)
        with eval_mode(self.model):
            res = self._loop.eval_pass(self, d, with_loss=True, collect=bool(self.metrics))
        out = {"loss": mean_loss(res, "data")}
        out.update(self._metric_values(res.preds, res.targets))
        return out

    def predict(self, data: Any, *, lengths: Any = None) -> torch.Tensor:
        """Model outputs for ``data`` (X, a tuple whose first element is X, a Dataset or a
        DataLoader), in eval mode, as one CPU tensor. Outputs of differing lengths along dim 1
        (per-batch padding from a DataLoader) are right-padded with NaN."""
        d = self._as_data("data", data, targets=False, lengths=lengths)
        with eval_mode(self.model):
            res = self._loop.eval_pass(self, d, with_loss=False, collect=True)
        out = concat_outputs(res.preds)
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
            self.scheduler = fresh_schedule(self.optimizer, self.config)
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
            changed = sorted(k for k in current
                             if k not in _RUN_ONLY_FIELDS and stored.get(k, current[k]) != current[k])
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
            elif cb.state_dict():  # a stateless callback (a progress display) has none to miss
                logger.warning("checkpoint has no state for callback %s; it starts fresh", key)
