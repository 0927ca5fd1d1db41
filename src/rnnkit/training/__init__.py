"""rnnkit.training: the trainer every task shares.

* :class:`Trainer`: fit / evaluate / predict over any ``nn.Module``
  (:mod:`~rnnkit.training.trainer`), configured by a :class:`TrainerConfig`
  (:mod:`~rnnkit.training.config`), with the named losses of :mod:`~rnnkit.training.losses`
  and the data forms of :mod:`~rnnkit.training.data`.
* :class:`History`: the single record of a run (:mod:`~rnnkit.training.history`).
* Callbacks (the hook protocol in :mod:`~rnnkit.training.protocol`): :class:`EarlyStopping`,
  :class:`ModelCheckpoint`, :class:`TimeBudget`, :class:`CSVLogger`, :class:`JSONLogger`,
  :class:`TensorBoard` (:mod:`~rnnkit.training.callbacks`); progress on stderr,
  :class:`ProgressBar` and :class:`EpochLines` (:mod:`~rnnkit.training.progress`), which
  the trainer installs from ``TrainerConfig.progress``.
* Learning-rate schedules (:mod:`~rnnkit.training.schedules`), atomic checkpoints and exact
  resume (:mod:`~rnnkit.training.checkpoint`), seeding and device choice
  (:mod:`~rnnkit.training.seeding`), truncated BPTT (:mod:`~rnnkit.training.tbptt`).

Example:
    >>> import torch
    >>> from torch import nn
    >>> from rnnkit.training import EarlyStopping, Trainer, TrainerConfig
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(6, 1))
    >>> X, y = torch.randn(40, 3, 2), torch.randn(40, 1)
    >>> cfg = TrainerConfig(epochs=3, batch_size=8, lr=1e-2, seed=0, device="cpu")
    >>> trainer = Trainer(model, cfg, callbacks=[EarlyStopping(patience=2)])
    >>> history = trainer.fit((X[:32], y[:32]), val_data=(X[32:], y[32:]))
    >>> len(history["val_loss"])
    3
"""

from __future__ import annotations

from rnnkit.errors import MissingDependencyError
from rnnkit.training.callbacks import (
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    ModelCheckpoint,
    TensorBoard,
    TimeBudget,
)
from rnnkit.training.checkpoint import atomic_save, load_checkpoint, save_checkpoint
from rnnkit.training.config import OPTIMIZERS, TrainerConfig
from rnnkit.training.history import History
from rnnkit.training.losses import LOSSES, resolve_loss
from rnnkit.training.progress import EpochLines, ProgressBar
from rnnkit.training.protocol import Callback
from rnnkit.training.schedules import build_scheduler
from rnnkit.training.seeding import seed_everything, select_device
from rnnkit.training.tbptt import TBPTTLoop, detach_state
from rnnkit.training.trainer import Trainer

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "EpochLines",
    "History",
    "JSONLogger",
    "MissingDependencyError",
    "ModelCheckpoint",
    "ProgressBar",
    "TBPTTLoop",
    "TensorBoard",
    "TimeBudget",
    "Trainer",
    "TrainerConfig",
    "atomic_save",
    "build_scheduler",
    "detach_state",
    "load_checkpoint",
    "resolve_loss",
    "save_checkpoint",
    "seed_everything",
    "select_device",
]
