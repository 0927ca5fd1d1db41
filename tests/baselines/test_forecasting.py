"""Forecasting baselines: exact values, AR coefficient recovery, seeded MLP, input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.baselines.forecasting import (
    LinearAR,
    MLPBaseline,
    MovingAverage,
    Persistence,
    SeasonalNaive,
    all_baselines,
    evaluate_baselines,
)
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics import mse


def make_windows(series: np.ndarray, look_back: int, horizon: int,
                 target: int | list[int] = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stride-1 windows: X (N, look_back, F) and y (N, horizon, K) of the target column(s)."""
    if series.ndim == 1:
        series = series[:, None]  # (T,) -> (T, 1)
    cols = [target] if isinstance(target, int) else target
    n = len(series) - look_back - horizon + 1
    X = np.stack([series[i : i + look_back] for i in range(n)])  # (N, L, F)
    y = np.stack([series[i + look_back : i + look_back + horizon, cols] for i in range(n)])
    return X, y  # y: (N, H, K)


@pytest.fixture
def toy() -> tuple[np.ndarray, np.ndarray]:
    # two features; the target (feature 1) counts 0, 1, 2, ... so every forecast is readable
    t = np.arange(30.0)
    series = np.stack([np.sin(t), t], axis=1)  # (30, 2)
    return make_windows(series, look_back=6, horizon=3, target=1)


def test_persistence_repeats_the_last_value(toy) -> None:
    X, y = toy
    pred = Persistence(target=1).fit(X, y).predict(X)
    assert pred.shape == y.shape == (22, 3, 1)
    np.testing.assert_array_equal(pred[:, :, 0], np.repeat(X[:, -1, 1:2], 3, axis=1))
    np.testing.assert_array_equal(pred[0, :, 0], [5.0, 5.0, 5.0])  # window 0..5


def test_seasonal_naive_takes_the_value_one_season_back(toy) -> None:
    X, y = toy
    # window of the first sample is 0..5; m=2: h=1 -> x[4], h=2 -> x[5], h=3 -> x[4]
    pred = SeasonalNaive(2, target=1).fit(X, y).predict(X)
    np.testing.assert_array_equal(pred[0, :, 0], [4.0, 5.0, 4.0])
    # m=4: h=1..3 -> x[2], x[3], x[4]
    np.testing.assert_array_equal(SeasonalNaive(4, target=1).fit(X, y).predict(X)[0, :, 0],
                                  [2.0, 3.0, 4.0])
    # m=1 is persistence
    np.testing.assert_array_equal(SeasonalNaive(1, target=1).fit(X, y).predict(X),
                                  Persistence(target=1).fit(X, y).predict(X))


def test_seasonal_naive_is_exact_on_a_periodic_series() -> None:
    period = 7
    series = np.tile(np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]), 10)
    X, y = make_windows(series, look_back=10, horizon=9)
    np.testing.assert_array_equal(SeasonalNaive(period).fit(X, y).predict(X), y)


def test_moving_average_and_several_targets() -> None:
    t = np.arange(30.0)
    series = np.stack([np.sin(t), t], axis=1)
    X, y = make_windows(series, look_back=6, horizon=2, target=[1, 0])
    pred = MovingAverage(3, target=[1, 0]).fit(X, y).predict(X)
    assert pred.shape == (23, 2, 2)
    np.testing.assert_allclose(pred[0, 0], [(3 + 4 + 5) / 3, np.sin([3, 4, 5]).mean()])


def test_linear_ar_recovers_ar2_coefficients_exactly() -> None:
    # x_t = a1 x_{t−1} + a2 x_{t−2} with a1 = 2 cos ω, a2 = −1: a noiseless sinusoid
    omega = 0.3
    a1, a2 = 2 * np.cos(omega), -1.0
    series = np.sin(omega * np.arange(300) + 0.4) + 0.0
    np.testing.assert_allclose(series[2:], a1 * series[1:-1] + a2 * series[:-2], atol=1e-12)
    X, y = make_windows(series, look_back=2, horizon=2)
    model = LinearAR().fit(X, y)
    assert model.coef_.shape == (2, 1, 2, 1)  # (L, F, H, K)
    # one step ahead: window step L−1 = x_{t−1} weighs a1, step L−2 = x_{t−2} weighs a2
    np.testing.assert_allclose(model.coef_[:, 0, 0, 0], [a2, a1], atol=1e-8)
    # two steps ahead: x_{t+1} = (a1² + a2) x_{t−1} + a1 a2 x_{t−2}
    np.testing.assert_allclose(model.coef_[:, 0, 1, 0], [a1 * a2, a1**2 + a2], atol=1e-8)
    np.testing.assert_allclose(model.intercept_, 0.0, atol=1e-8)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-8)


def test_linear_ar_with_offset_and_no_intercept() -> None:
    omega = 0.5
    series = 10.0 + np.sin(omega * np.arange(200))  # x_t − 10 is AR(2)
    X, y = make_windows(series, look_back=2, horizon=1)
    model = LinearAR().fit(X, y)
    c = 10.0 * (1 - 2 * np.cos(omega) + 1)  # intercept = μ (1 − a1 − a2)
    np.testing.assert_allclose(model.intercept_[0, 0], c, atol=1e-8)
    no_b = LinearAR(fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(no_b.intercept_, 0.0)


def test_linear_ar_ridge_matches_closed_form_and_shrinks() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4, 2))
    y = rng.normal(size=(100, 3, 1))
    lam = 5.0
    model = LinearAR(ridge=lam).fit(X, y)
    A = X.reshape(100, 8) - X.reshape(100, 8).mean(axis=0)
    Y = y.reshape(100, 3) - y.reshape(100, 3).mean(axis=0)
    W = np.linalg.solve(A.T @ A + lam * np.eye(8), A.T @ Y)  # (A'A + λI)⁻¹ A'Y
    np.testing.assert_allclose(model.coef_.reshape(8, 3), W, atol=1e-10)
    plain = LinearAR().fit(X, y)
    assert np.linalg.norm(model.coef_) < np.linalg.norm(plain.coef_)
    assert repr(model) == "LinearAR(ridge=5.0)"


def _sine_windows(n_windows: int = 800, look_back: int = 20, horizon: int = 2):
    rng = np.random.default_rng(0)
    t = np.arange(n_windows + look_back + horizon - 1)
    series = np.sin(t / 3.0) * 5 + 20 + 0.05 * rng.normal(size=len(t))
    return make_windows(series, look_back, horizon)


def test_mlp_is_seeded_and_leaves_the_global_rng_alone() -> None:
    X, y = _sine_windows(200)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = MLPBaseline(epochs=50, seed=3).fit(X, y).predict(X)
    assert torch.equal(torch.rand(1), before)  # fit drew nothing from the global generator
    again = MLPBaseline(epochs=50, seed=3).fit(X, y).predict(X)
    other = MLPBaseline(epochs=50, seed=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_mlp_learns_in_original_units() -> None:
    X, y = _sine_windows(800, look_back=20)
    threads = torch.get_num_threads()
    model = MLPBaseline().fit(X, y)
    pred = model.predict(X)
    assert pred.shape == y.shape
    assert mse(y, pred) < 0.1 * mse(y, np.full_like(y, y.mean()))
    assert torch.get_num_threads() == threads  # the thread setting is restored


def test_all_baselines_and_evaluate() -> None:
    X, y = _sine_windows(300, look_back=20, horizon=2)
    baselines = all_baselines(m=19)
    assert list(baselines) == ["persistence", "seasonal_naive", "moving_average", "linear_ar",
                               "mlp"]
    results = evaluate_baselines(X[:200], y[:200], X[200:], y[200:], m=19,
                                 baselines={k: baselines[k] for k in ["persistence", "linear_ar"]})
    assert set(results) == {"persistence", "linear_ar"}
    assert "mase" not in results["persistence"]
    assert results["linear_ar"]["mse"] < results["persistence"]["mse"]
    series = np.sin(np.arange(230) / 3.0) * 5 + 20
    with_mase = evaluate_baselines(X[:200], y[:200], X[200:], y[200:], m=19,
                                   series_train=series,
                                   baselines={"persistence": Persistence()})
    assert with_mase["persistence"]["mase"] > 0


def test_bad_inputs() -> None:
    X, y = _sine_windows(50, look_back=5, horizon=1)
    with pytest.raises(ConfigError, match="m: expected a season no longer than the look-back"):
        SeasonalNaive(6).fit(X, y)
    with pytest.raises(ConfigError, match="window"):
        MovingAverage(9).fit(X, y)
    with pytest.raises(ConfigError, match="m: expected an integer >= 1"):
        SeasonalNaive(0)
    with pytest.raises(ShapeError, match=r"X_train: expected windows of shape"):
        Persistence().fit(X[..., 0], y)
    with pytest.raises(ShapeError, match="y_train: expected targets of shape"):
        Persistence().fit(X, y[..., 0])
    with pytest.raises(ShapeError, match="y_train: expected 50 samples"):
        Persistence().fit(X, y[:-1])
    with pytest.raises(ConfigError, match="target: expected feature indices"):
        Persistence(target=3).fit(X, y)
    with pytest.raises(ConfigError, match="target: expected 1 indices"):
        Persistence(target=[0, 1]).fit(np.concatenate([X, X], axis=2), y)
    with pytest.raises(ConfigError, match="target: expected indices of distinct features"):
        Persistence(target=[0, -1]).fit(X, np.concatenate([y, y], axis=2))
    with pytest.raises(ConfigError, match="target: expected a feature index"):
        Persistence(target="0")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="call fit"):
        LinearAR().predict(X)
    with pytest.raises(ShapeError, match=r"X: expected windows of shape \(samples, 5, 1\)"):
        LinearAR().fit(X, y).predict(X[:, 1:])
    with pytest.raises(ConfigError, match="ridge"):
        LinearAR(ridge=-1.0)
    with pytest.raises(ConfigError, match="lr"):
        MLPBaseline(lr=0.0)
    with pytest.raises(DataError, match="finite"):
        LinearAR().fit(np.where(X > 20, np.nan, X), y)
