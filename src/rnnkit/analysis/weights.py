r"""The recurrent weights of a layer: W_hh per layer, direction and gate, with its spectrum.

The recurrent matrix W_hh (H, H) of a gate decides how a state perturbation grows or decays
from one step to the next; its spectral radius :math:`\rho(W_{hh}) = \max_i |\lambda_i|` above
1 lets a linear recurrence explode, below 1 makes it forget geometrically. LSTM and GRU cells
stack one (H, H) block per gate in ``weight_hh`` (G*H, H): the LSTM in the order i, f, g, o,
the GRU r, z, n; a SimpleRNN has one block, ``h``.

Example::

    >>> from rnnkit.nn import LSTM
    >>> report = recurrent_weights(LSTM(3, 8, num_layers=2))
    >>> report.summary[["layer", "direction", "gate", "spectral_radius"]].shape
    (8, 4)
    >>> fig = report.plot("weights.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnkit.analysis.gradients import find_recurrent
from rnnkit.analysis.plots import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["GATE_NAMES", "WeightReport", "recurrent_weights"]

#: Gate blocks of ``weight_hh``, in order, per cell kind (other cells: g0, g1, ...).
GATE_NAMES: dict[str, tuple[str, ...]] = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"),
                                          "gru": ("r", "z", "n")}


@dataclass(frozen=True)
class WeightReport:
    """The result of :func:`recurrent_weights`, one entry per (layer, direction, gate) block.

    Attributes:
        summary: one row per block: ``layer``, ``direction`` (``"forward"`` or
            ``"backward"``), ``gate``, ``spectral_radius`` (max |eigenvalue|) and
            ``spectral_norm`` (largest singular value).
        matrices: the blocks W_hh, each (H, H) float64, in the rows' order.
        eigenvalues: each block's H eigenvalues (complex128), in the rows' order.
    """

    summary: pd.DataFrame
    matrices: tuple[np.ndarray, ...]
    eigenvalues: tuple[np.ndarray, ...]

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """One row per block: the heat map of W_hh (a symmetric colour scale around 0) and
        its eigenvalues on the complex plane with the unit circle.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.

        Returns:
            the matplotlib Figure (Agg canvas, no window).
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n = len(self.matrices)
        fig = Figure(figsize=(10, 4 * n), dpi=100)
        FigureCanvasAgg(fig)
        circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
        for i, (row, w, eig) in enumerate(zip(self.summary.itertuples(), self.matrices,
                                               self.eigenvalues)):
            name = f"layer {row.layer} {row.direction}, gate {row.gate}"
            ax = fig.add_subplot(n, 2, 2 * i + 1)
            vmax = float(np.abs(w).max()) or 1.0
            image = ax.imshow(w, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            fig.colorbar(image, ax=ax)
            ax.set_title(f"W_hh ({name})")
            ax.set_xlabel("from unit")
            ax.set_ylabel("to unit")
            ax = fig.add_subplot(n, 2, 2 * i + 2)
            ax.plot(circle.real, circle.imag, color="grey", linewidth=1, label="unit circle")
            ax.scatter(eig.real, eig.imag, s=18, color="tab:red", zorder=3,
                       label="eigenvalues")
            ax.set_aspect("equal", adjustable="datalim")
            ax.axhline(0, color="grey", linewidth=0.5)
            ax.axvline(0, color="grey", linewidth=0.5)
            ax.set_title(f"spectrum, radius {row.spectral_radius:.3g}")
            ax.set_xlabel("Re")
            ax.set_ylabel("Im")
            ax.legend(loc="upper right", fontsize="small")
        fig.subplots_adjust(hspace=0.4, wspace=0.3)
        if path is not None:
            save_figure(fig, path)
        return fig


def recurrent_weights(layer: Any) -> WeightReport:
    """W_hh of every layer, direction and gate of a recurrent layer, with its spectrum.

    Args:
        layer: an rnnkit recurrent layer (SimpleRNN, LSTM, GRU, any Recurrent), a model
            holding one (its first), or a fitted task.

    Returns:
        a :class:`WeightReport` (rows ordered by layer, direction, gate).

    Example:
        >>> from rnnkit.nn import GRU
        >>> list(recurrent_weights(GRU(2, 4)).summary["gate"])
        ['r', 'z', 'n']
    """
    rnn = find_recurrent(layer)
    D, H = rnn.num_directions, rnn.hidden_size
    rows: list[dict[str, Any]] = []
    matrices: list[np.ndarray] = []
    eigenvalues: list[np.ndarray] = []
    for k, cell in enumerate(rnn.cells):
        gates = GATE_NAMES.get(getattr(cell, "kind", ""), ())
        if len(gates) != cell.num_gates:
            gates = tuple(f"g{g}" for g in range(cell.num_gates))
        w_all = cell.weight_hh.detach().cpu().double().numpy()  # (G*H, H)
        for g, gate in enumerate(gates):
            w = w_all[g * H:(g + 1) * H].copy()  # (H, H)
            eig = np.linalg.eigvals(w).astype(np.complex128)
            rows.append({"layer": k // D, "direction": "backward" if k % D else "forward",
                         "gate": gate, "spectral_radius": float(np.abs(eig).max()),
                         "spectral_norm": float(np.linalg.norm(w, 2))})
            matrices.append(w)
            eigenvalues.append(eig)
    return WeightReport(summary=pd.DataFrame(rows), matrices=tuple(matrices),
                        eigenvalues=tuple(eigenvalues))
