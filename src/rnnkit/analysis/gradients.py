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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.analysis.plots import save_figure
from rnnkit.errors import ConfigError, RnnkitError, ShapeError
from rnnkit.nn.recurrent import Recurrent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["GradientFlow", "find_recurrent", "gradient_flow"]

LossFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GradientFlow:
    """The result of :func:`gradient_flow`.

    Attributes:
        norms: (L*D, T) float64: row ``l*D + d`` (layer l, direction d, 0 forward) holds, for
            every time position t, the norm of dL/dh_t per sequence, averaged over the batch.
        labels: the row names (``"layer 0"``, ``"layer 0 backward"``, ...).
    """

    norms: np.ndarray
    labels: tuple[str, ...]

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """The norms against the time step on a log scale, one line per layer and direction.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.

        Returns:
            the matplotlib Figure (Agg canvas, no window).
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4.5), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        steps = np.arange(1, self.norms.shape[1] + 1)
        for row, label in zip(self.norms, self.labels):
            ax.plot(steps, np.where(row > 0, row, np.nan), marker="o", markersize=3,
                    label=label)
        if np.any(self.norms > 0):
            ax.set_yscale("log")
        ax.set_xlabel("time step t")
        ax.set_ylabel("||dL/dh_t||")
        ax.set_title("gradient flow through time")
        ax.grid(True, alpha=0.3)
        ax.legend()
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


def _run_direction(cell: Any, x: torch.Tensor, state: tuple[torch.Tensor, ...]
                   ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Step ``cell`` over x (B, T, I) keeping every h_t (retain_grad); -> (B, T, H), hs."""
    _, T, _ = x.shape
    xp = cell.project_input(x)  # (B, T, G*H)
    w_hh = cell.recurrent_weight()
    hs: list[torch.Tensor] = []
    for t in range(T):
        new = cell.step(xp[:, t], state, w_hh, None)
        state = cell.apply_zoneout(state, new, None)
        h = state[0]
        h.retain_grad()
        hs.append(h)
    return torch.stack(hs, dim=1), hs


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
        norm of dL/dh_t per sequence. Parameters and the layer's mode are left as they were
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
            per_row: list[list[torch.Tensor]] = []
            layer_in = x
            parts: list[torch.Tensor] = []
            for l_idx in range(layer.num_layers):
                parts = []
                for d in range(D):
                    cell = layer.cells[l_idx * D + d]
                    state = tuple(x.new_zeros(B, H) for _ in range(layer.num_states))
                    if d == 0:
                        out, hs = _run_direction(cell, layer_in, state)
                    else:  # the backward direction reads time reversed
                        out, hs = _run_direction(cell, layer_in.flip(1), state)
                        out, hs = out.flip(1), hs[::-1]
                    parts.append(out)
                    per_row.append(hs)
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
            hs_all = [h for row in per_row for h in row]
            grads = torch.autograd.grad(loss.reshape(()), hs_all, allow_unused=True)
    finally:
        layer.train(was_training)
    norms = np.zeros((len(per_row), T))
    for i, g in enumerate(grads):
        if g is not None:
            r, t = divmod(i, T)
            norms[r, t] = float(g.detach().double().norm(dim=-1).mean())
    labels = tuple(f"layer {k // D}" + (" backward" if k % D else "")
                   for k in range(len(per_row)))
    return GradientFlow(norms=norms, labels=labels)
