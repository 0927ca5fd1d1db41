"""The fused backend: PyTorch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the standard configurations (tanh or relu SimpleRNN, LSTM, reset-after GRU, no layer
norm, no recurrent dropout, DropConnect or zoneout) with rnnkit's single-bias parameters and
batch-first states. Variable-length batches go through packed sequences, so padded steps cost
nothing; pre-padded batches are shifted to post-padding and back.
"""

from __future__ import annotations

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.kernels import TorchKernel, kernels_for

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "flat_weights", "run_fused",
           "unfusable_reason"]


def unfusable_reason(cell: RecurrentCell) -> str | None:
    """Why ``cell`` cannot run on PyTorch's kernels (the option to name in a log), or None."""
    kernel = kernels_for(cell).torch
    if kernel is None:
        return f"cell={type(cell).__name__}"
    if cell.layer_norm:
        return "layer_norm=True"
    for name in ("recurrent_dropout", "weight_drop", "zoneout"):
        if getattr(cell, name):
            return f"{name}={getattr(cell, name)}"
    return kernel.unsupported(cell)


def flat_weights(cell: RecurrentCell) -> list[torch.Tensor]:
    """``[w_ih, w_hh, b_ih, b_hh]`` in PyTorch's layout from rnnkit's single-bias parameters."""
    return _torch_kernel(cell).flat_weights(cell)


def _torch_kernel(cell: RecurrentCell) -> TorchKernel:
    kernel = kernels_for(cell).torch
    if kernel is None:
        raise ConfigError(expected("cell", "a cell that PyTorch's kernels serve",
                                   Described(f"cell={type(cell).__name__}"),
                                   "run it with backend='loop'"))
    return kernel


# -------------------------------------------------------------------- the kernels by cell
def _single_bias(cell: RecurrentCell) -> list[torch.Tensor]:
    """One bias vector b: PyTorch adds b_ih + b_hh, so b_hh is zero."""
    return [cell.weight_ih, cell.weight_hh, cell.bias, torch.zeros_like(cell.bias)]


def _gru_weights(cell: RecurrentCell) -> list[torch.Tensor]:
    """The reset-after GRU's b_hn sits in the n third of PyTorch's b_hh (r, z, n)."""
    h = cell.hidden_size
    b_hh = torch.cat([cell.bias.new_zeros(2 * h), cell.recurrent_bias])  # (3H,)
    return [cell.weight_ih, cell.weight_hh, cell.bias, b_hh]


def _simple_rnn_function(cell: RecurrentCell):
    return _VF.rnn_relu if cell.activation_name == "relu" else _VF.rnn_tanh


def _simple_rnn_unsupported(cell: RecurrentCell) -> str | None:
    if cell.activation_name not in ("tanh", "relu"):
        return f"activation={cell.activation_name!r}"
    return None


def _gru_unsupported(cell: RecurrentCell) -> str | None:
    return None if cell.reset_after else "reset_after=False"


LSTM_KERNEL = TorchKernel(function=lambda cell: _VF.lstm, flat_weights=_single_bias,
                          onednn=True)
GRU_KERNEL = TorchKernel(function=lambda cell: _VF.gru, flat_weights=_gru_weights,
                         unsupported=_gru_unsupported)
SIMPLE_RNN_KERNEL = TorchKernel(function=_simple_rnn_function, flat_weights=_single_bias,
                                unsupported=_simple_rnn_unsupported)


def run_fused(
    cells: list[RecurrentCell],
    x: torch.Tensor,
    state: tuple[torch.Tensor, ...],
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
    lengths: torch.Tensor | None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """Run the whole stack on PyTorch's kernel.

    ``x`` (B, T, I) post-padded; ``state``: tuple of (L*D, B, H) tensors (PyTorch's layout,
    converted by the caller); ``lengths`` (B,) or None. Returns the last layer's output
    (B, T, D*H), zero at padded steps, and the final state as (L*D, B, H) tensors.
    """
    weights = [w for cell in cells for w in flat_weights(cell)]
    kernel = _torch_kernel(cells[0]).function(cells[0])  # a torch._VF function
    is_lstm = len(state) == 2
    hx = state if is_lstm else state[0]
    if lengths is None:
        result = kernel(x, hx, weights, True, num_layers, dropout, training, bidirectional, True)
        return result[0], tuple(result[1:])
    B, T, _ = x.shape
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order = packed.sorted_indices
    hx = tuple(s.index_select(1, order) for s in state) if is_lstm else hx.index_select(1, order)
    result = kernel(packed.data, packed.batch_sizes, hx, weights, True, num_layers, dropout,
                    training, bidirectional)
    out_packed = PackedSequence(result[0], packed.batch_sizes, order, packed.unsorted_indices)
    out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)  # (B, T, D*H)
    final = tuple(s.index_select(1, packed.unsorted_indices) for s in result[1:])
    return out, final
