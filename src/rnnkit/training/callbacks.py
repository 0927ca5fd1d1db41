"""The stock callbacks: early stopping, checkpoints, a wall-clock budget, loggers.

The hook protocol (:class:`Callback`, every hook a no-op taking ``(trainer, **context)``, and
the context each hook receives) lives in :mod:`rnnkit.training.protocol`; the progress display
in :mod:`rnnkit.training.progress`. Callbacks read ``trainer.history`` and stop training by
setting ``trainer.stop_training = True``; nothing raises to stop.

Example:
    >>> class PrintLR(Callback):
    ...     def on_epoch_end(self, trainer, **context):
    ...         print(context["logs"]["lr"])
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, MissingDependencyError, RnnkitWarning
from rnnkit.training.checkpoint import atomic_write_bytes
from rnnkit.training.history import Mode, infer_mode
from rnnkit.training.progress import ProgressBar  # re-exported: it lived here
from rnnkit.training.protocol import Callback

if TYPE_CHECKING:
    from rnnkit.training.protocol import TrainerLike

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "JSONLogger",
    "MissingDependencyError",
    "ModelCheckpoint",
    "ProgressBar",
    "TensorBoard",
    "TimeBudget",
]

logger = logging.getLogger(__name__)


def _monitored_value(owner: str, logs: dict[str, Any], monitor: str, warned: set[str]) -> float:
    """``logs[monitor]``, falling back from ``val_x`` to ``x`` (with one warning) when the run
    has no validation data."""
    if monitor in logs:
        return float(logs[monitor])
    fallback = monitor.removeprefix("val_")
    if fallback != monitor and fallback in logs:
        if monitor not in warned:
            warned.add(monitor)
            warnings.warn(f"{owner}: {monitor!r} is not recorded (no validation data?); "
                          f"monitoring {fallback!r} instead", RnnkitWarning, stacklevel=3)
        return float(logs[fallback])
    raise ConfigError(expected(f"{owner}(monitor=...)", f"a key of the epoch row {sorted(logs)}",
                               monitor))


def _improved(current: float, best: float, mode: str, min_delta: float) -> bool:
    if math.isnan(current):
        return False
    if mode == "min":
        return current < best - min_delta
    return current > best + min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs in a row, and (``restore_best_weights``) put the best epoch's weights back at the end
    of ``fit``.

    With patience p and best epoch b, training stops at the end of epoch b + p.

    Args:
        monitor: a History key (``"val_loss"``; falls back to ``"loss"`` without validation).
        patience: epochs without improvement before stopping (>= 1).
        min_delta: the smallest change that counts as an improvement (>= 0).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        restore_best_weights: load the best epoch's weights when ``fit`` ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: Mode = "auto", restore_best_weights: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ConfigError(expected("patience", "an integer >= 1", patience))
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ConfigError(expected("min_delta", "a number >= 0", min_delta))
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = infer_mode(monitor, mode)
        self.restore_best_weights = bool(restore_best_weights)
        self._warned: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, Any] | None = None

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        self._reset()

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        epoch: int = context["epoch"]
        current = _monitored_value("EarlyStopping", context["logs"], self.monitor, self._warned)
        if _improved(current, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone()
                                     for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            logger.info("EarlyStopping: no improvement of %s for %d epochs; stopping at epoch %d "
                        "(best %.6g at epoch %d)", self.monitor, self.patience, epoch, self.best,
                        self.best_epoch)

    def on_fit_end(self, trainer: TrainerLike, **context: Any) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait = int(state["wait"])
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_weights = state["best_weights"]

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r})")


class TimeBudget(Callback):
    """Stop ``fit`` at the end of the epoch during which ``max_time`` seconds have passed.

    The trainer adds one itself for ``TrainerConfig(max_time=...)``. Epochs are never cut
    short, so every History row stays complete (validation included); the row of the last
    epoch gets ``stop_reason="max_time"`` when the budget ended the run before
    ``config.epochs``. The time spent is part of the checkpointed state, so a resumed run gets
    what was left of its budget.

    Args:
        max_time: the wall-clock budget in seconds (> 0), counted from the start of ``fit``.
    """

    def __init__(self, max_time: float) -> None:
        if (isinstance(max_time, bool) or not isinstance(max_time, (int, float))
                or not math.isfinite(max_time) or max_time <= 0):
            raise ConfigError(expected("max_time", "a finite number of seconds > 0", max_time))
        self.max_time = float(max_time)
        self.spent = 0.0  # seconds spent by earlier fits of a resumed run
        self._start = time.perf_counter()
        self._epochs: int | None = None

    def elapsed(self) -> float:
        """Seconds of the budget used so far."""
        return self.spent + time.perf_counter() - self._start

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        self.spent = 0.0
        self._start = time.perf_counter()
        self._epochs = context.get("epochs")

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        elapsed = self.elapsed()
        if elapsed < self.max_time or context["epoch"] == self._epochs:
            return
        trainer.stop_training = True
        trainer.history.record("stop_reason", "max_time")
        logger.info("TimeBudget: %.1f s spent of max_time=%g s; stopping after epoch %d",
                    elapsed, self.max_time, context["epoch"])

    def state_dict(self) -> dict[str, Any]:
        return {"spent": self.elapsed()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.spent = float(state["spent"])

    def __repr__(self) -> str:
        return f"TimeBudget(max_time={self.max_time:g})"


class ModelCheckpoint(Callback):
    """Write full training checkpoints (resumable with ``fit(..., resume_from=path)``) to
    ``dirpath/last.pt`` after every epoch and ``dirpath/best.pt`` when ``monitor`` improves.

    Writes are atomic (temp file in the same directory, fsync, ``os.replace``): a crash while
    writing leaves the previous file intact. Runs after the other callbacks, so the stored
    callback state (EarlyStopping's wait and best) is the end-of-epoch state.
    """

    runs_last: ClassVar[bool] = True

    def __init__(self, dirpath: str | os.PathLike[str], save_best: bool = True,
                 save_last: bool = True, monitor: str = "val_loss", mode: Mode = "auto") -> None:
        if not (save_best or save_last):
            raise ConfigError(expected("save_best/save_last", "at least one True", (save_best, save_last)))
        self.dirpath = Path(dirpath)
        self.save_best = bool(save_best)
        self.save_last = bool(save_last)
        self.monitor = monitor
        self.mode = infer_mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self._warned: set[str] = set()

    @property
    def best_path(self) -> Path:
        return self.dirpath / "best.pt"

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.pt"

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.dirpath.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        is_best = False
        if self.save_best:
            current = _monitored_value("ModelCheckpoint", context["logs"], self.monitor, self._warned)
            if _improved(current, self.best, self.mode, 0.0):
                self.best, self.best_epoch, is_best = current, context["epoch"], True
        if not (self.save_last or is_best):
            return
        state = trainer.checkpoint_state()  # after updating self.best, so it is included
        if self.save_last:
            trainer.save_checkpoint(self.last_path, state=state)
        if is_best:
            trainer.save_checkpoint(self.best_path, state=state)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])

    def __repr__(self) -> str:
        return f"ModelCheckpoint({str(self.dirpath)!r}, monitor={self.monitor!r})"


class CSVLogger(Callback):
    """Write the whole History as CSV after every epoch (atomically; one column per key that
    any row has, so a resumed run's file is complete)."""

    def __init__(self, path: str | os.PathLike[str], separator: str = ",") -> None:
        self.path = Path(path)
        self.separator = separator

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=trainer.history.keys(), delimiter=self.separator,
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(trainer.history.rows)
        atomic_write_bytes(self.path, buf.getvalue().encode("utf-8"))

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.path)!r})"


class JSONLogger(Callback):
    """Write the History as a JSON array after every epoch (atomically);
    read it back with :meth:`History.from_json`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        trainer.history.to_json(self.path)

    def __repr__(self) -> str:
        return f"JSONLogger({str(self.path)!r})"


class TensorBoard(Callback):
    """Log every numeric History key as a scalar per epoch to a TensorBoard event file.

    Needs the optional ``tensorboard`` package; constructing this callback without it raises
    :class:`~rnnkit.errors.MissingDependencyError`.
    """

    def __init__(self, log_dir: str | os.PathLike[str] = "runs") -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise MissingDependencyError(
                "TensorBoard callback: expected the optional 'tensorboard' package, which is not "
                "installed. Install it with `pip install tensorboard`, or drop the callback."
            ) from exc
        self._writer_cls = SummaryWriter
        self.log_dir = Path(log_dir)
        self._writer: Any = None

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        self._writer = self._writer_cls(log_dir=str(self.log_dir))

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        epoch = context["epoch"]
        for key, value in context["logs"].items():
            if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self._writer.add_scalar(key, value, epoch)
        self._writer.flush()

    def on_fit_end(self, trainer: TrainerLike, **context: Any) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __repr__(self) -> str:
        return f"TensorBoard({str(self.log_dir)!r})"

