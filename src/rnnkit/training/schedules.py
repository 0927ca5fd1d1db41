"""Learning-rate schedules, stepped once per epoch after validation.

Let :math:`\\eta` be ``config.lr``, :math:`\\eta_{min}` ``config.min_lr``, :math:`e` the
0-based epoch index, :math:`E` ``config.epochs`` and :math:`W` ``config.warmup_epochs``.

==========  ===========================================================================
None        :math:`\\eta_e = \\eta`
"step"      :math:`\\eta_e = \\eta\\,\\gamma^{\\lfloor e / s \\rfloor}` (``step_gamma``,
            ``step_size``; ``torch.optim.lr_scheduler.StepLR``)
"cosine"    warm-up, :math:`e < W`: :math:`\\eta_e = \\eta\\,(e+1)/(W+1)`; then with
            :math:`p = \\min(1, (e-W)/(E-W))`:
            :math:`\\eta_e = \\eta_{min} + (\\eta-\\eta_{min})(1+\\cos\\pi p)/2`
            (``LambdaLR``; equals ``CosineAnnealingLR(T_max=E-W)`` after the warm-up)
"plateau"   multiply by ``plateau_factor`` when the monitored value (``val_loss``, or
            ``loss`` without validation data) has not improved for ``plateau_patience``
            epochs, never below :math:`\\eta_{min}` (``ReduceLROnPlateau``)
==========  ===========================================================================

Example:
    >>> import torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> sched = build_scheduler(opt, "cosine", epochs=4, warmup_epochs=1)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(round(opt.param_groups[0]["lr"], 4)); opt.step(); step_scheduler(sched, None)
    >>> lrs
    [0.5, 1.0, 0.75, 0.25]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau, StepLR

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = ["SCHEDULES", "Scheduler", "build_scheduler", "cosine_factor", "step_scheduler"]

SCHEDULES = (None, "plateau", "cosine", "step")
Scheduler = LRScheduler | ReduceLROnPlateau


def cosine_factor(epochs: int, warmup_epochs: int, lr: float, min_lr: float) -> Callable[[int], float]:
    """The multiplier of ``lr`` at 0-based epoch ``e`` for cosine annealing with linear warm-up
    (see the module table)."""
    floor = min_lr / lr if lr > 0 else 0.0
    span = max(1, epochs - warmup_epochs)

    def factor(e: int) -> float:
        if e < warmup_epochs:
            return (e + 1) / (warmup_epochs + 1)
        progress = min(1.0, (e - warmup_epochs) / span)
        return floor + (1.0 - floor) * (1.0 + math.cos(math.pi * progress)) / 2.0

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    schedule: Literal["plateau", "cosine", "step"] | None,
    *,
    epochs: int = 1,
    warmup_epochs: int = 0,
    min_lr: float = 0.0,
    step_size: int = 10,
    step_gamma: float = 0.1,
    plateau_factor: float = 0.1,
    plateau_patience: int = 5,
    plateau_mode: Literal["min", "max"] = "min",
) -> Scheduler | None:
    """Build the per-epoch scheduler named by ``schedule`` (None for a constant rate)."""
    if schedule is None:
        return None
    if schedule == "step":
        return StepLR(optimizer, step_size=step_size, gamma=step_gamma)
    if schedule == "cosine":
        lr = float(optimizer.param_groups[0]["lr"])
        return LambdaLR(optimizer, cosine_factor(epochs, warmup_epochs, lr, min_lr))
    if schedule == "plateau":
        return ReduceLROnPlateau(optimizer, mode=plateau_mode, factor=plateau_factor,
                                 patience=plateau_patience, min_lr=min_lr)
    raise ConfigError(expected("schedule", f"one of {list(SCHEDULES)}", schedule))


def step_scheduler(scheduler: Scheduler | None, monitored: float | None) -> None:
    """Advance ``scheduler`` by one epoch; ReduceLROnPlateau gets the monitored value."""
    if scheduler is None:
        return
    if isinstance(scheduler, ReduceLROnPlateau):
        if monitored is None:
            raise ConfigError(expected("schedule", "a monitored value for 'plateau'", None,
                                       "the monitored key is missing from the epoch's history row"))
        scheduler.step(monitored)
    else:
        scheduler.step()
