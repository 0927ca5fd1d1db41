"""The gated recurrent unit cell and layer (Cho et al. 2014), in both of its published forms."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_bool
from rnnkit.nn.backends.gru import GRU_KERNEL as RNNKIT_KERNEL
from rnnkit.nn.cell import RecurrentCell, State
from rnnkit.nn.fused import GRU_KERNEL as TORCH_KERNEL
from rnnkit.nn.initializers import Initializer
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
        layer_norm: layer-normalize the input and recurrent pre-activations.
        reset_after: PyTorch's / cuDNN's form (default True) or Cho et al.'s (False).
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
        >>> gru = GRU(8, 16, bidirectional=True, merge_mode="sum")
        >>> out, h = gru(torch.randn(4, 10, 8), lengths=torch.tensor([10, 7, 3, 1]))
        >>> out.shape, h.shape
        (torch.Size([4, 10, 16]), torch.Size([4, 2, 16]))
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
        reset_after: bool = True,
        kernel_init: str | Initializer = "glorot_uniform",
        recurrent_init: str | Initializer = "orthogonal",
        bias_init: str | Initializer = "zeros",
        **unknown: Any,  # refused with a suggestion (see Recurrent)
    ) -> None:
        super().__init__(
            GRUCell, input_size, hidden_size, num_layers, dropout=dropout,
            bidirectional=bidirectional, merge_mode=merge_mode,
            return_sequences=return_sequences, stateful=stateful, backend=backend,
            check_finite=check_finite, recurrent_dropout=recurrent_dropout,
            weight_drop=weight_drop, zoneout=zoneout, layer_norm=layer_norm,
            reset_after=reset_after, kernel_init=kernel_init,
            recurrent_init=recurrent_init, bias_init=bias_init, **unknown)
