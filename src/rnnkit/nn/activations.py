"""Activation functions selectable by name (or any callable)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = ["ACTIVATIONS", "Activation", "resolve_activation"]

Activation = Callable[[torch.Tensor], torch.Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "hard_tanh": F.hardtanh,
    "softsign": F.softsign,
    "identity": lambda x: x,
}


def resolve_activation(activation: str | Activation) -> tuple[str, Activation]:
    """Return ``(name, function)`` for an activation given by name or as a callable.

    A callable keeps its ``__name__`` (or ``"custom"``) as its name; layers with a callable
    activation run on the reference loop, since no fused kernel knows it.
    """
    if callable(activation):
        return getattr(activation, "__name__", "custom"), activation
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        name = activation.lower()
        return name, ACTIVATIONS[name]
    raise ConfigError(
        expected("activation", f"a callable or one of {sorted(ACTIVATIONS)}", activation)
    )
