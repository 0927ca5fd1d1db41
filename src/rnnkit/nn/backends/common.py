"""Helpers the BPTT kernels share: the per-step products on oneDNN (:class:`Linear`), a fast
tanh, the per-step layer norm (:class:`StepNorm`), blocks of steps for the local derivatives
(:func:`chunks`), the weight gradient as one product over all T*B rows, and the options of a
kernel call. See :mod:`rnnkit.nn.backends` for the naming conventions (``act_``, ``d_o``, ...).

Example::

    lin = Linear(w_hh, B, backward=False)   # w_hh (G*H, H), prepacked once per call
    pre = lin.fwd(h, xp_t, out=pre_buf)     # (B, G*H) = xp_t + h @ w_hh^T
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["CHUNK_BYTES", "EPS", "ONEDNN", "SMALL_PRODUCT", "SMALL_TANH", "Linear", "Options",
           "StepNorm", "carry_back", "chunks", "fast_tanh", "final_grad", "into", "keep_args", "one_two",
           "step_grads", "weight_grad"]

Tensor = torch.Tensor
EPS = 1e-5  # F.layer_norm's default, which the cells use
_aten = torch.ops.aten
_linear = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
CHUNK_BYTES = 1 << 21  # per block of precomputed local derivatives, see chunks
SMALL_TANH = 4096  # elements below which torch.tanh is the faster tanh, see fast_tanh
SMALL_PRODUCT = 1 << 23  # multiply-adds below which addmm is as fast as oneDNN, see Linear
ONEDNN = (_linear is not None and torch.backends.mkldnn.is_available()
          and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))


@dataclass(frozen=True)
class Options:
    """The static configuration of one kernel call: whether the cell has layer norm, the
    SimpleRNN's activation (by name), the GRU's form."""

    layer_norm: bool = False
    activation: str = "tanh"
    reset_after: bool = True


def keep_args(out: Tensor, args: tuple[Tensor | None, ...], n_states: int) -> None:
    """Note on the kernel's autograd node what it was called with (all but ``xp``, which
    :mod:`~rnnkit.nn.backends.replay` recomputes), for a higher-order backward."""
    node = out.grad_fn
    if node is not None:
        node.replay_args = (None, *args[1:])
        node.replay_states = n_states


_CONSTANTS: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}


def one_two(like: Tensor) -> tuple[Tensor, Tensor]:
    """0-dim tensors 1 and 2 of ``like``'s dtype: a Python scalar costs a conversion per op."""
    key = (like.dtype, like.device)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = (torch.ones((), dtype=like.dtype, device=like.device),
                           torch.full((), 2.0, dtype=like.dtype, device=like.device))
    return _CONSTANTS[key]


def fast_tanh(x: Tensor, out: Tensor) -> Tensor:
    """``out = tanh(x)``, as ``2 sigmoid(2x) - 1`` for all but small tensors: four cheap ops
    beat torch.tanh's CPU kernel 3x from 64x128 elements up (2e-7 apart in float32)."""
    if x.numel() < SMALL_TANH:
        return torch.tanh(x, out=out)
    one, two = one_two(x)
    torch.mul(x, two, out=out)
    out.sigmoid_()
    return out.mul_(two).sub_(one)


def _onednn_serves(w: Tensor, batch: int) -> bool:
    return (ONEDNN and w.device.type == "cpu" and w.dtype == torch.float32
            and batch * w.numel() >= SMALL_PRODUCT and torch._C._get_mkldnn_enabled())


class Linear:
    """The per-step products of one recurrent weight ``w`` (N, K): forward
    ``h (B, K) -> h w^T`` and backward ``d (B, N) -> d w``, each optionally plus a ``base``.

    In float32 on CPU, from ``SMALL_PRODUCT`` multiply-adds per step up, they run on oneDNN
    with ``w`` prepacked once per call (the packed GEMM that torch.nn.LSTM uses internally);
    smaller products (where MKL is as fast and oneDNN's ~15 µs fixed cost per call shows),
    other dtypes and devices run on ``torch.addmm``. The result is returned: the addmm
    path writes it into ``out`` when given, the oneDNN path into a new tensor.
    """

    def __init__(self, w: Tensor, batch: int, *, backward: bool) -> None:
        self.w, self.wt = w, w.t()
        self.onednn = _onednn_serves(w, batch)
        if self.onednn:  # pack only what this pass needs: w^T's layout for backward
            reorder = torch.ops.mkldnn._reorder_linear_weight
            self.packed = reorder((w.t() if backward else w).contiguous(), batch)

    def fwd(self, h: Tensor, base: Tensor | None = None, bias: Tensor | None = None,
            out: Tensor | None = None) -> Tensor:
        """``base + h @ w^T + bias`` (each of base (B, N) and bias (N,) optional)."""
        if self.onednn:
            if base is None:
                return _linear(h, self.packed, bias, "none", [], "")
            return _linear.binary(h, base, self.packed, bias, "add")
        if base is not None and bias is not None:
            base = base + bias
        base = bias if base is None else base
        if base is None:
            return torch.mm(h, self.wt, out=out)
        return torch.addmm(base, h, self.wt, out=out)

    def bwd(self, d: Tensor, base: Tensor | None = None, out: Tensor | None = None) -> Tensor:
        """``base + d @ w`` (base (B, K) optional)."""
        if self.onednn:
            if base is None:
                return _linear(d, self.packed, None, "none", [], "")
            return _linear.binary(d, base, self.packed, None, "add")
        if base is None:
            return torch.mm(d, self.w, out=out)
        return torch.addmm(base, d, self.w, out=out)


def carry_back(lin: Linear, d_rec: Tensor, base: Tensor, hm: Tensor | None,
               out: Tensor) -> Tensor:
    """The gradient reaching h_{t-1} through step t's recurrent product, written into
    ``out``: ``base + (d_rec @ W_h) * hm`` (``hm`` the recurrent-dropout mask, or None),
    ``d_rec`` (B, G*H) the gradient of the product, ``base`` (B, H) what h_{t-1} already
    receives (its own output's gradient)."""
    if hm is None:
        return lin.bwd(d_rec, base, out=out)
    return torch.addcmul(base, lin.bwd(d_rec), hm, out=out)


def into(result: Tensor, buffer: Tensor) -> Tensor:
    """Make ``buffer`` hold ``result`` (a no-op when the product was computed in place)."""
    if result is not buffer:
        buffer.copy_(result)
    return buffer


def step_grads(d_out: Tensor | None, like: Tensor) -> list[Tensor]:
    """Per-step output gradients: ``d_out`` (B, T, H) -> T x (B, H), zeros when None.

    One time-major copy (free when d_out already is, as when it comes back through
    element-wise ops on the time-major output) saves a strided copy inside every step's
    product.
    """
    T, B, H = like.shape
    if d_out is None:
        return [like.new_zeros(B, H)] * T
    return list(d_out.transpose(0, 1).contiguous().unbind(0))


def chunks(steps: int, step_bytes: int) -> list[range]:
    """Blocks of time steps, last first, each about ``CHUNK_BYTES`` of per-step derivatives.

    The backward computes the local derivatives of a block just before walking back through
    its steps, so they are still in cache when used (and computing them block-wise costs a
    few ops per block, not per step).
    """
    size = max(1, min(steps, CHUNK_BYTES // max(1, step_bytes)))
    return [range(lo, min(lo + size, steps)) for lo in reversed(range(0, steps, size))]


def final_grad(d: Tensor | None, like: Tensor) -> Tensor:
    """The gradient of a final state as a fresh contiguous (B, H) buffer (zeros when None)."""
    if d is None:
        return like.new_zeros(like.shape)
    return d.clone(memory_format=torch.contiguous_format)


def weight_grad(d_rows: Tensor, inputs: Tensor) -> Tensor:
    """``sum_t d_t^T @ in_t`` as ONE product over all T*B rows: (T, B, N), (T, B, K) -> (N, K)."""
    return torch.mm(d_rows.reshape(-1, d_rows.shape[-1]).t(), inputs.reshape(-1, inputs.shape[-1]))


class StepNorm:
    """One layer norm over the last n features, applied at every step: the forward keeps
    each step's statistics, the backward reads them back; the parameters' gradients are
    summed over all steps and rows in one pass at the end.

    (The ``.out`` variants of the ATen ops would save the copies into buffers, but cost
    more than the copies: 33 vs 21 µs for 64x1024, plus 5 for the copy.)
    """

    def __init__(self, weight: Tensor, bias: Tensor | None, mean: Tensor | None = None,
                 rstd: Tensor | None = None) -> None:
        self.weight, self.bias = weight, bias
        self.shape = (weight.shape[0],)
        self.mean, self.rstd = mean, rstd  # (T, B, 1) each, once known
        self._stats: list[Tensor] = []  # forward: mean_0, rstd_0, mean_1, ...
        if mean is not None and rstd is not None:
            self.mean_, self.rstd_ = mean.unbind(0), rstd.unbind(0)

    def forward(self, x: Tensor) -> Tensor:
        """``LN(x) * weight + bias`` for the next step."""
        y, mean, rstd = torch.native_layer_norm(x, self.shape, self.weight, self.bias, EPS)
        self._stats += (mean, rstd)
        return y

    def stats(self) -> tuple[Tensor, Tensor]:
        """Every step's (mean, rstd), each (T, B, 1), once the forward is done."""
        return torch.stack(self._stats[0::2]), torch.stack(self._stats[1::2])

    def backward(self, t: int, d_y: Tensor, x: Tensor, out: Tensor | None = None) -> Tensor:
        """``d x`` at step t from ``d_y`` and the step's input ``x`` (into ``out`` if given)."""
        d_x = _aten.native_layer_norm_backward(
            d_y, x, self.shape, self.mean_[t], self.rstd_[t], self.weight, None,
            [True, False, False])[0]
        return d_x if out is None else into(d_x, out)

    def param_grads(self, d_y: Tensor, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Gradients of the gain (and bias) over all steps and rows at once."""
        n = self.shape[0]
        _, d_w, d_b = _aten.native_layer_norm_backward(
            d_y.reshape(-1, n), x.reshape(-1, n), self.shape, self.mean.reshape(-1, 1),
            self.rstd.reshape(-1, 1), self.weight, self.bias,
            [False, True, self.bias is not None])
        return d_w, d_b

