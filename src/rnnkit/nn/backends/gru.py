"""rnnkit's BPTT kernel for :class:`~rnnkit.nn.GRUCell` (every option: layer norm,
recurrent dropout, DropConnect, zoneout, masks): :data:`GRU_KERNEL`, which gru.py registers.

Example::

    out, (h,) = GRU_KERNEL.run(cell, xp, w_hh, (h0,), h_mask, keep)  # see run_bptt
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.nn.backends.common import (
    Linear,
    Options,
    StepNorm,
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

__all__ = ["GRU_KERNEL"]

Tensor = torch.Tensor
_aten = torch.ops.aten


def _run_gru(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
             h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = Options(layer_norm=cell.layer_norm)
    ln_w = cell.ln_hh_weight if cell.layer_norm else None
    b_hn = cell.recurrent_bias if cell.reset_after else None
    fn = _GRUFunction if cell.reset_after else _GRUChoFunction
    args = (xp, w_hh, state[0], h_mask, keep, ln_w, b_hn)
    out, h = fn.apply(opts, *args)
    keep_args(out, args, 1)
    return out, (h,)


class _GRUFunction(torch.autograd.Function):
    """The reset-after GRU over a whole sequence; inputs ``(opts, xp (T,B,3H), W_h (3H,H),
    h0, h_mask, keep, gamma_h, b_hn)``, outputs ``(h_1..h_T (B,T,H), h_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_h: Tensor | None, b_hn: Tensor,
    ) -> tuple[Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 3
        ln, mixing = opts.layer_norm, keep is not None
        new = WORKSPACE.allocator(xp)
        hs = new(T + 1, B, H)  # the states h_0..h_T
        hs[0] = h0
        hin = hs[:T] if hm is None else new(T, B, H)  # h_{t-1} as it enters W_h
        act = new(T, B, G)  # r, z, n
        rec = new(T, B, G)  # (h W_h^T, after the LN) + (0, 0, b_hn)
        raw = new(T, B, G) if ln else None  # h W_h^T before the LN
        bias3 = torch.cat([b_hn.new_zeros(2 * H), b_hn])  # (3H,)
        pre_rz, pre_n, hn = new(B, 2 * H), new(B, H), new(B, H)
        xrz_, xn_ = xp[..., : 2 * H].unbind(0), xp[..., 2 * H :].unbind(0)
        hs_, hin_, rec_ = hs.unbind(0), hin.unbind(0), rec.unbind(0)
        act_rz_ = act[..., : 2 * H].unbind(0)
        r_, z_, n_ = (act.view(T, B, 3, H)[:, :, k].unbind(0) for k in range(3))
        raw_ = raw.unbind(0) if raw is not None else ()
        k_ = keep[:, 0].unbind(0) if keep is not None else ()
        if ln:
            ln_h = StepNorm(g_h, bias3)
        lin = Linear(w, B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                rt = into(ln_h.forward(into(lin.fwd(hi, out=raw_[t]), raw_[t])), rec_[t])
            else:
                rt = into(lin.fwd(hi, bias=bias3, out=rec_[t]), rec_[t])
            torch.add(xrz_[t], rt[:, : 2 * H], out=pre_rz)
            torch.sigmoid(pre_rz, out=act_rz_[t])
            torch.addcmul(xn_[t], r_[t], rt[:, 2 * H :], out=pre_n)
            fast_tanh(pre_n, n_[t])  # n = tanh(x_n + r (h_n + b_hn))
            if mixing:
                torch.lerp(n_[t], h, z_[t], out=hn)
                torch.lerp(hn, h, k_[t], out=hs_[t + 1])
            else:
                torch.lerp(n_[t], h, z_[t], out=hs_[t + 1])  # n + z (h - n)
        ctx.opts = opts
        if ln:
            ctx.stats = ln_h.stats()
        ctx.bufs = (act, hs, hin, rec, raw, bias3)
        ctx.save_for_backward(w, hm, keep, g_h)
        return hs[1:].transpose(0, 1), hs[T].clone()

    @staticmethod
    @first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h = ctx.saved_tensors
        act, hs, hin, rec, raw, bias3 = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 3
        new = WORKSPACE.allocator(act)
        one = one_two(act)[0]
        r, z, n = act.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        rec_n = rec[..., 2 * H :]
        blocks = chunks(T, act[0].nbytes)
        n_max = max(len(b) for b in blocks)
        # per block, the local derivatives per unit of d h_t: pr = d rec (after the LN) in
        # its (r, z, n) parts, a_n = d n-pre-activation (= d x_n), zc = direct d h_{t-1};
        # with zoneout or a mask only the (1 - keep) share reaches the candidate
        pr, a_n, zc, tmp = new(n_max, B, 3, H), new(n_max, B, H), new(n_max, B, H), new(n_max, B, H)
        pr_, a_n_, zc_, z_ = pr.unbind(0), a_n.unbind(0), zc.unbind(0), z.unbind(0)
        d_rec = new(T, B, 3, H)  # d rec (after the LN); its (r, z) parts are d xp's
        d_xn = new(T, B, H)  # d x_n
        d_rec_, d_xn_ = d_rec.unbind(0), d_xn.unbind(0)
        if ln:
            ln_h = StepNorm(g_h, bias3, *ctx.stats)
            raw_ = raw.unbind(0)
            d_raw = new(T, B, G)  # d (h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = step_grads(d_out, hin)
        g = final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next = new(B, H)
        zero = torch.zeros_like(g)
        lin = Linear(w, B, backward=True)
        for block in blocks:
            m, ts = len(block), slice(block.start, block.stop)
            _aten.tanh_backward.grad_input(torch.sub(one, z[ts], out=tmp[:m]), n[ts],
                                           grad_input=a_n[:m])  # (1 - z)(1 - n^2)
            _aten.sigmoid_backward.grad_input(torch.sub(hs[ts], n[ts], out=tmp[:m]), z[ts],
                                              grad_input=pr[:m, :, 1])  # (h - n) z (1 - z)
            if mixing:
                kh = keep[ts, 0]
                a_n[:m].addcmul_(a_n[:m], kh, value=-1)
                pr[:m, :, 1].addcmul_(pr[:m, :, 1], kh, value=-1)
                torch.lerp(z[ts], one, kh, out=zc[:m])  # z + k (1 - z)
            _aten.sigmoid_backward.grad_input(rec_n[ts], r[ts], grad_input=pr[:m, :, 0])
            pr[:m, :, 0].mul_(a_n[:m])
            torch.mul(a_n[:m], r[ts], out=pr[:m, :, 2])
            for t in reversed(block):
                k = t - block.start
                torch.mul(pr_[k], g.unsqueeze(1), out=d_rec_[t])
                torch.mul(a_n_[k], g, out=d_xn_[t])
                d_r = d_rec_[t].view(B, G)
                if ln:
                    d_r = ln_h.backward(t, d_r, raw_[t], d_raw_[t])
                # carry to step t-1: direct path + through the recurrent product
                torch.addcmul(d_o[t - 1] if t > 0 else zero, zc_[k] if mixing else z_[t], g,
                              out=g_next)
                if hm is None:
                    g_next = lin.bwd(d_r, g_next, out=g_next)
                else:
                    g_next.addcmul_(lin.bwd(d_r), hm)
                g, g_next = g_next, g
        need = ctx.needs_input_grad
        if not ln:
            d_raw = d_rec.view(T, B, G)
        d_w = weight_grad(d_raw, hin) if need[2] else None
        d_gh = None
        if ln:
            d_gh, d_bias3 = ln_h.param_grads(d_rec.view(T, B, G), raw)
            d_bhn = d_bias3[2 * H :]
        else:
            d_bhn = d_rec[:, :, 2].sum((0, 1))
        d_rec[:, :, 2] = d_xn  # d rec's (r, z) parts and d x_n: d xp
        return None, d_rec.view(T, B, G), d_w, g, None, None, d_gh, d_bhn


class _GRUChoFunction(torch.autograd.Function):
    """The Cho-form (reset-before) GRU over a whole sequence; inputs ``(opts, xp (T,B,3H),
    W_h (3H,H), h0, h_mask, keep, gamma_h, None)``, outputs ``(h_1..h_T (B,T,H), h_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_h: Tensor | None, unused: None,
    ) -> tuple[Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 3
        ln, mixing = opts.layer_norm, keep is not None
        new = WORKSPACE.allocator(xp)
        hs = new(T + 1, B, H)  # the states h_0..h_T
        hs[0] = h0
        hin = hs[:T] if hm is None else new(T, B, H)  # h_{t-1} as it enters W_h
        act = new(T, B, G)  # r, z, n
        rh = new(T, B, H)  # r * h_in, the input of W_hn
        raw_rz = new(T, B, 2 * H) if ln else None  # h W_{h,rz}^T before its LN
        raw_n = new(T, B, H) if ln else None  # (r h) W_hn^T before its LN
        pre_rz_buf, pre_n_buf, hn = new(B, 2 * H), new(B, H), new(B, H)
        xrz_, xn_ = xp[..., : 2 * H].unbind(0), xp[..., 2 * H :].unbind(0)
        hs_, hin_, rh_ = hs.unbind(0), hin.unbind(0), rh.unbind(0)
        act_rz_ = act[..., : 2 * H].unbind(0)
        r_, z_, n_ = (act.view(T, B, 3, H)[:, :, k].unbind(0) for k in range(3))
        raw_rz_ = raw_rz.unbind(0) if raw_rz is not None else ()
        raw_n_ = raw_n.unbind(0) if raw_n is not None else ()
        k_ = keep[:, 0].unbind(0) if keep is not None else ()
        g_rz = g_n = None
        if g_h is not None:
            g_rz, g_n = g_h[: 2 * H], g_h[2 * H :]
        if ln:  # separate LNs of the (r, z) product (2H) and of the candidate's (H)
            ln_rz, ln_n = StepNorm(g_rz, None), StepNorm(g_n, None)
        lin_rz = Linear(w[: 2 * H], B, backward=False)
        lin_n = Linear(w[2 * H :], B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = into(lin_rz.fwd(hi, out=raw_rz_[t]), raw_rz_[t])
                pre_rz = torch.add(xrz_[t], ln_rz.forward(r), out=pre_rz_buf)
            else:
                pre_rz = lin_rz.fwd(hi, xrz_[t], out=pre_rz_buf)
            torch.sigmoid(pre_rz, out=act_rz_[t])
            torch.mul(r_[t], hi, out=rh_[t])
            if ln:
                r = into(lin_n.fwd(rh_[t], out=raw_n_[t]), raw_n_[t])
                pre_n = torch.add(xn_[t], ln_n.forward(r), out=pre_n_buf)
            else:
                pre_n = lin_n.fwd(rh_[t], xn_[t], out=pre_n_buf)
            fast_tanh(pre_n, n_[t])  # n = tanh(x_n + (r h) W_hn^T)
            if mixing:
                torch.lerp(n_[t], h, z_[t], out=hn)
                torch.lerp(hn, h, k_[t], out=hs_[t + 1])
            else:
                torch.lerp(n_[t], h, z_[t], out=hs_[t + 1])  # n + z (h - n)
        ctx.opts = opts
        if ln:
            ctx.stats = (*ln_rz.stats(), *ln_n.stats())
        ctx.bufs = (act, hs, hin, rh, raw_rz, raw_n)
        ctx.save_for_backward(w, hm, keep, g_h)
        return hs[1:].transpose(0, 1), hs[T].clone()

    @staticmethod
    @first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h = ctx.saved_tensors
        act, hs, hin, rh, raw_rz, raw_n = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 3
        new = WORKSPACE.allocator(act)
        one = one_two(act)[0]
        r, z, n = act.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        blocks = chunks(T, act[0].nbytes)
        n_max = max(len(b) for b in blocks)
        # per block, the local derivatives per unit of d h_t (a_n = d n-pre-activation,
        # a_z = d z-pre-activation, zc = direct d h_{t-1}) or of d (r h) (c_r = d r-pre-act.)
        a_n, a_z, zc, c_r = (new(n_max, B, H) for _ in range(4))
        a_n_, a_z_, zc_, c_r_ = a_n.unbind(0), a_z.unbind(0), zc.unbind(0), c_r.unbind(0)
        w_rz, w_n = w[: 2 * H], w[2 * H :]
        g_rz = g_n = None
        if g_h is not None:
            g_rz, g_n = g_h[: 2 * H], g_h[2 * H :]
        d_x = new(T, B, 3, H)  # d pre-activations (after the LNs) = d xp
        d_x_rz_ = d_x.view(T, B, G)[..., : 2 * H].unbind(0)
        d_xr_, d_xz_, d_xn_ = (d_x[:, :, k].unbind(0) for k in range(3))
        r_, z_ = r.unbind(0), z.unbind(0)
        if ln:
            ln_rz = StepNorm(g_rz, None, *ctx.stats[:2])
            ln_n = StepNorm(g_n, None, *ctx.stats[2:])
            raw_rz_, raw_n_ = raw_rz.unbind(0), raw_n.unbind(0)
            d_raw_rz, d_raw_n = new(T, B, 2 * H), new(T, B, H)  # before the LNs
            d_raw_rz_, d_raw_n_ = d_raw_rz.unbind(0), d_raw_n.unbind(0)
        d_o = step_grads(d_out, hin)
        g = final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next, drh_buf, tmp_buf = new(B, H), new(B, H), new(B, H)
        zero = torch.zeros_like(g)
        lin_rz = Linear(w_rz, B, backward=True)
        lin_n = Linear(w_n, B, backward=True)
        for block in blocks:
            m, ts = len(block), slice(block.start, block.stop)
            _aten.tanh_backward.grad_input(torch.sub(one, z[ts], out=c_r[:m]), n[ts],
                                           grad_input=a_n[:m])  # (1 - z)(1 - n^2)
            _aten.sigmoid_backward.grad_input(torch.sub(hs[ts], n[ts], out=c_r[:m]), z[ts],
                                              grad_input=a_z[:m])  # (h - n) z (1 - z)
            if mixing:
                kh = keep[ts, 0]
                a_n[:m].addcmul_(a_n[:m], kh, value=-1)
                a_z[:m].addcmul_(a_z[:m], kh, value=-1)
                torch.lerp(z[ts], one, kh, out=zc[:m])  # z + k (1 - z)
            _aten.sigmoid_backward.grad_input(hin[ts], r[ts], grad_input=c_r[:m])
            for t in reversed(block):
                k = t - block.start
                torch.mul(a_n_[k], g, out=d_xn_[t])
                dn = d_xn_[t]
                if ln:
                    dn = ln_n.backward(t, dn, raw_n_[t], d_raw_n_[t])
                drh = lin_n.bwd(dn, out=drh_buf)  # d (r h)
                torch.mul(drh, c_r_[k], out=d_xr_[t])
                torch.mul(a_z_[k], g, out=d_xz_[t])
                drz = d_x_rz_[t]
                if ln:
                    drz = ln_rz.backward(t, drz, raw_rz_[t], d_raw_rz_[t])
                d_hin = lin_rz.bwd(drz, torch.mul(drh, r_[t], out=tmp_buf), out=tmp_buf)
                # carry to step t-1: direct path + through h_in
                torch.addcmul(d_o[t - 1] if t > 0 else zero, zc_[k] if mixing else z_[t], g,
                              out=g_next)
                if hm is None:
                    g_next.add_(d_hin)
                else:
                    g_next.addcmul_(d_hin, hm)
                g, g_next = g_next, g
        dh0 = g
        need = ctx.needs_input_grad
        d_xg = d_x.view(T, B, G)
        if not ln:
            d_raw_rz, d_raw_n = d_xg[..., : 2 * H], d_xg[..., 2 * H :]
        d_w = None
        if need[2]:
            d_w = w.new_empty(G, H)
            torch.mm(d_raw_rz.reshape(T * B, 2 * H).t(), hin.reshape(T * B, H),
                     out=d_w[: 2 * H])
            torch.mm(d_raw_n.reshape(T * B, H).t(), rh.reshape(T * B, H), out=d_w[2 * H :])
        d_gh = None
        if ln:
            d_g_rz, _ = ln_rz.param_grads(d_xg[..., : 2 * H], raw_rz)
            d_g_n, _ = ln_n.param_grads(d_xg[..., 2 * H :], raw_n)
            d_gh = torch.cat([d_g_rz, d_g_n])
        return None, d_xg, d_w, dh0, None, None, d_gh, None


GRU_KERNEL = RnnkitKernel(run=_run_gru)
