"""The vanilla (Elman) recurrent cell and layer."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.nn.activations import Activation, resolve_activation
from rnnkit.nn.backends.simple_rnn import SIMPLE_RNN_KERNEL as RNNKIT_KERNEL
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.fused import SIMPLE_RNN_KERNEL as TORCH_KERNEL
from rnnkit.nn.initializers import Initializer
from rnnkit.nn.kernels import register_kernels
from rnnkit.nn.recurrent import Recurrent

__all__ = ["SimpleRNN", "SimpleRNNCell"]


class SimpleRNNCell(RecurrentCell):
    r"""Vanilla RNN cell: one step of

    .. math::
        h_t = f(W_{xh} x_t + W_{hh} h_{t-1} + b_h)

    and, with ``layer_norm=True`` (Ba et al. 2016, normalizing the summed pre-activation),
    :math:`h_t = f(\gamma \odot \mathrm{LN}(W_{xh} x_t + W_{hh} h_{t-1}) + b_h)`.

    Shapes: x_t (B, I), h_t (B, H); ``weight_ih`` W_xh (H, I), ``weight_hh`` W_hh (H, H),
    ``bias`` b_h (H,). Parameters: H*I + H*H + H (one bias), so 50 inputs and 128 units give
    6,400 + 16,384 + 128 = 22,912. The output projection y_t = W_hy h_t + b_y is a head
    (:class:`rnnkit.nn.heads.OutputHead`), not part of the cell.

    Args:
        activation: ``"tanh"`` (default), ``"relu"``, ``"elu"``, another name from
            :data:`rnnkit.nn.activations.ACTIVATIONS`, or any callable.
        recurrent_init: ``"orthogonal"`` (default) or ``"identity"`` (IRNN: relu + identity
            W_hh, Le et al. 2015), or any name in :data:`rnnkit.nn.initializers.INITIALIZERS`.
        others: see :class:`rnnkit.nn.cell.RecurrentCell`.

    Example:
        >>> cell = SimpleRNNCell(50, 128)
        >>> h, state = cell(torch.randn(4, 50))
        >>> h.shape
        torch.Size([4, 128])
    """

    num_gates = 1
    num_states = 1
    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int, *,
                 activation: str | Activation = "tanh", **kwargs: Any) -> None:
        super().__init__(input_size, hidden_size, **kwargs)
        self.activation_name, self.activation = resolve_activation(activation)
        if self.layer_norm:
            self.ln_weight = nn.Parameter(torch.ones(hidden_size))  # gamma (H,)
        self.reset_parameters()

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.layer_norm:  # the bias comes after the normalization
            return F.linear(x, self.weight_ih)
        return F.linear(x, self.weight_ih, self.bias)

    def step(self, xp: torch.Tensor, state: State, w_hh: torch.Tensor,
             h_mask: torch.Tensor | None) -> State:
        (h,) = state
        h_in = h if h_mask is None else h * h_mask
        a = torch.addmm(xp, h_in, w_hh.t())  # (B, H)
        if self.layer_norm:
            a = F.layer_norm(a, (self.hidden_size,), self.ln_weight, self.bias)
        return (self.activation(a),)

    def extra_repr(self) -> str:
        rep = super().extra_repr()
        return rep + (f", activation={self.activation_name!r}" if self.activation_name != "tanh" else "")


register_kernels(SimpleRNNCell, torch=TORCH_KERNEL, rnnkit=RNNKIT_KERNEL)

class SimpleRNN(Recurrent):
    r"""Vanilla RNN layer over (B, T, I) inputs; see :class:`SimpleRNNCell` for the equation and
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
        layer_norm: layer-normalize the summed pre-activation.
        activation: f, ``"tanh"`` (default), ``"relu"``, another name from
            :data:`rnnkit.nn.activations.ACTIVATIONS`, or a callable (torch calls it
            ``nonlinearity``).
        kernel_init, recurrent_init, bias_init: initializer names (see
            :data:`rnnkit.nn.initializers.INITIALIZERS`) or callables.

    An unknown keyword (``batch_first=True``, a typo) is a :class:`~rnnkit.errors.ConfigError`
    naming the accepted ones and the nearest.

    Inputs: ``x, state=None, *, lengths=None, mask=None``
        * **x**: (B, T, I), or (T, I) unbatched; float, the parameters' dtype and device.
        * **state**: h_0 (B, L*D, H); zeros when None.
        * **lengths**: (B,) integers in [1, T] (post-padding), or **mask**: (B, T) bool.

    Outputs: ``output, h_n``
        * **output**: (B, T, D*H) (``merge_mode="concat"``) or (B, T, H); with
          ``return_sequences=False``, (B, D*H) or (B, H).
        * **h_n**: (B, L*D, H), the state after each sequence's last real step.

    Symbols: B batch, T timesteps, I ``input_size``, H ``hidden_size``, L ``num_layers``,
    D = 2 if ``bidirectional`` else 1.

    Example:
        >>> rnn = SimpleRNN(1, 32, activation="relu", recurrent_init="identity")  # IRNN
        >>> out, h = rnn(torch.randn(8, 20, 1))
        >>> out.shape, h.shape
        (torch.Size([8, 20, 32]), torch.Size([8, 1, 32]))
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
        activation: str | Activation = "tanh",
        kernel_init: str | Initializer = "glorot_uniform",
        recurrent_init: str | Initializer = "orthogonal",
        bias_init: str | Initializer = "zeros",
        **unknown: Any,  # refused with a suggestion (see Recurrent)
    ) -> None:
        super().__init__(
            SimpleRNNCell, input_size, hidden_size, num_layers, dropout=dropout,
            bidirectional=bidirectional, merge_mode=merge_mode,
            return_sequences=return_sequences, stateful=stateful, backend=backend,
            check_finite=check_finite, recurrent_dropout=recurrent_dropout,
            weight_drop=weight_drop, zoneout=zoneout, layer_norm=layer_norm,
            activation=activation, kernel_init=kernel_init,
            recurrent_init=recurrent_init, bias_init=bias_init, **unknown)
