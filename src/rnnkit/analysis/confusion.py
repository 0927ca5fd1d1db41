"""Confusion matrices of a classifier or tagger: the counts, per-class scores and a plot.

:func:`confusion_matrix` counts (true class, predicted class) pairs as the other diagnostics
of :mod:`rnnkit.analysis` report their data, with ``plot()`` on demand: rows are the true
class, columns the predicted one, every cell shaded by the share of its row so that rare
classes read as well as frequent ones. :meth:`ConfusionMatrix.per_class` gives precision,
recall, F1 and support, and :meth:`ConfusionMatrix.confused` the most frequent mistakes.

Example::

    >>> cm = confusion_matrix(["a", "b", "b"], ["a", "a", "b"])
    >>> cm.counts.tolist()
    [[1, 0], [1, 1]]
    >>> cm.confused(1)
    [('b', 'a', 1)]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.analysis.plots import _grid, save_figure
from rnnkit.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ConfusionMatrix", "confusion_matrix", "from_counts", "plot_confusion_matrix"]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (true, predicted) classes.

    Attributes:
        counts: (C, C) int64, row r the true class ``labels[r]``, column c the predicted one.
        labels: the C class labels, in the matrix's order.
    """

    counts: np.ndarray
    labels: tuple[Any, ...]

    @property
    def accuracy(self) -> float:
        """The share of the diagonal."""
        total = int(self.counts.sum())
        return float(np.trace(self.counts) / total) if total else float("nan")

    def per_class(self) -> pd.DataFrame:
        """Precision, recall, F1 and support per class (0 where a class is never predicted or
        never true), indexed by label."""
        cm = self.counts.astype(np.float64)
        tp = np.diag(cm)
        predicted, true = cm.sum(0), cm.sum(1)
        precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
        recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
        both = precision + recall
        f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
        return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1,
                             "support": true.astype(np.int64)},
                            index=pd.Index([str(v) for v in self.labels], name="class"))

    def confused(self, n: int = 5) -> list[tuple[Any, Any, int]]:
        """The ``n`` most frequent mistakes, as (true, predicted, count), largest first."""
        off = self.counts.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:n]
        rows, cols = np.unravel_index(order, off.shape)
        return [(self.labels[r], self.labels[c], int(off[r, c]))
                for r, c in zip(rows, cols) if off[r, c] > 0]

    def plot(self, path: str | os.PathLike[str] | None = None, *,
             title: str | None = None) -> Figure:
        """The matrix, each cell with its count, shaded by the share of its row.

        Args:
            path: a PNG file to write (atomically); None: only return the figure.
            title: the figure title (default: the number of samples).
        """
        cm = self.counts.astype(np.float64)
        C = len(self.labels)
        share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        fig, (ax,) = _grid(1, 1, max(4.0, 0.5 * C + 2))
        ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(C), [str(v) for v in self.labels], rotation=45 if C > 6 else 0)
        ax.set_yticks(range(C), [str(v) for v in self.labels])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for r in range(C):
            for c in range(C):
                ax.text(c, r, f"{int(cm[r, c])}", ha="center", va="center", fontsize=8,
                        color="white" if share[r, c] > 0.5 else "black")
        ax.set_title(title or f"confusion matrix ({int(cm.sum())} samples)")
        if path is not None:
            save_figure(fig, path)
        return fig


def from_counts(matrix: Any, labels: Sequence[Any]) -> ConfusionMatrix:
    """A :class:`ConfusionMatrix` of counts already made, e.g.
    ``classification_metrics(...)["confusion_matrix"]`` with its labels."""
    cm = np.asarray(matrix, dtype=np.float64)
    C = len(labels)
    if cm.shape != (C, C):
        raise DataError(expected("matrix", f"shape ({C}, {C}) for {C} labels",
                                 Described(f"shape {cm.shape}")))
    if (cm < 0).any() or not np.all(np.isfinite(cm)) or np.any(cm != np.round(cm)):
        raise DataError(expected("matrix", "whole counts >= 0",
                                 Described("negative, fractional or missing entries")))
    return ConfusionMatrix(counts=cm.astype(np.int64), labels=tuple(labels))


def confusion_matrix(actual: Sequence[Any], predicted: Sequence[Any], *,
                     labels: Sequence[Any] | None = None) -> ConfusionMatrix:
    """Count every (true, predicted) pair.

    Args:
        actual, predicted: the N true and predicted classes (any hashable labels).
        labels: the classes in the matrix's order (default: every class seen, sorted).

    Raises:
        DataError: ``actual`` and ``predicted`` differ in length or are empty, or a class
            is not in ``labels``.
    """
    a, p = list(actual), list(predicted)
    if len(a) != len(p) or not a:
        raise DataError(expected("actual, predicted", "two non-empty sequences of the same "
                                 "length", Described(f"{len(a)} and {len(p)} values")))
    order = list(labels) if labels is not None else sorted(set(a) | set(p), key=str)
    index = {label: i for i, label in enumerate(order)}
    unknown = sorted({str(v) for v in a + p if v not in index})
    if unknown:
        raise DataError(expected("labels", "every class of actual and predicted",
                                 Described(f"missing {unknown[:5]}")))
    counts = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(counts, ([index[v] for v in a], [index[v] for v in p]), 1)
    return ConfusionMatrix(counts=counts, labels=tuple(order))


def plot_confusion_matrix(matrix: Any, labels: Sequence[Any], path: str | os.PathLike[str], *,
                          title: str | None = None) -> Path:
    """A matrix of counts (``classification_metrics(...)["confusion_matrix"]``) drawn to
    ``path`` (:meth:`ConfusionMatrix.plot`); returns the path."""
    from_counts(matrix, labels).plot(path, title=title)
    return Path(path)
