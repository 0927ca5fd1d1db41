"""rnnkit's BPTT kernel for :class:`~rnnkit.nn.SimpleRNNCell` (every option, and every
activation whose derivative is known): :data:`SIMPLE_RNN_KERNEL`, which simple_rnn.py
registers.

Example::

    out, (h,) = SIMPLE_RNN_KERNEL.run(cell, xp, w_hh, (h0,), h_mask, keep)  # see run_bptt
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F

from rnnkit.nn.activations import ACTIVATIONS
from rnnkit.nn.backends.common import (
    Linear,
    Options,
    StepNorm,
    carry_back,
    fast_tanh,
    final_grad,
    into,
    keep_args,
    step_grads,
    weight_grad,
)
from rnnkit.nn.backends.replay import first_order
from rnnkit.nn.backends.workspace import WORKSPACE
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.kernels import RnnkitKernel

__all__ = ["SIMPLE_RNN_KERNEL"]

Tensor = torch.Tensor
_aten = torch.ops.aten


# Functions that a user may pass as the activation callable, by the name of their derivative.
_KNOWN_ACTIVATIONS: dict[Callable[..., Tensor], str] = {
    **{fn: name for name, fn in ACTIVATIONS.items()},
    torch.tanh: "tanh",
    F.tanh: "tanh",
    torch.relu: "relu",
    F.relu: "relu",
    F.elu: "elu",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    F.hardtanh: "hard_tanh",
    F.softsign: "softsign",
}


def _activation_name(cell: RecurrentCell) -> str | None:
    try:
        return _KNOWN_ACTIVATIONS.get(cell.activation)
    except TypeError:  # an unhashable callable
        return None


def _run_simple_rnn(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
                    h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = Options(layer_norm=cell.layer_norm, activation=_activation_name(cell) or "")
    ln = (cell.ln_weight, cell.bias) if cell.layer_norm else (None, None)
    args = (xp, w_hh, state[0], h_mask, keep, *ln)
    out, h = _SimpleRNNFunction.apply(opts, *args)
    keep_args(out, args, 1)
    return out, (h,)


def _simple_rnn_unsupported(cell: RecurrentCell) -> str | None:
    if _activation_name(cell) is None:
        return f"activation={cell.activation_name!r} (a callable without a known derivative)"
    return None


def _softsign(x: Tensor, out: Tensor) -> Tensor:
    return out.copy_(x / (x.abs() + 1))


def _identity(x: Tensor, out: Tensor) -> Tensor:
    return out if out is x else out.copy_(x)


# activation(x, out) -> out (out may be x), for each supported activation name
_ACT_FORWARD: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "tanh": fast_tanh,
    "relu": lambda x, out: torch.clamp_min(x, 0, out=out),
    "elu": lambda x, out: _aten.elu.out(x, 1.0, 1, 1, out=out),
    "sigmoid": lambda x, out: torch.sigmoid(x, out=out),
    "hard_tanh": lambda x, out: torch.clamp(x, -1, 1, out=out),
    "softsign": _softsign,
    "identity": _identity,
}

# d activation from its output y: (grad, y, out) -> out = grad * f'(x)
_ACT_BACKWARD: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "tanh": lambda g, y, out: _aten.tanh_backward.grad_input(g, y, grad_input=out),
    "relu": lambda g, y, out: _aten.threshold_backward.grad_input(g, y, 0, grad_input=out),
    "elu": lambda g, y, out: _aten.elu_backward.grad_input(g, 1.0, 1, 1, True, y,
                                                            grad_input=out),
    "sigmoid": lambda g, y, out: _aten.sigmoid_backward.grad_input(g, y, grad_input=out),
    "hard_tanh": lambda g, y, out: _aten.hardtanh_backward.grad_input(g, y, -1, 1,
                                                                      grad_input=out),
    "softsign": lambda g, y, out: torch.mul(g, (1 - y.abs()).square_(), out=out),
    "identity": lambda g, y, out: out.copy_(g),
}


class _SimpleRNNFunction(torch.autograd.Function):
    """The vanilla RNN over a whole sequence; inputs ``(opts, xp (T,B,H), W_h (H,H), h0,
    h_mask, keep, gamma, beta)``, outputs ``(h_1..h_T (B,T,H), h_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_ln: Tensor | None, b_ln: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        T, B, H = xp.shape
        ln, mixing = opts.layer_norm, keep is not None
        activation = _ACT_FORWARD[opts.activation]
        new = WORKSPACE.allocator(xp)
        hs = new(T + 1, B, H)  # the states h_0..h_T
        hs[0] = h0
        hin = hs[:T] if hm is None else new(T, B, H)  # h_{t-1} as it enters W_h
        cand = new(T, B, H) if mixing else hs[1:]  # f(a_t), before zoneout/mask
        raw = new(T, B, H) if ln else None  # x W_x^T + h W_h^T before the LN
        xs = xp.unbind(0)
        hs_, hin_, cand_ = hs.unbind(0), hin.unbind(0), cand.unbind(0)
        raw_ = raw.unbind(0) if raw is not None else ()
        k_ = keep[:, 0].unbind(0) if keep is not None else ()
        if ln:
            ln_a = StepNorm(g_ln, b_ln)
        lin = Linear(w, B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = into(lin.fwd(hi, xs[t], out=raw_[t]), raw_[t])
                activation(ln_a.forward(r), cand_[t])
            else:
                activation(lin.fwd(hi, xs[t], out=cand_[t]), cand_[t])
            if mixing:
                torch.lerp(cand_[t], h, k_[t], out=hs_[t + 1])
        ctx.opts = opts
        if ln:
            ctx.stats = ln_a.stats()
        ctx.bufs = (hin, cand, raw)
        ctx.save_for_backward(w, hm, keep, g_ln, b_ln)
        return hs[1:].transpose(0, 1), hs[T].clone()

    @staticmethod
    @first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_ln, b_ln = ctx.saved_tensors
        hin, cand, raw = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        act_grad = _ACT_BACKWARD[ctx.opts.activation]
        T, B, H = cand.shape
        new = WORKSPACE.allocator(cand)
        d_a = new(T, B, H)  # d pre-activation (after the LN)
        d_a_, y_ = d_a.unbind(0), cand.unbind(0)
        if mixing:
            k_ = keep[:, 0].unbind(0)
        if ln:
            ln_a = StepNorm(g_ln, b_ln, *ctx.stats)
            raw_ = raw.unbind(0)
            d_raw = new(T, B, H)  # d (x W_x^T + h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = step_grads(d_out, hin)
        g = final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next, tmp = new(B, H), new(B, H)
        zero = torch.zeros_like(g)
        lin = Linear(w, B, backward=True)
        for t in range(T - 1, -1, -1):
            src = torch.addcmul(g, g, k_[t], value=-1, out=tmp) if mixing else g  # g (1 - k)
            act_grad(src, y_[t], d_a_[t])
            d_r = d_a_[t]
            if ln:
                d_r = ln_a.backward(t, d_r, raw_[t], d_raw_[t])
            base = d_o[t - 1] if t > 0 else zero
            g_next = carry_back(lin, d_r, base, hm, g_next)
            if mixing:
                g_next.addcmul_(k_[t], g)
            g, g_next = g_next, g
        need = ctx.needs_input_grad
        if not ln:
            d_raw = d_a
        d_w = weight_grad(d_raw, hin) if need[2] else None
        d_g = d_b = None
        if ln:
            d_g, d_b = ln_a.param_grads(d_a, raw)
        return None, d_raw, d_w, g, None, None, d_g, d_b


SIMPLE_RNN_KERNEL = RnnkitKernel(run=_run_simple_rnn, unsupported=_simple_rnn_unsupported)
