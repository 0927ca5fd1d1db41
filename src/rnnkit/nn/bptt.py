r"""rnnkit's own fast backend: hand-written backpropagation through time for rnnkit's cells.

PyTorch's recurrent kernels serve only the standard cells. Everything else (layer norm,
recurrent dropout, DropConnect, zoneout, other activations, the Cho form of the GRU, masks
with padding anywhere) would run on the per-step autograd loop (:func:`rnnkit.nn.loop.run_loop`),
which records some thirty autograd nodes per step and replays them one by one backwards.
This module runs the same computation with one :class:`torch.autograd.Function` per cell type:

* **forward**: a loop over time with autograd off, writing into preallocated time-major
  buffers (states, gate activations, layer-norm statistics) with ``out=`` variants;
* **backward**: a loop back through time that does per step only what the recurrence needs:
  the product ``dgates_t @ W_h`` and a few element-wise ops. The local derivatives of the
  gates are computed a block of steps at a time just before the loop reaches them (whole
  blocks are few ops; still in cache when used), and every weight gradient is ONE large
  matrix product per sequence after the loop, ``dW_h = dG^T @ H_prev`` over all T*B rows.

The Function takes the already projected input ``xp = cell.project_input(x)`` and the
already masked ``W_h = cell.recurrent_weight()``: autograd differentiates those (the input
projection, the input layer norm, the DropConnect mask) and the backward here returns
``d xp`` and ``d W_h``.

What made it fast on our 2-core AMD EPYC VMs (torch 2.13 CPU), each measured (numbers in
BENCHMARKS.md, "Engine"):

* per-step products on oneDNN with the weight prepacked once per call
  (``torch.ops.mkldnn._linear_pointwise``, the packed GEMM inside torch.nn.LSTM) instead of
  MKL's sgemm behind ``torch.addmm``: ~200 vs ~165 GFLOP/s on two threads for 64x256 by
  256x1024, 200 vs 130 at 64x1024 by 1024x4096; below ~8M multiply-adds (64x256 by
  256x256) addmm is as fast and has no fixed cost, so it serves those, float64 and GPUs;
* ``tanh`` as ``2 sigmoid(2x) - 1``: torch.tanh's CPU kernel is 3-4x slower than the four
  ops (43 vs 19 µs for 64x256 on one thread);
* the local derivatives of the gates computed a block of steps (~2 MB) at a time, right
  before the backward loop uses them, instead of over the whole sequence: LSTM step 198 ->
  171 ms (one thread);
* large buffers reused between calls (:class:`_Workspace`): a first write to fresh memory
  page-faults, ~2 µs per 4 KiB page, 75 MB per LSTM step without it;
* time-major ``xp`` (``project_input(x.transpose(0, 1))``) and output gradients, so that a
  step's slice is contiguous; 0-dim tensors instead of Python scalars in per-step ops.

Not taken: ``torch.compile`` of the LSTM step's element-wise part (25 s to compile per
shape, then 126 µs per step against 146 µs eager with torch.tanh and ~70 µs here);
TorchScript (this CPU build has no fuser: LLVM is off, so it runs op by op like Python); a
C++ extension (a compiler and a build at install time).

Semantics are exactly those of :func:`~rnnkit.nn.loop.run_loop`, tested to float tolerance
(outputs, final states, every gradient), and the random masks are drawn through the same
cell methods in the same order, so a seed gives both backends the same masks. A masked step
and zoneout are one operation: the new state is ``lerp(candidate, old, keep)`` with
``keep`` = 1 at masked steps (the state is held exactly: lerp is exact at 0 and 1), the
zoneout mask (its probability in eval mode) at real steps, 0 otherwise; the output is
``mask * h_t``.

Symbols: B batch, T timesteps, H hidden units, G gates (1 SimpleRNN, 4 LSTM, 3 GRU),
S states (2 for the LSTM's (h, c), else 1). Buffers are time-major, (T, B, ...), so that a
step's slice is contiguous and all steps' rows form one (T*B, ...) matrix. The output
sequence is returned as a (B, T, H) view of a time-major buffer, as torch.nn.LSTM's
``batch_first`` output is.

The hand-written backward is not itself differentiable. With ``create_graph=True`` (a
gradient penalty, a Hessian-vector product) the kernel's node replays its forward through the
cell's per-step autograd from the recorded input and differentiates that instead
(:func:`_replay`): higher-order gradients are exact, at the loop backend's cost, and the
ordinary first-order backward keeps nothing more in memory for it.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.activations import ACTIVATIONS
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.kernels import RnnkitKernel, kernels_for

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "run_bptt", "set_buffer_pool_limit",
           "unsupported_reason"]

Tensor = torch.Tensor
_EPS = 1e-5  # F.layer_norm's default, which the cells use
_aten = torch.ops.aten
_linear = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
_CHUNK_BYTES = 1 << 21  # per block of precomputed local derivatives, see _chunks
_SMALL_TANH = 4096  # elements below which torch.tanh is the faster tanh, see _tanh
_SMALL_PRODUCT = 1 << 23  # multiply-adds below which addmm is as fast as oneDNN, see _Linear
_ONEDNN = (_linear is not None and torch.backends.mkldnn.is_available()
           and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))

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


def _activation_name(cell: RecurrentCell) -> str | None:
    try:
        return _KNOWN_ACTIVATIONS.get(cell.activation)
    except TypeError:  # an unhashable callable
        return None


# ------------------------------------------------------------------------------- entry point
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


# ------------------------------------------------------------------------ the kernels by cell
# Each takes (cell, xp (T, B, G*H), w_hh, state, h_mask, keep) and calls its Function.
def _run_lstm(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
              h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = _Options(layer_norm=cell.layer_norm)
    ln = (cell.ln_hh_weight, cell.ln_cell_weight, cell.ln_cell_bias) if cell.layer_norm \
        else (None, None, None)
    args = (xp, w_hh, state[0], state[1], h_mask, keep, *ln)
    out, h, c = _LSTMFunction.apply(opts, *args)
    _keep_args(out, args, 2)
    return out, (h, c)


def _run_gru(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
             h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = _Options(layer_norm=cell.layer_norm)
    ln_w = cell.ln_hh_weight if cell.layer_norm else None
    b_hn = cell.recurrent_bias if cell.reset_after else None
    fn = _GRUFunction if cell.reset_after else _GRUChoFunction
    args = (xp, w_hh, state[0], h_mask, keep, ln_w, b_hn)
    out, h = fn.apply(opts, *args)
    _keep_args(out, args, 1)
    return out, (h,)


def _run_simple_rnn(cell: RecurrentCell, xp: Tensor, w_hh: Tensor, state: State,
                    h_mask: Tensor | None, keep: Tensor | None) -> tuple[Tensor, State]:
    opts = _Options(layer_norm=cell.layer_norm, activation=_activation_name(cell) or "")
    ln = (cell.ln_weight, cell.bias) if cell.layer_norm else (None, None)
    args = (xp, w_hh, state[0], h_mask, keep, *ln)
    out, h = _SimpleRNNFunction.apply(opts, *args)
    _keep_args(out, args, 1)
    return out, (h,)


def _simple_rnn_unsupported(cell: RecurrentCell) -> str | None:
    if _activation_name(cell) is None:
        return f"activation={cell.activation_name!r} (a callable without a known derivative)"
    return None


@dataclass(frozen=True)
class _Options:
    """The static configuration of one kernel call."""

    layer_norm: bool = False
    activation: str = "tanh"


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


# ------------------------------------------------------------------------------ workspace
def _storage_users(t: Tensor) -> int:
    """How many tensors (views included) use ``t``'s memory, plus one for the query itself."""
    return torch._C._storage_Use_Count(t.untyped_storage()._cdata)


_POOL_ENV = "RNNKIT_BUFFER_POOL_MB"


def _initial_pool_limit() -> int:
    raw = os.environ.get(_POOL_ENV)
    if raw is None:
        return 1 << 30
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not (mb >= 0 and math.isfinite(mb)):
        raise ConfigError(expected(_POOL_ENV, "a number of MiB >= 0 (0 turns pooling off)",
                                   raw))
    return int(mb * (1 << 20))


def set_buffer_pool_limit(max_bytes: int) -> int:
    """Cap the memory rnnkit's kernels keep between calls, per thread; returns the old cap.

    The BPTT kernels reuse their large buffers (states, gate activations: for an LSTM of 256
    units, 64 sequences of 100 steps, about 75 MB per training step) instead of allocating
    fresh memory each call, whose first touch page-faults. ``max_bytes`` bounds what a
    thread's pool holds; 0 turns pooling off (every call allocates). The default is 1 GiB,
    or ``RNNKIT_BUFFER_POOL_MB`` (MiB) when set in the environment.

    Raises:
        ConfigError: ``max_bytes`` is not an integer >= 0.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ConfigError(expected("max_bytes", "an integer >= 0 (0 turns pooling off)",
                                   max_bytes))
    old = _Workspace.max_bytes
    _Workspace.max_bytes = max_bytes
    _WORKSPACE._trim()
    return old


class _Workspace(threading.local):
    """Reusable memory for the kernels' large buffers (one pool per thread).

    The first write to freshly allocated memory page-faults once per 4 KiB page, ~2 µs each
    on our VMs: 12 ms for a 25 MB buffer, more than the arithmetic done in it; and glibc
    returns such blocks to the system when they are freed. So large buffers are kept here
    between calls and handed out again once no tensor uses their memory any more (their
    storage's use count is back to this pool's own reference), which a steady training loop
    reaches after one step. Buffers beyond ``max_bytes`` per thread are dropped from the pool,
    oldest first (their memory goes when their last user does): the cap is
    :func:`set_buffer_pool_limit`, 1 GiB by default or ``RNNKIT_BUFFER_POOL_MB`` from the
    environment; 0 turns pooling off.
    """

    min_bytes = 1 << 20  # smaller buffers come from malloc's warm arenas anyway
    max_bytes = _initial_pool_limit()

    def __init__(self) -> None:
        self.buffers: list[Tensor] = []  # flat, least recently used first
        try:
            self.free_users = _storage_users(torch.empty(1))
        except (AttributeError, RuntimeError):  # no use counts in this torch: no pooling
            self.free_users = None

    def empty(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        """An uninitialized tensor of ``shape`` with ``like``'s dtype and device."""
        n = math.prod(shape)
        if (self.free_users is None or like.device.type != "cpu" or self.max_bytes == 0
                or n * like.element_size() < self.min_bytes):
            return like.new_empty(shape)
        best = None  # the index of the smallest free buffer that fits
        for i, buf in enumerate(self.buffers):
            if (buf.dtype == like.dtype and n <= buf.numel() <= 2 * n
                    and (best is None or buf.numel() < self.buffers[best].numel())
                    and _storage_users(buf) == self.free_users):
                best = i
        buf = like.new_empty(n) if best is None else self.buffers.pop(best)
        self.buffers.append(buf)
        self._trim()
        return buf[:n].view(shape)

    def pooled_bytes(self) -> int:
        """The bytes this thread's pool holds (in use or free)."""
        return sum(b.numel() * b.element_size() for b in self.buffers)

    def _trim(self) -> None:
        total = self.pooled_bytes()
        while total > self.max_bytes and self.buffers:
            buf = self.buffers.pop(0)  # in use or not: its memory goes when its users go
            total -= buf.numel() * buf.element_size()

    def allocator(self, like: Tensor) -> Callable[..., Tensor]:
        """``new(*shape)`` for one kernel call."""
        return lambda *shape: self.empty(shape, like)


_WORKSPACE = _Workspace()


# ------------------------------------------------------------------------- shared helpers
_Backward = Callable[..., tuple[Tensor | None, ...]]


def _keep_args(out: Tensor, args: tuple[Tensor | None, ...], n_states: int) -> None:
    """Note on the kernel's autograd node what it was called with (all but ``xp``, which
    :func:`_replay` recomputes), for a higher-order backward."""
    node = out.grad_fn
    if node is not None:
        node.replay_args = (None, *args[1:])
        node.replay_states = n_states


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


def _first_order(backward: _Backward) -> _Backward:
    """Run a hand-written backward without recording it; with ``create_graph=True`` (a
    gradient penalty, a Hessian-vector product) replay the forward with autograd instead
    (:func:`_replay`), whose result is differentiable."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        if torch.is_grad_enabled():
            if not hasattr(ctx, "replay_source"):
                raise RuntimeError(
                    "rnnkit's BPTT kernel was called without its input recorded, so it has "
                    "first derivatives only (create_graph=True was asked); build the layer "
                    "with backend='loop' for higher-order gradients")
            return _replay(ctx, grads)
        return backward(ctx, *grads)

    return wrapper


_CONSTANTS: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}


def _one_two(like: Tensor) -> tuple[Tensor, Tensor]:
    """0-dim tensors 1 and 2 of ``like``'s dtype: a Python scalar costs a conversion per op."""
    key = (like.dtype, like.device)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = (torch.ones((), dtype=like.dtype, device=like.device),
                           torch.full((), 2.0, dtype=like.dtype, device=like.device))
    return _CONSTANTS[key]


def _tanh(x: Tensor, out: Tensor) -> Tensor:
    """``out = tanh(x)``, as ``2 sigmoid(2x) - 1`` for all but small tensors: four cheap ops
    beat torch.tanh's CPU kernel 3x from 64x128 elements up (2e-7 apart in float32)."""
    if x.numel() < _SMALL_TANH:
        return torch.tanh(x, out=out)
    one, two = _one_two(x)
    torch.mul(x, two, out=out)
    out.sigmoid_()
    return out.mul_(two).sub_(one)


def _onednn_serves(w: Tensor, batch: int) -> bool:
    return (_ONEDNN and w.device.type == "cpu" and w.dtype == torch.float32
            and batch * w.numel() >= _SMALL_PRODUCT and torch._C._get_mkldnn_enabled())


class _Linear:
    """The per-step products of one recurrent weight ``w`` (N, K): forward
    ``h (B, K) -> h w^T`` and backward ``d (B, N) -> d w``, each optionally plus a ``base``.

    In float32 on CPU, from ``_SMALL_PRODUCT`` multiply-adds per step up, they run on oneDNN
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


def _into(result: Tensor, buffer: Tensor) -> Tensor:
    """Make ``buffer`` hold ``result`` (a no-op when the product was computed in place)."""
    if result is not buffer:
        buffer.copy_(result)
    return buffer


def _step_grads(d_out: Tensor | None, like: Tensor) -> list[Tensor]:
    """Per-step output gradients: ``d_out`` (B, T, H) -> T x (B, H), zeros when None.

    One time-major copy (free when d_out already is, as when it comes back through
    element-wise ops on the time-major output) saves a strided copy inside every step's
    product.
    """
    T, B, H = like.shape
    if d_out is None:
        return [like.new_zeros(B, H)] * T
    return list(d_out.transpose(0, 1).contiguous().unbind(0))


def _chunks(steps: int, step_bytes: int) -> list[range]:
    """Blocks of time steps, last first, each about ``_CHUNK_BYTES`` of per-step derivatives.

    The backward computes the local derivatives of a block just before walking back through
    its steps, so they are still in cache when used (and computing them block-wise costs a
    few ops per block, not per step).
    """
    size = max(1, min(steps, _CHUNK_BYTES // max(1, step_bytes)))
    return [range(lo, min(lo + size, steps)) for lo in reversed(range(0, steps, size))]


def _final_grad(d: Tensor | None, like: Tensor) -> Tensor:
    """The gradient of a final state as a fresh contiguous (B, H) buffer (zeros when None)."""
    if d is None:
        return like.new_zeros(like.shape)
    return d.clone(memory_format=torch.contiguous_format)


def _weight_grad(d_rows: Tensor, inputs: Tensor) -> Tensor:
    """``sum_t d_t^T @ in_t`` as ONE product over all T*B rows: (T, B, N), (T, B, K) -> (N, K)."""
    return torch.mm(d_rows.reshape(-1, d_rows.shape[-1]).t(), inputs.reshape(-1, inputs.shape[-1]))


class _StepNorm:
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
        y, mean, rstd = torch.native_layer_norm(x, self.shape, self.weight, self.bias, _EPS)
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
        return d_x if out is None else _into(d_x, out)

    def param_grads(self, d_y: Tensor, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Gradients of the gain (and bias) over all steps and rows at once."""
        n = self.shape[0]
        _, d_w, d_b = _aten.native_layer_norm_backward(
            d_y.reshape(-1, n), x.reshape(-1, n), self.shape, self.mean.reshape(-1, 1),
            self.rstd.reshape(-1, 1), self.weight, self.bias,
            [False, True, self.bias is not None])
        return d_w, d_b


# ----------------------------------------------------------------------------------- LSTM
class _LSTMFunction(torch.autograd.Function):
    """The LSTM over a whole sequence; inputs ``(opts, xp (T,B,4H), W_h (4H,H), h0, c0,
    h_mask, keep, gamma_h, gamma_c, beta_c)``, outputs ``(h_1..h_T (B,T,H), h_T, c_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: _Options, xp: Tensor, w: Tensor, h0: Tensor, c0: Tensor,
        hm: Tensor | None, keep: Tensor | None, g_h: Tensor | None, g_c: Tensor | None,
        b_c: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 4
        ln, mixing = opts.layer_norm, keep is not None
        new = _WORKSPACE.allocator(xp)
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
            ln_h, ln_c = _StepNorm(g_h, None), _StepNorm(g_c, b_c)
        lin = _Linear(w, B, backward=False)
        one, two = _one_two(xp)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = _into(lin.fwd(hi, out=rec_[t]), rec_[t])
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
            _tanh(ln_c.forward(cn) if ln else cn, tc_[t])
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
    @_first_order
    def backward(
        ctx: Any, d_out: Tensor | None, d_hT: Tensor | None, d_cT: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h, g_c, b_c = ctx.saved_tensors
        act, tc, cs, cand, hin, rec = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 4
        new = _WORKSPACE.allocator(act)
        i, f, g, o = act.view(T, B, 4, H).unbind(2)  # each (T, B, H)
        blocks = _chunks(T, act[0].nbytes)
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
            ln_h = _StepNorm(g_h, None, *ctx.stats[:2])
            ln_c = _StepNorm(g_c, b_c, *ctx.stats[2:])
            rec_ = rec.unbind(0)
            dch = new(B, H)  # d C~_t through h_t
            dcl = new(T, B, H)  # d normalized C_t
            dcl_ = dcl.unbind(0)
            d_raw = new(T, B, G)  # d (h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = _step_grads(d_out, tc)
        gh = _final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        gc = _final_grad(d_cT, gh)  # d loss / d C_t (total)
        gh_next, gc_next, dcn = new(B, H), new(B, H), new(B, H)
        zero = torch.zeros_like(gh)
        lin = _Linear(w, B, backward=True)
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
                if hm is None:
                    gh_next = lin.bwd(draw, base, out=gh_next)
                else:
                    gh_next = torch.addcmul(base, lin.bwd(draw), hm, out=gh_next)
                if mixing:
                    gh_next.addcmul_(kh_[t], gh)
                gh, gh_next = gh_next, gh
        need = ctx.needs_input_grad
        if not ln:
            d_raw = dG
        d_w = _weight_grad(d_raw, hin) if need[2] else None
        d_gh = d_gc = d_bc = None
        if ln:
            d_gh, _ = ln_h.param_grads(dG, rec)
            d_gc, d_bc = ln_c.param_grads(dcl, cand)
        return None, dG, d_w, gh, gc, None, None, d_gh, d_gc, d_bc


# ------------------------------------------------------------------------------------ GRU
class _GRUFunction(torch.autograd.Function):
    """The reset-after GRU over a whole sequence; inputs ``(opts, xp (T,B,3H), W_h (3H,H),
    h0, h_mask, keep, gamma_h, b_hn)``, outputs ``(h_1..h_T (B,T,H), h_T)``."""

    @staticmethod
    def forward(
        ctx: Any, opts: _Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_h: Tensor | None, b_hn: Tensor,
    ) -> tuple[Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 3
        ln, mixing = opts.layer_norm, keep is not None
        new = _WORKSPACE.allocator(xp)
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
            ln_h = _StepNorm(g_h, bias3)
        lin = _Linear(w, B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                rt = _into(ln_h.forward(_into(lin.fwd(hi, out=raw_[t]), raw_[t])), rec_[t])
            else:
                rt = _into(lin.fwd(hi, bias=bias3, out=rec_[t]), rec_[t])
            torch.add(xrz_[t], rt[:, : 2 * H], out=pre_rz)
            torch.sigmoid(pre_rz, out=act_rz_[t])
            torch.addcmul(xn_[t], r_[t], rt[:, 2 * H :], out=pre_n)
            _tanh(pre_n, n_[t])  # n = tanh(x_n + r (h_n + b_hn))
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
    @_first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h = ctx.saved_tensors
        act, hs, hin, rec, raw, bias3 = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 3
        new = _WORKSPACE.allocator(act)
        one = _one_two(act)[0]
        r, z, n = act.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        rec_n = rec[..., 2 * H :]
        blocks = _chunks(T, act[0].nbytes)
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
            ln_h = _StepNorm(g_h, bias3, *ctx.stats)
            raw_ = raw.unbind(0)
            d_raw = new(T, B, G)  # d (h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = _step_grads(d_out, hin)
        g = _final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next = new(B, H)
        zero = torch.zeros_like(g)
        lin = _Linear(w, B, backward=True)
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
        d_w = _weight_grad(d_raw, hin) if need[2] else None
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
        ctx: Any, opts: _Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_h: Tensor | None, unused: None,
    ) -> tuple[Tensor, Tensor]:
        T, B, G = xp.shape
        H = G // 3
        ln, mixing = opts.layer_norm, keep is not None
        new = _WORKSPACE.allocator(xp)
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
            ln_rz, ln_n = _StepNorm(g_rz, None), _StepNorm(g_n, None)
        lin_rz = _Linear(w[: 2 * H], B, backward=False)
        lin_n = _Linear(w[2 * H :], B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = _into(lin_rz.fwd(hi, out=raw_rz_[t]), raw_rz_[t])
                pre_rz = torch.add(xrz_[t], ln_rz.forward(r), out=pre_rz_buf)
            else:
                pre_rz = lin_rz.fwd(hi, xrz_[t], out=pre_rz_buf)
            torch.sigmoid(pre_rz, out=act_rz_[t])
            torch.mul(r_[t], hi, out=rh_[t])
            if ln:
                r = _into(lin_n.fwd(rh_[t], out=raw_n_[t]), raw_n_[t])
                pre_n = torch.add(xn_[t], ln_n.forward(r), out=pre_n_buf)
            else:
                pre_n = lin_n.fwd(rh_[t], xn_[t], out=pre_n_buf)
            _tanh(pre_n, n_[t])  # n = tanh(x_n + (r h) W_hn^T)
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
    @_first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_h = ctx.saved_tensors
        act, hs, hin, rh, raw_rz, raw_n = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        T, B, G = act.shape
        H = G // 3
        new = _WORKSPACE.allocator(act)
        one = _one_two(act)[0]
        r, z, n = act.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        blocks = _chunks(T, act[0].nbytes)
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
            ln_rz = _StepNorm(g_rz, None, *ctx.stats[:2])
            ln_n = _StepNorm(g_n, None, *ctx.stats[2:])
            raw_rz_, raw_n_ = raw_rz.unbind(0), raw_n.unbind(0)
            d_raw_rz, d_raw_n = new(T, B, 2 * H), new(T, B, H)  # before the LNs
            d_raw_rz_, d_raw_n_ = d_raw_rz.unbind(0), d_raw_n.unbind(0)
        d_o = _step_grads(d_out, hin)
        g = _final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next, drh_buf, tmp_buf = new(B, H), new(B, H), new(B, H)
        zero = torch.zeros_like(g)
        lin_rz = _Linear(w_rz, B, backward=True)
        lin_n = _Linear(w_n, B, backward=True)
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


# ------------------------------------------------------------------------------ SimpleRNN
def _softsign(x: Tensor, out: Tensor) -> Tensor:
    return out.copy_(x / (x.abs() + 1))


def _identity(x: Tensor, out: Tensor) -> Tensor:
    return out if out is x else out.copy_(x)


# activation(x, out) -> out (out may be x), for each supported activation name
_ACT_FORWARD: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "tanh": _tanh,
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
        ctx: Any, opts: _Options, xp: Tensor, w: Tensor, h0: Tensor, hm: Tensor | None,
        keep: Tensor | None, g_ln: Tensor | None, b_ln: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        T, B, H = xp.shape
        ln, mixing = opts.layer_norm, keep is not None
        activation = _ACT_FORWARD[opts.activation]
        new = _WORKSPACE.allocator(xp)
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
            ln_a = _StepNorm(g_ln, b_ln)
        lin = _Linear(w, B, backward=False)
        for t in range(T):
            h = hs_[t]
            hi = h if hm is None else torch.mul(h, hm, out=hin_[t])
            if ln:
                r = _into(lin.fwd(hi, xs[t], out=raw_[t]), raw_[t])
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
    @_first_order
    def backward(ctx: Any, d_out: Tensor | None, d_hT: Tensor | None) -> tuple[Tensor | None, ...]:
        w, hm, keep, g_ln, b_ln = ctx.saved_tensors
        hin, cand, raw = ctx.bufs
        ln, mixing = ctx.opts.layer_norm, keep is not None
        act_grad = _ACT_BACKWARD[ctx.opts.activation]
        T, B, H = cand.shape
        new = _WORKSPACE.allocator(cand)
        d_a = new(T, B, H)  # d pre-activation (after the LN)
        d_a_, y_ = d_a.unbind(0), cand.unbind(0)
        if mixing:
            k_ = keep[:, 0].unbind(0)
        if ln:
            ln_a = _StepNorm(g_ln, b_ln, *ctx.stats)
            raw_ = raw.unbind(0)
            d_raw = new(T, B, H)  # d (x W_x^T + h W_h^T) before the LN
            d_raw_ = d_raw.unbind(0)
        d_o = _step_grads(d_out, hin)
        g = _final_grad(d_hT, d_o[0]).add_(d_o[T - 1])  # d loss / d h_t (total)
        g_next, tmp = new(B, H), new(B, H)
        zero = torch.zeros_like(g)
        lin = _Linear(w, B, backward=True)
        for t in range(T - 1, -1, -1):
            src = torch.addcmul(g, g, k_[t], value=-1, out=tmp) if mixing else g  # g (1 - k)
            act_grad(src, y_[t], d_a_[t])
            d_r = d_a_[t]
            if ln:
                d_r = ln_a.backward(t, d_r, raw_[t], d_raw_[t])
            base = d_o[t - 1] if t > 0 else zero
            if hm is None:
                g_next = lin.bwd(d_r, base, out=g_next)
            else:
                g_next = torch.addcmul(base, lin.bwd(d_r), hm, out=g_next)
            if mixing:
                g_next.addcmul_(k_[t], g)
            g, g_next = g_next, g
        need = ctx.needs_input_grad
        if not ln:
            d_raw = d_a
        d_w = _weight_grad(d_raw, hin) if need[2] else None
        d_g = d_b = None
        if ln:
            d_g, d_b = ln_a.param_grads(d_a, raw)
        return None, d_raw, d_w, g, None, None, d_g, d_b


# ---------------------------------------------------------------- what the cell modules register
LSTM_KERNEL = RnnkitKernel(run=_run_lstm)
GRU_KERNEL = RnnkitKernel(run=_run_gru)
SIMPLE_RNN_KERNEL = RnnkitKernel(run=_run_simple_rnn, unsupported=_simple_rnn_unsupported)
