"""The ridge AR on window-normalized inputs: affine equivariance, the leave-one-out choice of
the penalty, agreement with the plain linear AR on normalized data, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.baselines.forecasting import LinearAR
from rnnkit.baselines.window_ar import WindowLinearAR
from rnnkit.errors import ConfigError, ShapeError


def windows(n: int = 200, look_back: int = 12, horizon: int = 2, seed: int = 0):
    """A sine whose level and amplitude drift, cut into (N, L, 1) windows and (N, H, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + look_back + horizon)
    s = np.sin(t / 4.0) * np.linspace(1, 3, t.size) + 0.02 * t + 0.05 * rng.normal(size=t.size)
    X = np.stack([s[i:i + look_back] for i in range(n)])[..., None]
    y = np.stack([s[i + look_back:i + look_back + horizon] for i in range(n)])[..., None]
    return X, y


def test_forecast_follows_an_affine_change_of_the_window() -> None:
    X, y = windows()
    model = WindowLinearAR().fit(X[:150], y[:150])
    base = model.predict(X[150:])
    for scale, shift in ((3.0, 7.0), (0.01, -250.0), (1.0, 1e4)):
        moved = model.predict(scale * X[150:] + shift)
        np.testing.assert_allclose(moved, scale * base + shift, rtol=1e-9, atol=1e-9 * abs(shift))
    # two features: each one's change moves only the forecasts of its own target
    X2 = np.concatenate([X, np.cos(X)], axis=-1)
    y2 = np.concatenate([y, np.cos(y)], axis=-1)
    both = WindowLinearAR(target=[0, 1]).fit(X2[:150], y2[:150])
    ref = both.predict(X2[150:])
    moved = both.predict(X2[150:] * np.array([2.0, 5.0]) + np.array([-1.0, 3.0]))
    np.testing.assert_allclose(moved, ref * np.array([2.0, 5.0]) + np.array([-1.0, 3.0]),
                               rtol=1e-9, atol=1e-9)


def test_unpenalized_equals_least_squares_on_normalized_windows() -> None:
    X, y = windows()
    loc, scale = X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)  # (N, 1, 1)
    plain = LinearAR().fit((X[:150] - loc[:150]) / scale[:150],
                           (y[:150] - loc[:150]) / scale[:150])
    expected = plain.predict((X[150:] - loc[150:]) / scale[150:]) * scale[150:] + loc[150:]
    ours = WindowLinearAR(alphas=0.0).fit(X[:150], y[:150]).predict(X[150:])
    np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-10)


def test_leave_one_out_error_is_exact_and_picks_the_smallest() -> None:
    X, y = windows(n=25)
    alpha = 0.5
    model = WindowLinearAR(alphas=alpha).fit(X, y)
    errors = []
    for i in range(25):
        keep = np.arange(25) != i
        left_out = WindowLinearAR(alphas=alpha).fit(X[keep], y[keep]).predict(X[i:i + 1])
        errors.append((left_out - y[i:i + 1]) / X[i:i + 1].std(axis=1, keepdims=True))
    assert model.loo_rmse_[alpha] == pytest.approx(float(np.sqrt(np.mean(np.square(errors)))),
                                                   rel=1e-9)
    grid = WindowLinearAR(alphas=(1e-3, 0.5, 50.0)).fit(X, y)
    assert grid.alpha_ == min(grid.loo_rmse_, key=grid.loo_rmse_.get)
    assert set(grid.loo_rmse_) == {1e-3, 0.5, 50.0}


def test_last_mode_subtracts_the_last_value_and_a_flat_window_is_finite() -> None:
    X, y = windows()
    last = WindowLinearAR(mode="last").fit(X[:150], y[:150])
    base = last.predict(X[150:])
    np.testing.assert_allclose(last.predict(X[150:] + 5.0), base + 5.0, rtol=1e-10)
    flat = np.full((1, X.shape[1], 1), 2.5)
    assert np.isfinite(WindowLinearAR().fit(X, y).predict(flat)).all()
    assert repr(last) == "WindowLinearAR(mode='last')"


def test_errors_name_the_argument() -> None:
    with pytest.raises(ConfigError, match="alphas: expected a ridge penalty >= 0"):
        WindowLinearAR(alphas=-1.0)
    with pytest.raises(ConfigError, match="alphas: expected"):
        WindowLinearAR(alphas=())
    with pytest.raises(ConfigError, match="mode: expected"):
        WindowLinearAR(mode="robust")
    with pytest.raises(ConfigError, match="eps: expected a positive float"):
        WindowLinearAR(eps=0.0)
    X, y = windows()
    with pytest.raises(ConfigError, match="target: expected 1 feature indices"):
        WindowLinearAR(target=[0, 1]).fit(X, y)
    with pytest.raises(ShapeError, match="X: expected windows of shape"):
        WindowLinearAR().fit(X, y).predict(X[:, :5])
