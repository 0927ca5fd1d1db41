"""rnnkit.analysis: plots of a run (loss curves, forecasts against actuals, residuals), written
to PNG files without a display."""

from __future__ import annotations

from rnnkit.analysis.plots import (
    PART_COLORS,
    plot_attention,
    plot_confusion_matrix,
    plot_forecast,
    plot_history,
    plot_residuals,
)

__all__ = ["PART_COLORS", "plot_attention", "plot_confusion_matrix", "plot_forecast",
           "plot_history", "plot_residuals"]
