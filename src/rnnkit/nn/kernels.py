"""The table from cell class to the fast kernels that can run it.

The runner (:class:`~rnnkit.nn.recurrent.Recurrent`) never tests a cell's type: it asks this
table. Each cell module registers its cell class once, beside the class (lstm.py)::

    register_kernels(LSTMCell, torch=TORCH_KERNEL, rnnkit=RNNKIT_KERNEL)  # fused.py, backends/

so the import graph only points down: cell modules import the runner and the kernel modules,
the kernel modules import the base cell and this table, never a concrete cell. A cell class
without an entry (a user's own cell, or a subclass of a built-in cell, whose step may differ)
runs on the per-step loop (:func:`rnnkit.nn.loop.run_loop`).

Two kernels per cell class, both optional:

* ``torch``: a :class:`TorchKernel`, PyTorch's own recurrent kernel (oneDNN on CPU, cuDNN on
  GPU), driven by :func:`rnnkit.nn.fused.run_fused`;
* ``rnnkit``: a :class:`RnnkitKernel`, rnnkit's hand-written BPTT
  (:func:`rnnkit.nn.backends.run_bptt`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell, State

__all__ = ["CellKernels", "RnnkitKernel", "TorchKernel", "kernels_for", "register_kernels"]

Reason = Callable[[RecurrentCell], "str | None"]


def _serves_all(cell: RecurrentCell) -> str | None:
    return None


@dataclass(frozen=True)
class TorchKernel:
    """How to run a cell class on PyTorch's kernel.

    Attributes:
        function: ``cell -> torch._VF`` function (``_VF.lstm``, ``_VF.gru``, ...).
        flat_weights: ``cell -> [w_ih, w_hh, b_ih, b_hh]`` in PyTorch's layout.
        unsupported: ``cell -> reason | None``: an option of this cell the kernel lacks (the
            option to name in a log), beyond the regularizers every PyTorch kernel lacks.
        onednn: the CPU kernel is oneDNN's (PyTorch has one for the LSTM only), so it beats
            rnnkit's kernel on full batches.
    """

    function: Callable[[RecurrentCell], Callable[..., Any]]
    flat_weights: Callable[[RecurrentCell], list[torch.Tensor]]
    unsupported: Reason = _serves_all
    onednn: bool = False


@dataclass(frozen=True)
class RnnkitKernel:
    """How to run a cell class on rnnkit's BPTT kernels.

    Attributes:
        run: ``(cell, xp (T, B, G*H), w_hh, state, h_mask, keep) -> (out (B, T, H), state)``,
            see :func:`rnnkit.nn.backends.run_bptt`, which draws the masks and calls it.
        unsupported: ``cell -> reason | None``: an option of this cell the kernel lacks.
    """

    run: Callable[..., tuple[torch.Tensor, State]]
    unsupported: Reason = _serves_all


@dataclass(frozen=True)
class CellKernels:
    """The kernels of one cell class (None where it has none)."""

    torch: TorchKernel | None = None
    rnnkit: RnnkitKernel | None = None


_NONE = CellKernels()
_TABLE: dict[type[RecurrentCell], CellKernels] = {}


def register_kernels(cell_class: type[RecurrentCell], *, torch: TorchKernel | None = None,
                     rnnkit: RnnkitKernel | None = None) -> None:
    """Declare the kernels that run ``cell_class`` (exactly that class, not its subclasses)."""
    if not (isinstance(cell_class, type) and issubclass(cell_class, RecurrentCell)):
        raise ConfigError(expected("cell_class", "a RecurrentCell subclass", cell_class))
    _TABLE[cell_class] = CellKernels(torch=torch, rnnkit=rnnkit)


def kernels_for(cell: RecurrentCell) -> CellKernels:
    """The kernels registered for ``type(cell)``; none for unregistered classes."""
    return _TABLE.get(type(cell), _NONE)
