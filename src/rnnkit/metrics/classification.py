"""Classification metrics in NumPy: labels (or scores) in, Python floats out.

Labels may be integers, strings or any values NumPy can sort; tensors are accepted and moved
to the CPU. Unless ``labels`` is given, the classes are the sorted union of the labels in
``y_true`` and ``y_pred`` (as in scikit-learn).

Symbols, per class c: tp_c, fp_c, fn_c true/false positives and false negatives, and the
support n_c = tp_c + fn_c (how often c is the true label).

================  ==================================================================
accuracy          (1/n) Σ 1[y_i = ŷ_i]
precision_c       tp_c / (tp_c + fp_c)
recall_c          tp_c / (tp_c + fn_c)
f1_c              2 tp_c / (2 tp_c + fp_c + fn_c)       (= 2PR / (P + R))
average="binary"  the score of the class ``pos_label`` only
average="macro"   (1/C) Σ_c score_c
average="weighted" Σ_c n_c score_c / Σ_c n_c
average="micro"   the score computed from Σ_c tp_c, Σ_c fp_c, Σ_c fn_c
roc_auc           P(score of a random positive > score of a random negative), ties count ½
================  ==================================================================

A ratio whose denominator is 0 (a class never predicted, say) is ``zero_division`` (default
0.0), as in scikit-learn.

:func:`classification_report` gathers them all; :func:`classification_metrics` flattens it into
the dictionary a sequence classifier's ``evaluate`` reports (and its baselines share).

Example:
    >>> round(f1([0, 1, 1, 0], [0, 1, 0, 0]), 4)
    0.6667
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.regression import _to_numpy

__all__ = [
    "accuracy",
    "classification_metrics",
    "classification_report",
    "confusion_matrix",
    "f1",
    "precision",
    "recall",
    "roc_auc",
]

Average = Literal["binary", "macro", "micro", "weighted"]
_AVERAGES = ("binary", "macro", "micro", "weighted")


def _labels_1d(name: str, value: Any) -> np.ndarray:
    array = _to_numpy(name, value, dtype=None)
    if array.ndim != 1:
        raise ShapeError(expected(name, "a 1-D array of labels, shape (samples,)", array.shape))
    return array


def _label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _labels_1d("y_true", y_true)
    p = _labels_1d("y_pred", y_pred)
    if t.shape != p.shape:
        raise ShapeError(expected("y_pred", f"shape {t.shape} (the shape of y_true)", p.shape))
    if t.size == 0:
        raise DataError(expected("y_true", "at least one label", "an empty array"))
    return t, p


def _class_list(t: np.ndarray, p: np.ndarray, labels: Sequence[Any] | None) -> np.ndarray:
    if labels is None:
        return np.unique(np.concatenate([t, p]))
    classes = np.asarray(list(labels))
    if classes.ndim != 1 or classes.size == 0 or np.unique(classes).size != classes.size:
        raise ConfigError(expected("labels", "a non-empty sequence of distinct labels", labels))
    return classes


def _index_of(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Position of each value in ``classes``; -1 for a value not among them."""
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    pos = np.searchsorted(sorted_classes, values)
    pos = np.clip(pos, 0, len(classes) - 1)
    found = sorted_classes[pos] == values
    return np.where(found, order[pos], -1)


def confusion_matrix(
    y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None
) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with true class ``labels[i]`` predicted as ``labels[j]``.

    Rows are true classes, columns predicted classes (scikit-learn's convention). Samples whose
    true or predicted label is not in ``labels`` are not counted.

    Returns:
        An int64 array of shape (n_classes, n_classes).
    """
    t, p = _label_pair(y_true, y_pred)
    classes = _class_list(t, p, labels)
    n_classes = len(classes)
    ti, pi = _index_of(t, classes), _index_of(p, classes)
    keep = (ti >= 0) & (pi >= 0)
    flat = ti[keep] * n_classes + pi[keep]
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true one, ``(1/n) Σ 1[y_i = ŷ_i]``."""
    t, p = _label_pair(y_true, y_pred)
    return float(np.mean(t == p))


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num, den = num.astype(np.float64), den.astype(np.float64)
    out = np.full_like(den, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _counts(
    y_true: Any, y_pred: Any, labels: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Classes and per-class (tp, fp, fn, support) from the confusion matrix.

    The matrix spans every label seen as well as ``labels``, so a sample whose other label lies
    outside ``labels`` still counts as a false positive or negative (as in scikit-learn).
    """
    t, p = _label_pair(y_true, y_pred)
    classes = _class_list(t, p, labels)
    every = np.unique(np.concatenate([t, p, classes]))
    cm = confusion_matrix(t, p, labels=every)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    keep = _index_of(classes, every)  # rows of ``every`` that are the requested classes
    return classes, tp[keep], fp[keep], fn[keep], (tp + fn)[keep]


def _score(
    kind: Literal["precision", "recall", "f1"],
    y_true: Any,
    y_pred: Any,
    average: Average,
    pos_label: Any,
    labels: Sequence[Any] | None,
    zero_division: float,
) -> float:
    if average not in _AVERAGES:
        raise ConfigError(expected("average", f"one of {list(_AVERAGES)}", average))
    classes, tp, fp, fn, support = _counts(y_true, y_pred, labels)

    def per_class(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        if kind == "precision":
            return _ratio(tp, tp + fp, zero_division)
        if kind == "recall":
            return _ratio(tp, tp + fn, zero_division)
        return _ratio(2 * tp, 2 * tp + fp + fn, zero_division)

    if average == "binary":
        if len(classes) > 2:
            raise ConfigError(
                expected("average", "a multi-class average for more than two classes", "binary",
                         f"found classes {classes.tolist()}; pass average='macro', 'micro' "
                         "or 'weighted'")
            )
        hits = np.flatnonzero(classes == pos_label)
        if hits.size == 0:
            if len(classes) == 2:
                raise ConfigError(
                    expected("pos_label", f"one of the labels {classes.tolist()}", pos_label)
                )
            return float(zero_division)  # pos_label absent: every denominator is 0
        c = int(hits[0])
        return float(per_class(tp[c : c + 1], fp[c : c + 1], fn[c : c + 1])[0])
    if average == "micro":
        return float(per_class(tp.sum(keepdims=True), fp.sum(keepdims=True),
                               fn.sum(keepdims=True))[0])
    scores = per_class(tp, fp, fn)
    if average == "macro":
        return float(np.mean(scores))
    total = support.sum()
    return float(np.sum(scores * support) / total) if total > 0 else float(zero_division)


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    average: Average = "binary",
    pos_label: Any = 1,
    labels: Sequence[Any] | None = None,
    zero_division: float = 0.0,
) -> float:
    """Precision ``tp / (tp + fp)``: of the samples predicted as a class, the fraction that are.

    ``average`` reduces the per-class scores (see the module table); ``"binary"`` reports the
    class ``pos_label`` and refuses more than two classes.
    """
    return _score("precision", y_true, y_pred, average, pos_label, labels, zero_division)


def recall(
    y_true: Any,
    y_pred: Any,
    *,
    average: Average = "binary",
    pos_label: Any = 1,
    labels: Sequence[Any] | None = None,
    zero_division: float = 0.0,
) -> float:
    """Recall ``tp / (tp + fn)``: of the samples of a class, the fraction predicted as it."""
    return _score("recall", y_true, y_pred, average, pos_label, labels, zero_division)


def f1(
    y_true: Any,
    y_pred: Any,
    *,
    average: Average = "binary",
    pos_label: Any = 1,
    labels: Sequence[Any] | None = None,
    zero_division: float = 0.0,
) -> float:
    """F1 score ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall."""
    return _score("f1", y_true, y_pred, average, pos_label, labels, zero_division)


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` with ties given the mean of the ranks they span."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    # start index of each run of equal values, and the run each sorted element belongs to
    new_run = np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.concatenate([starts[1:], [len(x)]])
    mean_rank = (starts + 1 + ends) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = mean_rank[run_id]
    return ranks


def _binary_auc(is_pos: np.ndarray, score: np.ndarray) -> float:
    """Mann–Whitney form: ``AUC = (R_pos − n_pos(n_pos+1)/2) / (n_pos · n_neg)``."""
    n_pos = int(is_pos.sum())
    n_neg = is_pos.size - n_pos
    ranks = _average_ranks(score)
    return float((ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_auc(
    y_true: Any,
    y_score: Any,
    *,
    average: Literal["macro", "weighted"] = "macro",
    labels: Sequence[Any] | None = None,
) -> float:
    """Area under the ROC curve from scores, exact (rank form, ties counted as ½).

    * Binary: ``y_score`` of shape (samples,) scores the *positive* class, the larger of the
      two labels (or ``labels[1]``); shape (samples, 2) is accepted and column 1 used.
    * Multi-class: ``y_score`` of shape (samples, n_classes), column c scoring class
      ``labels[c]`` (labels default to the sorted classes of ``y_true``). Each class is scored
      one-vs-rest, and the per-class AUCs are averaged: ``"macro"`` uniformly, ``"weighted"``
      by support. Scores need not be probabilities (logits work: AUC only uses their order).

    Raises:
        DataError: if ``y_true`` holds a single class (AUC is undefined).
    """
    if average not in ("macro", "weighted"):
        raise ConfigError(expected("average", "'macro' or 'weighted'", average))
    t = _labels_1d("y_true", y_true)
    s = _to_numpy("y_score", y_score)
    if s.ndim not in (1, 2) or s.shape[0] != t.shape[0]:
        raise ShapeError(
            expected("y_score", f"shape ({t.shape[0]},) or ({t.shape[0]}, n_classes)", s.shape)
        )
    classes = np.unique(t) if labels is None else _class_list(t, t, labels)
    if labels is not None and np.any(_index_of(t, classes) < 0):
        raise DataError(expected("y_true", f"labels among {classes.tolist()}", np.unique(t).tolist()))
    if np.unique(t).size < 2:
        raise DataError(
            expected("y_true", "at least two classes", np.unique(t).tolist(),
                     "ROC AUC is undefined when only one class is present")
        )
    if s.ndim == 2 and s.shape[1] == 2 and len(classes) == 2:
        s = s[:, 1]
    if s.ndim == 1:
        if len(classes) != 2:
            raise ShapeError(
                expected("y_score", f"shape ({t.shape[0]}, {len(classes)}) for "
                         f"{len(classes)} classes", s.shape)
            )
        return _binary_auc(t == classes[1], s)
    if s.shape[1] != len(classes):
        raise ShapeError(
            expected("y_score", f"{len(classes)} columns, one per class {classes.tolist()}",
                     s.shape[1])
        )
    aucs, supports = [], []
    for c, label in enumerate(classes.tolist()):
        is_pos = t == label
        n_pos = int(is_pos.sum())
        if n_pos in (0, t.size):
            raise DataError(
                expected("y_true", f"both positives and negatives for class {label!r}",
                         f"{n_pos} of {t.size} samples",
                         "one-vs-rest AUC is undefined for a class that is absent or everything")
            )
        aucs.append(_binary_auc(is_pos, s[:, c]))
        supports.append(n_pos)
    weights = np.ones(len(aucs)) if average == "macro" else np.asarray(supports, dtype=np.float64)
    return float(np.average(aucs, weights=weights))


def classification_report(
    y_true: Any,
    y_pred: Any,
    y_score: Any | None = None,
    *,
    labels: Sequence[Any] | None = None,
    zero_division: float = 0.0,
) -> dict[str, Any]:
    """Every classification metric in one JSON-friendly dict.

    Returns:
        ``{"accuracy": float, "per_class": {str(label): {"precision", "recall", "f1",
        "support"}}, "macro": {...}, "weighted": {...}, "micro": {...},
        "confusion_matrix": list of lists, "labels": list of str}`` plus ``"roc_auc"`` (macro
        one-vs-rest, or binary) when ``y_score`` is given; its columns follow ``"labels"``. It
        is NaN where AUC is undefined (a class absent from ``y_true``), so that a report on a
        small split still comes back; call :func:`roc_auc` directly to get the error.
    """
    t, p = _label_pair(y_true, y_pred)
    classes, tp, fp, fn, support = _counts(t, p, labels)
    prec = _ratio(tp, tp + fp, zero_division)
    rec = _ratio(tp, tp + fn, zero_division)
    f1s = _ratio(2 * tp, 2 * tp + fp + fn, zero_division)
    report: dict[str, Any] = {
        "accuracy": accuracy(t, p),
        "labels": [str(c) for c in classes],
        "per_class": {
            str(c): {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1s[i]),
                     "support": int(support[i])}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(t, p, labels=classes).tolist(),
    }
    for average in ("macro", "weighted", "micro"):
        kwargs = {"average": average, "labels": classes, "zero_division": zero_division}
        report[average] = {
            "precision": precision(t, p, **kwargs),
            "recall": recall(t, p, **kwargs),
            "f1": f1(t, p, **kwargs),
        }
    if y_score is not None:
        try:
            report["roc_auc"] = roc_auc(t, y_score, labels=classes)
        except DataError:
            report["roc_auc"] = float("nan")
    return report


def classification_metrics(y_true: Sequence[Any], y_pred: Sequence[Any],
                           proba: np.ndarray | None = None,
                           labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """Accuracy, macro / micro / weighted F1, macro precision and recall, ROC AUC (binary, or
    macro one-vs-rest; NaN where undefined), the confusion matrix and per-class scores.

    ``proba`` columns follow ``labels`` (the classifier's ``classes_``).
    """
    rep = classification_report(np.asarray(y_true), np.asarray(y_pred), proba, labels=labels)
    return {
        "n": len(y_true),
        "accuracy": rep["accuracy"],
        "f1_macro": rep["macro"]["f1"],
        "f1_micro": rep["micro"]["f1"],
        "f1_weighted": rep["weighted"]["f1"],
        "precision_macro": rep["macro"]["precision"],
        "recall_macro": rep["macro"]["recall"],
        "roc_auc": rep.get("roc_auc", float("nan")),
        "labels": rep["labels"],
        "confusion_matrix": rep["confusion_matrix"],
        "per_class": rep["per_class"],
    }
