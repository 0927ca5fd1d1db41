"""Plots of a run, written straight to PNG files: loss curves, forecasts and residuals, and
the figure helpers every diagnostic draws with (:func:`save_figure`).

Figures are drawn with matplotlib's Agg canvas directly (``matplotlib.figure.Figure``, never
``pyplot``): nothing opens a window, no global backend is switched, and the functions work on
headless machines and inside a notebook alike.

* :func:`plot_history` reads a :class:`~rnnkit.training.History` (the single record of a run).
* :func:`plot_forecast` and :func:`plot_residuals` read the frame of
  :meth:`rnnkit.tasks.forecasting.Forecaster.predict_windows` (``part="all"``): one row per
  window and step, indexed by target time, with ``part``, ``step``, the actual ``<target>``
  and ``<target>_pred`` columns.

Attention maps and confusion matrices are diagnostics with their data
(:mod:`rnnkit.analysis.attention`, :mod:`rnnkit.analysis.confusion`).

Example::

    >>> from rnnkit.training import History
    >>> h = History([{"epoch": 1, "loss": 1.0, "val_loss": 1.2},
    ...              {"epoch": 2, "loss": 0.5, "val_loss": 0.9}])
    >>> path = plot_history(h, "loss.png")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError
from rnnkit.training.checkpoint import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rnnkit.training import History

__all__ = ["PART_COLORS", "plot_forecast", "plot_history", "plot_residuals", "save_figure"]

#: Colour of each split part in every plot.
PART_COLORS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:red"}
_DPI = 100


def _figure(n_rows: int = 1, height: float = 4.5) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, height * n_rows), dpi=_DPI)
    FigureCanvasAgg(fig)
    # fixed margins: an automatic layout engine measures every label and costs more than
    # drawing the figure
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.11 if n_rows == 1 else 0.08,
                        top=0.92 if n_rows == 1 else 0.95, hspace=0.3)
    axes = [fig.add_subplot(n_rows, 1, i + 1) for i in range(n_rows)]
    return fig, axes


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG atomically (a temporary sibling, then ``os.replace``; folders
    created): an existing file is replaced whole or left as it was. Every plot of
    ``rnnkit.analysis`` is written through it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return atomic_write_bytes(path, buffer.getvalue())


def plot_history(history: History, path: str | os.PathLike[str], *,
                 keys: Sequence[str] = ("loss", "val_loss"), title: str | None = None) -> Path:
    """Loss curves per epoch (log scale when all positive), the best ``val_loss`` epoch marked.

    Args:
        history: the run's History.
        path: the PNG file to write.
        keys: History columns to draw (missing ones are skipped).
        title: the figure title.

    Returns:
        the written path.
    """
    present = [k for k in keys if k in history]
    if not len(history) or not present:
        raise DataError(expected("history", f"epochs with some of the keys {list(keys)}",
                                 Described(f"{len(history)} epochs, keys {history.keys()}")))
    fig, (ax,) = _figure()
    epochs = history["epoch"]
    positive = True
    for key in present:
        values = np.array([np.nan if v is None else v for v in history[key]], dtype=float)
        positive &= bool(np.all(values[~np.isnan(values)] > 0))
        ax.plot(epochs, values, marker="o", markersize=3, label=key)
    if "val_loss" in present:
        best = history.best("val_loss")
        ax.axvline(best["epoch"], color="grey", linestyle="--", linewidth=1,
                   label=f"best val_loss (epoch {best['epoch']})")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "training history")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def _target_column(frame: pd.DataFrame, target: str | None) -> str:
    preds = [c[: -len("_pred")] for c in frame.columns if str(c).endswith("_pred")]
    if not preds:
        raise DataError(expected("frame", "the output of Forecaster.predict_windows "
                                 "(columns '<target>' and '<target>_pred')", list(frame.columns)))
    if target is None:
        return preds[0]
    if target not in preds:
        raise ConfigError(expected("target", f"one of {preds}", target))
    return target


def _one_step(frame: pd.DataFrame, step: int) -> pd.DataFrame:
    if "step" not in frame.columns:
        return frame
    chosen = frame[frame["step"] == step]
    if chosen.empty:
        steps = sorted(int(s) for s in frame["step"].unique())
        raise ConfigError(expected("step", f"one of {steps}", step))
    return chosen


def _shade_parts(ax: Axes, frame: pd.DataFrame) -> None:
    """Shade the validation and test spans and label them."""
    if "part" not in frame.columns:
        return
    for part in ("val", "test"):
        times = frame.index[frame["part"] == part]
        if len(times):
            ax.axvspan(times[0], times[-1], color=PART_COLORS[part], alpha=0.08,
                       label=f"{part} part")


def plot_forecast(frame: pd.DataFrame, path: str | os.PathLike[str], *,
                  target: str | None = None, step: int = 1,
                  actual: pd.Series | None = None, title: str | None = None) -> Path:
    """Forecast against actual over time, with the train/validation/test parts marked.

    Args:
        frame: :meth:`Forecaster.predict_windows` output (any parts).
        path: the PNG file to write.
        target: which target to draw (default the first).
        step: which forecast step (1: one step ahead).
        actual: the whole actual series to draw underneath (default: the frame's actuals).
        title: the figure title.
    """
    name = _target_column(frame, target)
    rows = _one_step(frame, step)
    fig, (ax,) = _figure()
    truth = actual if actual is not None else rows[name]
    ax.plot(truth.index, truth.to_numpy(), color="black", linewidth=1, alpha=0.7,
            label=f"actual {name}")
    _shade_parts(ax, rows)
    parts: list[Any] = list(rows["part"].unique()) if "part" in rows.columns else [None]
    for part in parts:
        chunk = rows if part is None else rows[rows["part"] == part]
        ax.plot(chunk.index, chunk[f"{name}_pred"].to_numpy(), linewidth=1.3,
                color=PART_COLORS.get(part, "tab:green"),
                label=f"forecast ({part})" if part else "forecast")
    ax.set_xlabel(str(frame.index.name or "time"))
    ax.set_ylabel(name)
    ax.set_title(title or f"{name}: {step}-step forecasts from true history")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return save_figure(fig, path)


def plot_residuals(frame: pd.DataFrame, path: str | os.PathLike[str], *,
                   target: str | None = None, step: int = 1, title: str | None = None) -> Path:
    """Residuals (actual - forecast) over time by part, and their histogram per part.

    Args: as :func:`plot_forecast`.
    """
    name = _target_column(frame, target)
    rows = _one_step(frame, step)
    residual = rows[name] - rows[f"{name}_pred"]
    fig, (ax_time, ax_hist) = _figure(2, height=3.5)
    parts: list[Any] = list(rows["part"].unique()) if "part" in rows.columns else [None]
    values = residual.to_numpy()
    spread = float(np.ptp(values)) if values.size else 0.0
    flat = spread <= 1e-9 * max(1.0, float(np.abs(values).max(initial=0.0)))
    bins: Any = 1 if flat else np.histogram_bin_edges(values, bins=40)  # shared by all parts
    for part in parts:
        mask = np.ones(len(rows), bool) if part is None else (rows["part"] == part).to_numpy()
        color = PART_COLORS.get(part, "tab:green")
        label = part or "all"
        ax_time.scatter(rows.index[mask], residual.to_numpy()[mask], s=6, color=color,
                        label=label)
        ax_hist.hist(residual.to_numpy()[mask], bins=bins, alpha=0.5, color=color, label=label,
                     density=True)
    ax_time.axhline(0.0, color="black", linewidth=0.8)
    ax_time.set_ylabel(f"{name} - forecast")
    ax_time.set_title(title or f"{name}: residuals of {step}-step forecasts")
    ax_time.grid(True, alpha=0.3)
    ax_time.legend(loc="best")
    ax_hist.set_xlabel("residual")
    ax_hist.set_ylabel("density")
    ax_hist.legend(loc="best")
    return save_figure(fig, path)


def _grid(n: int, cols: int, cell: float) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = -(-n // cols)
    fig = Figure(figsize=(cell * min(n, cols) + 1.0, cell * rows + 0.6), dpi=_DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.9, hspace=0.6, wspace=0.4)
    return fig, [fig.add_subplot(rows, min(n, cols), i + 1) for i in range(n)]
