"""The gated recurrent unit cell and layer (Cho et al. 2014), in both of its published forms."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_bool
from rnnkit.nn.bptt import GRU_KERNEL as RNNKIT_KERNEL
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.fused import GRU_KERNEL as TORCH_KERNEL
from rnnkit.nn.kernels import register_kernels
from rnnkit.nn.recurrent import Recurrent

__all__ = ["GRU", "GRUCell"]


class GRUCell(RecurrentCell):
    r"""GRU cell: one step of

    .. math::
        \begin{aligned}
        r_t &= \sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r) \\
        z_t &= \sigma(W_{xz} x_t + W_{hz} h_{t-1} + b_z) \\
        n_t &= \tanh(W_{xn} x_t + b_n + r_t \odot (W_{hn} h_{t-1} + b_{hn}))
               &&\text{reset\_after=True (PyTorch / cuDNN form)} \\
        n_t &= \tanh(W_{xn} x_t + W_{hn} (r_t \odot h_{t-1}) + b_n)
               &&\text{reset\_after=False (Cho et al. 2014)} \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}

    Gates are stacked (r, z, n), PyTorch's order: ``weight_ih`` (3H, I), ``weight_hh``
    (3H, H), ``bias`` (3H,). The reset-after form needs one more bias, ``recurrent_bias``
    b_hn (H,), because the reset gate multiplies it; the r and z halves of a second bias
    would only duplicate ``bias``, so they are not kept. Parameters:

    * reset_after=True: 3(H*I + H*H) + 4H  (torch.nn.GRU has 3(H*I + H*H) + 6H, two of
      which are redundant);
    * reset_after=False: 3(H*I + H*H + H).

    With ``layer_norm=True``: :math:`\gamma_x\odot\mathrm{LN}(W_x x_t) + b` over 3H, and the
    recurrent products layer-normalized with gain gamma_h (over 3H for reset-after; over the
    2H of r, z and the H of the candidate separately for the Cho form). Adds 6H parameters.

    State: h (B, H).
    """

    num_gates = 3
    num_states = 1
    kind = "gru"

    def __init__(self, input_size: int, hidden_size: int, *, reset_after: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(input_size, hidden_size, **kwargs)
        self.reset_after = check_bool("reset_after", reset_after)
        if self.reset_after:
            self.recurrent_bias = nn.Parameter(torch.zeros(hidden_size))  # b_hn (H,)
        if self.layer_norm:
            self.ln_ih_weight = nn.Parameter(torch.ones(3 * hidden_size))
            self.ln_hh_weight = nn.Parameter(torch.ones(3 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.reset_after:
            with torch.no_grad():
                self._bias_init(self.recurrent_bias.view(1, -1))

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        if not self.layer_norm:
            return F.linear(x, self.weight_ih, self.bias)
        gh = 3 * self.hidden_size
        return F.layer_norm(F.linear(x, self.weight_ih), (gh,), self.ln_ih_weight, self.bias)

    def step(self, xp: torch.Tensor, state: State, w_hh: torch.Tensor,
             h_mask: torch.Tensor | None) -> State:
        (h,) = state
        hs = self.hidden_size
        h_in = h if h_mask is None else h * h_mask
        x_r, x_z, x_n = xp.chunk(3, dim=1)  # each (B, H)
        if self.reset_after:
            rec = h_in @ w_hh.t()  # (B, 3H)
            if self.layer_norm:
                rec = F.layer_norm(rec, (3 * hs,), self.ln_hh_weight)
            h_r, h_z, h_n = rec.chunk(3, dim=1)
            r = torch.sigmoid(x_r + h_r)
            z = torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * (h_n + self.recurrent_bias))
        else:
            rec = h_in @ w_hh[: 2 * hs].t()  # (B, 2H)
            if self.layer_norm:
                rec = F.layer_norm(rec, (2 * hs,), self.ln_hh_weight[: 2 * hs])
            h_r, h_z = rec.chunk(2, dim=1)
            r = torch.sigmoid(x_r + h_r)
            z = torch.sigmoid(x_z + h_z)
            rec_n = (r * h_in) @ w_hh[2 * hs :].t()  # (B, H)
            if self.layer_norm:
                rec_n = F.layer_norm(rec_n, (hs,), self.ln_hh_weight[2 * hs :])
            n = torch.tanh(x_n + rec_n)
        return (n + z * (h - n),)

    def extra_repr(self) -> str:
        rep = super().extra_repr()
        return rep + ("" if self.reset_after else ", reset_after=False")


register_kernels(GRUCell, torch=TORCH_KERNEL, rnnkit=RNNKIT_KERNEL)

class GRU(Recurrent):
    r"""GRU layer over (B, T, I) inputs; see :class:`GRUCell` for the equations and
    :class:`rnnkit.nn.recurrent.Recurrent` for stacking, direction, masking and state.

    Example:
        >>> gru = GRU(8, 16, bidirectional=True, merge_mode="sum")
        >>> out, h = gru(torch.randn(4, 10, 8), lengths=torch.tensor([10, 7, 3, 1]))
        >>> out.shape, h.shape
        (torch.Size([4, 10, 16]), torch.Size([4, 2, 16]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kwargs: Any):
        super().__init__(GRUCell, input_size, hidden_size, num_layers, **kwargs)
