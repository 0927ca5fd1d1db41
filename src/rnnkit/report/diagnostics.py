"""The report's look inside a trained network, drawn on a captured :class:`Sample`.

:func:`model_sections` runs the diagnostics of :mod:`rnnkit.analysis` on the network's first
recurrent layer and on the network as a whole:

- gradient flow through time (dL/dh_t per step and layer) after training and at a fresh
  initialization of the same layer (same initializers, seeded);
- recurrent weights: W_hh's spectral radius and norm per gate, trained against initial;
- hidden states: PCA of every real step, t-SNE on a bounded random sample of them, one
  sequence's unit activations, gate saturation;
- sensitivity over time steps: occlusion and integrated gradients on a few sequences (only
  for networks whose input is numbers; token ids have no meaningful occluded value or path).

Heavy parts run on bounded samples and say so in the page. A diagnostic that cannot run on a
network says why instead of stopping the report.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnkit.analysis.gradients import GradientFlow, find_recurrent, gradient_flow
from rnnkit.analysis.hidden import hidden_states
from rnnkit.analysis.sensitivity import integrated_gradients, occlusion, token_attributions
from rnnkit.analysis.weights import WeightReport, recurrent_weights
from rnnkit.errors import RnnkitError
from rnnkit.report.blocks import Section, figure, note, table, text
from rnnkit.report.sample import Sample

__all__ = ["Limits", "model_sections"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """How much of the sample the heavy diagnostics use.

    Attributes:
        tsne_points: t-SNE projects at most this many (sequence, step) states.
        tsne_iter: t-SNE's optimization steps.
        sensitivity_examples: occlusion and integrated gradients run on this many sequences.
        ig_steps: integrated gradients' quadrature points.
        weight_blocks: W_hh heat maps drawn (the table lists every block).
    """

    tsne_points: int = 300
    tsne_iter: int = 500
    sensitivity_examples: int = 8
    ig_steps: int = 24
    weight_blocks: int = 2


def _fresh(layer: nn.Module, seed: int) -> nn.Module:
    """A copy of ``layer`` re-initialized by its own initializers, seeded."""
    clone = copy.deepcopy(layer)
    torch.manual_seed(seed)
    for module in clone.modules():
        reset = getattr(module, "reset_parameters", None)
        if module is not clone and callable(reset):
            reset()
    return clone


def _guard(section: Section, what: str, fn: Any) -> None:
    """Run ``fn(section)``; a diagnostic that fails is named in the page, not raised."""
    try:
        fn(section)
    except (RnnkitError, RuntimeError, ValueError) as err:
        logger.warning("report: %s skipped: %s", what, err)
        section.add(note(f"{what} could not be drawn: {err}"))


def _flow_table(flows: dict[str, GradientFlow]) -> pd.DataFrame:
    rows = []
    for when, flow in flows.items():
        for label, norms in zip(flow.labels, flow.norms):
            first, last = float(norms[0]), float(norms[-1])
            ratio = np.log10(first / last) if first > 0 and last > 0 else float("nan")
            rows.append({"weights": when, "layer": label, "|dL/dh_1|": first,
                         "|dL/dh_T|": last, "log10 ratio (1 vs T)": ratio})
    return pd.DataFrame(rows)


def _flows_figure(flows: dict[str, GradientFlow]) -> Any:
    """Every layer's ||dL/dh_t|| against t on a log scale: trained solid, initial dashed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = [f"C{i}" for i in range(10)]
    for style, (when, flow) in zip(("-", "--"), flows.items()):
        steps = np.arange(1, flow.norms.shape[1] + 1)
        for i, (label, norms) in enumerate(zip(flow.labels, flow.norms)):
            shown = np.where(norms > 0, norms, np.nan)
            ax.plot(steps, shown, style, color=colors[i % 10], label=f"{label}, {when}")
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dh_t||")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def _gradients(section: Section, layer: nn.Module, fresh: nn.Module, x: torch.Tensor) -> None:
    flows = {"trained": gradient_flow(layer, x), "initial": gradient_flow(fresh, x)}
    section.add(text("The norm of dL/dh_t for every step t, L being the sum of the last step's "
                     "output: how far back in time a training signal reaches. A line that "
                     "falls towards t = 1 by orders of magnitude is a vanishing gradient."))
    section.add(figure(_flows_figure(flows), "gradient flow: trained weights (solid) and a "
                                             "fresh initialization (dashed)"))
    if flows["trained"].gates:
        section.add(figure(flows["trained"].plot(gates=True), "trained weights: the gradient "
                                                              "reaching every gate"))
    section.add(table(_flow_table(flows), "log10 of |dL/dh_1| / |dL/dh_T|: above 0, the "
                                          "gradient grows going back; below 0, it fades",
                      index=False))


def _weights(section: Section, layer: nn.Module, fresh: nn.Module, limits: Limits) -> None:
    trained, initial = recurrent_weights(layer), recurrent_weights(fresh)
    summary = trained.summary.copy()
    summary["initial radius"] = initial.summary["spectral_radius"]
    summary["initial norm"] = initial.summary["spectral_norm"]
    section.add(table(summary, "W_hh per layer, direction and gate: spectral radius (largest "
                               "|eigenvalue|) and norm, trained and at initialization",
                      index=False))
    k = min(limits.weight_blocks, len(trained.matrices))
    shown = WeightReport(summary=trained.summary.iloc[:k].reset_index(drop=True),
                         matrices=trained.matrices[:k], eigenvalues=trained.eigenvalues[:k])
    caption = "trained W_hh and its eigenvalues"
    if k < len(trained.matrices):
        caption += f" (the first {k} of {len(trained.matrices)} blocks)"
    section.add(figure(shown.plot(), caption))


def _hidden(section: Section, layer: nn.Module, x: torch.Tensor, sample: Sample,
            limits: Limits, seed: int) -> None:
    states = hidden_states(layer, x, lengths=sample.lengths)  # x: the layer input, its dtype
    color: Any = "step"
    label = "time step"
    if sample.color is not None and sample.color.dtype.kind in "biuf":
        color, label = sample.color.astype(np.float64), sample.color_name
    elif sample.color is not None:
        _, codes = np.unique(sample.color.astype(str), return_inverse=True)
        color, label = codes.astype(np.float64), f"{sample.color_name} (code)"
    pca = states.project("pca", seed=seed)
    ratio = pca.explained_variance_ratio
    explained = f", {100 * float(ratio.sum()):.0f}% of the variance" if ratio is not None else ""
    section.add(figure(pca.plot(color=color), f"PCA of {pca.n_points} hidden states, coloured "
                                              f"by {label}{explained}"))
    tsne = states.project("tsne", max_points=limits.tsne_points, seed=seed,
                          max_iter=limits.tsne_iter)
    if tsne.sampled:
        section.add(note(f"t-SNE ran on a random sample of {tsne.n_points} of the "
                         f"{pca.n_points} states, {limits.tsne_iter} iterations (bounded: "
                         "t-SNE's cost grows quickly with the number of points)."))
    section.add(figure(tsne.plot(color=color), f"t-SNE of the hidden states, coloured by "
                                               f"{label}"))
    section.add(figure(states.unit_heatmap(0).plot(), "every unit of the top layer over the "
                                                      "first sequence"))
    saturation = states.gate_saturation()
    if len(saturation):
        section.add(table(saturation, "gate saturation: the fraction of gate values under "
                                      "0.1 or over 0.9 (real steps, top layer)"))


def _token_sensitivity(section: Section, network: nn.Module, sample: Sample,
                       limits: Limits) -> bool:
    """Integrated gradients through the embedding, for a token model with one output row
    per example (a classifier); False when it does not apply."""
    x = sample.inputs[0] if sample.inputs else None
    if (x is None or torch.is_floating_point(x) or x.dim() != 2
            or not any(isinstance(m, nn.Embedding) for m in network.modules())):
        return False
    module, xs, extra = _first_sequences(network, sample, limits.sensitivity_examples)
    k = int(xs.shape[0])
    with torch.no_grad():
        out = module(xs, *extra)
    if not torch.is_tensor(out) or out.dim() != 2:
        return False
    result = token_attributions(module, xs, steps=limits.ig_steps, extra=extra)
    section.add(note(f"On the first {k} sequences of the sample; each token is attributed its "
                     "share of the predicted class's score (integrated gradients through the "
                     "embedding, from the padding token)."))
    section.add(figure(result.plot(), f"integrated gradients per token (captum, "
                                      f"{limits.ig_steps} points; largest completeness gap "
                                      f"{float(np.abs(result.delta).max()):.2g})"))
    return True


def _sensitivity(section: Section, network: nn.Module, sample: Sample, limits: Limits) -> None:
    if _token_sensitivity(section, network, sample, limits):
        return
    x = sample.inputs[0] if sample.inputs else None
    if x is None or not torch.is_floating_point(x) or x.dim() != 3:
        why = ("the network's input is token ids and its output is not one row of scores "
               "per sequence (a tagger, a language model, a decoder)" if x is not None and not
               torch.is_floating_point(x) else "the network's input is not one (B, T, F) "
               "tensor of numbers")
        section.add(note(f"Sensitivity over time steps is not drawn: {why}; "
                         "rnnkit.analysis.token_attributions explains one output per "
                         "sequence."))
        return
    module, xs, extra = _first_sequences(network, sample, limits.sensitivity_examples)
    k = int(xs.shape[0])
    span = max(1, int(xs.shape[1]) // 50)
    section.add(note(f"On the first {k} sequences of the sample ({xs.shape[1]} steps each); "
                     f"occlusion replaces {span} step(s) at a time by zeros."))
    section.add(figure(occlusion(module, xs, span=span, extra=extra).plot(),
                       "occlusion: how far the output moves when a step is zeroed"))
    ig = integrated_gradients(module, xs, steps=limits.ig_steps, extra=extra)
    section.add(figure(ig.plot(), f"integrated gradients per step (captum, {limits.ig_steps} "
                                  f"points; largest completeness gap "
                                  f"{float(np.abs(ig.delta).max()):.2g})"))


def _first_sequences(network: nn.Module, sample: Sample, n: int
                     ) -> tuple[nn.Module, torch.Tensor, tuple[Any, ...]]:
    """The network bound to its call in the sample, the input of its first ``n`` sequences,
    and their further arguments in the order the bound module takes them."""
    k = min(n, int(sample.inputs[0].shape[0]))
    rest = tuple(a[:k] if torch.is_tensor(a) else a for a in sample.inputs[1:])
    kw = {name: (v[:k] if torch.is_tensor(v) else v) for name, v in sample.kwargs.items()}
    return _Bound(network, len(rest), kw), sample.inputs[0][:k], rest + tuple(kw.values())


class _Bound(nn.Module):
    """The network called as it was in the sample: ``x``, then its further positional
    arguments, then its keyword arguments, all passed positionally by the attribution."""

    def __init__(self, network: nn.Module, n_positional: int, kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.network = network
        self.n_positional = n_positional
        self.names = list(kwargs)

    def forward(self, x: torch.Tensor, *more: Any) -> torch.Tensor:
        positional = more[: self.n_positional]
        kwargs = dict(zip(self.names, more[self.n_positional:]))
        out = self.network(x, *positional, **kwargs)
        return out[0] if isinstance(out, (tuple, list)) else out


def model_sections(network: nn.Module, sample: Sample, *, name: str = "model", seed: int = 0,
                   limits: Limits | None = None) -> list[Section]:
    """The diagnostics sections of one trained network on ``sample``.

    Args:
        network: the trained torch module (a task's ``model_``).
        sample: what it received (:func:`~rnnkit.report.sample.capture_sample`).
        name: how the sections name the network (several models in one run).
        seed: the seed of t-SNE, its sample and the fresh initialization.
        limits: the bounds of the heavy parts (:class:`Limits`).

    Returns:
        sections "gradient flow", "weights", "hidden states" and "sensitivity".
    """
    limits = limits or Limits()
    layer = find_recurrent(network)
    ref = layer.cells[0].weight_hh
    x = sample.layer_input.to(dtype=ref.dtype, device=ref.device)
    fresh = _fresh(layer, seed)
    slug = "".join(c if c.isalnum() else "-" for c in name.lower())
    where = f" ({name})" if name != "model" else ""
    bounded = (f"Computed on {sample.size} sequences"
               + (f" of a batch of {sample.total}" if sample.total > sample.size else "")
               + f", {x.shape[1]} steps each.")
    grad = Section(f"Gradient flow through time{where}", f"gradients-{slug}", [note(bounded)])
    _guard(grad, "gradient flow", lambda s: _gradients(s, layer, fresh, x))
    weights = Section(f"Recurrent weights{where}", f"weights-{slug}")
    _guard(weights, "recurrent weights", lambda s: _weights(s, layer, fresh, limits))
    hidden = Section(f"Hidden states{where}", f"hidden-{slug}", [note(bounded)])
    _guard(hidden, "hidden states",
           lambda s: _hidden(s, layer, x, sample, limits, seed))
    sens = Section(f"Sensitivity over time steps{where}", f"sensitivity-{slug}")
    _guard(sens, "sensitivity", lambda s: _sensitivity(s, network, sample, limits))
    return [grad, weights, hidden, sens]
