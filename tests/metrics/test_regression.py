"""Regression metrics against scikit-learn and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics import mae, mape, mase, mse, r2, regression_report, rmse, smape


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y_true = rng.normal(5.0, 2.0, size=200)
    y_pred = y_true + rng.normal(0.0, 0.7, size=200)
    return y_true, y_pred


def test_matches_sklearn_1d(pair: tuple[np.ndarray, np.ndarray]) -> None:
    t, p = pair
    assert mse(t, p) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-12)
    assert rmse(t, p) == pytest.approx(math.sqrt(skm.mean_squared_error(t, p)), rel=1e-12)
    assert mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12)
    assert r2(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-12)
    assert mape(t, p) == pytest.approx(skm.mean_absolute_percentage_error(t, p), rel=1e-12)


def test_pools_over_every_element_of_a_forecast() -> None:
    rng = np.random.default_rng(1)
    t = rng.normal(size=(30, 4, 2))  # (samples, horizon, n_targets)
    p = rng.normal(size=(30, 4, 2))
    flat_t, flat_p = t.ravel(), p.ravel()
    assert mse(t, p) == pytest.approx(skm.mean_squared_error(flat_t, flat_p), rel=1e-12)
    assert mae(t, p) == pytest.approx(skm.mean_absolute_error(flat_t, flat_p), rel=1e-12)
    assert r2(t, p) == pytest.approx(skm.r2_score(flat_t, flat_p), rel=1e-12)


def test_hand_computed_values() -> None:
    t = np.array([1.0, 2.0, 4.0])
    p = np.array([2.0, 2.0, 2.0])
    assert mse(t, p) == pytest.approx((1 + 0 + 4) / 3)
    assert mae(t, p) == pytest.approx((1 + 0 + 2) / 3)
    # mean 7/3, SS_tot = 16/9 + 1/9 + 25/9 = 42/9, SS_res = 5
    assert r2(t, p) == pytest.approx(1 - 5 / (42 / 9))
    assert mape(t, p) == pytest.approx((1 / 1 + 0 / 2 + 2 / 4) / 3)
    assert smape(t, p) == pytest.approx((2 * 1 / 3 + 0 + 2 * 2 / 6) / 3)


def test_accepts_tensors_and_lists(pair: tuple[np.ndarray, np.ndarray]) -> None:
    t, p = pair
    assert mse(torch.from_numpy(t), torch.from_numpy(p).requires_grad_()) == pytest.approx(mse(t, p))
    assert mae(list(t), list(p)) == pytest.approx(mae(t, p))


def test_r2_of_constant_target_follows_sklearn() -> None:
    t = np.full(5, 3.0)
    assert r2(t, t) == 1.0 == skm.r2_score(t, t)
    assert r2(t, t + 1.0) == 0.0 == skm.r2_score(t, t + 1.0)


def test_mape_zero_policy() -> None:
    t = np.array([0.0, 2.0, 4.0])
    p = np.array([1.0, 1.0, 5.0])
    assert mape(t, p) == pytest.approx((1 / 2 + 1 / 4) / 2)  # the zero target is left out
    with pytest.raises(DataError, match="zeros"):
        mape(t, p, zeros="raise")
    with pytest.raises(DataError, match="non-zero"):
        mape(np.zeros(3), p)
    with pytest.raises(ConfigError, match="zeros"):
        mape(t, p, zeros="clip")  # type: ignore[arg-type]


def test_smape_both_zero_is_perfect_and_bounded() -> None:
    assert smape(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    assert smape(np.array([1.0, -1.0]), np.array([-1.0, 1.0])) == pytest.approx(2.0)


def test_mase_hand_computed() -> None:
    y_train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # m=1 naive errors |3-1|,|2-3|,|5-2|,|4-5| -> mean 7/4
    assert mase([5.0, 6.0], [4.0, 8.0], y_train) == pytest.approx(((1 + 2) / 2) / (7 / 4))
    # m=2 seasonal errors |2-1|,|5-3|,|4-2| -> mean 5/3
    assert mase([5.0, 6.0], [4.0, 8.0], y_train, m=2) == pytest.approx(1.5 / (5 / 3))


def test_mase_one_scale_per_target() -> None:
    y_train = np.array([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0]])  # scales 1 and 10
    t = np.zeros((3, 2, 2))  # (samples, horizon, n_targets)
    p = np.ones((3, 2, 2))
    assert mase(t, p, y_train) == pytest.approx((1 / 1 + 1 / 10) / 2)
    with pytest.raises(ShapeError, match="last axis"):
        mase(np.zeros((3, 3)), np.ones((3, 3)), y_train)


def test_mase_errors() -> None:
    with pytest.raises(DataError, match="seasonal-naive error is 0"):
        mase([1.0], [2.0], np.ones(10))
    with pytest.raises(DataError, match="more than m=3"):
        mase([1.0], [2.0], np.arange(3.0), m=3)
    with pytest.raises(ConfigError, match="m: expected"):
        mase([1.0], [2.0], np.arange(5.0), m=0)


def test_report_has_every_metric(pair: tuple[np.ndarray, np.ndarray]) -> None:
    t, p = pair
    report = regression_report(t, p)
    assert set(report) == {"mse", "rmse", "mae", "r2", "mape", "smape"}
    assert all(isinstance(v, float) for v in report.values())
    assert report["rmse"] == pytest.approx(rmse(t, p))
    with_mase = regression_report(t, p, y_train=t, m=2)
    assert with_mase["mase"] == pytest.approx(mase(t, p, t, m=2))
    assert math.isnan(regression_report(np.zeros(3), np.ones(3))["mape"])


def test_bad_inputs_name_the_argument() -> None:
    with pytest.raises(ShapeError, match=r"y_pred: expected shape \(3,\)"):
        mse(np.zeros(3), np.zeros(4))
    with pytest.raises(DataError, match="y_true: expected at least one value"):
        mae(np.zeros(0), np.zeros(0))
    with pytest.raises(DataError, match="y_pred: expected finite values"):
        rmse(np.zeros(2), np.array([1.0, np.nan]))
    with pytest.raises(DataError, match="y_true: expected an array-like"):
        mse(["a", "b"], [1.0, 2.0])
