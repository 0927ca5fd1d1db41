"""What the trainer, its loops and its callbacks agree on, below all of them.

* :class:`Callback`: the hook protocol, every hook a no-op taking ``(trainer, **context)``;
* :class:`TrainerLike`: the part of :class:`~rnnkit.training.trainer.Trainer` that callbacks
  and loops use (a structural type: they never import the trainer);
* :class:`Loop` and :class:`PassResult`: how the trainer runs one pass over the data (the
  standard loop in :mod:`~rnnkit.training.trainer`, truncated BPTT in
  :mod:`~rnnkit.training.tbptt`).

The hooks and their keyword context (new context never breaks old callbacks):

==================  ==========================================================================
hook                context
==================  ==========================================================================
on_fit_begin        ``start_epoch`` (completed epochs, > 0 when resuming), ``epochs``,
                    ``resumed``
on_epoch_begin      ``epoch`` (1-based), ``n_batches`` (None when unknown)
on_batch_end        ``batch`` (0-based), ``loss`` (a detached 0-d tensor: calling ``.item()``
                    forces a device sync, so avoid it on hot paths), ``batch_size``
on_epoch_end        ``epoch``, ``logs`` (this epoch's History row, already complete)
on_fit_end          ``completed`` (False when ``fit`` is leaving on an exception)
==================  ==========================================================================

Callbacks read :attr:`TrainerLike.history` and stop training by setting
``trainer.stop_training = True`` (the trainer stops after the running epoch); nothing raises to
stop. A callback with state worth resuming returns it from :meth:`Callback.state_dict`, and the
trainer stores it in checkpoints. Callbacks with ``runs_last = True`` (ModelCheckpoint) run
after the others, so the checkpoint they write sees every other callback's end-of-epoch state.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import torch
from torch import nn

if TYPE_CHECKING:
    from rnnkit.training.config import TrainerConfig
    from rnnkit.training.data import _Data
    from rnnkit.training.history import History

__all__ = ["Callback", "Loop", "PassResult", "TrainerLike"]


class PassResult(NamedTuple):
    """What one pass over the data returns to the trainer (sums stay on the device)."""

    loss_sum: torch.Tensor | None  # Σ batch_loss * weight, 0-d
    count: int  # Σ weight (rows; rows × steps in TBPTT mode)
    clipped: torch.Tensor | None  # number of clipped steps, 0-d int64
    preds: list[torch.Tensor]  # per-batch predictions when collected
    targets: list[torch.Tensor]


class TrainerLike(Protocol):
    """The trainer as its callbacks and loops see it."""

    model: nn.Module
    config: TrainerConfig
    optimizer: torch.optim.Optimizer
    loss_fn: Callable[..., torch.Tensor]
    history: History
    stop_training: bool
    epoch: int
    _batch_hooks: list[Callable[..., None]]  # on_batch_end of the callbacks that define it
    _shuffle_gen: torch.Generator  # the seeded generator of the training order

    @property
    def eval_batch_size(self) -> int: ...

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor: ...

    def autocast(self) -> contextlib.AbstractContextManager[Any]: ...

    def backward_step(self, loss: torch.Tensor) -> torch.Tensor | None: ...

    def call_batch_hooks(self, **context: Any) -> None: ...

    def checkpoint_state(self) -> dict[str, Any]: ...

    def save_checkpoint(self, path: str | os.PathLike[str],
                        state: dict[str, Any] | None = None) -> Path: ...


class Loop(Protocol):
    """One epoch of training and one evaluation pass (the trainer's ``_loop``)."""

    def train_epoch(self, trainer: TrainerLike, data: _Data, *, collect: bool) -> PassResult: ...

    def eval_pass(self, trainer: TrainerLike, data: _Data, *, with_loss: bool,
                  collect: bool) -> PassResult: ...


class Callback:
    """Base class: every hook is a no-op taking ``(trainer, **context)``.

    Example:
        >>> class PrintLR(Callback):
        ...     def on_epoch_end(self, trainer, **context):
        ...         print(context["logs"]["lr"])
    """

    #: run after the callbacks without this flag (checkpoint writers)
    runs_last: ClassVar[bool] = False

    def on_fit_begin(self, trainer: TrainerLike, **context: Any) -> None:
        """Called once before the first epoch (after a resumed state is loaded)."""

    def on_epoch_begin(self, trainer: TrainerLike, **context: Any) -> None:
        """Called before each epoch's first batch; the epoch's History row exists already."""

    def on_batch_end(self, trainer: TrainerLike, **context: Any) -> None:
        """Called after each optimizer step (each TBPTT segment in TBPTT mode).

        The trainer skips this hook entirely for callbacks that do not override it.
        """

    def on_epoch_end(self, trainer: TrainerLike, **context: Any) -> None:
        """Called after validation, the schedule step and the History row are complete."""

    def on_fit_end(self, trainer: TrainerLike, **context: Any) -> None:
        """Called once when ``fit`` ends, also when it ends on an exception."""

    def state_dict(self) -> dict[str, Any]:
        """State to store in checkpoints (plain containers and tensors only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called after ``on_fit_begin``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
