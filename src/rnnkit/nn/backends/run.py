"""The entry point of rnnkit's BPTT kernels: :func:`run_bptt` draws the random masks in
:func:`~rnnkit.nn.loop.run_loop`'s order, folds zoneout and the padding mask into one
``keep`` tensor and calls the kernel that the table (:mod:`rnnkit.nn.kernels`) holds for the
cell's class; :func:`unsupported_reason` says why a cell cannot run here.

Example::

    cell = LSTMCell(32, 256, layer_norm=True)
    out, (h, c) = run_bptt(cell, x, cell.zero_state(B), None)  # x (B, T, 32) -> (B, T, 256)
"""

from __future__ import annotations

import torch

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.kernels import RnnkitKernel, kernels_for

__all__ = ["run_bptt", "unsupported_reason"]

Tensor = torch.Tensor


def unsupported_reason(cell: RecurrentCell) -> str | None:
    """Why :func:`run_bptt` cannot run ``cell`` (the option to name in a log), or None.

    Every option of :class:`~rnnkit.nn.SimpleRNNCell`, :class:`~rnnkit.nn.LSTMCell` and
    :class:`~rnnkit.nn.GRUCell` is served, except an activation callable of the user's own
    (its derivative is unknown); subclasses of those cells may change the step, so they are
    not served either (the kernel table, :mod:`rnnkit.nn.kernels`, holds exact classes).
    """
    kernel = kernels_for(cell).rnnkit
    if kernel is None:
        return f"cell={type(cell).__name__}"
    return kernel.unsupported(cell)


def run_bptt(
    cell: RecurrentCell, x: Tensor, state: State, mask: Tensor | None
) -> tuple[Tensor, State]:
    """Run ``cell`` over ``x`` (B, T, I) from ``state`` (tuple of (B, H)); same contract as
    :func:`rnnkit.nn.loop.run_loop`.

    ``mask`` (B, T) bool marks real steps (None: all real). Returns the outputs (B, T, H),
    zero at masked steps, and the final state (the state after each sequence's last real
    step). Gradients flow to ``x``, ``state`` and every parameter of ``cell``.
    """
    reason = unsupported_reason(cell)
    if reason is not None:
        raise ConfigError(expected("cell", "a cell that rnnkit's kernels serve", Described(reason),
                                   "run it with rnnkit.nn.loop.run_loop (backend='loop')"))
    kernel: RnnkitKernel = kernels_for(cell).rnnkit  # type: ignore[assignment]
    B, T, _ = x.shape
    # the random masks, drawn in run_loop's order so a seed gives both backends the same ones
    x_tm = x.transpose(0, 1)  # (T, B, I)
    xp = cell.project_input(x_tm)  # (T, B, G*H): time-major, a step is contiguous
    w_hh = cell.recurrent_weight()  # (G*H, H), DropConnect-masked in training
    h_mask = cell.recurrent_dropout_mask(B)  # (B, H) or None
    keep_old = cell.zoneout_masks(T, B)  # (T, S, B, H) or None
    keep = _keep_weights(cell, keep_old, mask, T, xp.dtype)  # (T, S, B, H|1) or None
    out, final = kernel.run(cell, xp, w_hh, state, h_mask, keep)
    node = out.grad_fn
    if node is not None and hasattr(node, "replay_args"):
        # what a higher-order backward recomputes from: the cell and its input, which the
        # input projection's backward keeps alive anyway (xp itself is not kept)
        node.replay_source = (cell, x_tm)
    if mask is not None:
        out = out * mask.unsqueeze(-1).to(out.dtype)  # (B, T, H): zero at masked steps
    return out, final


def _keep_weights(
    cell: RecurrentCell, keep_old: Tensor | None, mask: Tensor | None, steps: int,
    dtype: torch.dtype,
) -> Tensor | None:
    """How much of the old state survives each step: ``s_t = lerp(new_t, s_{t-1}, keep_t)``.

    None when the new state always replaces the old one (no zoneout, no mask); else a tensor
    (T, S, B, H), (T, S, B, 1) or (T, S, 1, 1): 1 at masked steps (the state is held
    exactly, lerp being exact at 0 and 1), at real steps the sampled zoneout mask in
    training, its probability p in eval, 0 without zoneout.
    """
    if cell.zoneout == 0 and mask is None:
        return None
    S = cell.num_states
    device = cell.weight_hh.device
    if keep_old is not None:  # training: sampled keep-old masks
        zone = keep_old.to(dtype)  # (T, S, B, H)
    else:  # eval: the expectation p * old + (1 - p) * new (p = 0 without zoneout)
        zone = torch.full((1, 1, 1, 1), cell.zoneout, dtype=dtype, device=device)
    if mask is None:
        return zone.expand(steps, S, -1, -1)
    real = mask.t()[:, None, :, None]  # (T, 1, B, 1) bool
    held = torch.ones((), dtype=dtype, device=device)
    return torch.where(real, zone, held).expand(-1, S, -1, -1)

