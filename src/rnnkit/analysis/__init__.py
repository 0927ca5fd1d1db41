"""rnnkit.analysis: plots of a run (loss curves, forecasts against actuals, residuals), written
to PNG files without a display, and diagnostics of what a recurrent network learned, each a
function returning its data with a ``plot()``: gradient flow through time
(:mod:`.gradients`), hidden states, their projections and gate saturation (:mod:`.hidden`),
recurrent weights and their spectra (:mod:`.weights`), residual
diagnostics and errors by segment (:mod:`.residuals`), occlusion and integrated gradients over
time steps (:mod:`.sensitivity`), attention maps (:mod:`.attention`) and confusion matrices
(:mod:`.confusion`)."""

from __future__ import annotations

from rnnkit.analysis.attention import AttentionMaps, attention_maps, plot_attention
from rnnkit.analysis.confusion import ConfusionMatrix, confusion_matrix, plot_confusion_matrix
from rnnkit.analysis.gradients import GradientFlow, gradient_flow
from rnnkit.analysis.hidden import HiddenStates, Projection, UnitHeatmap, hidden_states
from rnnkit.analysis.plots import PART_COLORS, plot_forecast, plot_history, plot_residuals
from rnnkit.analysis.residuals import ResidualDiagnostics, errors_by, residual_diagnostics, worst
from rnnkit.analysis.sensitivity import (
    BASELINES,
    IntegratedGradients,
    Occlusion,
    TokenAttributions,
    integrated_gradients,
    occlusion,
    token_attributions,
)
from rnnkit.analysis.weights import WeightReport, recurrent_weights

__all__ = [
    "BASELINES",
    "PART_COLORS",
    "AttentionMaps",
    "ConfusionMatrix",
    "GradientFlow",
    "HiddenStates",
    "IntegratedGradients",
    "Occlusion",
    "Projection",
    "ResidualDiagnostics",
    "TokenAttributions",
    "UnitHeatmap",
    "WeightReport",
    "attention_maps",
    "confusion_matrix",
    "errors_by",
    "gradient_flow",
    "hidden_states",
    "integrated_gradients",
    "occlusion",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_forecast",
    "plot_history",
    "plot_residuals",
    "recurrent_weights",
    "residual_diagnostics",
    "token_attributions",
    "worst",
]
