"""Attention maps of a sequence-to-sequence model: the weights, what they say, and a plot.

:func:`attention_maps` checks and keeps decoder-over-source attention weights (what
:meth:`rnnkit.tasks.seq2seq.Seq2Seq.decode` returns per example) with their tokens, as the
other diagnostics of :mod:`rnnkit.analysis` do: data first, ``plot()`` on demand. Besides the
heat maps it reads off, for every output token, the source token it attends to most
(``alignment``) and how spread its attention is (``entropy``, in nats: 0 when it looks at one
source token, log S when it spreads evenly over S).

Example::

    >>> import numpy as np
    >>> maps = attention_maps(np.array([[0.9, 0.1], [0.2, 0.8]]), sources=[["a", "b"]],
    ...                       outputs=[["A", "B"]])
    >>> maps.alignment()[0]
    ['a', 'b']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.analysis.plots import _grid, save_figure
from rnnkit.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["AttentionMaps", "attention_maps", "plot_attention"]


@dataclass(frozen=True)
class AttentionMaps:
    """Checked attention weights with their tokens (:func:`attention_maps`).

    Attributes:
        weights: one (T_out, S) float64 array per example.
        sources: the S source tokens of each example; outputs: its T_out output tokens.
        titles: one title per example.
    """

    weights: tuple[np.ndarray, ...]
    sources: tuple[tuple[str, ...], ...]
    outputs: tuple[tuple[str, ...], ...]
    titles: tuple[str, ...]

    def alignment(self) -> list[list[str]]:
        """Per example, the source token each output token attends to most."""
        return [[src[j] for j in w.argmax(1)] for w, src in zip(self.weights, self.sources)]

    def entropy(self) -> list[np.ndarray]:
        """Per example, (T_out,) the entropy of each output token's attention (nats)."""
        return [-(w * np.log(np.clip(w, 1e-300, None))).sum(1) for w in self.weights]

    def plot(self, path: str | os.PathLike[str] | None = None, *, cols: int = 3) -> Figure:
        """Heat maps, row t the output token t, column j the source token j.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.
            cols: heat maps per row of the figure.
        """
        fig, axes = _grid(len(self.weights), cols, 3.6)
        for ax, a, src, out, title in zip(axes, self.weights, self.sources, self.outputs,
                                          self.titles):
            ax.imshow(a, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
            words = max(len(t) for t in src) > 2  # word tokens: vertical labels
            ax.set_xticks(range(len(src)), list(src), fontsize=8, rotation=90 if words else 0)
            ax.set_yticks(range(len(out)), list(out), fontsize=8)
            ax.set_xlabel("source")
            ax.set_title(title, fontsize=10)
        if path is not None:
            save_figure(fig, path)
        return fig


def attention_maps(weights: Any, *, sources: Sequence[Sequence[Any]],
                   outputs: Sequence[Sequence[Any]],
                   titles: Sequence[str] | None = None) -> AttentionMaps:
    """Check attention weights against their tokens.

    Args:
        weights: one (T_out, S) array (or tensor) per example, or a single one.
        sources: the source tokens of each example (S_i of them).
        outputs: the output tokens of each example (T_out_i of them).
        titles: one title per example (default: the source joined, 30 characters).

    Returns:
        an :class:`AttentionMaps`.

    Raises:
        DataError: no matrix, a count of tokens that does not match, or a matrix whose
            shape is not (output tokens, source tokens).
    """
    mats = [weights] if hasattr(weights, "shape") else list(weights)
    if not mats:
        raise DataError(expected("weights", "at least one attention matrix", "none"))
    if len(sources) != len(mats) or len(outputs) != len(mats):
        raise DataError(expected("sources/outputs", f"{len(mats)} of each (one per matrix)",
                                 (len(sources), len(outputs))))
    arrays = []
    for i, (w, src, out) in enumerate(zip(mats, sources, outputs)):
        a = np.asarray(w.detach().cpu() if hasattr(w, "detach") else w, dtype=np.float64)
        if a.ndim != 2 or a.shape != (len(out), len(src)):
            raise DataError(expected(f"weights[{i}]", f"shape ({len(out)}, {len(src)}) "
                                     "(output tokens, source tokens)",
                                     Described(f"shape {a.shape}")))
        arrays.append(a)
    srcs = tuple(tuple(str(t) for t in s) for s in sources)
    if titles is not None and len(titles) != len(arrays):
        raise DataError(expected("titles", f"{len(arrays)} titles (one per matrix)",
                                 len(titles)))
    names = tuple(titles) if titles is not None else tuple("".join(s)[:30] for s in srcs)
    return AttentionMaps(weights=tuple(arrays), sources=srcs,
                         outputs=tuple(tuple(str(t) for t in o) for o in outputs), titles=names)


def plot_attention(weights: Any, path: str | os.PathLike[str], *,
                   sources: Sequence[Sequence[str]], outputs: Sequence[Sequence[str]],
                   titles: Sequence[str] | None = None, cols: int = 3) -> Path:
    """``attention_maps(...).plot(path)``: the heat maps written to ``path``; returns it."""
    attention_maps(weights, sources=sources, outputs=outputs, titles=titles).plot(path,
                                                                                    cols=cols)
    return Path(path)
