"""The vanilla (Elman) recurrent cell and layer."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.nn.activations import Activation, resolve_activation
from rnnkit.nn.bptt import SIMPLE_RNN_KERNEL as RNNKIT_KERNEL
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.fused import SIMPLE_RNN_KERNEL as TORCH_KERNEL
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
    r"""Vanilla RNN layer over (B, T, I) inputs; see :class:`SimpleRNNCell` for the equation
    and :class:`rnnkit.nn.recurrent.Recurrent` for stacking, direction, masking and state.

    Example:
        >>> rnn = SimpleRNN(1, 32, activation="relu", recurrent_init="identity")  # IRNN
        >>> out, h = rnn(torch.randn(8, 20, 1))
        >>> out.shape, h.shape
        (torch.Size([8, 20, 32]), torch.Size([8, 1, 32]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kwargs: Any):
        super().__init__(SimpleRNNCell, input_size, hidden_size, num_layers, **kwargs)
