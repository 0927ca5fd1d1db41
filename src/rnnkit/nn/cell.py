"""The base of every recurrent cell: parameters, initialization, regularizers, state.

A cell computes ONE time step and declares its state; the runner
(:class:`rnnkit.nn.recurrent.Recurrent`) owns time, masks, direction, stacking and state carry.
To make the loop cheap, a step is split in two:

* :meth:`RecurrentCell.project_input` maps the whole input sequence at once,
  ``x (B, T, I) -> xp (B, T, G*H)`` (one matrix product for all steps);
* :meth:`RecurrentCell.step` adds the recurrent part for one step,
  ``(xp_t (B, G*H), state) -> new state``.

Symbols: B batch, T timesteps, I input features, H hidden units, G gates per cell
(1 for SimpleRNN, 4 for LSTM, 3 for GRU).

Regularizers shared by all cells (all off in eval mode, except zoneout's expectation):

* ``recurrent_dropout`` p: variational dropout on h_{t-1} where it enters the recurrent
  product; one Bernoulli mask per sequence (Gal & Ghahramani 2016; Keras' recurrent_dropout).
* ``weight_drop`` p: DropConnect on W_hh, one mask per forward call (AWD-LSTM, Merity 2017).
* ``zoneout`` p: each state unit keeps its previous value with probability p at each step
  (Krueger et al. 2016); in eval the state is p * old + (1 - p) * new.
* ``layer_norm``: layer normalization of the pre-activations (Ba et al. 2016), see each cell.

Inputs at the public entry (:meth:`RecurrentCell.forward`, and every layer through
:mod:`rnnkit.nn.recurrent`) follow one policy: tensors only (a NumPy array or a list is
refused with the ``torch.as_tensor`` call that converts it), floating-point of the parameters'
dtype and on their device (no silent cast: the message names ``x.float()`` or
``layer.double()``), finite (NaN/inf raise :class:`~rnnkit.errors.DataError`). Sizes are
checked before allocation: a cell or layer estimated above :data:`MAX_PARAMETERS` parameters
(or above the machine's memory) is refused with the estimate.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, ClassVar

import torch
from torch import nn

from rnnkit._validation import (
    Described,
    check_bool,
    check_finite,
    check_keywords,
    check_positive_int,
    check_probability,
    expected,
)
from rnnkit.errors import ConfigError, DataError, RnnkitError, ShapeError, StateError
from rnnkit.nn.initializers import Initializer, init_blocks, resolve_initializer

__all__ = ["FOREIGN_KEYWORDS", "MAX_PARAMETERS", "STATE_FIX", "RecurrentCell", "State",
           "cell_keywords", "check_cell_keywords", "check_input_tensor", "check_parameter_budget"]

State = tuple[torch.Tensor, ...]

# The most parameters a cell or layer may hold (8 GiB in float32); the machine's memory may
# lower it (see check_parameter_budget).
MAX_PARAMETERS = 2**31
STATE_FIX = "pass a finite state (a layer's reset_state() forgets a diverged carried one)"
_DTYPE_METHOD = {torch.float32: "float", torch.float64: "double", torch.float16: "half",
                 torch.bfloat16: "bfloat16"}


def _as(dtype: torch.dtype) -> str:
    """The method converting to ``dtype``: ``float()`` for float32, else ``to(dtype)``."""
    method = _DTYPE_METHOD.get(dtype)
    return f"{method}()" if method else f"to({dtype})"


# Answers to keywords users bring from torch.nn.LSTM/GRU/RNN: name -> (the rnnkit keyword the
# hint needs, or None; the hint).
FOREIGN_KEYWORDS = {
    "batch_first": (None, "rnnkit is batch-first everywhere (x (B, T, I), states batch-first "
                          "too): drop batch_first"),
    "nonlinearity": ("activation", "did you mean 'activation'? (torch's nonlinearity)"),
}


def check_cell_keywords(owner: str, given: Any, accepted: Any) -> None:
    """Refuse keywords ``owner`` does not take, with FOREIGN_KEYWORDS' hints where they apply."""
    accepted = set(accepted)
    hints = {k: hint for k, (needs, hint) in FOREIGN_KEYWORDS.items()
             if needs is None or needs in accepted}
    check_keywords(owner, given, accepted, hints)


def cell_keywords(cell: type[RecurrentCell]) -> dict[str, Any]:
    """The keyword arguments ``cell`` accepts and their defaults: its ``__init__``'s, and its
    bases' as long as each ``__init__`` forwards ``**kwargs`` to the next."""
    found: dict[str, Any] = {}
    for klass in cell.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or not issubclass(klass, RecurrentCell):
            continue
        params = list(inspect.signature(init).parameters.values())[1:]  # without self
        for p in params:
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in (
                    "input_size", "hidden_size"):
                found.setdefault(p.name, p.default)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return found


def check_parameter_budget(what: str, estimate: int, sizes: str) -> None:
    """Refuse, before allocating, a module estimated at more than :data:`MAX_PARAMETERS`
    parameters or more float32 bytes than the machine's physical memory."""
    limit = MAX_PARAMETERS
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limit = min(limit, memory // 4)
    except (AttributeError, OSError, ValueError):  # not a POSIX system: the fixed bound only
        pass
    if estimate > limit:
        raise ConfigError(expected(
            what, f"at most {limit:,} parameters (what fits in memory)",
            Described(f"an estimated {estimate:,} parameters ({sizes})"),
            "reduce hidden_size, input_size or num_layers"))


def check_input_tensor(name: str, value: Any, like: torch.Tensor, *,
                       error: type[RnnkitError] = ShapeError, layer_fix: bool = True,
                       finite: bool = True) -> torch.Tensor:
    """``value`` as a floating tensor of ``like``'s dtype and device, finite; else an ``error``
    (DataError for NaN/inf) naming ``name`` and the conversion that fixes it."""
    want = like.dtype
    if not isinstance(value, torch.Tensor):
        raise error(expected(name, "a torch.Tensor", Described(type(value).__name__),
                             f"convert it with torch.as_tensor({name}, dtype={want})"))
    if value.dtype != want:
        what = (f"dtype {want} (the layer's parameters)" if value.is_floating_point()
                else f"a floating-point tensor of dtype {want}")
        fix = f"convert it with {name}.{_as(want)}"
        if layer_fix and value.is_floating_point():
            fix += f" or the layer with layer.{_as(value.dtype)}"
        raise error(expected(name, what, value.dtype, fix))
    if value.device != like.device:
        raise error(expected(name, f"a tensor on {like.device} (the layer's device)",
                             Described(str(value.device)), f"move it with {name}.to({str(like.device)!r})"))
    if finite:
        check_finite(name, value, DataError)
    return value


class RecurrentCell(nn.Module):
    """Abstract one-step recurrent cell with a single bias vector per gate.

    Subclasses set ``num_gates``, ``num_states`` and implement :meth:`step` (and may extend
    :meth:`project_input`).
    """

    num_gates: ClassVar[int] = 1
    num_states: ClassVar[int] = 1
    kind: ClassVar[str] = "cell"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        zoneout: float = 0.0,
        layer_norm: bool = False,
        kernel_init: str | Initializer = "glorot_uniform",
        recurrent_init: str | Initializer = "orthogonal",
        bias_init: str | Initializer = "zeros",
        **unknown: Any,
    ) -> None:
        super().__init__()
        check_cell_keywords(type(self).__name__, unknown, cell_keywords(type(self)))
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)
        self.weight_drop = check_probability("weight_drop", weight_drop)
        self.zoneout = check_probability("zoneout", zoneout)
        self.layer_norm = check_bool("layer_norm", layer_norm)
        check_parameter_budget(type(self).__name__, self.estimate_parameters(input_size, hidden_size),
                               f"input_size={input_size}, hidden_size={hidden_size}")
        self._kernel_init = resolve_initializer(kernel_init, "kernel_init")
        self._recurrent_init = resolve_initializer(recurrent_init, "recurrent_init")
        self._bias_init = resolve_initializer(bias_init, "bias_init")
        self._init_names = {"kernel_init": kernel_init, "recurrent_init": recurrent_init,
                            "bias_init": bias_init}
        gh = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gh, input_size))  # W_x: (G*H, I)
        self.weight_hh = nn.Parameter(torch.empty(gh, hidden_size))  # W_h: (G*H, H)
        self.bias = nn.Parameter(torch.empty(gh))  # b: (G*H,)

    @classmethod
    def estimate_parameters(cls, input_size: int, hidden_size: int) -> int:
        """G*H*(I + H + 1): the weights and biases (normalization gains come on top)."""
        return cls.num_gates * hidden_size * (input_size + hidden_size + 1)

    # ----------------------------------------------------------------------------- init
    def reset_parameters(self) -> None:
        """Glorot-uniform W_x, per-gate orthogonal (or identity) W_h, zero biases (defaults)."""
        self._kernel_init(self.weight_ih)
        init_blocks(self.weight_hh, self.num_gates, self._recurrent_init)
        if self.bias.ndim == 1:
            with torch.no_grad():
                self._bias_init(self.bias.view(1, -1))

    # ---------------------------------------------------------------------------- state
    @property
    def state_size(self) -> tuple[int, ...]:
        """Sizes of the state tensors: ``(H,)``, or ``(H, H)`` for the LSTM's (h, c)."""
        return (self.hidden_size,) * self.num_states

    def zero_state(self, batch: int, *, device=None, dtype=None) -> State:
        """All-zero state: ``num_states`` tensors of shape (B, H)."""
        ref = self.weight_hh
        return tuple(
            torch.zeros(batch, n, device=device or ref.device, dtype=dtype or ref.dtype)
            for n in self.state_size
        )

    @property
    def is_regularized(self) -> bool:
        """True if this cell applies any regularizer that needs random masks in training."""
        return self.recurrent_dropout > 0 or self.weight_drop > 0 or self.zoneout > 0

    # ------------------------------------------------------------------ per-call randomness
    def recurrent_weight(self) -> torch.Tensor:
        """W_h for this forward call: DropConnect-masked (and rescaled) in training."""
        w = self.weight_hh
        if self.training and self.weight_drop > 0:
            keep = 1.0 - self.weight_drop
            w = w * (torch.rand_like(w) < keep).to(w.dtype) / keep
        return w

    def recurrent_dropout_mask(self, batch: int) -> torch.Tensor | None:
        """One variational mask (B, H), already divided by the keep probability, or None."""
        if not (self.training and self.recurrent_dropout > 0):
            return None
        keep = 1.0 - self.recurrent_dropout
        ref = self.weight_hh
        return (torch.rand(batch, self.hidden_size, device=ref.device) < keep).to(ref.dtype) / keep

    def zoneout_masks(self, steps: int, batch: int) -> torch.Tensor | None:
        """Keep-old masks (T, S, B, H) for zoneout in training (S = number of states)."""
        if not (self.training and self.zoneout > 0):
            return None
        ref = self.weight_hh
        shape = (steps, self.num_states, batch, self.hidden_size)
        return (torch.rand(shape, device=ref.device) < self.zoneout).to(ref.dtype)

    def apply_zoneout(self, old: State, new: State, keep_old: torch.Tensor | None) -> State:
        """Mix old and new state: sampled in training (keep_old (S, B, H)), expected in eval."""
        if self.zoneout == 0:
            return new
        if keep_old is None:  # eval: expectation of the stochastic update
            p = self.zoneout
            return tuple(p * o + (1 - p) * n for o, n in zip(old, new))
        return tuple(n + k * (o - n) for o, n, k in zip(old, new, keep_old))

    # ---------------------------------------------------------------------------- compute
    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        """Input part of every step at once: ``x (B, T, I) -> x W_x^T + b  (B, T, G*H)``."""
        return torch.nn.functional.linear(x, self.weight_ih, self.bias)

    def step(
        self, xp: torch.Tensor, state: State, w_hh: torch.Tensor, h_mask: torch.Tensor | None
    ) -> State:
        """One step: projected input xp (B, G*H), state, W_h (G*H, H) and the optional
        recurrent-dropout mask (B, H) -> new state."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, state: State | torch.Tensor | None = None):
        """Run one step on ``x`` (B, I) (or (I,) unbatched).

        Returns ``(h, state)``: the output h (B, H) and the new state (a tensor (B, H) for
        one-state cells, a tuple (h, c) for the LSTM). Recurrent dropout and DropConnect masks
        are drawn afresh on each call: use a layer for per-sequence (variational) masks.
        """
        x = check_input_tensor("x", x, self.weight_ih, finite=False)
        unbatched = x.dim() == 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ShapeError(expected("x", f"shape (batch, {self.input_size})", tuple(x.shape)))
        check_finite("x", x, DataError)
        batch = x.shape[0]
        if state is None:
            st = self.zero_state(batch, device=x.device, dtype=x.dtype)
        else:
            st = (state,) if isinstance(state, torch.Tensor) else state
            if not (isinstance(st, (tuple, list)) and all(isinstance(s, torch.Tensor) for s in st)):
                what = "a tuple (h, c) of tensors" if self.num_states == 2 else "a torch.Tensor"
                raise StateError(expected("state", what, Described(type(state).__name__),
                                          f"convert it with torch.as_tensor(state, dtype={x.dtype})"))
            st = tuple(check_input_tensor("state", s, self.weight_hh, error=StateError,
                                          layer_fix=False, finite=False) for s in st)
            if unbatched:
                st = tuple(s.unsqueeze(0) for s in st)
            self._check_state(st, batch)
            for s in st:
                check_finite("state", s, DataError, STATE_FIX)
        xp = self.project_input(x.unsqueeze(1)).squeeze(1)
        new = self.step(xp, st, self.recurrent_weight(), self.recurrent_dropout_mask(batch))
        keep = self.zoneout_masks(1, batch)
        new = self.apply_zoneout(st, new, None if keep is None else keep[0])
        if unbatched:
            new = tuple(s.squeeze(0) for s in new)
        return new[0], (new[0] if self.num_states == 1 else new)

    def _check_state(self, state: State, batch: int) -> None:
        if len(state) != self.num_states:
            raise StateError(expected("state", f"{self.num_states} tensor(s)", len(state)))
        for s in state:
            if tuple(s.shape) != (batch, self.hidden_size):
                raise StateError(
                    expected("state", f"tensors of shape ({batch}, {self.hidden_size})",
                             tuple(s.shape))
                )

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        for name in ("recurrent_dropout", "weight_drop", "zoneout"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        if self.layer_norm:
            parts.append("layer_norm=True")
        for name, default in (("kernel_init", "glorot_uniform"), ("recurrent_init", "orthogonal"),
                              ("bias_init", "zeros")):
            if self._init_names[name] != default:
                parts.append(f"{name}={self._init_names[name]!r}")
        return ", ".join(parts)
