r"""Occlusion sensitivity: which time steps does a sequence model's output depend on?

:func:`occlusion` replaces one block of ``span`` steps of every input sequence at a time by a
baseline (zeros, or the per-feature mean of ``x``), runs the model again and records how far
the output moved:

.. math::

    a_{b,t} = \sum_d \left| f(x)_{b,d} - f(x^{(k)})_{b,d} \right|, \qquad t \in \text{block } k

where :math:`f(x)_{b,d}` is output value d of example b (all output dimensions flattened, or
only ``target``) and :math:`x^{(k)}` is ``x`` with block k (steps ``k*span`` to
``k*span + span - 1``) replaced. Every step of a block gets the block's change. A step the
model ignores scores exactly 0.

:func:`integrated_gradients` attributes the output to every input value instead: signed
shares that add up to ``f(x) - f(baseline)``, computed by captum (PyTorch's attribution
library, extra ``analysis``). Both assume the model treats the examples of a batch
independently (true of every rnnkit network). Inputs other than ``x`` that the model needs
(the lengths of padded sequences) go in ``extra``: each has the batch axis first and is passed
after ``x`` unchanged.

Symbols: B batch, T steps, F features, D output values per example.

Example::

    >>> import torch
    >>> from torch import nn
    >>> class LastStep(nn.Module):
    ...     def forward(self, x):
    ...         return x[:, -1].sum(-1)
    >>> x = torch.tensor([[[1.0], [2.0], [-3.0]]])  # (B=1, T=3, F=1)
    >>> occlusion(LastStep(), x).attribution.tolist()
    [[0.0, 0.0, 3.0]]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from rnnkit._validation import Described, check_choice, check_positive_int, expected
from rnnkit.analysis.plots import save_figure
from rnnkit.errors import ConfigError, MissingDependencyError, ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BASELINES", "IntegratedGradients", "Occlusion", "TokenAttributions",
           "integrated_gradients", "occlusion", "token_attributions"]

#: What an occluded step is replaced by.
BASELINES = ("zero", "mean")


@dataclass(frozen=True)
class Occlusion:
    """The result of :func:`occlusion`.

    Attributes:
        attribution: (B, T) the output change when the block holding each step is occluded.
        output: (B, D) the model's output on ``x`` (the values compared; D = 1 with ``target``).
        baseline: (F,) the value each occluded step took, per feature.
        span: steps occluded together.
    """

    attribution: np.ndarray
    output: np.ndarray
    baseline: np.ndarray
    span: int

    def plot(self, path: str | os.PathLike[str] | None = None, *,
             max_examples: int = 50) -> Figure:
        """A heat map of the attribution: one row per example (the first ``max_examples``),
        one column per step; a line below shows the mean over examples.

        Args:
            path: a PNG file to write (atomically); None draws only.
            max_examples: rows drawn at most.

        Returns:
            the matplotlib Figure (Agg canvas, no window).
        """
        return _heatmap(self.attribution, f"occlusion sensitivity (span {self.span})",
                        "|output change|", "viridis", path, max_examples)


@dataclass(frozen=True)
class IntegratedGradients:
    """The result of :func:`integrated_gradients`.

    Attributes:
        attribution: (B, T, F) each input value's share of ``f(x) - f(baseline)``.
        output: (B,) the compared output on ``x``; baseline_output: (B,) on the baseline.
        delta: (B,) completeness error, ``attribution.sum((1, 2)) - (output - baseline_output)``
            (near 0 when ``steps`` is enough).
    """

    attribution: np.ndarray
    output: np.ndarray
    baseline_output: np.ndarray
    delta: np.ndarray

    @property
    def by_step(self) -> np.ndarray:
        """(B, T) the attribution summed over features (signed)."""
        return self.attribution.sum(-1)

    def plot(self, path: str | os.PathLike[str] | None = None, *,
             max_examples: int = 50) -> Figure:
        """A heat map of :attr:`by_step` (signed, centred at zero), as :meth:`Occlusion.plot`."""
        return _heatmap(self.by_step, "integrated gradients per step", "attribution", "RdBu_r",
                        path, max_examples, centred=True)


def _heatmap(values: np.ndarray, title: str, label: str, cmap: str,
             path: str | os.PathLike[str] | None, max_examples: int,
             centred: bool = False) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    check_positive_int("max_examples", max_examples)
    shown = values[:max_examples]  # (B', T)
    B, T = shown.shape
    height = 2.5 + min(B, 30) * 0.2  # inches
    fig = Figure(figsize=(11, height), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, height_ratios=(3, 1), width_ratios=(40, 1), hspace=0.35,
                            wspace=0.03, bottom=0.5 / height, top=1 - 0.35 / height)
    ax_map = fig.add_subplot(grid[0, 0])
    limit = float(np.abs(shown).max(initial=0.0)) or 1.0
    image = ax_map.imshow(shown, aspect="auto", cmap=cmap, interpolation="nearest",
                          extent=(-0.5, T - 0.5, B - 0.5, -0.5),
                          **({"vmin": -limit, "vmax": limit} if centred else {}))
    fig.colorbar(image, cax=fig.add_subplot(grid[0, 1]), label=label)
    ax_map.set_ylabel("example")
    ax_map.set_title(title)
    ax_mean = fig.add_subplot(grid[1, 0], sharex=ax_map)
    ax_mean.plot(np.arange(T), values.mean(0), marker="o", markersize=3)
    ax_mean.set_xlabel("time step")
    ax_mean.set_ylabel("mean")
    ax_mean.grid(True, alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


def _module(model: Any) -> nn.Module:
    if isinstance(model, nn.Module):
        return model
    inner = getattr(model, "model_", None)  # a fitted task holds its network here
    if isinstance(inner, nn.Module):
        return inner
    raise ConfigError(expected("model", "a torch nn.Module or a fitted rnnkit task",
                               Described(type(model).__name__),
                               "fit the task first, or pass its network"))


def _as_input(x: Any, module: nn.Module) -> torch.Tensor:
    if not torch.is_tensor(x):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError):
            raise ShapeError(expected("x", "numbers of shape (B, T, F)",
                                      Described(type(x).__name__))) from None
    if x.dim() != 3 or 0 in x.shape:
        raise ShapeError(expected("x", "a non-empty tensor of shape (B, T, F)",
                                  Described(f"shape {tuple(x.shape)}"),
                                  "add a batch axis with x[None] or a feature axis with x[..., None]"))
    if not torch.is_floating_point(x):
        x = x.float()
    param = next(iter(module.parameters()), None)
    if param is not None:
        x = x.to(device=param.device, dtype=param.dtype)
    return x


def _outputs(module: nn.Module, x: torch.Tensor, target: int | None,
             extra: tuple[Any, ...] = ()) -> torch.Tensor:
    out = module(x, *extra)
    if isinstance(out, (tuple, list)):  # (output, state) of a recurrent layer
        out = out[0]
    if not torch.is_tensor(out) or out.dim() == 0 or out.shape[0] != x.shape[0]:
        got = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise ShapeError(expected("model", f"an output with the batch size {x.shape[0]} first",
                                  Described(f"output {got}")))
    flat = out.reshape(x.shape[0], -1).double()  # (B, D)
    if target is None:
        return flat
    if not -flat.shape[1] <= target < flat.shape[1]:
        raise ConfigError(expected("target", f"an output index in [0, {flat.shape[1]})", target))
    return flat[:, target : target + 1] if target != -1 else flat[:, -1:]


def _check_extra(extra: Any, batch: int) -> tuple[Any, ...]:
    if not isinstance(extra, (tuple, list)):
        raise ConfigError(expected("extra", "a tuple of further model inputs (batch axis first)",
                                   Described(type(extra).__name__), "wrap one in a tuple: (lengths,)"))
    out = []
    for i, value in enumerate(extra):
        if torch.is_tensor(value) and (value.dim() == 0 or value.shape[0] != batch):
            raise ShapeError(expected(f"extra[{i}]", f"the batch axis ({batch}) first",
                                      Described(f"shape {tuple(value.shape)}")))
        out.append(value)
    return tuple(out)


def occlusion(model: Any, x: Any, *, span: int = 1, baseline: str = "zero",
              target: int | None = None, extra: tuple[Any, ...] = ()) -> Occlusion:
    """Occlusion sensitivity of each time step (see the module docstring for the formula).

    Args:
        model: a torch module taking (B, T, F) (an rnnkit network or layer; a layer's
            ``(output, state)`` is read at ``output``), or a fitted task (its ``model_``). It
            sees ``x`` as given: pass inputs already scaled as the model expects.
        x: (B, T, F) inputs (tensor or array).
        span: steps occluded together (non-overlapping blocks; the last may be shorter).
        baseline: ``"zero"`` or ``"mean"`` (each feature's mean over all of ``x``).
        target: compare only this output value (index into each example's flattened output);
            None sums over all of them.
        extra: further inputs the model takes after ``x`` (batch axis first), e.g.
            ``(lengths,)``; passed unchanged.

    Returns:
        an :class:`Occlusion` with the (B, T) attribution; ``.plot(path)`` draws it.

    Raises:
        ShapeError: ``x`` not (B, T, F), or an output without the batch axis first.
        ConfigError: a bad ``span``, ``baseline``, ``target`` or ``model``.
    """
    module = _module(model)
    check_choice("baseline", baseline, BASELINES)
    check_positive_int("span", span)
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise ConfigError(expected("target", "None or an integer output index", target))
    x = _as_input(x, module)
    B, T, F = x.shape
    extra = _check_extra(extra, B)
    if span > T:
        raise ConfigError(expected("span", f"at most the {T} steps of x", span))
    fill = torch.zeros(F, dtype=x.dtype, device=x.device) if baseline == "zero" \
        else x.mean(dim=(0, 1))  # (F,)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            reference = _outputs(module, x, target, extra)  # (B, D)
            attribution = torch.zeros(B, T, dtype=torch.float64)
            for start in range(0, T, span):
                stop = min(start + span, T)
                occluded = x.clone()
                occluded[:, start:stop] = fill  # (B, stop - start, F) <- (F,)
                change = (reference - _outputs(module, occluded, target, extra)).abs().sum(1)  # (B,)
                attribution[:, start:stop] = change.cpu()[:, None]
    finally:
        module.train(was_training)
    return Occlusion(attribution=attribution.numpy(), output=reference.cpu().numpy(),
                     baseline=fill.detach().cpu().double().numpy(), span=span)


def _captum(name: str) -> Any:
    """captum's attribution class ``name``, or a MissingDependencyError naming the extra."""
    try:
        from captum import attr
    except ImportError as err:
        raise MissingDependencyError(expected(
            "captum", "installed for integrated gradients", "not importable",
            "pip install 'rnnkit[analysis]' (or pip install captum)")) from err
    return getattr(attr, name)


def integrated_gradients(model: Any, x: Any, *, baseline: str = "zero", target: int | None = None,
                         steps: int = 50, extra: tuple[Any, ...] = ()) -> IntegratedGradients:
    r"""Integrated gradients (Sundararajan et al. 2017) of each input value, by captum.

    .. math::

        a_{b,t,f} = (x - x')_{b,t,f} \int_0^1
            \frac{\partial f_b(x' + \alpha (x - x'))}{\partial x_{b,t,f}} \, d\alpha

    with the integral taken by ``steps``-point Gauss-Legendre quadrature
    (``captum.attr.IntegratedGradients``, computed in float64); the attributions of an
    example add up to ``f(x) - f(x')`` (``delta`` is the gap). For a linear model they are
    exactly ``w * (x - x')``.

    Args:
        model, x, baseline, target, extra: as :func:`occlusion`; with ``target=None`` the
            compared output is the sum of each example's output values.
        steps: quadrature points.

    Returns:
        an :class:`IntegratedGradients` with the (B, T, F) attribution; ``.by_step`` (B, T).

    Raises:
        MissingDependencyError: captum is not installed (``pip install rnnkit[analysis]``).
    """
    module = _module(model)
    check_choice("baseline", baseline, BASELINES)
    check_positive_int("steps", steps)
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise ConfigError(expected("target", "None or an integer output index", target))
    CaptumIG = _captum("IntegratedGradients")
    x = _as_input(x, module).detach()
    B, T, F = x.shape
    extra = _check_extra(extra, B)
    start = torch.zeros_like(x) if baseline == "zero" \
        else x.mean(dim=(0, 1)).expand(B, T, F).clone()  # (B, T, F)

    def forward(point: torch.Tensor, *more: Any) -> torch.Tensor:
        return _outputs(module, point, target, more).sum(1)  # (B * k,) float64

    was_training = module.training
    module.eval()
    try:
        with torch.enable_grad():
            # one quadrature point per forward pass: B rows, as the model was given
            attribution, _ = CaptumIG(forward).attribute(
                x, baselines=start, additional_forward_args=extra or None, n_steps=steps,
                method="gausslegendre", internal_batch_size=B, return_convergence_delta=True)
        with torch.no_grad():
            out = forward(x, *extra)
            base = forward(start, *extra)
    finally:
        module.train(was_training)
    attribution = attribution.detach().double().cpu()  # (B, T, F)
    delta = attribution.sum((1, 2)) - (out - base).cpu()
    return IntegratedGradients(attribution=attribution.numpy(), output=out.cpu().numpy(),
                               baseline_output=base.cpu().numpy(), delta=delta.numpy())


@dataclass(frozen=True)
class TokenAttributions:
    """The result of :func:`token_attributions`.

    Attributes:
        attribution: (B, T) each token's share of ``f(ids) - f(baseline ids)`` (summed over
            its embedding dimensions), signed.
        target: (B,) the output index each example was explained for.
        delta: (B,) completeness error (near 0 when ``steps`` is enough).
    """

    attribution: np.ndarray
    target: np.ndarray
    delta: np.ndarray

    def plot(self, path: str | os.PathLike[str] | None = None, *,
             max_examples: int = 50) -> Figure:
        """A heat map of the attributions over token positions (signed, centred at zero)."""
        return _heatmap(self.attribution, "integrated gradients per token (through the "
                        "embedding)", "attribution", "RdBu_r", path, max_examples,
                        centred=True)


def token_attributions(model: Any, ids: Any, *, target: Any = None, baseline_id: int = 0,
                       steps: int = 50, extra: tuple[Any, ...] = ()) -> TokenAttributions:
    """Integrated gradients of a token model, taken through its embedding layer.

    Token ids have no path from a baseline to the input, their embeddings do: captum's
    ``LayerIntegratedGradients`` integrates along the straight line from the embeddings of
    ``baseline_id`` (the padding id: "no token") to those of ``ids``, and each token's
    attribution is the sum over its embedding dimensions.

    Args:
        model: a torch module taking (B, T) token ids (and ``extra``), with an
            ``nn.Embedding`` (its first is used), or a fitted task (its ``model_``); its
            output is (B, C).
        ids: (B, T) integer token ids.
        target: (B,) output indices to explain, or None for each example's largest output
            (the predicted class).
        baseline_id: the id every token is replaced by at the path's start.
        steps: quadrature points.
        extra: further model inputs after ``ids`` (batch axis first), e.g. ``(lengths,)``.

    Returns:
        a :class:`TokenAttributions`.

    Raises:
        ConfigError: no embedding layer, or ids that are not integers (B, T).
        ShapeError: an output that is not (B, C).
        MissingDependencyError: captum is not installed.
    """
    module = _module(model)
    check_positive_int("steps", steps)
    embedding = next((m for m in module.modules() if isinstance(m, nn.Embedding)), None)
    if embedding is None:
        raise ConfigError(expected("model", "a token model with an nn.Embedding layer",
                                   Described(type(module).__name__),
                                   "for numeric inputs use integrated_gradients"))
    ids = torch.as_tensor(ids)
    if ids.dim() != 2 or ids.is_floating_point():
        raise ConfigError(expected("ids", "integer token ids of shape (B, T)",
                                   Described(f"{ids.dtype} of shape {tuple(ids.shape)}")))
    LayerIntegratedGradients = _captum("LayerIntegratedGradients")
    device = embedding.weight.device
    ids = ids.to(device)
    B = ids.shape[0]
    extra = _check_extra(extra, B)

    def forward(tokens: torch.Tensor, *more: Any) -> torch.Tensor:
        out = module(tokens, *more)
        out = out[0] if isinstance(out, (tuple, list)) else out
        if not torch.is_tensor(out) or out.dim() != 2:
            got = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
            raise ShapeError(expected("model", "an output (B, C) per example", Described(
                f"output {got}"), "explain one output per example, e.g. a classifier"))
        return out.double()

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = forward(ids, *extra)  # (B, C)
        chosen = out.argmax(-1) if target is None else torch.as_tensor(target, device=device)
        if chosen.shape != (B,):
            raise ConfigError(expected("target", f"{B} output indices (one per example)",
                                       Described(f"shape {tuple(chosen.shape)}")))
        with torch.enable_grad():
            attr, delta = LayerIntegratedGradients(forward, embedding).attribute(
                ids, baselines=torch.full_like(ids, baseline_id), target=chosen,
                additional_forward_args=extra or None, n_steps=steps,
                method="gausslegendre", internal_batch_size=B,
                return_convergence_delta=True)
    finally:
        module.train(was_training)
    return TokenAttributions(attribution=attr.detach().double().sum(-1).cpu().numpy(),
                             target=chosen.cpu().numpy(), delta=delta.detach().cpu().numpy())
