"""rnnkit's BPTT kernel for :class:`~rnnkit.nn.GRUCell` in both its forms (every option: layer
norm, recurrent dropout, DropConnect, zoneout, masks): :data:`GRU_KERNEL`, which gru.py
registers.

One Function serves both forms; ``reset_after`` picks the few lines that differ:

* ``reset_after=True`` (PyTorch's and CuDNN's form): ``n = tanh(x_n + r * (h W_hn^T + b_hn))``,
  one product ``h W_h^T`` (3H) per step, one layer norm over it;
* ``reset_after=False`` (Cho et al., 2014): ``n = tanh(x_n + (r * h) W_hn^T)``, two products
  per step (``h W_{h,rz}^T`` (2H), then ``(r h) W_hn^T`` (H)), each with its own layer norm.

The rest (the gates, the update ``h = n + z (h_prev - n)``, zoneout and masks, the blocks of
local derivatives) is shared.

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
    opts = Options(layer_norm=cell.layer_norm, reset_after=cell.reset_after)
    ln_w = cell.ln_hh_weight if cell.layer_norm else None
    b_hn = cell.recurrent_bias if cell.reset_after else None
    args = (xp, w_hh, state[0], h_mask, keep, ln_w, b_hn)
    out, h = _GRUFunction.apply(opts, *args)
    keep_args(out, args, 1)
    return out, (h,)


class _GRUFunction(torch.autograd.Function):
    """The GRU over a whole sequence, either form (``opts.reset_after``); inputs ``(opts,
    xp (T,B,3H), W_h (3H,H), h0, h_mask, keep, gamma_h, b_hn)`` (``b_hn`` None in the Cho
    form), outputs ``(h_1..h_T (B,T,H), h_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_h: Tensor | None, b_hn: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 3
        ln, mixing, after = opts.layer_norm, keep is not None, opts.reset_after
        new = WORKSPACE.allocator(xp)
        hs = new(T + 1, B, H)  # the states h_0..h_T
        hs[0] = h0
        hin = hs[:T] if hm is None else new(T, B, H)  # h_{t-1} as it enters W_h
        act = new(T, B, G)  # r, z, n
        pre_rz_buf, pre_n_buf, hn = new(B, 2 * H), new(B, H), new(B, H)
        xrz_, xn_ = xp[..., : 2 * H].unbind(0), xp[..., 2 * H :].unbind(0)
        hs_, hin_ = hs.unbind(0), hin.unbind(0)
        act_rz_ = act[..., : 2 * H].unbind(0)
        r_, z_, n_ = (act.view(T, B, 3, H)[:, :, k].unbind(0) for k in range(3))
        k_ = keep[:, 0].unbind(0) if keep is not None else ()
        if after:  # one product h W_h^T (3H) and its LN; b_hn inside the reset
            rec = new(T, B, G)  # (h W_h^T, after the LN) + (0, 0, b_hn)
            raw = new(T, B, G) if ln else None  # h W_h^T before the LN
            bias3 = torch.cat([b_hn.new_zeros(2 * H), b_hn])  # (3H,)
            rec_ = rec.unbind(0)
            raw_ = raw.unbind(0) if raw is not None else ()
            if ln:
                ln_h = StepNorm(g_h, bias3)
            lin = Linear(w, B, backward=False)
        else:  # Cho: h W_{h,rz}^T (2H) and (r h) W_hn^T (H), with separate LNs
            rh = new(T, B, H)  # r * h_in, the input of W_hn
            raw_rz = new(T, B, 2 * H) if ln else None  # h W_{h,rz}^T before its LN
            raw_n = new(T, B, H) if ln else None  # (r h) W_hn^T before its LN
            rh_ = rh.unbind(0)
            raw_rz_ = raw_rz.unbind(0) if raw_rz is not None else ()
            raw_n_ = raw_n.unbind(0) if raw_n is not None else ()
            if ln:
                ln_rz, ln_n = StepNorm(g_h[: 2 * H], None), StepNorm(g_h[2 * H :], None)
            lin_rz = Linear(w[: 2 * H], B, backward=False)
            lin_n = Linear(w[2 * H :], B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if after:
                if ln:
                    rt = into(ln_h.forward(into(lin.fwd(hi, out=raw_[t]), raw_[t])), rec_[t])
                else:
                    rt = into(lin.fwd(hi, bias=bias3, out=rec_[t]), rec_[t])
                pre_rz = torch.add(xrz_[t], rt[:, : 2 * H], out=pre_rz_buf)
            elif ln:
                prod = into(lin_rz.fwd(hi, out=raw_rz_[t]), raw_rz_[t])
                pre_rz = torch.add(xrz_[t], ln_rz.forward(prod), out=pre_rz_buf)
            else:
                pre_rz = lin_rz.fwd(hi, xrz_[t], out=pre_rz_buf)
            torch.sigmoid(pre_rz, out=act_rz_[t])
            if after:  # x_n + r (h_n + b_hn)
                pre_n = torch.addcmul(xn_[t], r_[t], rt[:, 2 * H :], out=pre_n_buf)
            else:  # x_n + (r h) W_hn^T
                torch.mul(r_[t], hi, out=rh_[t])
                if ln:
                    prod = into(lin_n.fwd(rh_[t], out=raw_n_[t]), raw_n_[t])
                    pre_n = torch.add(xn_[t], ln_n.forward(prod), out=pre_n_buf)
                else:
                    pre_n = lin_n.fwd(rh_[t], xn_[t], out=pre_n_buf)
            fast_tanh(pre_n, n_[t])
            if mixing:
                torch.lerp(n_[t], h, z_[t], out=hn)
                torch.lerp(hn, h, k_[t], out=hs_[t + 1])
            else:
                torch.lerp(n_[t], h, z_[t], out=hs_[t + 1])  # n + z (h - n)
        ctx.opts = opts
        if after:
            if ln:
                ctx.stats = ln_h.stats()
            ctx.bufs = (act, hs, hin, rec, raw, bias3)
        else:
            if ln:
                ctx.stats = (*ln_rz.stats(), *ln_n.stats())
            ctx.bufs = (act, hs, hin, rh, raw_rz, raw_n)
        ctx.save_for_backward(w, hm, keep, g_h)
        return hs[1:].transpose(0, 1), hs[T].clone()

    @staticmethod
    @first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h = ctx.saved_tensors
        ln, mixing, after = ctx.opts.layer_norm, keep is not None, ctx.opts.reset_after
        act, hs, hin = ctx.bufs[:3]
        T, B, G = act.shape
        H = G // 3
        new = WORKSPACE.allocator(act)
        one = one_two(act)[0]
        r, z, n = act.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        blocks = chunks(T, act[0].nbytes)
        n_max = max(len(b) for b in blocks)
        # per block, the local derivatives per unit of d h_t: a_n = d n-pre-activation
        # (= d x_n), a_z = d z-pre-activation, zc = direct d h_{t-1}; with zoneout or a mask
        # only the (1 - keep) share reaches the candidate. reset_after: pr = d rec (after the
        # LN) in its (r, z, n) parts (a_z is its z part); Cho: c_r = d r-pre-act. per d (r h)
        d_x = new(T, B, 3, H)  # d pre-activations (after the LNs): d xp, once d_xn is in
        d_x_ = d_x.unbind(0)
        a_n, zc, tmp = new(n_max, B, H), new(n_max, B, H), new(n_max, B, H)
        a_n_, zc_, z_ = a_n.unbind(0), zc.unbind(0), z.unbind(0)
        if after:
            rec, raw, bias3 = ctx.bufs[3:]
            rec_n = rec[..., 2 * H :]
            pr = new(n_max, B, 3, H)
            pr_, a_z = pr.unbind(0), pr[:, :, 1]
            d_xn = new(T, B, H)  # d x_n; d_x[:, :, 2] holds d rec_n until the end
            if ln:
                ln_h = StepNorm(g_h, bias3, *ctx.stats)
            lin = Linear(w, B, backward=True)
        else:
            rh, raw_rz, raw_n = ctx.bufs[3:]
            a_z, c_r = new(n_max, B, H), tmp  # c_r is written after tmp's last use
            a_z_, c_r_, r_ = a_z.unbind(0), c_r.unbind(0), r.unbind(0)
            d_xn = d_x[:, :, 2]
            d_x_rz_ = d_x.view(T, B, G)[..., : 2 * H].unbind(0)
            d_xr_, d_xz_ = d_x[:, :, 0].unbind(0), d_x[:, :, 1].unbind(0)
            drh_buf, tmp_buf = new(B, H), new(B, H)
            if ln:
                ln_rz = StepNorm(g_h[: 2 * H], None, *ctx.stats[:2])
                ln_n = StepNorm(g_h[2 * H :], None, *ctx.stats[2:])
            lin_rz = Linear(w[: 2 * H], B, backward=True)
            lin_n = Linear(w[2 * H :], B, backward=True)
        d_xn_ = d_xn.unbind(0)
        if ln and after:  # d (h W_h^T) before the LN
            raw_ = raw.unbind(0)
            d_raw = new(T, B, G)
            d_raw_ = d_raw.unbind(0)
        elif ln:  # d (h W_{h,rz}^T) and d ((r h) W_hn^T) before their LNs
            raw_rz_, raw_n_ = raw_rz.unbind(0), raw_n.unbind(0)
            d_raw_rz, d_raw_n = new(T, B, 2 * H), new(T, B, H)
            d_raw_rz_, d_raw_n_ = d_raw_rz.unbind(0), d_raw_n.unbind(0)
        d_o = step_grads(d_out, hin)
        g = final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next = new(B, H)
        zero = torch.zeros_like(g)
        for block in blocks:
            m, ts = len(block), slice(block.start, block.stop)
            _aten.tanh_backward.grad_input(torch.sub(one, z[ts], out=tmp[:m]), n[ts],
                                           grad_input=a_n[:m])  # (1 - z)(1 - n^2)
            _aten.sigmoid_backward.grad_input(torch.sub(hs[ts], n[ts], out=tmp[:m]), z[ts],
                                              grad_input=a_z[:m])  # (h - n) z (1 - z)
            if mixing:
                kh = keep[ts, 0]
                a_n[:m].addcmul_(a_n[:m], kh, value=-1)
                a_z[:m].addcmul_(a_z[:m], kh, value=-1)
                torch.lerp(z[ts], one, kh, out=zc[:m])  # z + k (1 - z)
            if after:
                _aten.sigmoid_backward.grad_input(rec_n[ts], r[ts], grad_input=pr[:m, :, 0])
                pr[:m, :, 0].mul_(a_n[:m])
                torch.mul(a_n[:m], r[ts], out=pr[:m, :, 2])
            else:
                _aten.sigmoid_backward.grad_input(hin[ts], r[ts], grad_input=c_r[:m])
            for t in reversed(block):
                k = t - block.start
                torch.mul(a_n_[k], g, out=d_xn_[t])
                # carry to step t-1: the direct path, then through the recurrent product(s)
                torch.addcmul(d_o[t - 1] if t > 0 else zero, zc_[k] if mixing else z_[t], g,
                              out=g_next)
                if after:
                    torch.mul(pr_[k], g.unsqueeze(1), out=d_x_[t])
                    d_r = d_x_[t].view(B, G)
                    if ln:
                        d_r = ln_h.backward(t, d_r, raw_[t], d_raw_[t])
                    if hm is None:
                        g_next = lin.bwd(d_r, g_next, out=g_next)
                    else:
                        g_next.addcmul_(lin.bwd(d_r), hm)
                else:
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
                    if hm is None:
                        g_next.add_(d_hin)
                    else:
                        g_next.addcmul_(d_hin, hm)
                g, g_next = g_next, g
        need = ctx.needs_input_grad
        d_xg = d_x.view(T, B, G)
        if after:
            d_w = weight_grad(d_raw if ln else d_xg, hin) if need[2] else None
            d_gh = None
            if ln:
                d_gh, d_bias3 = ln_h.param_grads(d_xg, raw)
                d_bhn = d_bias3[2 * H :]
            else:
                d_bhn = d_x[:, :, 2].sum((0, 1))
            d_x[:, :, 2] = d_xn  # d rec's (r, z) parts and d x_n: d xp
            return None, d_xg, d_w, g, None, None, d_gh, d_bhn
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
        return None, d_xg, d_w, g, None, None, d_gh, None


GRU_KERNEL = RnnkitKernel(run=_run_gru)
