"""Higher-order gradients through the kernels: a hand-written backward is not itself
differentiable, so with ``create_graph=True`` a kernel's node replays its forward through the
cell's per-step autograd from the recorded input and differentiates that instead (exact, at
the loop backend's cost; the first-order backward keeps nothing more in memory for it).

Example::

    class _LSTMFunction(torch.autograd.Function):
        @staticmethod
        @first_order        # create_graph=True -> replay, else the hand-written backward
        def backward(ctx, d_out, d_hT, d_cT): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell

__all__ = ["first_order"]

Tensor = torch.Tensor
_Backward = Callable[..., tuple[Tensor | None, ...]]


def _replay_steps(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, states: tuple[Tensor, ...],
                  h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, ...]:
    """The kernels' computation as differentiable per-step autograd (the cell's own step):
    ``(out (B, T, H), *final states)``, the state after each step being
    ``lerp(new, old, keep_t)`` as in the kernels."""
    state = states
    outs = []
    for t, xp_t in enumerate(xp.unbind(0)):  # (B, G*H) each
        new = cell.step(xp_t, state, w_hh, h_mask)
        if keep is not None:
            new = tuple(torch.lerp(n, o, k) for n, o, k in zip(new, state, keep[t]))
        state = new
        outs.append(state[0])
    return (torch.stack(outs, dim=1), *state)


def _replay(ctx: Any, grads: tuple[Tensor | None, ...]) -> tuple[Tensor | None, ...]:
    """A differentiable backward (``create_graph=True``): the forward recomputed with the
    cell's per-step autograd and differentiated by autograd, so that second and higher
    derivatives through the layer are exact (at the loop backend's cost)."""
    cell, source = ctx.replay_source
    args, S = ctx.replay_args, ctx.replay_states
    with torch.enable_grad():
        xp = cell.project_input(source)  # (T, B, G*H), as the forward computed it
        outs = _replay_steps(cell, xp, args[1], tuple(args[2 : 2 + S]), args[2 + S],
                             args[3 + S])
        wrt = [i for i, a in enumerate(args) if i > 0 and isinstance(a, Tensor)
               and a.requires_grad]
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        got = torch.autograd.grad([o for o, _ in pairs], [xp, *(args[i] for i in wrt)],
                                  [g for _, g in pairs], create_graph=True, allow_unused=True)
    result: list[Tensor | None] = [None] * len(args)
    result[0] = got[0]
    for i, g in zip(wrt, got[1:]):
        result[i] = g
    return (None, *result)  # nothing for the options


def first_order(backward: _Backward) -> _Backward:
    """Run a hand-written backward without recording it; with ``create_graph=True`` (a
    gradient penalty, a Hessian-vector product) replay the forward with autograd instead
    (:func:`_replay`), whose result is differentiable."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        if torch.is_grad_enabled():
            if not hasattr(ctx, "replay_source"):
                raise ConfigError(expected(
                    "create_graph", "first derivatives from a kernel called directly (its "
                    "input is recorded only through run_bptt)", True,
                    "call it through run_bptt or a layer, or use backend='loop'"))
            return _replay(ctx, grads)
        return backward(ctx, *grads)

    return wrapper


