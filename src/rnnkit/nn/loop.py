"""The reference backend: a plain per-step loop over one cell in one direction.

This is the readable definition every faster backend is tested against. It runs any
:class:`~rnnkit.nn.cell.RecurrentCell` with any mask (padding anywhere): at a masked step the
state is carried over unchanged and the output is zero.
"""

from __future__ import annotations

import torch

from rnnkit.nn.cell import RecurrentCell, State

__all__ = ["run_loop"]


def run_loop(
    cell: RecurrentCell, x: torch.Tensor, state: State, mask: torch.Tensor | None
) -> tuple[torch.Tensor, State]:
    """Run ``cell`` over ``x`` (B, T, I) from ``state`` (tuple of (B, H)).

    ``mask`` (B, T) bool marks real steps (None: all real). Returns the outputs (B, T, H)
    (zero at masked steps) and the final state (the state after each sequence's last real
    step).
    """
    B, T, _ = x.shape
    # Steps are taken apart once (unbind: one autograd node whose backward stacks the step
    # gradients), never indexed per step: the backward of xp[:, t] writes a full (B, T, G*H)
    # zero gradient at every step, which makes a long sequence's backward quadratic in T.
    xs = cell.project_input(x).unbind(1)  # T x (B, G*H), one matrix product for all steps
    w_hh = cell.recurrent_weight()  # DropConnect mask drawn once per call
    h_mask = cell.recurrent_dropout_mask(B)  # variational: one mask per sequence
    keep_old = cell.zoneout_masks(T, B)  # (T, S, B, H) or None
    keeps = [None] * T if keep_old is None else keep_old.unbind(0)  # T x (S, B, H)
    masks: list[torch.Tensor | None] = [None] * T  # T x (B, 1) or None where all real
    if mask is not None:
        real_for_all = mask.all(0).tolist()  # (T,): no masking needed at these steps
        masks = [None if full else m for full, m in zip(real_for_all,
                                                        mask.unsqueeze(-1).unbind(1))]
    outputs = []
    for x_t, keep_t, m_t in zip(xs, keeps, masks):
        new = cell.step(x_t, state, w_hh, h_mask)
        if cell.zoneout:
            new = cell.apply_zoneout(state, new, keep_t)
        # a masked step carries the state over; its output is zeroed below, all steps at once
        state = new if m_t is None else tuple(torch.where(m_t, n, s) for n, s in zip(new, state))
        outputs.append(new[0])
    out = torch.stack(outputs, dim=1)  # (B, T, H)
    if mask is not None:
        out = out * mask.unsqueeze(-1).to(out.dtype)  # zero at masked steps
    return out, state
