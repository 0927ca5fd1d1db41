r"""The generic recurrent runner: one class owns time, masks, direction, stacking and state.

Every layer (:class:`~rnnkit.nn.SimpleRNN`, :class:`~rnnkit.nn.LSTM`, :class:`~rnnkit.nn.GRU`,
or ``Recurrent(MyCell, ...)`` for a cell of your own) is this runner around a cell class.

Symbols: B batch, T timesteps, I input features, H hidden units, L ``num_layers``,
D = 2 if ``bidirectional`` else 1, S the cell's number of state tensors (2 for the LSTM).

Shapes (batch-first everywhere, states included):

* input ``x``: (B, T, I), or (T, I) unbatched;
* ``lengths``: (B,) integers in [1, T] (post-padding), or ``mask``: (B, T) bool, True on
  real steps (post-, pre- or any padding);
* ``state``: (B, L*D, H) tensor, or for the LSTM a tuple ``(h, c)`` of two such tensors;
  row ``l*D + d`` is layer l, direction d (0 forward, 1 backward);
* output: (B, T, D*H) for merge_mode ``"concat"``, (B, T, H) for ``"sum" | "mean" | "mul"``;
  with ``return_sequences=False``: (B, D*H) or (B, H), the output at each sequence's last
  real step (for the backward direction: after reading the whole sequence back to its first
  step).

Semantics: padded steps never change the state and their outputs are zero; the final state
of a sequence is the one after its last real step; the backward direction reads only the
real steps; layers are stacked on the concatenation of both directions, with ``dropout``
between layers (training only); the merge mode applies to the last layer's output.

Backends, named as ``layer.last_backend`` reports them: ``"torch"`` is PyTorch's kernels
(oneDNN/cuDNN), for standard configurations; ``"rnnkit"`` is rnnkit's hand-written BPTT
kernels (:mod:`rnnkit.nn.backends`), for every cell rnnkit ships; ``"fused"`` is either of
the two (never the loop): PyTorch's for standard configurations and rnnkit's for regularized or normalized
cells, and on the CPU also for GRU and SimpleRNN, which PyTorch has no oneDNN kernel for and
rnnkit's ran faster at every size measured; ``"loop"`` is the readable per-step reference
(:func:`rnnkit.nn.loop.run_loop`). Variable-length batches cost about what the same batch
does without lengths in every backend (linear in T; bench/padded_batches.py);
``"auto"`` takes the fastest that serves the configuration and logs once, naming the option,
when it has to fall back to the loop. ``layer.last_backend`` tells what ran.

What the boundary accepts (everything else raises an rnnkit error naming the argument, the
expected and the received value, and the fix; nothing is converted silently, so the engine's
numbers for valid input are the ones the equations define):

* ``x``: a floating ``torch.Tensor`` of the parameters' dtype and device. A NumPy array or a
  list is refused (ShapeError: ``torch.as_tensor(x, dtype=torch.float32)``); float64 into a
  float32 layer is refused (ShapeError: ``x.float()`` or ``layer.double()``); integer, bool
  and complex tensors are refused; NaN/inf raise ShapeError when ``check_finite`` is on.
* ``state``: tensors (a tuple of them for the LSTM) of the parameters' dtype and device,
  never cast (StateError); NaN/inf raise DataError when ``check_finite`` is on.
* ``lengths``: an integer tensor, or a list/tuple of Python ints; ``mask``: a bool tensor
  (``mask.bool()`` converts a 0/1 one). Unsorted lengths are fine; a batch of zero sequences
  returns empty outputs.
* constructor: booleans must be ``True``/``False`` (a string such as ``"no"`` is a
  ConfigError), sizes integers (not bools), probabilities in [0, 1); ``num_layers`` at most
  :data:`MAX_LAYERS`; a stack estimated above :data:`rnnkit.nn.cell.MAX_PARAMETERS`
  parameters (or the machine's memory) is refused before allocating, with the estimate; an
  unknown keyword (``batch_first=True``) is a ConfigError listing the accepted ones with a
  did-you-mean.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import (
    Described,
    check_bool,
    check_choice,
    check_finite,
    check_positive_int,
    check_probability,
)
from rnnkit._validation import expected as _expected
from rnnkit.errors import ConfigError, DataError, ShapeError, StateError
from rnnkit.nn.backends import run_bptt, unsupported_reason
from rnnkit.nn.cell import (
    STATE_FIX,
    RecurrentCell,
    State,
    cell_keywords,
    check_cell_keywords,
    check_input_tensor,
    check_parameter_budget,
)
from rnnkit.nn.fused import run_fused, unfusable_reason
from rnnkit.nn.kernels import kernels_for
from rnnkit.nn.loop import run_loop

__all__ = ["BACKENDS", "MAX_LAYERS", "MERGE_MODES", "Recurrent", "cell_keywords"]

logger = logging.getLogger("rnnkit.nn")

BACKENDS = ("auto", "torch", "rnnkit", "fused", "loop")
MERGE_MODES = ("concat", "sum", "mean", "mul")
_LOGGED: set[str] = set()
# The deepest stack a layer builds (one module per layer and direction; deeper stacks do not
# train, and building 10**9 modules would hang rather than fail).
MAX_LAYERS = 1024
_LAYER_KEYWORDS = ("dropout", "bidirectional", "merge_mode", "return_sequences", "stateful",
                   "backend", "check_finite")


def _log_once(message: str) -> None:
    if message not in _LOGGED:
        _LOGGED.add(message)
        logger.warning(message)


class Recurrent(nn.Module):
    """A stack of recurrent layers built from ``cell`` (a :class:`RecurrentCell` subclass).

    Args:
        cell: the cell class, e.g. :class:`~rnnkit.nn.LSTMCell` or one of your own.
        input_size: I, features per step.
        hidden_size: H, units per layer and direction.
        num_layers: L, stacked layers.
        dropout: dropout on the outputs of every layer but the last (training only).
        bidirectional: add a backward direction to every layer.
        merge_mode: how the last layer's two directions are merged: ``"concat"`` (default),
            ``"sum"``, ``"mean"`` or ``"mul"``.
        return_sequences: return every step's output (default) or only the last real one.
        stateful: carry the final state (detached, for truncated BPTT) into the next call
            when no state is given; :meth:`reset_state` forgets it.
        backend: ``"auto"`` (default), ``"torch"``, ``"rnnkit"``, ``"fused"`` (either of those
            two) or ``"loop"`` (see the module doc); a backend that cannot run the
            configuration is a ConfigError naming why.
        check_finite: raise on NaN/inf in ``x`` and the initial state (one reduction each).
        **cell_kwargs: passed to every cell (activation, recurrent_dropout, weight_drop,
            zoneout, layer_norm, initializers, unit_forget_bias, reset_after, ...); a name
            the cell does not take (its ``__init__``'s, and its bases' while each forwards
            ``**kwargs``) is a ConfigError listing the accepted ones and the nearest.

    Inputs: ``x, state=None, *, lengths=None, mask=None``
        * **x**: (B, T, I), or (T, I) unbatched; float, the parameters' dtype and device.
        * **state**: (B, L*D, H), or a tuple of S such tensors (``(h, c)`` for the LSTM);
          zeros when None (or the carried state of a stateful layer).
        * **lengths**: (B,) integers in [1, T] (post-padding), or **mask**: (B, T) bool,
          True on real steps (any padding).

    Outputs: ``output, state``
        * **output**: (B, T, D*H) (``merge_mode="concat"``) or (B, T, H); with
          ``return_sequences=False``, (B, D*H) or (B, H).
        * **state**: like the input state, after each sequence's last real step.

    Symbols: B batch, T timesteps, I ``input_size``, H ``hidden_size``, L ``num_layers``,
    D = 2 if ``bidirectional`` else 1, S the cell's ``num_states``.
    """

    def __init__(
        self,
        cell: type[RecurrentCell],
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        dropout: float = 0.0,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        return_sequences: bool = True,
        stateful: bool = False,
        backend: str = "auto",
        check_finite: bool = True,
        **cell_kwargs: Any,
    ) -> None:
        super().__init__()
        if not (isinstance(cell, type) and issubclass(cell, RecurrentCell)):
            raise ConfigError(_expected("cell", "a RecurrentCell subclass", cell))
        self._cell_defaults = cell_keywords(cell)
        check_cell_keywords(type(self).__name__, cell_kwargs,
                            [*_LAYER_KEYWORDS, "num_layers", *self._cell_defaults])
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if self.num_layers > MAX_LAYERS:
            raise ConfigError(_expected("num_layers", f"an integer in [1, {MAX_LAYERS}]",
                                        num_layers))
        self.dropout = check_probability("dropout", dropout)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.merge_mode = check_choice("merge_mode", merge_mode, MERGE_MODES)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.stateful = check_bool("stateful", stateful)
        self.backend = check_choice("backend", backend, BACKENDS)
        self.check_finite = check_bool("check_finite", check_finite)
        self.num_directions = 2 if self.bidirectional else 1
        D, H = self.num_directions, hidden_size
        estimate = D * cell.estimate_parameters(input_size, H) + (num_layers - 1) * D * (
            cell.estimate_parameters(D * H, H))
        check_parameter_budget(
            type(self).__name__, estimate,
            f"input_size={input_size}, hidden_size={H}, num_layers={num_layers}, "
            f"directions={D}")
        self.cells = nn.ModuleList()
        for layer in range(self.num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.num_directions
            for _ in range(self.num_directions):
                self.cells.append(cell(in_size, hidden_size, **cell_kwargs))
        self._cell_kwargs = dict(cell_kwargs)
        self.num_states = cell.num_states
        self.last_backend: str | None = None
        self._carried: State | None = None
        self._check_backend_request()

    # ---------------------------------------------------------------------------- public
    @property
    def output_size(self) -> int:
        """Features of the output: D*H for concat, H otherwise."""
        if self.num_directions == 2 and self.merge_mode == "concat":
            return 2 * self.hidden_size
        return self.hidden_size

    def reset_state(self) -> None:
        """Forget the state carried by a stateful layer (call at epoch boundaries)."""
        self._carried = None

    @property
    def carried_state(self) -> torch.Tensor | State | None:
        """The state a stateful layer will start its next call from (None after a reset)."""
        return None if self._carried is None else self._pack_state(self._carried)

    def forward(
        self,
        x: torch.Tensor,
        state: torch.Tensor | State | None = None,
        *,
        lengths: torch.Tensor | list[int] | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | State]:
        """Run the stack over ``x``; returns ``(output, final_state)`` (shapes in module doc)."""
        x = check_input_tensor("x", x, self.cells[0].weight_ih, finite=False)
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        self._check_input(x)
        B, T, _ = x.shape
        mask, lens, layout = self._resolve_mask(lengths, mask, B, T, x.device)
        if state is None and self.stateful and self._carried is not None:
            init = self._carried
            if init[0].shape[0] != B:
                raise StateError(_expected(
                    "x", f"batch size {init[0].shape[0]} (the carried state's)", B,
                    "call reset_state() before a batch of another size"))
        else:
            init = self._unpack_state(state, B, x, unbatched)
        backend = self._choose_backend(layout, x.device)
        self.last_backend = backend
        if backend == "torch":
            out_parts, final = self._forward_torch(x, init, lens, layout)
        else:
            out_parts, final = self._forward_cells(x, init, mask, backend)
        if self.stateful:
            self._carried = tuple(s.detach() for s in final)
        if self.return_sequences:
            output = self._merge(out_parts)
        else:
            last = final[0][:, -self.num_directions :]  # (B, D, H): last layer's final h
            output = self._merge(list(last.unbind(1)))
        packed = self._pack_state(final)
        if unbatched:
            output = output.squeeze(0)
            packed = packed.squeeze(0) if isinstance(packed, torch.Tensor) else tuple(
                s.squeeze(0) for s in packed)
        return output, packed

    # ---------------------------------------------------------------------------- checks
    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 3:
            raise ShapeError(_expected(
                "x", "a 3D tensor (batch, timesteps, features) or 2D (timesteps, features)",
                Described(f"{x.dim()}D tensor of shape {tuple(x.shape)}")))
        if x.shape[-1] != self.input_size:
            raise ShapeError(_expected(
                "x", f"{self.input_size} features in the last dimension (input_size)",
                Described(f"{x.shape[-1]} (shape {tuple(x.shape)})")))
        if x.shape[1] == 0:
            raise ShapeError(_expected("x", "at least one timestep", tuple(x.shape)))
        if self.check_finite:
            check_finite("x", x)

    def _resolve_mask(self, lengths, mask, B: int, T: int, device):
        """-> (mask (B, T) bool or None, lengths (B,) or None, layout full|post|pre|ragged)."""
        if lengths is not None and mask is not None:
            raise ConfigError(_expected("lengths/mask", "at most one of them", "both"))
        if lengths is None and mask is None:
            return None, None, "full"
        steps = torch.arange(T, device=device)
        if lengths is not None:
            lens = self._lengths_tensor(lengths, device)
            if lens.dim() != 1 or lens.shape[0] != B:
                raise ShapeError(_expected("lengths", f"a 1D tensor of {B} lengths (one per sequence)",
                                           Described(f"shape {tuple(lens.shape)}")))
            if lens.is_floating_point() or lens.is_complex() or lens.dtype == torch.bool:
                raise ShapeError(_expected("lengths", "integers", lens.dtype,
                                           "convert them with lengths.long()"))
            if B == 0:
                return None, None, "full"
            lo, hi = int(lens.min()), int(lens.max())
            if lo < 1 or hi > T:
                raise ShapeError(_expected("lengths", f"values in [1, {T}] (timesteps)",
                                           Described(f"values in [{lo}, {hi}]")))
            if lo == T:
                return None, None, "full"
            return steps < lens[:, None], lens, "post"
        if not isinstance(mask, torch.Tensor):
            raise ShapeError(_expected("mask", "a bool torch.Tensor", Described(type(mask).__name__),
                                       "convert it with torch.as_tensor(mask, dtype=torch.bool)"))
        m = mask.to(device)
        if tuple(m.shape) != (B, T):
            raise ShapeError(_expected("mask", f"shape ({B}, {T}) (batch, timesteps)",
                                       tuple(m.shape)))
        if m.dtype != torch.bool:
            raise ShapeError(_expected("mask", "a bool tensor (True on real steps)", m.dtype,
                                       "convert it with mask.bool()"))
        if B == 0:
            return None, None, "full"
        lens = m.sum(1)
        if int(lens.min()) < 1:
            raise ShapeError(_expected("mask", "at least one real step per sequence",
                                       Described(f"{int((lens == 0).sum())} empty sequence(s)")))
        if int(lens.min()) == T:
            return None, None, "full"
        if bool((m == (steps < lens[:, None])).all()):
            return m, lens, "post"
        if bool((m == (steps >= T - lens[:, None])).all()):
            return m, lens, "pre"
        return m, lens, "ragged"

    @staticmethod
    def _lengths_tensor(lengths: Any, device) -> torch.Tensor:
        """``lengths`` (a tensor, or a list/tuple of Python ints) as a tensor on ``device``."""
        if isinstance(lengths, torch.Tensor):
            return lengths.to(device)
        if isinstance(lengths, (list, tuple)):
            bad = [v for v in lengths if isinstance(v, bool) or not isinstance(v, int)]
            if bad:
                raise ShapeError(_expected("lengths", "integers", Described(
                    f"{type(bad[0]).__name__} {bad[0]!r} among them")))
            return torch.tensor(lengths, dtype=torch.long, device=device)
        raise ShapeError(_expected("lengths", "a 1D integer torch.Tensor or a list of ints",
                                   Described(type(lengths).__name__),
                                   "convert it with torch.as_tensor(lengths, dtype=torch.long)"))

    def _unpack_state(self, state, B: int, x: torch.Tensor, unbatched: bool) -> State:
        """User state -> tuple of S tensors (B, L*D, H)."""
        n_rows = self.num_layers * self.num_directions
        if state is None:
            z = x.new_zeros(B, n_rows, self.hidden_size)
            return tuple(z for _ in range(self.num_states))
        parts = (state,) if isinstance(state, torch.Tensor) else state
        if not (isinstance(parts, (tuple, list)) and all(isinstance(s, torch.Tensor) for s in parts)):
            what = "a tuple (h, c) of tensors" if self.num_states == 2 else "a torch.Tensor"
            raise StateError(_expected("state", what, Described(type(state).__name__),
                                       f"convert it with torch.as_tensor(state, dtype={x.dtype})"))
        if len(parts) != self.num_states:
            what = "a tuple (h, c)" if self.num_states == 2 else "one tensor"
            raise StateError(_expected("state", what, Described(f"{len(parts)} tensor(s)")))
        want = (B, n_rows, self.hidden_size)
        out = []
        for s in parts:
            check_input_tensor("state", s, x, error=StateError, layer_fix=False, finite=False)
            if unbatched:
                s = s.unsqueeze(0)
            if tuple(s.shape) != want:
                raise StateError(_expected(
                    "state", f"shape {want} (batch, num_layers*num_directions, hidden_size)",
                    tuple(s.shape[1:] if unbatched else s.shape)))
            if self.check_finite:
                check_finite("state", s, DataError, STATE_FIX)
            out.append(s)
        return tuple(out)

    def _pack_state(self, final: State) -> torch.Tensor | State:
        return final[0] if self.num_states == 1 else tuple(final)

    # -------------------------------------------------------------------------- backends
    def _check_backend_request(self) -> None:
        if self.backend == "torch":
            reason = next((r for r in map(unfusable_reason, self.cells) if r is not None), None)
            if reason is not None:
                raise ConfigError(_expected(
                    "backend", "'auto', 'rnnkit' or 'loop' for this configuration", "torch",
                    f"PyTorch's kernel does not serve {reason}"))
            return
        if self.backend == "rnnkit":
            reason = next((r for r in map(unsupported_reason, self.cells) if r is not None),
                          None)
            if reason is not None:
                raise ConfigError(_expected(
                    "backend", "'auto' or 'loop' for this configuration", "rnnkit",
                    f"rnnkit's kernel does not serve {reason}"))
            return
        if self.backend != "fused":
            return
        for cell in self.cells:
            if unfusable_reason(cell) is None:
                continue
            reason = unsupported_reason(cell)
            if reason is not None:
                raise ConfigError(_expected(
                    "backend", "'auto' or 'loop' for this configuration", "fused",
                    f"no fused kernel serves {reason}"))

    def _prefers_rnnkit_kernel(self, layout: str, device: torch.device) -> bool:
        """On the CPU, rnnkit's kernel beats PyTorch's for the cells PyTorch has no oneDNN
        kernel for (GRU, SimpleRNN) at every size measured, batch 1 to 64, 4 to 256 units:
        0.47-0.82x its time (bench/padded_batches.py, BENCHMARKS.md). The LSTM stays on oneDNN,
        with lengths too: one call per layer and direction on the padded batch
        (:func:`rnnkit.nn.fused.run_padded`) beat rnnkit's kernel in 10 of 12 padded
        configurations from 128 units (and every one below). ``layout`` does not change the
        choice: padding costs both kernels about the same (at most 1.4x)."""
        del layout
        if device.type != "cpu":
            return False
        torch_kernel = kernels_for(self.cells[0]).torch
        return torch_kernel is None or not torch_kernel.onednn

    def _choose_backend(self, layout: str, device: torch.device | None = None) -> str:
        if self.backend in ("loop", "rnnkit"):
            return self.backend  # rnnkit's kernel serves every mask; checked at construction
        if self.backend == "torch":
            if layout == "ragged":
                raise ConfigError(_expected(
                    "backend", "'auto', 'rnnkit' or 'loop' for a mask with holes", "torch",
                    "PyTorch's kernel runs pre- or post-padding only"))
            return "torch"
        reasons = [unfusable_reason(c) for c in self.cells]
        fusable = all(r is None for r in reasons) and layout != "ragged"
        if fusable and (device is None or not self._prefers_rnnkit_kernel(layout, device)):
            return "torch"
        cell_reasons = [unsupported_reason(c) for c in self.cells]
        if all(r is None for r in cell_reasons):
            return "rnnkit"
        reason = next(r for r in cell_reasons if r is not None)
        if self.backend == "fused":
            raise ConfigError(_expected("backend", "'auto' or 'loop' for this input", "fused",
                                        f"no fused kernel serves {reason}"))
        _log_once(f"rnnkit.nn.{type(self).__name__}: falling back to the per-step loop "
                  f"backend because of {reason}")
        return "loop"

    def _forward_torch(self, x, init: State, lens, layout: str):
        B, T, _ = x.shape
        shift = None
        if layout == "pre":  # shift each sequence to the front: post-padding
            shift = (torch.arange(T, device=x.device) + (T - lens)[:, None]) % T  # (B, T)
            x = x.gather(1, shift[..., None].expand(-1, -1, x.shape[-1]))
        hx = tuple(s.transpose(0, 1).contiguous() for s in init)  # (L*D, B, H)
        out, final = run_fused(list(self.cells), x, hx, num_layers=self.num_layers,
                               bidirectional=self.bidirectional, dropout=self.dropout,
                               training=self.training,
                               lengths=None if layout == "full" else lens)
        if shift is not None:  # back to the original positions; padding maps to zeros
            back = (torch.arange(T, device=x.device) + lens[:, None]) % T  # (B, T)
            out = out.gather(1, back[..., None].expand(-1, -1, out.shape[-1]))
        parts = list(out.chunk(self.num_directions, dim=-1))  # D x (B, T, H)
        return parts, tuple(s.transpose(0, 1) for s in final)  # (B, L*D, H)

    def _forward_cells(self, x, init: State, mask, backend: str):
        run = run_loop if backend == "loop" else run_bptt
        D = self.num_directions
        finals: list[State] = []
        layer_in = x
        parts: list[torch.Tensor] = []
        for layer in range(self.num_layers):
            parts = []
            for d in range(D):
                k = layer * D + d
                cell = self.cells[k]
                st = tuple(s[:, k] for s in init)  # S x (B, H)
                if d == 0:
                    out, fin = run(cell, layer_in, st, mask)
                else:  # the backward direction reads time reversed; masks hold the state
                    out, fin = run(cell, layer_in.flip(1), st,
                                   None if mask is None else mask.flip(1))
                    out = out.flip(1)
                parts.append(out)
                finals.append(fin)
            layer_in = parts[0] if D == 1 else torch.cat(parts, dim=-1)  # (B, T, D*H)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        final = tuple(torch.stack([f[i] for f in finals], dim=1)
                      for i in range(self.num_states))  # S x (B, L*D, H)
        return parts, final

    def _merge(self, parts: list[torch.Tensor]) -> torch.Tensor:
        if len(parts) == 1:
            return parts[0]
        a, b = parts
        if self.merge_mode == "concat":
            return torch.cat([a, b], dim=-1)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "mean":
            return (a + b) * 0.5
        return a * b

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {"num_layers": 1, "dropout": 0.0, "bidirectional": False,
                    "merge_mode": "concat", "return_sequences": True, "stateful": False,
                    "backend": "auto"}
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={value!r}")
        parts += [f"{k}={v!r}" for k, v in self._cell_kwargs.items()
                  if k not in self._cell_defaults or self._cell_defaults[k] != v]
        return ", ".join(parts)
