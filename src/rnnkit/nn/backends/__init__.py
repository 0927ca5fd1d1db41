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
* large buffers reused between calls (:mod:`~rnnkit.nn.backends.workspace`): a first
  write to fresh memory page-faults, ~2 µs per 4 KiB page, 75 MB per LSTM step without it;
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
(:mod:`~rnnkit.nn.backends.replay`): higher-order gradients are exact, at the loop
backend's cost, and the ordinary first-order backward keeps nothing more in memory for it.

Layout: :mod:`~rnnkit.nn.backends.run` (the entry point :func:`run_bptt`, which asks the
kernel table :mod:`rnnkit.nn.kernels` for the cell's kernel), one file per cell
(:mod:`~rnnkit.nn.backends.lstm`, :mod:`~rnnkit.nn.backends.gru`,
:mod:`~rnnkit.nn.backends.simple_rnn`: the cell's ``autograd.Function`` and its
``*_KERNEL``, which the cell module registers; one Function serves both GRU forms), and the
helpers they share:
:mod:`~rnnkit.nn.backends.common` (products, tanh, layer norm, blocks),
:mod:`~rnnkit.nn.backends.workspace` (the buffer pool, :func:`set_buffer_pool_limit`) and
:mod:`~rnnkit.nn.backends.replay` (higher-order gradients).

Naming conventions
------------------
The kernels are written for speed (every per-step op writes into a preallocated buffer with
``out=``), so names are short; they follow these rules.

* **A trailing underscore marks the per-step views of a time-major buffer.** ``act`` is a
  (T, B, G*H) buffer; ``act_ = act.unbind(0)`` is the tuple of its T step slices, each
  (B, G*H); ``act_[t]`` is step t's slice, a view, so ``torch.sigmoid(pre, out=act_[t])``
  writes into the buffer. Likewise ``hs_[t]`` (the state entering step t, from ``hs``
  (T+1, B, H)), ``f_[t]`` (the LSTM's forget gate at step t, a view of ``act``),
  ``d_raw_[t]``, ``kh_[t]`` (step t's zoneout/mask weight of h). Unbinding once up front
  saves a slicing op per step. The backward's block buffers (``P_ifg_``, ``K_``, ``pr_``,
  ``a_n_``, ``zc_``, ``c_r_``) are indexed by ``k = t - block.start``, the step's offset in
  its block (see :func:`~rnnkit.nn.backends.common.chunks`). Without the underscore a name
  is the whole buffer (``act``, (T, B, G*H)), or a block of it (``act[ts]``, ``ts`` a slice
  of steps).
  A trailing underscore on a *method* (``mul_``, ``addcmul_``) is PyTorch's in-place op, as
  everywhere.
* **Plural ``s``: every step's state.** ``hs`` and ``cs`` are (T+1, B, H): ``hs[0]`` is the
  initial state h_0, ``hs[t + 1]`` the state after step t; ``hs[1:]`` is the output.
* **``d_`` (or ``d``) prefix: a gradient of the loss.** ``d_out`` (B, T, H) and ``d_hT``
  are the incoming gradients, ``d_o[t]`` the output's gradient at step t, ``dG`` the
  gates' (= ``d xp``), ``d_raw`` the recurrent product's before its layer norm, ``d_w`` the
  weight's. ``g`` (GRU, SimpleRNN) and ``gh``, ``gc`` (LSTM: h and C) are the running total
  gradient d loss / d h_t carried back through time; ``g_next`` its value for step t-1,
  double-buffered and swapped every step.
* **Symbols.** B batch, T timesteps, H hidden units, G gates x H (4H LSTM, 3H GRU, H
  SimpleRNN), S states (2 for the LSTM's (h, C), else 1), ``n_max``/``m``/``n`` steps in a
  block. ``xp`` the projected input (T, B, G*H); ``w`` the recurrent weight W_h (G*H, H);
  ``hm`` the recurrent-dropout mask (B, H) or None; ``hin`` (T, B, H) h_{t-1} as it enters
  W_h (``hs[:T]`` without recurrent dropout); ``keep`` (T, S, B, H|1) how much of the old
  state each step keeps (zoneout and masked steps, see :func:`run_bptt`), ``kh``/``kc``
  its h and C parts, ``mixing`` whether there is one; ``ln`` whether the cell has layer
  norm; ``rec`` the recurrent product (after its layer norm), ``raw`` before it; ``pre`` a
  step's pre-activations; ``act`` the gate activations, ``i f g o`` (LSTM, PyTorch's
  names) and ``r z n`` (GRU) views of them; ``cand`` the candidate state before the
  zoneout/mask mix; ``tc`` tanh of the (normalized) cell; ``g_h``/``g_c``/``g_ln`` layer-norm
  gains (gamma) and ``b_c``/``b_ln``/``b_hn`` biases; ``P``, ``K``, ``pr``, ``a_n`` ... a
  block's local derivatives (each kernel says which).
* **Buffers by role.** ``new = WORKSPACE.allocator(like)`` allocates from the pool;
  ``*_buf`` and ``tmp`` are one step's scratch (B, ...), reused every step; ``lin`` is a
  :class:`~rnnkit.nn.backends.common.Linear` (the per-step product with ``w``);
  ``into(result, buffer)`` makes a buffer hold a product's result.

Example::

    from rnnkit.nn import LSTMCell
    from rnnkit.nn.backends import run_bptt

    cell = LSTMCell(32, 256, layer_norm=True)
    x = torch.randn(64, 100, 32)                     # (B, T, I)
    out, (h, c) = run_bptt(cell, x, cell.zero_state(64), None)  # out (B, T, H), h/c (B, H)
"""

from rnnkit.nn.backends.gru import GRU_KERNEL
from rnnkit.nn.backends.lstm import LSTM_KERNEL
from rnnkit.nn.backends.run import run_bptt, unsupported_reason
from rnnkit.nn.backends.simple_rnn import SIMPLE_RNN_KERNEL
from rnnkit.nn.backends.workspace import set_buffer_pool_limit

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "run_bptt", "set_buffer_pool_limit",
           "unsupported_reason"]
