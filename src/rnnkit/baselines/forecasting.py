"""Non-sequential forecasting baselines, evaluated on the same windows as the recurrent model.

A recurrent forecaster earns its keep only if it beats these. Every baseline sees exactly what
the model sees: windows ``X`` of shape (N, L, F) in original units, and forecasts targets
``y`` of shape (N, H, K). Symbols: N windows, L look-back (timesteps per window), F features,
H horizon, K targets; ``x_{t}`` the target feature(s) at window step t = 0 .. L−1 (t = L−1 is
the last observation) and ``ŷ_h`` the forecast h = 1 .. H steps ahead.

======================  ===================================================================
Persistence             ŷ_h = x_{L−1}
SeasonalNaive(m)        ŷ_h = x_{L−m + ((h−1) mod m)}      (the value one season back)
MovingAverage(window)   ŷ_h = (1/window) Σ_{t=L−window}^{L−1} x_t
LinearAR(ridge)         ŷ = W·vec(X) + b, by least squares; ridge λ adds λ‖W‖² (b unpenalized)
MLPBaseline             ŷ = W₂ relu(W₁·vec(X) + b₁) + b₂, full-batch Adam on standardized data
======================  ===================================================================

``vec(X)`` flattens a window to L·F numbers, so LinearAR and MLPBaseline use every feature but
have no notion of time order: a position is just another input column.

All share ``fit(X_train, y_train) -> self`` and ``predict(X) -> ndarray (N, H, K)``; the
horizon H and target count K are learned from ``y_train`` at fit. ``target`` (an index into
the F features, or a list of K indices in the order of ``y``'s last axis) tells the
target-copying baselines which columns of X hold the forecast variable(s).

Example:
    >>> import numpy as np
    >>> series = np.sin(np.arange(200) / 5.0)
    >>> X = np.stack([series[i : i + 20] for i in range(170)])[..., None]   # (170, 20, 1)
    >>> y = np.stack([series[i + 20 : i + 23] for i in range(170)])[..., None]  # (170, 3, 1)
    >>> Persistence().fit(X, y).predict(X).shape
    (170, 3, 1)
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import torch
from torch import nn

from rnnkit._validation import check_positive_int, expected
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.regression import _to_numpy, regression_report

__all__ = [
    "Baseline",
    "LinearAR",
    "MLPBaseline",
    "MovingAverage",
    "Persistence",
    "SeasonalNaive",
    "all_baselines",
    "evaluate_baselines",
]

Target = int | Sequence[int]


def _windows(name: str, value: Any) -> np.ndarray:
    X = _to_numpy(name, value)
    if X.ndim != 3:
        raise ShapeError(
            expected(name, "windows of shape (samples, look_back, features)", X.shape,
                     "add a trailing feature axis for a univariate series: X[..., None]")
        )
    if X.shape[0] == 0 or X.shape[1] == 0 or X.shape[2] == 0:
        raise DataError(expected(name, "at least one window of one step and one feature", X.shape))
    return X


def _check_target(target: Any) -> tuple[int, ...]:
    """``target`` as a tuple of ints (NumPy integers accepted), or a ConfigError."""
    items = [target] if isinstance(target, (int, np.integer)) else target
    try:
        indices = tuple(items)
    except TypeError:
        indices = ()
    if (not indices or any(isinstance(i, bool) or not isinstance(i, (int, np.integer))
                           for i in indices) or len(set(indices)) != len(indices)):
        raise ConfigError(expected("target", "a feature index or a list of distinct indices", target))
    return tuple(int(i) for i in indices)


class Baseline:
    """Base of every baseline: validates shapes at fit and predict, and prints non-defaults.

    Subclasses implement ``_fit(X, y)`` and ``_predict(X) -> (N, H, K)`` on validated float64
    arrays. Fitted attributes: ``look_back_`` (L), ``n_features_`` (F), ``horizon_`` (H),
    ``n_targets_`` (K).
    """

    name: ClassVar[str] = "baseline"

    look_back_: int
    n_features_: int
    horizon_: int
    n_targets_: int

    def fit(self, X_train: Any, y_train: Any) -> Self:
        """Learn from windows ``X_train`` (N, L, F) and targets ``y_train`` (N, H, K)."""
        X = _windows("X_train", X_train)
        y = _to_numpy("y_train", y_train)
        if y.ndim != 3:
            raise ShapeError(
                expected("y_train", "targets of shape (samples, horizon, n_targets)", y.shape,
                         "for one target use y[..., None]")
            )
        if y.shape[0] != X.shape[0]:
            raise ShapeError(
                expected("y_train", f"{X.shape[0]} samples (one per window of X_train)",
                         y.shape[0])
            )
        if y.shape[1] == 0 or y.shape[2] == 0:
            raise DataError(expected("y_train", "a horizon and target count >= 1", y.shape))
        _, self.look_back_, self.n_features_ = X.shape
        _, self.horizon_, self.n_targets_ = y.shape
        self._fit(X, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Forecast each window: ``X`` (N, L, F) -> float64 array (N, H, K)."""
        if not hasattr(self, "horizon_"):
            raise ConfigError(
                expected(f"{type(self).__name__}.predict", "a fitted baseline", "an unfitted one",
                         "call fit(X_train, y_train) first")
            )
        X = _windows("X", X)
        if X.shape[1:] != (self.look_back_, self.n_features_):
            raise ShapeError(
                expected("X", f"windows of shape (samples, {self.look_back_}, "
                         f"{self.n_features_}) as in fit", X.shape)
            )
        return self._predict(X)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Nothing to learn beyond the shapes (the target-copying baselines)."""

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters.values()
        shown = [
            f"{p.name}={getattr(self, p.name)!r}"
            for p in params
            if p.name != "self" and getattr(self, p.name) != p.default
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


class _TargetBaseline(Baseline):
    """A baseline that copies or averages the target column(s) of the window."""

    def __init__(self, target: Target = 0) -> None:
        self.target = target
        self._indices = list(_check_target(target))

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        n_features, n_targets = X.shape[2], y.shape[2]
        if any(not -n_features <= i < n_features for i in self._indices):
            raise ConfigError(
                expected("target", f"feature indices in [-{n_features}, {n_features})",
                         self.target)
            )
        if len(self._indices) != n_targets:
            raise ConfigError(
                expected("target", f"{n_targets} indices, one per target in y_train's last axis",
                         self.target)
            )
        self._columns = [i % n_features for i in self._indices]  # non-negative column numbers
        if len(set(self._columns)) != len(self._columns):
            raise ConfigError(expected("target", "indices of distinct features", self.target))

    def _repeat(self, level: np.ndarray) -> np.ndarray:
        """(N, K) -> (N, H, K): the same forecast for every step of the horizon."""
        return np.repeat(level[:, None, :], self.horizon_, axis=1)


class Persistence(_TargetBaseline):
    """The naive forecast: the last observed value, ``ŷ_h = x_{L−1}`` for every h."""

    name: ClassVar[str] = "persistence"

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._repeat(X[:, -1, self._columns])  # (N, K) -> (N, H, K)


class SeasonalNaive(_TargetBaseline):
    """The seasonal naive forecast: the value one season back,
    ``ŷ_h = x_{L−m + ((h−1) mod m)}`` (h = 1 .. H; beyond m steps the last season repeats).

    Args:
        m: the season length in steps (m = 1 is :class:`Persistence`); needs look_back >= m.
        target: the feature index (or indices) of the forecast variable(s) in X.
    """

    name: ClassVar[str] = "seasonal_naive"

    def __init__(self, m: int, target: Target = 0) -> None:
        super().__init__(target)
        self.m = check_positive_int("m", m)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        super()._fit(X, y)
        if X.shape[1] < self.m:
            raise ConfigError(
                expected("m", f"a season no longer than the look-back of {X.shape[1]} steps",
                         self.m, f"build windows with look_back >= {self.m}, or lower m")
            )

    def _predict(self, X: np.ndarray) -> np.ndarray:
        L = X.shape[1]
        steps = L - self.m + np.arange(self.horizon_) % self.m  # (H,) window positions
        return X[:, steps][:, :, self._columns]  # (N, H, F) -> (N, H, K)


class MovingAverage(_TargetBaseline):
    """The mean of the last ``window`` observations, ``ŷ_h = (1/w) Σ_{t=L−w}^{L−1} x_t``.

    Args:
        window: how many trailing steps to average (w); needs look_back >= window.
        target: the feature index (or indices) of the forecast variable(s) in X.
    """

    name: ClassVar[str] = "moving_average"

    def __init__(self, window: int, target: Target = 0) -> None:
        super().__init__(target)
        self.window = check_positive_int("window", window)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        super()._fit(X, y)
        if X.shape[1] < self.window:
            raise ConfigError(
                expected("window", f"at most the look-back of {X.shape[1]} steps", self.window)
            )

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._repeat(X[:, -self.window :, self._columns].mean(axis=1))  # (N, K)


class LinearAR(Baseline):
    """A linear autoregression on the flattened window, solved by least squares.

    ``ŷ = vec(X) W + b`` with ``vec(X)`` of length L·F and W of shape (L·F, H·K), fitting all
    horizons and targets at once. It minimises ``‖Y − vec(X) W − b‖² + λ‖W‖²`` (λ = ``ridge``;
    the intercept is never penalized): the data are centred, which removes b, and the ridge
    term enters as √λ·I rows appended to the design, solved with ``numpy.linalg.lstsq``.
    The penalty acts on coefficients in original units, so scale features before a large λ.

    Attributes:
        coef_: (L, F, H, K); ``coef_[t, f, h, k]`` weighs feature f at window step t for the
            forecast of target k, h+1 steps ahead.
        intercept_: (H, K).
    """

    name: ClassVar[str] = "linear_ar"

    coef_: np.ndarray
    intercept_: np.ndarray

    def __init__(self, ridge: float = 0.0, fit_intercept: bool = True) -> None:
        if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or not ridge >= 0:
            raise ConfigError(expected("ridge", "a penalty >= 0", ridge))
        self.ridge = float(ridge)
        self.fit_intercept = bool(fit_intercept)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        N, L, F = X.shape
        _, H, K = y.shape
        A = X.reshape(N, L * F)  # (N, L*F)
        Y = y.reshape(N, H * K)  # (N, H*K)
        a_mean = A.mean(axis=0) if self.fit_intercept else np.zeros(L * F)
        y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(H * K)
        A_c, Y_c = A - a_mean, Y - y_mean
        if self.ridge > 0:
            A_c = np.vstack([A_c, np.sqrt(self.ridge) * np.eye(L * F)])  # (N + L*F, L*F)
            Y_c = np.vstack([Y_c, np.zeros((L * F, H * K))])
        W, *_ = np.linalg.lstsq(A_c, Y_c, rcond=None)  # (L*F, H*K)
        self.coef_ = W.reshape(L, F, H, K)
        self.intercept_ = (y_mean - a_mean @ W).reshape(H, K)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        N, L, F = X.shape
        W = self.coef_.reshape(L * F, self.horizon_ * self.n_targets_)
        out = X.reshape(N, L * F) @ W  # (N, H*K)
        return out.reshape(N, self.horizon_, self.n_targets_) + self.intercept_


class MLPBaseline(Baseline):
    """A small multilayer perceptron on the flattened window: no recurrence, no time order.

    ``ŷ = W₂ relu(W₁ vec(X̃) + b₁) + b₂`` on inputs and targets standardized per column with
    the training mean and standard deviation (and mapped back to original units). Trained
    full-batch with Adam on the mean squared error for ``epochs`` steps, in float32 on the
    CPU with one intra-op thread (restored afterwards); 300 epochs on 800 windows of 20 steps
    take about 0.25 s.

    Reproducible: the initial weights come from ``seed`` (the global torch RNG is left as it
    was), so the same seed and data give the same predictions.

    Attributes:
        model_: the fitted ``torch.nn.Sequential``.
        train_loss_: the final standardized training MSE.
    """

    name: ClassVar[str] = "mlp"

    model_: nn.Sequential
    train_loss_: float

    def __init__(
        self,
        hidden_size: int = 64,
        epochs: int = 300,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.epochs = check_positive_int("epochs", epochs)
        for arg, value in (("lr", lr), ("weight_decay", weight_decay)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(expected(arg, "a number >= 0", value))
        if lr == 0:
            raise ConfigError(expected("lr", "a learning rate > 0", lr))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(expected("seed", "an integer", seed))
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        N, L, F = X.shape
        _, H, K = y.shape
        A = X.reshape(N, L * F)  # (N, L*F)
        Y = y.reshape(N, H * K)  # (N, H*K)
        self._a_mean, self._a_std = A.mean(axis=0), _safe_std(A)
        self._y_mean, self._y_std = Y.mean(axis=0), _safe_std(Y)
        inputs = torch.as_tensor((A - self._a_mean) / self._a_std, dtype=torch.float32)
        targets = torch.as_tensor((Y - self._y_mean) / self._y_std, dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model_ = nn.Sequential(
                nn.Linear(L * F, self.hidden_size), nn.ReLU(), nn.Linear(self.hidden_size, H * K)
            )
        optimizer = torch.optim.Adam(
            self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        loss = torch.zeros(())
        # One intra-op thread: these matrices are tiny, and on a busy machine OpenMP threads
        # spinning for a core turn 0.2 s of training into several seconds.
        n_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for _ in range(self.epochs):
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(self.model_(inputs), targets)
                loss.backward()
                optimizer.step()
        finally:
            torch.set_num_threads(n_threads)
        self.train_loss_ = float(loss.detach())

    def _predict(self, X: np.ndarray) -> np.ndarray:
        N, L, F = X.shape
        inputs = torch.as_tensor((X.reshape(N, L * F) - self._a_mean) / self._a_std,
                                 dtype=torch.float32)
        with torch.no_grad():
            out = self.model_(inputs).double().numpy()  # (N, H*K), standardized
        out = out * self._y_std + self._y_mean
        return out.reshape(N, self.horizon_, self.n_targets_)


def _safe_std(a: np.ndarray) -> np.ndarray:
    """Column standard deviations, with 1 for constant columns (nothing to rescale)."""
    std = a.std(axis=0)
    return np.where(std > 0, std, 1.0)


def all_baselines(
    m: int, *, target: Target = 0, window: int | None = None, seed: int = 0
) -> dict[str, Baseline]:
    """One unfitted instance of each baseline, keyed by its ``name``.

    Args:
        m: the season length for :class:`SeasonalNaive` (1 when there is no season).
        target: the target feature index (or indices) in X, for the target-copying baselines.
        window: the :class:`MovingAverage` window; defaults to ``m`` (one season).
        seed: the :class:`MLPBaseline` seed.
    """
    baselines: list[Baseline] = [
        Persistence(target),
        SeasonalNaive(m, target),
        MovingAverage(m if window is None else window, target),
        LinearAR(),
        MLPBaseline(seed=seed),
    ]
    return {b.name: b for b in baselines}


def evaluate_baselines(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    m: int,
    *,
    target: Target = 0,
    series_train: Any | None = None,
    baselines: dict[str, Baseline] | None = None,
) -> dict[str, dict[str, float]]:
    """Fit every baseline on the training windows and score it on the test windows.

    Args:
        X_train, y_train: (N, L, F) and (N, H, K) training windows and targets, original units.
        X_test, y_test: the test windows, exactly those the model is scored on.
        m: the season length (SeasonalNaive, and the MASE scale).
        target: the target feature index (or indices) in X.
        series_train: the contiguous training series of the target(s), (T,) or (T, K). When
            given, each report includes ``mase`` scaled by its seasonal-naive MAE; windows
            alone do not determine that series (their stride is unknown), so without it MASE
            is left out.
        baselines: the baselines to run; defaults to :func:`all_baselines` ``(m, target=target)``.

    Returns:
        ``{name: regression_report(y_test, prediction, series_train, m)}``.
    """
    chosen = all_baselines(m, target=target) if baselines is None else baselines
    y_true = _to_numpy("y_test", y_test)
    results: dict[str, dict[str, float]] = {}
    for name, baseline in chosen.items():
        prediction = baseline.fit(X_train, y_train).predict(X_test)
        if prediction.shape != y_true.shape:
            raise ShapeError(
                expected("y_test", f"shape {prediction.shape} (the forecasts of X_test)",
                         y_true.shape)
            )
        results[name] = regression_report(y_true, prediction, y_train=series_train, m=m)
    return results
