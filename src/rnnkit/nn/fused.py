"""The fused backend: PyTorch's own recurrent kernels (oneDNN on CPU, cuDNN on GPU).

It serves the standard configurations (tanh or relu SimpleRNN, LSTM, reset-after GRU, no layer
norm, no recurrent dropout, DropConnect or zoneout) with rnnkit's single-bias parameters and
batch-first states.

Variable-length batches do not go through packed sequences: on the CPU, PyTorch's backward
through a ``PackedSequence`` grows with T^2 (a bidirectional LSTM(64), batch 16, T=1344: 7 s
against 0.12 s unpadded). They run in time segments instead (:func:`run_segments`): the
sequences sorted by length, time cut at their distinct lengths, and each segment run on the
unpacked kernel over the sequences still going, the state carried from one segment to the next
and each sequence's final state kept when it ends. That is linear in T, and exact: no padded
step is computed. The backward direction runs the same way on each sequence reversed within
its length, which is post-padded again. Pre-padded batches are shifted to post-padding and back
by the caller.
"""

from __future__ import annotations

import torch
from torch import _VF
from torch.nn import functional as F

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.kernels import TorchKernel, kernels_for

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "flat_weights", "run_fused",
           "run_segments", "segment_count", "unfusable_reason"]


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

    Without lengths the whole stack is one kernel call. With lengths each layer and direction
    runs in segments (:func:`run_segments`), with ``dropout`` between layers in training as
    PyTorch's kernel applies it.
    """
    weights = [w for cell in cells for w in flat_weights(cell)]
    kernel = _torch_kernel(cells[0]).function(cells[0])  # a torch._VF function
    if lengths is None:
        hx = state if len(state) == 2 else state[0]
        result = kernel(x, hx, weights, True, num_layers, dropout, training, bidirectional, True)
        return result[0], tuple(result[1:])
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
                out, fin = run_segments(kernel, w, layer_in, hx, lengths, training=training)
            else:  # reversed within its length: post-padded again; the padding stays put
                out, fin = run_segments(kernel, w, _take_steps(layer_in, rev), hx, lengths,
                                        training=training)
                out = _take_steps(out, rev)
            parts.append(out)
            finals.append(fin)
        layer_in = parts[0] if D == 1 else torch.cat(parts, dim=-1)  # (B, T, D*H)
        if training and dropout > 0 and layer < num_layers - 1:
            layer_in = F.dropout(layer_in, dropout, training=True)
    final = tuple(torch.stack([f[i] for f in finals]) for i in range(len(state)))  # (L*D, B, H)
    return layer_in, final


def segment_count(lengths: torch.Tensor) -> int:
    """How many kernel calls :func:`run_segments` makes for ``lengths`` (B,): their distinct
    values."""
    return int(torch.unique(lengths).numel())


def run_segments(
    kernel,
    weights: list[torch.Tensor],
    x: torch.Tensor,
    state: tuple[torch.Tensor, ...],
    lengths: torch.Tensor,
    *,
    training: bool = False,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """One layer, one direction of a post-padded batch on PyTorch's unpacked kernel.

    Args:
        kernel: a ``torch._VF`` function (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``).
        weights: ``[w_ih, w_hh, b_ih, b_hh]`` in PyTorch's layout (:func:`flat_weights`).
        x: (B, T, I), sequence b real on its first ``lengths[b]`` steps.
        state: S x (B, H), the initial state.
        lengths: (B,) integers in [1, T].

    Returns the outputs (B, T, H), zero at padded steps, and the final state S x (B, H), each
    sequence's after its last real step. The sequences are sorted by length (longest first),
    time is cut at the distinct lengths, and each segment runs on the sequences still going
    (a prefix of the sorted batch): one kernel call per distinct length, and no padded step
    computed.
    """
    B, T, _ = x.shape
    H = state[0].shape[-1]
    sorted_lens, order = torch.sort(lengths, descending=True, stable=True)
    ends = sorted(set(sorted_lens.tolist()))  # the segment ends, ascending
    counts = [(sorted_lens >= end).sum().item() for end in ends]  # active rows per segment
    xs = x.index_select(0, order)  # (B, T, I) longest first
    starts = [0, *ends[:-1]]
    pieces = xs.split([e - s for s, e in zip(starts, ends)], dim=1)  # one node for all
    hx = tuple(s.index_select(0, order).unsqueeze(0) for s in state)  # S x (1, B, H)
    outs = []
    ended: list[tuple[torch.Tensor, ...]] = []  # final states of the rows ending, by segment
    for piece, n, n_next in zip(pieces, counts, [*counts[1:], 0]):
        h_in = tuple(s[:, :n] for s in hx)
        result = kernel(piece[:n], h_in if len(h_in) == 2 else h_in[0], weights, True, 1, 0.0,
                        training, False, True)
        out, hx = result[0], tuple(result[1:])  # (n, t, H), S x (1, n, H)
        outs.append(F.pad(out, (0, 0, 0, 0, 0, B - n)))  # (B, t, H): zero rows that ended
        ended.append(tuple(s[0, n_next:] for s in hx))
    if ends[-1] < T:
        outs.append(x.new_zeros(B, T - ends[-1], H))
    out = torch.cat(outs, dim=1)  # (B, T, H) in sorted order
    final = tuple(torch.cat([e[i] for e in reversed(ended)]) for i in range(len(state)))
    unsort = torch.empty_like(order)
    unsort[order] = torch.arange(B, device=order.device)
    return out.index_select(0, unsort), tuple(s.index_select(0, unsort) for s in final)


def _take_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x`` (B, T, F) with step t of row b taken from step ``index[b, t]``."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
