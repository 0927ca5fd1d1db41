"""The losses the trainer minimizes by name, and how it calls user metrics.

Shapes (B batch, T steps, C classes):

===============  ===============================  ================================
loss             prediction                       target
===============  ===============================  ================================
mse, mae, huber  any shape S                      S
bce              logits S                         S, in [0, 1]
cross_entropy    logits (B, C) or (B, T, C)       (B,) or (B, T) class indices,
                                                  or probabilities shaped like the logits
===============  ===============================  ================================

A callable ``loss(y_pred, y_true) -> 0-d tensor`` may stand in for any name.

Example:
    >>> import torch
    >>> loss = resolve_loss("cross_entropy")
    >>> logits, labels = torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])  # (B, C), (B,)
    >>> round(float(loss(logits, labels)), 4)  # log(3)
    1.0986
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["LOSSES", "LossFn", "MetricFn", "resolve_loss"]

LOSSES = ("mse", "mae", "huber", "cross_entropy", "bce")

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[..., float]


def _same_shape(name: str) -> Callable[[LossFn], LossFn]:
    def wrap(fn: LossFn) -> LossFn:
        def loss(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
            if y_pred.shape != y_true.shape:
                raise ShapeError(expected(
                    f"loss={name!r} targets", f"the prediction's shape {tuple(y_pred.shape)}",
                    tuple(y_true.shape), "reshape y to the model's output shape (e.g. (N, 1))"))
            return fn(y_pred, y_true)

        loss.__name__ = name
        return loss

    return wrap


def _cross_entropy(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    if y_pred.shape == y_true.shape:  # class probabilities
        return F.cross_entropy(y_pred.reshape(-1, y_pred.shape[-1]),
                               y_true.reshape(-1, y_true.shape[-1]))
    if y_pred.ndim != y_true.ndim + 1 or y_pred.shape[:-1] != y_true.shape:
        raise ShapeError(expected(
            "loss='cross_entropy' targets",
            f"class indices of shape {tuple(y_pred.shape[:-1])} for logits {tuple(y_pred.shape)}",
            tuple(y_true.shape)))
    c = y_pred.shape[-1]
    return F.cross_entropy(y_pred.reshape(-1, c), y_true.reshape(-1))  # (B*T, C) vs (B*T,)


def resolve_loss(loss: str | LossFn, huber_delta: float = 1.0) -> LossFn:
    """The loss function for a name in :data:`LOSSES`, or ``loss`` itself if callable."""
    if callable(loss):
        return loss
    if loss == "mse":
        return _same_shape("mse")(F.mse_loss)
    if loss == "mae":
        return _same_shape("mae")(F.l1_loss)
    if loss == "huber":
        return _same_shape("huber")(lambda p, t: F.huber_loss(p, t, delta=huber_delta))
    if loss == "bce":
        return _same_shape("bce")(F.binary_cross_entropy_with_logits)
    if loss == "cross_entropy":
        return _cross_entropy
    raise ConfigError(expected("loss", f"one of {list(LOSSES)} or a callable", loss))


def _metric_caller(name: str, fn: Any) -> Callable[[torch.Tensor, torch.Tensor], float]:
    """Metrics are called as ``fn(y_pred, y_true)``, except that a function whose parameters
    are named ``y_true`` and ``y_pred`` (rnnkit.metrics, scikit-learn) is called by keyword,
    so either argument order is right."""
    if not callable(fn):
        raise ConfigError(expected(f"metrics[{name!r}]", "a callable fn(y_pred, y_true) -> float", fn))
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    if "y_true" in params and "y_pred" in params:
        return lambda p, t: float(fn(y_true=t, y_pred=p))
    return lambda p, t: float(fn(p, t))
