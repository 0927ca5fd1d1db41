"""Regression and forecasting metrics: arrays in, Python floats out.

Every function accepts NumPy arrays, PyTorch tensors (detached and moved to the CPU) or nested
sequences. ``y_true`` and ``y_pred`` must have the same shape; any shape works, e.g. a
forecast of shape (samples, horizon, n_targets), and each metric pools over **all** elements
(one number, not one per output).

Symbols: y_i true value, ŷ_i prediction, n number of elements, ȳ mean of y.

=========  =====================================================================
mse        (1/n) Σ (y_i − ŷ_i)²
rmse       √mse
mae        (1/n) Σ |y_i − ŷ_i|
r2         1 − Σ (y_i − ŷ_i)² / Σ (y_i − ȳ)²       (pooled over all elements)
mape       (1/n') Σ_{y_i ≠ 0} |y_i − ŷ_i| / |y_i|   (a fraction: 0.1 means 10 %)
smape      (1/n) Σ 2 |y_i − ŷ_i| / (|y_i| + |ŷ_i|)  (a fraction in [0, 2]; 0/0 := 0)
mase       mae / ((1/(T−m)) Σ_{t=m}^{T−1} |s_t − s_{t−m}|)  on a training series s
=========  =====================================================================

Example:
    >>> import numpy as np
    >>> round(mae(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])), 4)
    0.5
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["mae", "mape", "mase", "mse", "r2", "regression_report", "rmse", "smape"]

ZeroPolicy = Literal["ignore", "raise"]


def _to_numpy(name: str, value: Any, *, dtype: Any = np.float64, finite: bool = True) -> np.ndarray:
    """Convert an array-like or a tensor to a NumPy array, naming ``name`` in any error."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(expected(name, "an array-like of numbers", type(value).__name__)) from exc
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise DataError(
            expected(name, "finite values", f"{n_bad} NaN/inf entries",
                     "drop or impute them before computing metrics")
        )
    return array


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64, checked to share one non-empty shape."""
    t = _to_numpy("y_true", y_true)
    p = _to_numpy("y_pred", y_pred)
    if t.shape != p.shape:
        raise ShapeError(expected("y_pred", f"shape {t.shape} (the shape of y_true)", p.shape))
    if t.size == 0:
        raise DataError(expected("y_true", "at least one value", "an empty array"))
    return t, p


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error, ``(1/n) Σ (y_i − ŷ_i)²``."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, ``√((1/n) Σ (y_i − ŷ_i)²)``, in the units of ``y``."""
    return math.sqrt(mse(y_true, y_pred))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, ``(1/n) Σ |y_i − ŷ_i|``."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination, ``1 − SS_res / SS_tot``, pooled over all elements.

    ``SS_res = Σ (y_i − ŷ_i)²`` and ``SS_tot = Σ (y_i − ȳ)²`` with ȳ the mean of every element
    (for 1-D input this is exactly scikit-learn's ``r2_score``). When ``y_true`` is constant
    (``SS_tot = 0``) the score is 1.0 for a perfect prediction and 0.0 otherwise, as in
    scikit-learn, rather than −inf or NaN.
    """
    t, p = _pair(y_true, y_pred)
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def mape(y_true: Any, y_pred: Any, *, zeros: ZeroPolicy = "ignore") -> float:
    """Mean absolute percentage error as a fraction: ``(1/n') Σ |y_i − ŷ_i| / |y_i|``.

    The ratio is undefined where ``y_i = 0``. Policy, chosen by ``zeros``:

    * ``"ignore"`` (default): those elements are left out of the mean (n' counts the
      non-zero targets); if every target is zero a :class:`DataError` is raised.
    * ``"raise"``: any zero target raises :class:`DataError`.

    The result is a fraction (0.1 means 10 %), like scikit-learn's
    ``mean_absolute_percentage_error``, which agrees with this function whenever no target is 0.
    """
    if zeros not in ("ignore", "raise"):
        raise ConfigError(expected("zeros", "'ignore' or 'raise'", zeros))
    t, p = _pair(y_true, y_pred)
    nonzero = t != 0
    n_zero = int(t.size - nonzero.sum())
    if n_zero and zeros == "raise":
        raise DataError(
            expected("y_true", "no zero targets (MAPE divides by |y|)", f"{n_zero} zeros",
                     "pass zeros='ignore' to skip them, or use smape or mase")
        )
    if n_zero == t.size:
        raise DataError(
            expected("y_true", "at least one non-zero target", "all zeros",
                     "MAPE is undefined here; use mae, smape or mase")
        )
    return float(np.mean(np.abs(t[nonzero] - p[nonzero]) / np.abs(t[nonzero])))


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE as a fraction in [0, 2]: ``(1/n) Σ 2|y_i − ŷ_i| / (|y_i| + |ŷ_i|)``.

    An element with ``y_i = ŷ_i = 0`` is a perfect forecast and contributes 0 (not 0/0).
    """
    t, p = _pair(y_true, y_pred)
    denom = np.abs(t) + np.abs(p)
    ratio = np.divide(2.0 * np.abs(t - p), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(np.mean(ratio))


def _seasonal_naive_scale(y_train: Any, m: int) -> np.ndarray:
    """In-sample MAE of the seasonal naive forecast ``s_t ← s_{t−m}`` (one per target column)."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ConfigError(expected("m", "a seasonal period, an integer >= 1", m))
    s = _to_numpy("y_train", y_train)
    if s.ndim not in (1, 2):
        raise ShapeError(
            expected("y_train", "a training series of shape (time,) or (time, n_targets)", s.shape)
        )
    if s.shape[0] <= m:
        raise DataError(
            expected("y_train", f"more than m={m} time steps", s.shape[0],
                     "MASE scales by the seasonal-naive error on the training series")
        )
    scale = np.mean(np.abs(s[m:] - s[:-m]), axis=0)  # () or (n_targets,)
    if np.any(scale == 0):
        raise DataError(
            expected("y_train", "a series that is not m-periodic (non-zero naive error)",
                     "a series whose seasonal-naive error is 0",
                     "MASE is undefined for it; report mae instead")
        )
    return np.asarray(scale)


def mase(y_true: Any, y_pred: Any, y_train: Any, m: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006).

    ``mase = mean_i |y_i − ŷ_i| / q``, with ``q = (1/(T−m)) Σ_{t=m}^{T−1} |s_t − s_{t−m}|`` the
    in-sample mean absolute error of the seasonal naive forecast on the training series ``s``
    of length T (``m = 1``: the naive, random-walk forecast). Below 1 means better than that
    naive forecast did in sample.

    Args:
        y_true, y_pred: any equal shapes; with several targets the last axis is the target.
        y_train: shape (T,) for one scale, or (T, n_targets) for one scale per target, applied
            along the last axis of ``y_true``.
        m: the seasonal period.
    """
    t, p = _pair(y_true, y_pred)
    scale = _seasonal_naive_scale(y_train, m)
    if scale.ndim == 1 and (t.ndim == 0 or t.shape[-1] != scale.shape[0]):
        raise ShapeError(
            expected("y_true", f"a last axis of {scale.shape[0]} targets (the columns of y_train)",
                     t.shape)
        )
    return float(np.mean(np.abs(t - p) / scale))


def regression_report(
    y_true: Any, y_pred: Any, y_train: Any | None = None, m: int = 1
) -> dict[str, float]:
    """Every regression metric in one dict of floats.

    Keys: ``mse``, ``rmse``, ``mae``, ``r2``, ``mape``, ``smape`` and, when ``y_train`` is
    given, ``mase``. ``mape`` ignores zero targets and is NaN when every target is zero
    (see :func:`mape`); every other metric raises on bad input.
    """
    t, p = _pair(y_true, y_pred)
    report = {
        "mse": mse(t, p),
        "rmse": rmse(t, p),
        "mae": mae(t, p),
        "r2": r2(t, p),
        "mape": mape(t, p) if np.any(t != 0) else float("nan"),
        "smape": smape(t, p),
    }
    if y_train is not None:
        report["mase"] = mase(t, p, y_train, m)
    return report
