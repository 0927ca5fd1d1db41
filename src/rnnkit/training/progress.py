"""Progress of ``fit``, on stderr: a live rich bar for terminals, one line per epoch for logs.

``TrainerConfig(progress=...)`` picks one and the trainer installs it (unless a progress
callback is passed to it already):

* ``"bar"``: :class:`ProgressBar`, a rich bar over the epochs (k/N, elapsed, ETA, the last
  epoch's metrics) and one over the running epoch's batches with the live training loss;
* ``"epochs"``: :class:`EpochLines`, one plain line per epoch, for logs and CI::

      epoch 3/10  loss 0.1234  val_loss 0.2345  0.8s

* ``"off"``: nothing;
* ``"auto"``: ``"bar"`` when stderr is a terminal (and the ``CI`` variable is unset), else
  ``"epochs"``.

Both read only what the hooks pass (the History row of each epoch), so they cost nothing per
batch except the bar's counter; the bar reads the batch loss (a device sync) at most five times
a second.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.training.config import PROGRESS_MODES, ProgressMode
from rnnkit.training.protocol import Callback

if TYPE_CHECKING:
    from rich.console import Console

    from rnnkit.training.protocol import TrainerLike

__all__ = ["PROGRESS_MODES", "EpochLines", "ProgressBar", "ProgressMode", "progress_callback"]

# History keys that are not metrics, left out of the displays
_NOT_METRICS = ("epoch", "epoch_time", "lr", "clipped_steps", "stop_reason")
_LOSS_REFRESH_S = 0.2  # the bar reads the batch loss (a device sync) at most this often


def _format_logs(logs: dict[str, Any]) -> str:
    """``key=value`` for the numeric keys of an epoch row (the bar's metrics column)."""
    parts = []
    for key, value in logs.items():
        if key in ("epoch", "epoch_time") or not isinstance(value, (int, float)):
            continue
        if key == "clipped_steps" and not value:
            continue
        parts.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def _terminal() -> bool:
    """True when stderr is an interactive terminal and ``CI`` is not set."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class ProgressBar(Callback):
    """A rich progress bar on stderr over epochs with ETA and the latest epoch's metrics
    (optionally a second bar over the batches of the running epoch, with the live loss).

    Silent when stderr is not a terminal or the ``CI`` environment variable is set, unless
    ``enabled=True``.

    Args:
        enabled: force on/off; None decides from the terminal and ``CI``.
        per_batch: also show the batches of the running epoch and the training loss.
        console: the rich Console to draw on (default: stderr; tests pass one writing to a
            buffer).
    """

    def __init__(self, enabled: bool | None = None, per_batch: bool = False,
                 console: Console | None = None) -> None:
        self.enabled = enabled
        self.per_batch = bool(per_batch)
        self.console = console
        self._progress: Any = None
        self._epoch_task: Any = None
        self._batch_task: Any = None
        self._loss_shown_at = 0.0

    @staticmethod
    def auto_enabled() -> bool:
        """True when stderr is an interactive terminal and ``CI`` is not set."""
        return _terminal()

    @property
    def active(self) -> bool:
        return self._progress is not None

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        if not (self.auto_enabled() if self.enabled is None else self.enabled):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
            console=self.console if self.console is not None else Console(stderr=True),
        )
        self._progress.start()
        self._epoch_task = self._progress.add_task(
            "epochs", total=context.get("epochs"), completed=context.get("start_epoch", 0),
            metrics="")

    def on_epoch_begin(self, trainer: TrainerLike, **context: Any) -> None:
        if self._progress is None or not self.per_batch:
            return
        if self._batch_task is not None:
            self._progress.remove_task(self._batch_task)
        self._batch_task = self._progress.add_task(
            f"epoch {context['epoch']}", total=context.get("n_batches"), metrics="")
        self._loss_shown_at = 0.0

    def on_batch_end(self, trainer: TrainerLike, **context: Any) -> None:
        if self._progress is None or self._batch_task is None:
            return
        now = time.perf_counter()
        if now - self._loss_shown_at < _LOSS_REFRESH_S or "loss" not in context:
            self._progress.advance(self._batch_task)
            return
        self._loss_shown_at = now
        loss = float(context["loss"])  # a device sync, at most every _LOSS_REFRESH_S
        self._progress.update(self._batch_task, advance=1, metrics=f"loss={loss:.4g}")

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._epoch_task, advance=1, metrics=_format_logs(context["logs"]))

    def on_fit_end(self, trainer: TrainerLike, **context: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._batch_task = None


class EpochLines(Callback):
    """One plain line per epoch on ``stream`` (default: stderr at the time of writing)::

        epoch 3/10  loss 0.1234  val_loss 0.2345  0.8s

    The training loss, then every other metric of the History row in its order, then the
    epoch's time; the line of an epoch after which a callback stopped the run says why
    (``stopped: max_time``) when the History row records it.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream
        self._epochs: int | None = None

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        self._epochs = context.get("epochs")

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        logs: dict[str, Any] = context["logs"]
        parts = [f"epoch {context['epoch']}/{self._epochs}"]
        for key, value in logs.items():
            if key not in _NOT_METRICS and isinstance(value, (int, float)):
                parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
        if "epoch_time" in logs:
            parts.append(f"{logs['epoch_time']:.1f}s")
        line = "  ".join(parts)
        if logs.get("stop_reason") is not None:  # logs is the History row callbacks write to
            line += f"  stopped: {logs['stop_reason']}"
        stream = self.stream if self.stream is not None else sys.stderr
        print(line, file=stream, flush=True)

    def __repr__(self) -> str:
        return "EpochLines()" if self.stream is None else f"EpochLines(stream={self.stream!r})"


def progress_callback(mode: ProgressMode) -> Callback | None:
    """The progress callback for ``TrainerConfig.progress``: ``"auto"`` resolves to ``"bar"``
    on a terminal (stderr, ``CI`` unset), else to ``"epochs"``; ``"off"`` gives None."""
    if mode not in PROGRESS_MODES:
        raise ConfigError(expected("progress", f"one of {list(PROGRESS_MODES)}", mode))
    if mode == "auto":
        mode = "bar" if _terminal() else "epochs"
    if mode == "bar":
        return ProgressBar(enabled=True, per_batch=True)
    if mode == "epochs":
        return EpochLines()
    return None
