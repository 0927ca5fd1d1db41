"""rnnkit's BPTT kernel for :class:`~rnnkit.nn.LSTMCell` (every option: layer norm,
recurrent dropout, DropConnect, zoneout, masks): :data:`LSTM_KERNEL`, which lstm.py registers.

Example::

    out, (h, c) = LSTM_KERNEL.run(cell, xp, w_hh, (h0, c0), h_mask, keep)  # see run_bptt
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.nn.backends.common import (
    Linear,
    Options,
    StepNorm,
    carry_back,
    chunks,
    fast_tanh,
    final_grad,
    into,
    keep_args,
    one_two,
    step_grads,
    weight_grad,
)
from rnnkit.nn.backends.replay import first_order
from rnnkit.nn.backends.workspace import WORKSPACE
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.kernels import RnnkitKernel

__all__ = ["LSTM_KERNEL"]

Tensor = torch.Tensor
_aten = torch.ops.aten


def _run_lstm(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
              h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = Options(layer_norm=cell.layer_norm)
    ln = (cell.ln_hh_weight, cell.ln_cell_weight, cell.ln_cell_bias) if cell.layer_norm \
        else (None, None, None)
    args = (xp, w_hh, state[0], state[1], h_mask, keep, *ln)
    out, h, c = _LSTMFunction.apply(opts, *args)
    keep_args(out, args, 2)
    return out, (h, c)


class _LSTMFunction(torch.autograd.Function):
    """The LSTM over a whole sequence; inputs ``(opts, xp (T,B,4H), W_h (4H,H), h0, c0,
    h_mask, keep, gamma_h, gamma_c, beta_c)``, outputs ``(h_1..h_T (B,T,H), h_T, c_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: Options, xp: Tensor, w: Tensor, h0: Tensor, c0: Tensor,
        hm: Tensor | None, keep: Tensor | None, g_h: Tensor | None, g_c: Tensor | None,
        b_c: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 4
        ln, mixing = opts.layer_norm, keep is not None
        new = WORKSPACE.allocator(xp)
        hs, cs = new(T + 1, B, H), new(T + 1, B, H)  # the states h_0..h_T, C_0..C_T
        hs[0], cs[0] = h0, c0
        act = new(T, B, G)  # sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
        tc = new(T, B, H)  # tanh of the (normalized) candidate cell
        cand = new(T, B, H) if mixing else cs[1:]  # candidate cells, before zoneout/mask
        hin = hs[:T] if hm is None else new(T, B, H)  # h_{t-1} as it enters W_h
        rec = new(T, B, G) if ln else None  # h W_h^T before its layer norm
        pre_buf, hn = new(B, G), new(B, H)  # one step's pre-activations, candidate h
        xs = xp.unbind(0)  # T x (B, 4H)
        hs_, cs_, hin_, act_, tc_, cand_ = (b.unbind(0) for b in (hs, cs, hin, act, tc, cand))
        i_, f_, g_, o_ = (act.view(T, B, 4, H)[:, :, k].unbind(0) for k in range(4))
        rec_ = rec.unbind(0) if rec is not None else ()
        kh_ = keep[:, 0].unbind(0) if keep is not None else ()
        kc_ = keep[:, 1].unbind(0) if keep is not None else ()
        if ln:  # the recurrent product's LN (4H) and the cell's (H)
            ln_h, ln_c = StepNorm(g_h, None), StepNorm(g_c, b_c)
        lin = Linear(w, B, backward=False)
        one, two = one_two(xp)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = into(lin.fwd(hi, out=rec_[t]), rec_[t])
                pre = torch.add(xs[t], ln_h.forward(r), out=pre_buf)
            else:
                pre = lin.fwd(hi, xs[t], out=pre_buf)
            # tanh(g) = 2 sigmoid(2g) - 1: one sigmoid for all four gates
            pre[:, 2 * H : 3 * H].mul_(two)
            torch.sigmoid(pre, out=act_[t])
            g_[t].mul_(two).sub_(one)
            cn = cand_[t]
            torch.mul(f_[t], cs_[t], out=cn)
            cn.addcmul_(i_[t], g_[t])  # C~_t = f C_{t-1} + i g
            fast_tanh(ln_c.forward(cn) if ln else cn, tc_[t])
            if mixing:
                torch.mul(o_[t], tc_[t], out=hn)
                torch.lerp(hn, h, kh_[t], out=hs_[t + 1])
                torch.lerp(cn, cs_[t], kc_[t], out=cs_[t + 1])
            else:
                torch.mul(o_[t], tc_[t], out=hs_[t + 1])
        ctx.opts = opts
        ctx.bufs = (act, tc, cs, cand, hin, rec)
        if ln:
            ctx.stats = (*ln_h.stats(), *ln_c.stats())
        ctx.save_for_backward(w, hm, keep, g_h, g_c, b_c)
        return hs[1:].transpose(0, 1), hs[T].clone(), cs[T].clone()

    @staticmethod
    @first_order
    def backward(
        ctx: Any, d_out: Tensor | None, d_hT: Tensor | None, d_cT: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h, g_c, b_c = ctx.saved_tensors
        act, tc, cs, cand, hin, rec = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 4
        new = WORKSPACE.allocator(act)
        i, f, g, o = act.view(T, B, 4, H).unbind(2)  # each (T, B, H)
        blocks = chunks(T, act[0].nbytes)
        # per block: the local derivatives P = d gate pre-activations / d C_t for i, f, g and
        # / d h_t for o, and K = d h_t / d (normalized) C_t; with zoneout or a mask only the
        # (1 - keep) share of a state's gradient reaches the candidate: folded into K, P_o
        n_max = max(len(b) for b in blocks)
        P, K = new(n_max, B, 4, H), new(n_max, B, H)
        P_ifg_, P_o_, K_ = P[:, :, :3].unbind(0), P[:, :, 3].unbind(0), K.unbind(0)
        if mixing:
            kh_, kc_ = keep[:, 0].unbind(0), keep[:, 1].unbind(0)
        dG = new(T, B, G)  # d gates after the LN = d xp
        dG4 = dG.view(T, B, 4, H)
        dG_ = dG.unbind(0)
        dG_ifg_, dG_o_ = dG4[:, :, :3].unbind(0), dG4[:, :, 3].unbind(0)
        f_, cand_ = f.unbind(0), cand.unbind(0)
        if ln:
            ln_h = StepNorm(g_h, None, *ctx.stats[:2])
            ln_c = StepNorm(g_c, b_c, *ctx.stats[2:])
            rec_ = rec.unbind(0)
            dch = new(B, H)  # d C~_t through h_t
            dcl = new(T, B, H)  # d normalized C_t
            dcl_ = dcl.unbind(0)
            d_raw = new(T, B, G)  # d (h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = step_grads(d_out, tc)
        gh = final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        gc = final_grad(d_cT, gh)  # d loss / d C_t (total)
        gh_next, gc_next, dcn = new(B, H), new(B, H), new(B, H)
        zero = torch.zeros_like(gh)
        lin = Linear(w, B, backward=True)
        for block in blocks:
            n, ts = len(block), slice(block.start, block.stop)
            _aten.sigmoid_backward.grad_input(g[ts], i[ts], grad_input=P[:n, :, 0])
            _aten.sigmoid_backward.grad_input(cs[ts], f[ts], grad_input=P[:n, :, 1])
            _aten.tanh_backward.grad_input(i[ts], g[ts], grad_input=P[:n, :, 2])
            _aten.sigmoid_backward.grad_input(tc[ts], o[ts], grad_input=P[:n, :, 3])
            _aten.tanh_backward.grad_input(o[ts], tc[ts], grad_input=K[:n])
            if mixing:
                kh = keep[ts, 0]
                K[:n].addcmul_(K[:n], kh, value=-1)
                P[:n, :, 3].addcmul_(P[:n, :, 3], kh, value=-1)
            for t in reversed(block):
                k = t - block.start
                # d candidate cell = share of the state's gradient + the path through h_t
                if mixing:  # gc (1 - keep_c)
                    torch.addcmul(gc, gc, kc_[t], value=-1, out=dcn)
                if ln:
                    torch.mul(gh, K_[k], out=dcl_[t])
                    ln_c.backward(t, dcl_[t], cand_[t], dch)
                    torch.add(dcn if mixing else gc, dch, out=dcn)
                else:
                    torch.addcmul(dcn if mixing else gc, gh, K_[k], out=dcn)
                torch.mul(P_ifg_[k], dcn.unsqueeze(1), out=dG_ifg_[t])
                torch.mul(P_o_[k], gh, out=dG_o_[t])
                draw = ln_h.backward(t, dG_[t], rec_[t], d_raw_[t]) if ln else dG_[t]
                # carry to step t-1
                if mixing:
                    torch.mul(gc, kc_[t], out=gc_next).addcmul_(dcn, f_[t])
                    gc, gc_next = gc_next, gc
                else:
                    torch.mul(dcn, f_[t], out=gc)
                base = d_o[t - 1] if t > 0 else zero
                gh_next = carry_back(lin, draw, base, hm, gh_next)
                if mixing:
                    gh_next.addcmul_(kh_[t], gh)
                gh, gh_next = gh_next, gh
        need = ctx.needs_input_grad
        if not ln:
            d_raw = dG
        d_w = weight_grad(d_raw, hin) if need[2] else None
        d_gh = d_gc = d_bc = None
        if ln:
            d_gh, _ = ln_h.param_grads(dG, rec)
            d_gc, d_bc = ln_c.param_grads(dcl, cand)
        return None, dG, d_w, gh, gc, None, None, d_gh, d_gc, d_bc


LSTM_KERNEL = RnnkitKernel(run=_run_lstm)
