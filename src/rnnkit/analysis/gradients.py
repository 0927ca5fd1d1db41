r"""Gradient flow through time: the norm of dLoss/dh_t for every step t and layer.

For a recurrent layer run over a batch ``x`` (B, T, F), the gradient of a loss with respect to
the hidden state h_t of layer l shows how far back in time a training signal reaches. With the
default loss, the sum of the last step's output, dL/dh_T is a vector of ones and the flow back
through time is the product of the step Jacobians:

.. math::
    \frac{\partial L}{\partial h_t} = \Big(\prod_{s=t+1}^{T}
    \frac{\partial h_s}{\partial h_{s-1}}\Big)^\top \frac{\partial L}{\partial h_T}

so for a linear SimpleRNN it is :math:`(W_{hh}^\top)^{T-t}\,\mathbf{1}`; norms that shrink
towards t = 1 are vanishing gradients, norms that grow are exploding ones.

The layer is stepped cell by cell (the per-step loop of :func:`rnnkit.nn.loop.run_loop`, in
eval mode: no dropout), keeping every h_t, so the output is the layer's own.

**Per gate** (LSTM and GRU layers): the norm of dL/d(gate activation at step t) for every gate,
from the same backward pass, by the chain rule through the step's last operations. For the LSTM
(:math:`c_t = f_t c_{t-1} + i_t g_t`, :math:`h_t = o_t \tanh(c_t)`), with dL/dc_t the total
gradient of the cell state (through h_t and c_{t+1}):

.. math::
    \frac{\partial L}{\partial o_t} = \frac{\partial L}{\partial h_t} \odot \tanh(c_t),\quad
    \frac{\partial L}{\partial f_t} = \frac{\partial L}{\partial c_t} \odot c_{t-1},\quad
    \frac{\partial L}{\partial i_t} = \frac{\partial L}{\partial c_t} \odot g_t,\quad
    \frac{\partial L}{\partial g_t} = \frac{\partial L}{\partial c_t} \odot i_t

(:math:`\tanh(\mathrm{LN}(c_t))` with layer norm). For the GRU
(:math:`h_t = (1 - z_t) n_t + z_t h_{t-1}`, :math:`n_t` depending on :math:`r_t`) the
gradients of r_t, z_t and n_t are those of the step's own graph given dL/dh_t. A small
gradient at a gate means the loss no longer reaches that step through it.

Example::

    >>> import torch
    >>> from rnnkit.nn import LSTM
    >>> flow = gradient_flow(LSTM(3, 8, num_layers=2), torch.randn(4, 20, 3))
    >>> flow.norms.shape
    (2, 20)
    >>> fig = flow.plot("flow.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import Described, expected
from rnnkit.analysis.plots import save_figure
from rnnkit.errors import ConfigError, RnnkitError, ShapeError
from rnnkit.nn.recurrent import Recurrent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["GATES", "GradientFlow", "find_recurrent", "gradient_flow"]

LossFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GradientFlow:
    """The result of :func:`gradient_flow`.

    Attributes:
        norms: (L*D, T) float64: row ``l*D + d`` (layer l, direction d, 0 forward) holds, for
            every time position t, the norm of dL/dh_t per sequence, averaged over the batch.
        labels: the row names (``"layer 0"``, ``"layer 0 backward"``, ...).
        gates: gate name -> (L*D, T) float64, the same statistic for dL/d(gate activation at
            t), rows as ``norms``: LSTM ``"input"``, ``"forget"``, ``"candidate"``,
            ``"output"``; GRU ``"reset"``, ``"update"``, ``"candidate"``; empty for other cells.
    """

    norms: np.ndarray
    labels: tuple[str, ...]
    gates: dict[str, np.ndarray] = field(default_factory=dict)

    def plot(self, path: str | os.PathLike[str] | None = None, *, gates: bool = False
             ) -> Figure:
        """The norms against the time step on a log scale, one line per layer and direction.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.
            gates: add one panel per gate (LSTM/GRU) beside the dL/dh_t panel.

        Returns:
            the matplotlib Figure (Agg canvas, no window).

        Raises:
            ConfigError: ``gates=True`` for a flow without gates (a SimpleRNN).
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if gates and not self.gates:
            raise ConfigError(expected(
                "gates", "True only for an LSTM or GRU flow (it has per-gate norms)",
                Described("True for a flow without gates (a SimpleRNN)"),
                "call plot(path) without gates=True"))
        panels = [("gradient flow through time", "||dL/dh_t||", self.norms)]
        if gates:
            panels += [(name if name == "candidate" else f"{name} gate", f"||dL/d{name}_t||",
                        norms) for name, norms in self.gates.items()]
        cols = min(len(panels), 3)
        rows = -(-len(panels) // cols)
        fig = Figure(figsize=(11 if cols == 1 else 5 * cols, 4.5 * rows), dpi=100)
        FigureCanvasAgg(fig)
        steps = np.arange(1, self.norms.shape[1] + 1)
        for k, (title, ylabel, norms) in enumerate(panels):
            ax = fig.add_subplot(rows, cols, k + 1)
            for row, label in zip(norms, self.labels):
                ax.plot(steps, np.where(row > 0, row, np.nan), marker="o", markersize=3,
                        label=label)
            if np.any(norms > 0):
                ax.set_yscale("log")
            ax.set_xlabel("time step t")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.tight_layout()
        if path is not None:
            save_figure(fig, path)
        return fig


def find_recurrent(model_or_task: Any) -> Recurrent:
    """The recurrent layer of a layer, a model (its first :class:`Recurrent` submodule) or a
    fitted task (its ``model_``)."""
    obj = getattr(model_or_task, "model_", model_or_task)
    if isinstance(obj, Recurrent):
        return obj
    if isinstance(obj, nn.Module):
        for module in obj.modules():
            if isinstance(module, Recurrent):
                return module
    raise ConfigError(expected(
        "layer_or_model", "an rnnkit recurrent layer (SimpleRNN, LSTM, GRU, Recurrent), a "
        "model containing one, or a fitted task", Described(type(model_or_task).__name__),
        "pass the layer itself, e.g. rnnkit.nn.LSTM(3, 8)"))


def _layer_input(model: nn.Module, layer: Recurrent, x: Any) -> torch.Tensor:
    """Run ``model(x)`` (eval mode, no grad) and return what ``layer`` received as ``x``."""
    seen: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not seen:  # the first call (a decoder may call the layer again)
            seen.append(args[0] if args else kwargs["x"])

    handle = layer.register_forward_pre_hook(hook, with_kwargs=True)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    except RnnkitError:
        raise
    except Exception as err:  # the model's own failure, named with the way out
        raise ConfigError(expected(
            "layer_or_model", "a model whose forward(x) runs on x",
            Described(f"{type(model).__name__} raising {type(err).__name__}: {err}"),
            "pass the recurrent layer and its input instead")) from err
    finally:
        handle.remove()
        model.train(was_training)
    if not seen:
        raise ConfigError(expected(
            "layer_or_model", "a model whose forward(x) runs its recurrent layer",
            Described(f"{type(model).__name__}, whose forward never called it"),
            "pass the recurrent layer and its input instead"))
    return seen[0].detach()


def _check_x(layer: Recurrent, x: Any) -> torch.Tensor:
    ref = layer.cells[0].weight_hh
    if not isinstance(x, torch.Tensor):
        raise ShapeError(expected("x", "a torch.Tensor (B, T, F)", Described(type(x).__name__),
                                  "convert it with torch.as_tensor(x, dtype=torch.float32)"))
    if x.dim() != 3 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ShapeError(expected("x", "a 3D tensor (batch, timesteps, features), not empty",
                                  Described(f"shape {tuple(x.shape)}")))
    if x.shape[-1] != layer.input_size:
        raise ShapeError(expected("x", f"{layer.input_size} features (the layer's input_size)",
                                  Described(f"{x.shape[-1]} (shape {tuple(x.shape)})")))
    if x.dtype != ref.dtype:
        raise ShapeError(expected("x", f"dtype {ref.dtype} (the layer's)", x.dtype,
                                  "convert x with x.to(layer dtype) or the layer with .double()"))
    return x.to(ref.device)


#: The gates whose gradients :func:`gradient_flow` reports, by cell kind, in plotting order.
GATES = {"lstm": ("input", "forget", "candidate", "output"),
         "gru": ("reset", "update", "candidate")}


@dataclass
class _Direction:
    """One layer and direction as stepped: every h_t, and for a gated cell what its gate
    gradients need: the projected input, the state before each step and the new state."""

    hs: list[torch.Tensor]
    xp: torch.Tensor  # (B, T, G*H)
    prev: list[tuple[torch.Tensor, ...]] = field(default_factory=list)
    new: list[tuple[torch.Tensor, ...]] = field(default_factory=list)


def _run_direction(cell: Any, x: torch.Tensor, state: tuple[torch.Tensor, ...]
                   ) -> tuple[torch.Tensor, _Direction]:
    """Step ``cell`` over x (B, T, I) keeping every h_t; -> (B, T, H), what was kept."""
    _, T, _ = x.shape
    xp = cell.project_input(x)  # (B, T, G*H)
    w_hh = cell.recurrent_weight()
    gated = getattr(cell, "kind", "") in GATES
    kept = _Direction(hs=[], xp=xp)
    for t in range(T):
        new = cell.step(xp[:, t], state, w_hh, None)
        if gated:
            kept.prev.append(state)
            kept.new.append(new)
        state = cell.apply_zoneout(state, new, None)
        h = state[0]
        h.retain_grad()
        kept.hs.append(h)
    return torch.stack(kept.hs, dim=1), kept


def _stack(states: list[tuple[torch.Tensor, ...]], k: int) -> torch.Tensor:
    return torch.stack([s[k] for s in states], dim=1).detach()  # (B, T, H)


def _gate_grads(cell: Any, kept: _Direction, grads: list[torch.Tensor | None]
                ) -> dict[str, torch.Tensor]:
    """dL/d(gate activation) (B, T, H) per gate, from dL/d(new state) of every step.

    ``grads`` holds, step after step, the gradient of each new-state tensor (h, c for the
    LSTM; h for the GRU), None where the loss does not depend on it."""
    H = cell.hidden_size
    S = len(kept.new[0])
    d_new = [torch.stack([g if g is not None else torch.zeros_like(kept.new[t][k])
                          for t, g in enumerate(grads[k::S])], dim=1)  # (B, T, H)
             for k in range(S)]
    xp = kept.xp.detach()  # (B, T, G*H)
    w_hh = cell.recurrent_weight().detach()
    h_prev = _stack(kept.prev, 0)  # (B, T, H)
    if cell.kind == "lstm":
        dh, dc = d_new
        c_prev, c_new = _stack(kept.prev, 1), _stack(kept.new, 1)
        rec = h_prev @ w_hh.t()  # (B, T, 4H)
        if cell.layer_norm:
            rec = F.layer_norm(rec, (4 * H,), cell.ln_hh_weight.detach())
        i, _, g, _ = (xp + rec).chunk(4, dim=-1)  # each (B, T, H)
        c_out = c_new
        if cell.layer_norm:
            c_out = F.layer_norm(c_new, (H,), cell.ln_cell_weight.detach(),
                                 cell.ln_cell_bias.detach())
        # c_t = f c_{t-1} + i g and h_t = o tanh(c_out): dc is the total dL/dc_t
        return {"input": dc * torch.tanh(g), "forget": dc * c_prev,
                "candidate": dc * torch.sigmoid(i), "output": dh * torch.tanh(c_out)}
    # GRU: replay the step's graph from its gate activations, given dL/dh_t
    (dh,) = d_new
    x_r, x_z, x_n = xp.chunk(3, dim=-1)  # each (B, T, H)
    with torch.enable_grad():
        if cell.reset_after:
            rec = h_prev @ w_hh.t()  # (B, T, 3H)
            if cell.layer_norm:
                rec = F.layer_norm(rec, (3 * H,), cell.ln_hh_weight.detach())
            h_r, h_z, h_n = rec.chunk(3, dim=-1)
        else:
            rec = h_prev @ w_hh[: 2 * H].t()  # (B, T, 2H)
            if cell.layer_norm:
                rec = F.layer_norm(rec, (2 * H,), cell.ln_hh_weight[: 2 * H].detach())
            h_r, h_z = rec.chunk(2, dim=-1)
        r = torch.sigmoid(x_r + h_r).requires_grad_(True)
        z = torch.sigmoid(x_z + h_z).requires_grad_(True)
        if cell.reset_after:
            n = torch.tanh(x_n + r * (h_n + cell.recurrent_bias.detach()))
        else:
            rec_n = (r * h_prev) @ w_hh[2 * H :].t()  # (B, T, H)
            if cell.layer_norm:
                rec_n = F.layer_norm(rec_n, (H,), cell.ln_hh_weight[2 * H :].detach())
            n = torch.tanh(x_n + rec_n)
        h_new = n + z * (h_prev - n)
        d_r, d_z, d_n = torch.autograd.grad(h_new, (r, z, n), grad_outputs=dh)
    return {"reset": d_r, "update": d_z, "candidate": d_n}


def gradient_flow(layer_or_model: Any, x: torch.Tensor, loss_fn: LossFn | None = None
                  ) -> GradientFlow:
    """The norm of dLoss/dh_t for every time step t and every layer and direction.

    Args:
        layer_or_model: an rnnkit recurrent layer (:class:`~rnnkit.nn.SimpleRNN`, ``LSTM``,
            ``GRU``, any :class:`~rnnkit.nn.recurrent.Recurrent`, stacked or bidirectional),
            a model holding one (its first), or a fitted task (its ``model_``).
        x: for a layer, its input (B, T, F) in its dtype (F = ``input_size``); for a model
            or a task, the model's input batch: ``model(x)`` runs once (eval mode, no grad)
            and what the recurrent layer received (its first call) is the layer input.
        loss_fn: maps the layer's output (B, T, D*H) (merged as the layer merges, every step)
            to a scalar tensor; default: the sum of the last step's output.

    Returns:
        a :class:`GradientFlow` with ``norms`` (L*D, T): the mean over the batch of the L2
        norm of dL/dh_t per sequence, and for LSTM/GRU layers ``gates`` (name -> (L*D, T)),
        the same for the gradient of every gate activation. Parameters and the layer's mode are left as they were
        (the layer runs in eval mode; parameter gradients are not accumulated).

    Example:
        >>> import torch
        >>> from rnnkit.nn import GRU
        >>> gradient_flow(GRU(2, 4), torch.randn(3, 10, 2)).norms.shape
        (1, 10)
    """
    layer = find_recurrent(layer_or_model)
    if not isinstance(layer_or_model, Recurrent):
        model = getattr(layer_or_model, "model_", layer_or_model)
        x = _layer_input(model, layer, x)
    x = _check_x(layer, x)
    if loss_fn is not None and not callable(loss_fn):
        raise ConfigError(expected("loss_fn", "a callable output -> scalar tensor, or None",
                                   Described(type(loss_fn).__name__)))
    B, T, _ = x.shape
    D, H = layer.num_directions, layer.hidden_size
    was_training = layer.training
    layer.eval()
    try:
        with torch.enable_grad():
            per_row: list[_Direction] = []
            layer_in = x
            parts: list[torch.Tensor] = []
            for l_idx in range(layer.num_layers):
                parts = []
                for d in range(D):
                    cell = layer.cells[l_idx * D + d]
                    state = tuple(x.new_zeros(B, H) for _ in range(layer.num_states))
                    if d == 0:
                        out, kept = _run_direction(cell, layer_in, state)
                    else:  # the backward direction reads time reversed
                        out, kept = _run_direction(cell, layer_in.flip(1), state)
                        out = out.flip(1)
                    parts.append(out)
                    per_row.append(kept)
                layer_in = parts[0] if D == 1 else torch.cat(parts, dim=-1)  # (B, T, D*H)
            output = layer._merge(parts)  # (B, T, D*H) or (B, T, H)
            loss = output[:, -1].sum() if loss_fn is None else loss_fn(output)
            if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
                raise ConfigError(expected(
                    "loss_fn", "a scalar tensor as its result",
                    Described(f"{type(loss).__name__}"
                              + (f" of shape {tuple(loss.shape)}"
                                 if isinstance(loss, torch.Tensor) else "")),
                    "reduce the output, e.g. lambda y: y[:, -1].pow(2).mean()"))
            hs_all = [h for kept in per_row for h in kept.hs]
            new_all = [s for kept in per_row for new in kept.new for s in new]
            grads = torch.autograd.grad(loss.reshape(()), hs_all + new_all, allow_unused=True)
            R = len(per_row)
            gate_rows: list[dict[str, torch.Tensor]] = []
            offset = R * T
            for r_idx, kept in enumerate(per_row):
                if not kept.new:
                    continue
                n = len(kept.new) * len(kept.new[0])
                cell = layer.cells[r_idx]
                gate_rows.append(_gate_grads(cell, kept, list(grads[offset : offset + n])))
                offset += n
    finally:
        layer.train(was_training)
    norms = np.zeros((R, T))
    for i, g in enumerate(grads[: R * T]):
        if g is not None:
            r, t = divmod(i, T)
            norms[r, t] = float(g.detach().double().norm(dim=-1).mean())
    if D == 2:  # the backward direction's rows in input time order
        norms[1::2] = norms[1::2, ::-1]
    gates: dict[str, np.ndarray] = {}
    if gate_rows:
        for name in gate_rows[0]:
            per = [row[name].detach().double().norm(dim=-1).mean(dim=0)  # (T,)
                   for row in gate_rows]
            arr = torch.stack(per).numpy()  # (L*D, T)
            if D == 2:
                arr[1::2] = arr[1::2, ::-1].copy()
            gates[name] = arr
    labels = tuple(f"layer {k // D}" + (" backward" if k % D else "")
                   for k in range(R))
    return GradientFlow(norms=norms, labels=labels, gates=gates)
