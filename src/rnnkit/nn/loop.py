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
    xp = cell.project_input(x)  # (B, T, G*H), one matrix product for all steps
    w_hh = cell.recurrent_weight()  # DropConnect mask drawn once per call
    h_mask = cell.recurrent_dropout_mask(B)  # variational: one mask per sequence
    keep_old = cell.zoneout_masks(T, B)  # (T, S, B, H) or None
    m = None if mask is None else mask.unsqueeze(-1)  # (B, T, 1)
    outputs = []
    for t in range(T):
        new = cell.step(xp[:, t], state, w_hh, h_mask)
        if cell.zoneout:
            new = cell.apply_zoneout(state, new, None if keep_old is None else keep_old[t])
        if m is None:
            state = new
            outputs.append(new[0])
        else:
            m_t = m[:, t]  # (B, 1)
            state = tuple(torch.where(m_t, n, s) for n, s in zip(new, state))
            outputs.append(new[0] * m_t)
    return torch.stack(outputs, dim=1), state  # (B, T, H)
