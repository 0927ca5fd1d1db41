"""Weight initializers selectable by name.

The tutorials' defaults: input weights W_xh Glorot/Xavier uniform, recurrent weights W_hh
orthogonal (or identity for IRNN, Le et al. 2015), biases zero. Recurrent matrices of gated
cells hold one (H, H) block per gate; ``orthogonal`` and ``identity`` initialize each block on
its own, as Keras does, so every gate's recurrent matrix is orthogonal.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = ["INITIALIZERS", "Initializer", "init_blocks", "resolve_initializer"]

Initializer = Callable[[torch.Tensor], object]


def _identity(w: torch.Tensor) -> None:
    with torch.no_grad():
        w.zero_()
        n = min(w.shape)
        w[:n, :n] += torch.eye(n, dtype=w.dtype, device=w.device)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": nn.init.xavier_uniform_,
    "xavier_uniform": nn.init.xavier_uniform_,
    "glorot_normal": nn.init.xavier_normal_,
    "xavier_normal": nn.init.xavier_normal_,
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "orthogonal": nn.init.orthogonal_,
    "identity": _identity,
    "zeros": nn.init.zeros_,
    "ones": nn.init.ones_,
    "uniform": lambda w: nn.init.uniform_(w, -0.05, 0.05),
    "normal": lambda w: nn.init.normal_(w, 0.0, 0.05),
}


def resolve_initializer(name: str | Initializer, argument: str) -> Initializer:
    """Look up an initializer by name (or pass a callable through); ``argument`` names the
    constructor argument in the error message."""
    if callable(name):
        return name
    if isinstance(name, str) and name.lower() in INITIALIZERS:
        return INITIALIZERS[name.lower()]
    raise ConfigError(expected(argument, f"a callable or one of {sorted(INITIALIZERS)}", name))


def init_blocks(weight: torch.Tensor, num_blocks: int, init: Initializer) -> None:
    """Initialize ``weight`` (num_blocks * H, ...) one (H, ...) block at a time, in place."""
    with torch.no_grad():
        for block in weight.chunk(num_blocks, dim=0):
            init(block)
