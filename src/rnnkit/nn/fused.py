"""The fused backend: PyTorch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the standard configurations (tanh or relu SimpleRNN, LSTM, reset-after GRU, no layer
norm, no recurrent dropout, DropConnect or zoneout) with rnnkit's single-bias parameters and
batch-first states.

Variable-length batches do not go through packed sequences: on the CPU, PyTorch's backward
through a ``PackedSequence`` grows with T^2 (a bidirectional LSTM(64), batch 16, T=1344: 7 s
against 0.12 s unpadded). Each layer and direction is instead one call of the unpacked kernel
on the padded batch (:func:`run_padded`), exact because a recurrence is causal: the outputs
before a sequence's end do not depend on its padding, and they are zeroed after it. The final
``h`` is the output at the last real step; the LSTM's ``c``, which no output carries, is held at
padded steps by one more input column, 1 at padded steps, whose weights saturate the forget gate
to exactly 1 and the input gate to exactly 0 (c' = 1*c + 0*g = c, and both gates' derivatives
are exactly 0 there). The backward direction runs the same way on each sequence reversed
within its length, which is post-padded again. Pre-padded batches are shifted to post-padding
and back by the caller. The cost is the unpadded batch's, linear in T. On a GPU, packed
sequences are kept: cuDNN runs them natively (untimed here: no GPU was measured).
"""

from __future__ import annotations

import torch
from torch import _VF
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.kernels import TorchKernel, kernels_for

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "flat_weights", "run_fused",
           "run_padded", "unfusable_reason"]


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

    Without lengths the whole stack is one kernel call. With lengths, on the CPU, each layer
    and direction is one kernel call on the padded batch (:func:`run_padded`), with
    ``dropout`` between layers in training as PyTorch's kernel applies it; on a GPU, cuDNN
    runs packed sequences natively (not measured here), so they are kept there.
    """
    weights = [w for cell in cells for w in flat_weights(cell)]
    kernel = _torch_kernel(cells[0]).function(cells[0])  # a torch._VF function
    hx = state if len(state) == 2 else state[0]
    if lengths is None:
        result = kernel(x, hx, weights, True, num_layers, dropout, training, bidirectional, True)
        return result[0], tuple(result[1:])
    if x.device.type != "cpu":
        return _run_packed(kernel, weights, x, state, lengths, num_layers=num_layers,
                           bidirectional=bidirectional, dropout=dropout, training=training)
    D = 2 if bidirectional else 1
    B, T, _ = x.shape
    lengths = lengths.to(device=x.device, dtype=torch.long)
    rev = None
    if bidirectional:  # index reading each sequence backwards within its length (B, T)
        steps = torch.arange(T, device=x.device)
        rev = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    layer_in = x
    finals: list[tuple[torch.Tensor, ...]] = []  # per layer and direction: S x (B, H)
    for layer in range(num_layers):
        parts = []
        for d in range(D):
            k = layer * D + d
            w = weights[4 * k: 4 * k + 4]
            hx = tuple(s[k] for s in state)  # S x (B, H)
            if d == 0:
                out, fin = run_padded(kernel, w, layer_in, hx, lengths, training=training)
            else:  # reversed within its length: post-padded again; the padding stays put
                out, fin = run_padded(kernel, w, _take_steps(layer_in, rev), hx, lengths,
                                      training=training)
                out = _take_steps(out, rev)
            parts.append(out)
            finals.append(fin)
        layer_in = parts[0] if D == 1 else torch.cat(parts, dim=-1)  # (B, T, D*H)
        if training and dropout > 0 and layer < num_layers - 1:
            layer_in = F.dropout(layer_in, dropout, training=True)
    final = tuple(torch.stack([f[i] for f in finals]) for i in range(len(state)))  # (L*D, B, H)
    return layer_in, final


def run_padded(
    kernel,
    weights: list[torch.Tensor],
    x: torch.Tensor,
    state: tuple[torch.Tensor, ...],
    lengths: torch.Tensor,
    *,
    training: bool = False,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """One layer, one direction of a post-padded batch in one call of PyTorch's kernel.

    Args:
        kernel: a ``torch._VF`` function (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``).
        weights: ``[w_ih, w_hh, b_ih, b_hh]`` in PyTorch's layout (:func:`flat_weights`).
        x: (B, T, I), sequence b real on its first ``lengths[b]`` steps.
        state: S x (B, H), the initial state (S = 2 for the LSTM's (h, c)).
        lengths: (B,) integers in [1, T].

    Returns the outputs (B, T, H), zero at padded steps, and the final state S x (B, H), each
    sequence's after its last real step (see the module doc for why this is exact). Padded
    steps of ``x`` are read as zeros, whatever they hold, and get a zero gradient.

    Example::

        out, (h, c) = run_padded(torch._VF.lstm, flat_weights(cell), x, (h0, c0), lengths)
    """
    B, T, _ = x.shape
    real = torch.arange(T, device=x.device) < lengths[:, None]  # (B, T) bool
    x = torch.where(real.unsqueeze(-1), x, x.new_zeros(()))  # (B, T, I): padding read as 0
    is_lstm = len(state) == 2
    if is_lstm:  # one more input feature, 1 at padded steps, that holds c there
        x = torch.cat([x, (~real).to(x.dtype).unsqueeze(-1)], dim=-1)  # (B, T, I+1)
        weights = [torch.cat([weights[0], _hold_column(weights[0])], dim=1), *weights[1:]]
    hx = tuple(s.unsqueeze(0) for s in state)  # S x (1, B, H)
    result = kernel(x, hx if is_lstm else hx[0], weights, True, 1, 0.0, training, False, True)
    out = torch.where(real.unsqueeze(-1), result[0], result[0].new_zeros(()))  # (B, T, H)
    last = (lengths - 1).view(B, 1, 1).expand(-1, 1, out.shape[-1])  # (B, 1, H)
    h = out.gather(1, last).squeeze(1)  # (B, H): the output at each last real step
    return out, ((h, result[2][0]) if is_lstm else (h,))


def _hold_column(w_ih: torch.Tensor) -> torch.Tensor:
    """(4H, 1) input weights that saturate the LSTM's gates (i, f, g, o) to i = 0, f = 1.

    sqrt(max) of the dtype: sigmoid(-big) underflows to exactly 0 and sigmoid(big) rounds to
    exactly 1 in every float dtype, and big plus the step's finite preactivation stays finite.
    """
    H = w_ih.shape[0] // 4
    big = torch.finfo(w_ih.dtype).max ** 0.5
    column = w_ih.new_zeros(4 * H, 1)
    column[:H] = -big  # input gate: 0
    column[H:2 * H] = big  # forget gate: 1
    return column


def _run_packed(kernel, weights, x, state, lengths, *, num_layers, bidirectional, dropout,
                training):
    """The whole stack on a PackedSequence (the GPU path; same contract as run_fused)."""
    T = x.shape[1]
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    hx = tuple(s.index_select(1, packed.sorted_indices) for s in state)  # S x (L*D, B, H)
    result = kernel(packed.data, packed.batch_sizes, hx if len(hx) == 2 else hx[0], weights,
                    True, num_layers, dropout, training, bidirectional)
    out = PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices,
                         packed.unsorted_indices)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # (B, T, D*H)
    return out, tuple(s.index_select(1, packed.unsorted_indices) for s in result[1:])


def _take_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x`` (B, T, F) with step t of row b taken from step ``index[b, t]``."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
