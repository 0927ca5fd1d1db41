r"""Hidden-state diagnostics: the top layer's h_t over a batch, its gates, and 2D projections.

:func:`hidden_states` steps a recurrent layer cell by cell (eval mode: no dropout, expected
zoneout), as :func:`rnnkit.analysis.gradients.gradient_flow` does, and keeps the top layer's
h_t (B, T, D*H) and, for LSTM and GRU cells, their gate activations per step:

* LSTM: ``input`` :math:`i_t`, ``forget`` :math:`f_t`, ``output`` :math:`o_t`;
* GRU: ``reset`` :math:`r_t`, ``update`` :math:`z_t`.

The result projects the states to 2D (PCA or a seeded, bounded t-SNE), draws one sequence's
units as a heat map and measures gate saturation (fractions below ``low`` / above ``high``).

Example::

    >>> import torch
    >>> from rnnkit.nn import LSTM
    >>> hs = hidden_states(LSTM(3, 8), torch.randn(4, 20, 3))
    >>> hs.states.shape, sorted(hs.gates)
    ((4, 20, 8), ['forget', 'input', 'output'])
    >>> proj = hs.project("pca")
    >>> proj.points.shape
    (80, 2)
    >>> fig = proj.plot("pca.png", color="step")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from rnnkit._validation import Described, expected
from rnnkit.analysis.gradients import _check_x, _layer_input, find_recurrent
from rnnkit.analysis.plots import save_figure
from rnnkit.errors import ConfigError, MissingDependencyError, ShapeError
from rnnkit.nn.recurrent import Recurrent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HiddenStates", "Projection", "UnitHeatmap", "hidden_states"]

_METHODS = ("pca", "tsne")


def _figure(height: float = 4.5) -> tuple[Figure, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


@dataclass(frozen=True)
class Projection:
    """A 2D projection of hidden states (:meth:`HiddenStates.project`).

    Attributes:
        points: (N, 2) float64, one row per projected (sequence, step).
        index: (N, 2) int64, the (sequence b, step t) of each row.
        method: ``"pca"`` or ``"tsne"``.
        explained_variance_ratio: PCA: (2,) the share of variance of each component; t-SNE:
            None.
        sampled: True when a random subset of the states was projected (t-SNE above
            ``max_points``).
        n_points: N, the number of projected states.
    """

    points: np.ndarray
    index: np.ndarray
    method: str
    explained_variance_ratio: np.ndarray | None
    sampled: bool
    n_points: int

    def plot(self, path: str | os.PathLike[str] | None = None,
             color: str | np.ndarray | None = "step") -> Figure:
        """The points as a scatter plot, coloured.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.
            color: ``"step"`` (the time step t), ``"sequence"`` (b), None (one colour), or an
                array: (N,) per point, or (B,) per sequence (a label or target value) or
                (B, T) per sequence and step, read at each point's (b, t).

        Returns:
            the matplotlib Figure (Agg canvas, no window).
        """
        values = self._colors(color)
        fig, ax = _figure()
        sc = ax.scatter(self.points[:, 0], self.points[:, 1], c=values, s=10,
                        cmap=None if values is None else "viridis")
        if values is not None:
            fig.colorbar(sc, ax=ax, label=color if isinstance(color, str) else "value")
        ax.set_xlabel(f"{self.method} 1")
        ax.set_ylabel(f"{self.method} 2")
        title = f"hidden states, {self.method} ({self.n_points} points"
        ax.set_title(title + (", sampled)" if self.sampled else ")"))
        if path is not None:
            save_figure(fig, path)
        return fig

    def _colors(self, color: str | np.ndarray | None) -> np.ndarray | None:
        if color is None:
            return None
        if isinstance(color, str):
            if color == "step":
                return self.index[:, 1]
            if color == "sequence":
                return self.index[:, 0]
            raise ConfigError(expected("color", "'step', 'sequence', None or an array", color))
        arr = np.asarray(color)
        b, t = self.index[:, 0], self.index[:, 1]
        if arr.ndim == 1 and arr.shape[0] == self.n_points:
            return arr
        if arr.ndim == 1 and arr.shape[0] > b.max():
            return arr[b]
        if arr.ndim == 2 and arr.shape[0] > b.max() and arr.shape[1] > t.max():
            return arr[b, t]
        raise ShapeError(expected(
            "color", f"an array of shape ({self.n_points},) per point, (B,) per sequence or "
            "(B, T)", Described(f"shape {arr.shape}")))


@dataclass(frozen=True)
class UnitHeatmap:
    """One sequence's hidden units over time (:meth:`HiddenStates.unit_heatmap`).

    Attributes:
        values: (T_b, D*H) float64, h_t of sequence ``index`` over its real steps.
        index: the sequence.
    """

    values: np.ndarray
    index: int

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """The (units x steps) heat map. Args: path: a PNG file to write; None: only return."""
        fig, ax = _figure()
        im = ax.imshow(self.values.T, aspect="auto", origin="lower", cmap="RdBu_r",
                       vmin=-1.0, vmax=1.0, interpolation="nearest")
        fig.colorbar(im, ax=ax, label="h_t")
        ax.set_xlabel("time step t")
        ax.set_ylabel("unit")
        ax.set_title(f"hidden units of sequence {self.index}")
        if path is not None:
            save_figure(fig, path)
        return fig


@dataclass(frozen=True)
class HiddenStates:
    """The result of :func:`hidden_states`.

    Attributes:
        states: (B, T, D*H) float64, the top layer's h_t (directions concatenated, forward
            first; not merged), every step even when the layer returns only the last.
        lengths: (B,) int64, each sequence's real steps (T when none were given).
        gates: gate name -> (B, T, D*H) float64 activations in [0, 1] of the top layer
            (LSTM: input, forget, output; GRU: reset, update; empty for other cells).
    """

    states: np.ndarray
    lengths: np.ndarray
    gates: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def mask(self) -> np.ndarray:
        """(B, T) bool: True on real steps."""
        T = self.states.shape[1]
        return np.arange(T)[None, :] < self.lengths[:, None]

    def project(self, method: str = "pca", *, max_points: int = 2000, seed: int = 0,
                perplexity: float = 30.0, max_iter: int = 1000) -> Projection:
        """Project every real step's h_t to 2D.

        Args:
            method: ``"pca"`` (all points) or ``"tsne"`` (at most ``max_points``, a seeded
                random sample when there are more; the result says ``sampled``).
            max_points: the t-SNE bound (>= 2).
            seed: the sample's and t-SNE's random seed.
            perplexity: t-SNE's perplexity, lowered to N - 1 for small N.
            max_iter: t-SNE's optimization steps (scikit-learn's minimum is 250; the
                first 250 are its early exaggeration).

        Returns:
            a :class:`Projection`.
        """
        if method not in _METHODS:
            raise ConfigError(expected("method", "'pca' or 'tsne'", method))
        if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2:
            raise ConfigError(expected("max_points", "an integer >= 2", max_points))
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 250:
            raise ConfigError(expected("max_iter", "an integer >= 250", max_iter))
        try:
            from sklearn.decomposition import PCA
            from sklearn.manifold import TSNE
        except ImportError as err:  # pragma: no cover - scikit-learn is a dependency
            raise MissingDependencyError(expected(
                "scikit-learn", "installed", "not importable", "pip install scikit-learn")
            ) from err
        index = np.argwhere(self.mask)  # (N, 2) rows (b, t), b-major
        data = self.states[index[:, 0], index[:, 1]]  # (N, D*H)
        sampled = False
        if method == "tsne" and len(index) > max_points:
            keep = np.sort(np.random.default_rng(seed).choice(len(index), max_points,
                                                              replace=False))
            index, data, sampled = index[keep], data[keep], True
        n = len(index)
        if n < 3:
            raise ShapeError(expected("states", "at least 3 real steps to project",
                                      Described(f"{n}")))
        if method == "pca":
            pca = PCA(n_components=2, random_state=seed)
            points = pca.fit_transform(data)
            ratio: np.ndarray | None = pca.explained_variance_ratio_.astype(np.float64)
        else:
            tsne = TSNE(n_components=2, perplexity=min(float(perplexity), n - 1.0),
                        random_state=seed, init="pca", max_iter=max_iter)
            points = tsne.fit_transform(data)
            ratio = None
        return Projection(points=np.asarray(points, dtype=np.float64),
                          index=index.astype(np.int64), method=method,
                          explained_variance_ratio=ratio, sampled=sampled, n_points=n)

    def unit_heatmap(self, index: int = 0) -> UnitHeatmap:
        """Sequence ``index``'s (T_b, D*H) activations over its real steps, with a plot."""
        B = self.states.shape[0]
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not (
                -B <= index < B):
            raise ConfigError(expected("index", f"a sequence index in [0, {B})", index))
        b = int(index) % B
        return UnitHeatmap(values=self.states[b, : int(self.lengths[b])].copy(), index=b)

    def gate_saturation(self, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
        """Per gate of the top layer, the fraction of values (real steps) below / above.

        Args:
            low, high: the thresholds, 0 <= low < high <= 1.

        Returns:
            a DataFrame indexed by gate name with columns ``below_low``, ``above_high`` and
            ``saturated`` (their sum); empty for cells without gates.
        """
        if not (isinstance(low, (int, float)) and isinstance(high, (int, float))
                and 0.0 <= low < high <= 1.0):
            raise ConfigError(expected("low, high", "0 <= low < high <= 1",
                                       Described(f"low={low!r}, high={high!r}")))
        mask = self.mask
        rows = {}
        for name, values in self.gates.items():
            real = values[mask]  # (N, D*H)
            below, above = float(np.mean(real < low)), float(np.mean(real > high))
            rows[name] = {"below_low": below, "above_high": above,
                          "saturated": below + above}
        frame = pd.DataFrame.from_dict(
            rows, orient="index", columns=["below_low", "above_high", "saturated"])
        frame.index.name = "gate"
        return frame


def _gates(cell: Any, xp_t: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor
           ) -> dict[str, torch.Tensor]:
    """The gate activations of one step of ``cell`` (as its ``step`` computes them)."""
    kind = getattr(cell, "kind", "")
    H = cell.hidden_size
    if kind == "lstm":
        if cell.layer_norm:
            gates = xp_t + F.layer_norm(h @ w_hh.t(), (4 * H,), cell.ln_hh_weight)
        else:
            gates = torch.addmm(xp_t, h, w_hh.t())  # (B, 4H)
        i, f, _, o = gates.chunk(4, dim=1)
        return {"input": torch.sigmoid(i), "forget": torch.sigmoid(f),
                "output": torch.sigmoid(o)}
    if kind == "gru":
        x_r, x_z, _ = xp_t.chunk(3, dim=1)
        w = w_hh if cell.reset_after else w_hh[: 2 * H]
        rec = h @ w.t()  # (B, 3H) or (B, 2H)
        if cell.layer_norm:
            ln_w = cell.ln_hh_weight if cell.reset_after else cell.ln_hh_weight[: 2 * H]
            rec = F.layer_norm(rec, (rec.shape[1],), ln_w)
        h_r, h_z = rec[:, :H], rec[:, H : 2 * H]
        return {"reset": torch.sigmoid(x_r + h_r), "update": torch.sigmoid(x_z + h_z)}
    return {}


def _reverse(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of x (B, T, ...) within its first lengths[b] steps."""
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device).expand(B, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    return x.gather(1, idx.view(B, T, *([1] * (x.dim() - 2))).expand_as(x))


def _run(cell: Any, x: torch.Tensor, keep_gates: bool
         ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Step ``cell`` over x (B, T, I) from zeros; -> h (B, T, H), gates name -> (B, T, H)."""
    B, T, _ = x.shape
    xp = cell.project_input(x)  # (B, T, G*H)
    w_hh = cell.recurrent_weight()
    state = tuple(x.new_zeros(B, cell.hidden_size) for _ in range(cell.num_states))
    hs: list[torch.Tensor] = []
    gates: dict[str, list[torch.Tensor]] = {}
    for t in range(T):
        if keep_gates:
            for name, g in _gates(cell, xp[:, t], state[0], w_hh).items():
                gates.setdefault(name, []).append(g)
        new = cell.step(xp[:, t], state, w_hh, None)
        state = cell.apply_zoneout(state, new, None)
        hs.append(state[0])
    return torch.stack(hs, 1), {k: torch.stack(v, 1) for k, v in gates.items()}


def _check_lengths(lengths: Any, B: int, T: int) -> torch.Tensor:
    if lengths is None:
        return torch.full((B,), T, dtype=torch.long)
    try:
        arr = torch.as_tensor(np.asarray(lengths)).long().reshape(-1)
    except (TypeError, ValueError) as err:
        raise ShapeError(expected("lengths", f"{B} integers in [1, {T}]",
                                  Described(type(lengths).__name__))) from err
    if arr.shape[0] != B or bool((arr < 1).any()) or bool((arr > T).any()):
        raise ShapeError(expected("lengths", f"{B} integers in [1, {T}] (one per sequence)",
                                  Described(f"{arr.tolist()}")))
    return arr


def hidden_states(layer_or_model_or_task: Any, x: torch.Tensor, *, lengths: Any = None
                  ) -> HiddenStates:
    """The top recurrent layer's h_t over a batch, with its gate activations.

    Args:
        layer_or_model_or_task: an rnnkit recurrent layer (stacked or bidirectional), a model
            holding one (its first) or a fitted task (its ``model_``).
        x: for a layer, its input (B, T, F) in its dtype; for a model or task, the model's
            input: ``model(x)`` runs once (eval, no grad) and the layer's input is captured.
        lengths: (B,) real steps per sequence (post-padding), or None (all T). Padded steps
            are kept in ``states`` but left out of projections, heat maps and saturation; the
            backward direction reads each sequence reversed within its length.

    Returns:
        a :class:`HiddenStates`; the layer's mode is left as it was.

    Example:
        >>> import torch
        >>> from rnnkit.nn import GRU
        >>> hs = hidden_states(GRU(2, 4), torch.randn(3, 10, 2), lengths=[10, 7, 3])
        >>> hs.gate_saturation().index.tolist()
        ['reset', 'update']
    """
    layer = find_recurrent(layer_or_model_or_task)
    if not isinstance(layer_or_model_or_task, Recurrent):
        model = getattr(layer_or_model_or_task, "model_", layer_or_model_or_task)
        x = _layer_input(model, layer, x)
    x = _check_x(layer, x)
    B, T, _ = x.shape
    lens = _check_lengths(lengths, B, T).to(x.device)
    D, L = layer.num_directions, layer.num_layers
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            layer_in = x
            outs: list[torch.Tensor] = []
            gates: dict[str, list[torch.Tensor]] = {}
            for l_idx in range(L):
                top = l_idx == L - 1
                outs = []
                for d in range(D):
                    cell = layer.cells[l_idx * D + d]
                    inp = layer_in if d == 0 else _reverse(layer_in, lens)
                    h, g = _run(cell, inp, keep_gates=top)
                    if d == 1:  # back to forward time
                        h = _reverse(h, lens)
                        g = {k: _reverse(v, lens) for k, v in g.items()}
                    outs.append(h)
                    for k, v in g.items():
                        gates.setdefault(k, []).append(v)
                layer_in = torch.cat(outs, dim=-1)  # (B, T, D*H)
    finally:
        layer.train(was_training)
    return HiddenStates(
        states=layer_in.double().cpu().numpy(), lengths=lens.cpu().numpy().astype(np.int64),
        gates={k: torch.cat(v, dim=-1).double().cpu().numpy() for k, v in gates.items()})
