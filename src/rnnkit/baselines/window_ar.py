"""A ridge autoregression on per-window normalized inputs: the linear AR fitted the way a
window-normalizing forecaster (``forecast.scaling = "window"``) is.

The plain :class:`~rnnkit.baselines.forecasting.LinearAR` fits one map in original units, so a
test part outside the training range (a level never seen) is extrapolated badly. A model with
per-window (instance) normalization sees each window relative to its own level and spread;
this baseline gets the same preprocessing:

    μ, σ = mean and population std of each feature over the window's L steps   (N, 1, F)
    X̃ = (X − μ) / σ,   ỹ = (y − μ_k) / σ_k    (k: the target columns)
    ỹ ≈ vec(X̃) W + b                          (ridge, λ‖W‖², b unpenalized)
    ŷ = (vec(X̃) W + b) · σ_k + μ_k

``mode="last"`` matches ``window_mode = "last"``: μ is the window's last value and σ the
training windows' overall std of each feature (a constant, as the model's global scaler).
σ is floored at ``eps · max(max|x| over the window, tiny)``, so a flat window normalizes to
zeros. With ``mode="standard"`` the forecast is equivariant to an affine change of a window:
``a·X + c`` (a > 0, per feature) forecasts ``a_k·ŷ + c_k``.

The penalty λ is chosen from ``alphas`` by exact leave-one-out error on the training windows
(one SVD: the ridge hat matrix gives every left-out residual), or fixed with one value.

Symbols: N windows, L look-back, F features, H horizon, K targets.

Example:
    >>> import numpy as np
    >>> s = np.sin(np.arange(300) / 5.0) * np.linspace(1, 3, 300)
    >>> X = np.stack([s[i : i + 20] for i in range(270)])[..., None]     # (270, 20, 1)
    >>> y = np.stack([s[i + 20 : i + 21] for i in range(270)])[..., None]  # (270, 1, 1)
    >>> WindowLinearAR().fit(X[:200], y[:200]).predict(X[200:]).shape
    (70, 1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from rnnkit._validation import check_choice, expected
from rnnkit.baselines.forecasting import Baseline, Target, _check_target
from rnnkit.errors import ConfigError

__all__ = ["WindowLinearAR"]

#: The default grid of ridge penalties (in normalized units) searched by leave-one-out.
ALPHAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


class WindowLinearAR(Baseline):
    """Ridge AR on windows normalized by their own statistics, mapped back to original units.

    Args:
        target: the feature index (or indices, in the order of y's last axis) of the target(s).
        alphas: ridge penalties to choose from by leave-one-out error, or one float (fixed).
        mode: ``"standard"`` (window mean and std) or ``"last"`` (last value; the training
            windows' std of each feature), as ``forecast.window_mode``.
        eps: relative floor of σ.

    Attributes:
        alpha_: the chosen penalty.
        coef_: (L, F, H, K) in normalized units; ``intercept_``: (H, K).
        loo_rmse_: {alpha: leave-one-out RMSE in normalized units}.
    """

    name: ClassVar[str] = "linear_ar_window"

    alpha_: float
    coef_: np.ndarray
    intercept_: np.ndarray
    loo_rmse_: dict[float, float]

    def __init__(self, target: Target = 0, alphas: float | Sequence[float] = ALPHAS,
                 mode: str = "standard", eps: float = 1e-5) -> None:
        self.target = target
        self._indices = list(_check_target(target))
        grid = [alphas] if isinstance(alphas, (int, float)) else list(alphas)
        if not grid or any(isinstance(a, bool) or not isinstance(a, (int, float)) or not a >= 0
                           for a in grid):
            raise ConfigError(expected("alphas", "a ridge penalty >= 0 or a list of them",
                                       alphas))
        self.alphas = alphas if isinstance(alphas, (int, float)) else tuple(alphas)
        self.mode = check_choice("mode", mode, ("standard", "last"))
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ConfigError(expected("eps", "a positive float", eps))
        self.eps = float(eps)
        self._grid = [float(a) for a in grid]

    def _stats(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """μ and σ of each window, both (N, 1, F)."""
        if self.mode == "last":
            return X[:, -1:, :], np.broadcast_to(self._global_std, (X.shape[0], 1, X.shape[2]))
        loc = X.mean(axis=1, keepdims=True)  # (N, 1, F)
        floor = self.eps * np.maximum(np.abs(X).max(axis=1, keepdims=True), 1e-300)
        return loc, np.maximum(X.std(axis=1, keepdims=True), floor)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        N, L, F = X.shape
        _, H, K = y.shape
        if any(not -F <= i < F for i in self._indices) or len(self._indices) != K:
            raise ConfigError(expected("target", f"{K} feature indices in [-{F}, {F}), one "
                                       "per target in y_train's last axis", self.target))
        self._columns = [i % F for i in self._indices]
        if self.mode == "last":
            std = X.reshape(N * L, F).std(axis=0)  # (F,)
            self._global_std = np.where(std > 0, std, 1.0)[None, None, :]  # (1, 1, F)
        loc, scale = self._stats(X)
        A = ((X - loc) / scale).reshape(N, L * F)  # (N, L*F)
        Y = ((y - loc[:, :, self._columns]) / scale[:, :, self._columns]).reshape(N, H * K)
        a_mean, y_mean = A.mean(axis=0), Y.mean(axis=0)
        A_c, Y_c = A - a_mean, Y - y_mean
        U, s, Vt = np.linalg.svd(A_c, full_matrices=False)  # (N, r), (r,), (r, L*F)
        UtY = U.T @ Y_c  # (r, H*K)
        self.loo_rmse_ = {}
        for alpha in self._grid:
            shrink = s ** 2 / (s ** 2 + alpha) if alpha > 0 else (s > s.max() * 1e-12) * 1.0
            fitted = U @ (shrink[:, None] * UtY)  # (N, H*K)
            hat = (U ** 2) @ shrink + 1.0 / N  # (N,) diagonal of the hat matrix, intercept too
            loo = (Y_c - fitted) / np.maximum(1.0 - hat, 1e-12)[:, None]
            self.loo_rmse_[alpha] = float(np.sqrt(np.mean(loo ** 2)))
        self.alpha_ = min(self.loo_rmse_, key=self.loo_rmse_.__getitem__)
        safe = np.where(s > s.max() * 1e-12, s, np.inf)
        gain = s / (s ** 2 + self.alpha_) if self.alpha_ > 0 else 1.0 / safe  # (r,)
        W = Vt.T @ (gain[:, None] * UtY)  # (L*F, H*K)
        self.coef_ = W.reshape(L, F, H, K)
        self.intercept_ = (y_mean - a_mean @ W).reshape(H, K)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        N, L, F = X.shape
        H, K = self.horizon_, self.n_targets_
        loc, scale = self._stats(X)
        A = ((X - loc) / scale).reshape(N, L * F)  # (N, L*F)
        out = (A @ self.coef_.reshape(L * F, H * K)).reshape(N, H, K) + self.intercept_
        return out * scale[:, :, self._columns] + loc[:, :, self._columns]
