"""The long short-term memory cell and layer (Hochreiter & Schmidhuber 1997, with forget gate)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_bool
from rnnkit.nn.backends.lstm import LSTM_KERNEL as RNNKIT_KERNEL
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.fused import LSTM_KERNEL as TORCH_KERNEL
from rnnkit.nn.initializers import Initializer
from rnnkit.nn.kernels import register_kernels
from rnnkit.nn.recurrent import Recurrent

__all__ = ["LSTM", "LSTMCell"]


class LSTMCell(RecurrentCell):
    r"""LSTM cell: one step of

    .. math::
        \begin{aligned}
        i_t &= \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i) \\
        f_t &= \sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f) \\
        \tilde C_t &= \tanh(W_{xc} x_t + W_{hc} h_{t-1} + b_c) \\
        o_t &= \sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o) \\
        C_t &= f_t \odot C_{t-1} + i_t \odot \tilde C_t \\
        h_t &= o_t \odot \tanh(C_t)
        \end{aligned}

    Gates are stacked in the order (i, f, C~, o), PyTorch's order, so ``weight_ih`` is
    (4H, I), ``weight_hh`` (4H, H) and ``bias`` (4H,): one bias per gate. Parameters:
    4(H*I + H*H + H). The forget-gate bias b_f starts at 1.0 (``unit_forget_bias=True``,
    Jozefowicz et al. 2015) so the cell remembers by default.

    With ``layer_norm=True`` (Ba et al. 2016): the gate pre-activations are
    :math:`\gamma_x\odot\mathrm{LN}(W_x x_t) + \gamma_h\odot\mathrm{LN}(W_h h_{t-1}) + b`,
    each LN over all 4H units, and :math:`h_t = o_t \odot \tanh(\mathrm{LN}(C_t))` with its
    own gain and bias (H,); the carried C_t is not normalized. Adds 4H + 4H + 2H parameters.

    State: ``(h, c)``, each (B, H).

    Example:
        >>> cell = LSTMCell(3, 8)
        >>> h, (h, c) = cell(torch.randn(2, 3))
        >>> float(cell.bias[8:16].mean())
        1.0
    """

    num_gates = 4
    num_states = 2
    kind = "lstm"

    def __init__(self, input_size: int, hidden_size: int, *, unit_forget_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(input_size, hidden_size, **kwargs)
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        if self.layer_norm:
            gh = 4 * hidden_size
            self.ln_ih_weight = nn.Parameter(torch.ones(gh))  # gamma_x (4H,)
            self.ln_hh_weight = nn.Parameter(torch.ones(gh))  # gamma_h (4H,)
            self.ln_cell_weight = nn.Parameter(torch.ones(hidden_size))  # (H,)
            self.ln_cell_bias = nn.Parameter(torch.zeros(hidden_size))  # (H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.unit_forget_bias:
            h = self.hidden_size
            with torch.no_grad():
                self.bias[h : 2 * h].fill_(1.0)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        if not self.layer_norm:
            return F.linear(x, self.weight_ih, self.bias)
        gh = 4 * self.hidden_size
        return F.layer_norm(F.linear(x, self.weight_ih), (gh,), self.ln_ih_weight, self.bias)

    def step(self, xp: torch.Tensor, state: State, w_hh: torch.Tensor,
             h_mask: torch.Tensor | None) -> State:
        h, c = state
        h_in = h if h_mask is None else h * h_mask
        if self.layer_norm:
            rec = F.layer_norm(h_in @ w_hh.t(), (4 * self.hidden_size,), self.ln_hh_weight)
            gates = xp + rec  # (B, 4H)
        else:
            gates = torch.addmm(xp, h_in, w_hh.t())  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # each (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        c_out = c
        if self.layer_norm:
            c_out = F.layer_norm(c, (self.hidden_size,), self.ln_cell_weight, self.ln_cell_bias)
        h = torch.sigmoid(o) * torch.tanh(c_out)
        return (h, c)

    def extra_repr(self) -> str:
        rep = super().extra_repr()
        return rep + ("" if self.unit_forget_bias else ", unit_forget_bias=False")


register_kernels(LSTMCell, torch=TORCH_KERNEL, rnnkit=RNNKIT_KERNEL)

class LSTM(Recurrent):
    r"""LSTM layer over (B, T, I) inputs; see :class:`LSTMCell` for the equations and
    :class:`rnnkit.nn.recurrent.Recurrent` for stacking, direction, masking and state.

    Args:
        input_size: I, features per step.
        hidden_size: H, units per layer and direction.
        num_layers: L, stacked layers (1 to 1024).
        dropout: dropout on the outputs of every layer but the last (training only), in [0, 1).
        bidirectional: add a backward direction to every layer.
        merge_mode: how the last layer's two directions merge: ``"concat"`` (default),
            ``"sum"``, ``"mean"`` or ``"mul"``.
        return_sequences: every step's output (default) or only the last real step's.
        stateful: carry the final state (detached) into the next call when none is given.
        backend: ``"auto"`` (default), ``"torch"``, ``"rnnkit"``, ``"fused"`` or ``"loop"``
            (:mod:`rnnkit.nn.recurrent`).
        check_finite: raise on NaN/inf in ``x`` and the initial state (one reduction each).
        recurrent_dropout: variational dropout on h_{t-1} in the recurrent product, in [0, 1).
        weight_drop: DropConnect on W_hh, one mask per call, in [0, 1).
        zoneout: probability that a state unit keeps its previous value, in [0, 1).
        layer_norm: layer-normalize the gate pre-activations and the cell output.
        unit_forget_bias: start the forget-gate bias at 1.0 (default True).
        kernel_init, recurrent_init, bias_init: initializer names (see
            :data:`rnnkit.nn.initializers.INITIALIZERS`) or callables.

    An unknown keyword (``batch_first=True``, a typo) is a :class:`~rnnkit.errors.ConfigError`
    naming the accepted ones and the nearest.

    Inputs: ``x, state=None, *, lengths=None, mask=None``
        * **x**: (B, T, I), or (T, I) unbatched; float, the parameters' dtype and device.
        * **state**: a tuple ``(h_0, c_0)``, each (B, L*D, H); zeros when None.
        * **lengths**: (B,) integers in [1, T] (post-padding), or **mask**: (B, T) bool.

    Outputs: ``output, (h_n, c_n)``
        * **output**: (B, T, D*H) (``merge_mode="concat"``) or (B, T, H); with
          ``return_sequences=False``, (B, D*H) or (B, H).
        * **h_n, c_n**: (B, L*D, H) each, the state after each sequence's last real step.

    Symbols: B batch, T timesteps, I ``input_size``, H ``hidden_size``, L ``num_layers``,
    D = 2 if ``bidirectional`` else 1.

    Example (the tutorial's battery model: two LSTM layers of 50 units, dropout 0.2):
        >>> lstm = LSTM(1, 50, num_layers=2, dropout=0.2, return_sequences=False)
        >>> y, (h, c) = lstm(torch.randn(32, 20, 1))
        >>> y.shape, h.shape
        (torch.Size([32, 50]), torch.Size([32, 2, 50]))
    """

    def __init__(
        self,
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
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        zoneout: float = 0.0,
        layer_norm: bool = False,
        unit_forget_bias: bool = True,
        kernel_init: str | Initializer = "glorot_uniform",
        recurrent_init: str | Initializer = "orthogonal",
        bias_init: str | Initializer = "zeros",
        **unknown: Any,  # refused with a suggestion (see Recurrent)
    ) -> None:
        super().__init__(
            LSTMCell, input_size, hidden_size, num_layers, dropout=dropout,
            bidirectional=bidirectional, merge_mode=merge_mode,
            return_sequences=return_sequences, stateful=stateful, backend=backend,
            check_finite=check_finite, recurrent_dropout=recurrent_dropout,
            weight_drop=weight_drop, zoneout=zoneout, layer_norm=layer_norm,
            unit_forget_bias=unit_forget_bias, kernel_init=kernel_init,
            recurrent_init=recurrent_init, bias_init=bias_init, **unknown)
