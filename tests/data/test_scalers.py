"""Scalers: exact statistics, round trips, constant features, JSON state; window normalization."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnkit.data import (
    IdentityScaler,
    MinMaxScaler,
    RobustScaler,
    Scaler,
    StandardScaler,
    WindowNormalizer,
    denormalize,
    make_scaler,
    normalize,
    scaler_names,
    window_stats,
)
from rnnkit.errors import ConfigError, DataError, ShapeError

ALL = ["minmax", "standard", "robust", "none"]


def _data() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.normal(5.0, 2.0, 200), rng.uniform(-1.0, 3.0, 200),
                            np.linspace(100.0, 0.0, 200)])  # (200, 3); the last one trends down


# -- global scalers -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_round_trip_on_tables_and_windows(name: str) -> None:
    data = _data()
    scaler = make_scaler(name).fit(data[:150])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(data)), data,
                               rtol=0, atol=1e-12)
    windows = data[:120].reshape(10, 12, 3)  # (N, L, F): the last axis is the features
    np.testing.assert_allclose(scaler.transform(windows).reshape(120, 3),
                               scaler.transform(data[:120]), rtol=0, atol=0)


def test_statistics_are_those_of_the_training_slice_only() -> None:
    data = _data()
    train = data[:150]
    minmax = MinMaxScaler().fit(train)
    np.testing.assert_array_equal(minmax.data_min_, train.min(axis=0))
    np.testing.assert_array_equal(minmax.data_max_, train.max(axis=0))
    standard = StandardScaler().fit(train)
    np.testing.assert_array_equal(standard.mean_, train.mean(axis=0))
    np.testing.assert_array_equal(standard.std_, train.std(axis=0))
    robust = RobustScaler().fit(train)
    np.testing.assert_array_equal(robust.median_, np.median(train, axis=0))
    q25, q75 = np.percentile(train, [25, 75], axis=0)
    np.testing.assert_array_equal(robust.iqr_, q75 - q25)
    # the downward trend continues after the training rows: the test part leaves [0, 1]
    assert minmax.transform(data[150:])[:, 2].min() < 0.0


def test_exact_transforms() -> None:
    train = np.array([[0.0, 1.0], [10.0, 3.0], [5.0, 2.0]])
    np.testing.assert_allclose(MinMaxScaler().fit(train).transform(train),
                               [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(MinMaxScaler((-1.0, 1.0)).fit(train).transform([[2.5, 2.5]]),
                               [[-0.5, 0.5]])
    z = StandardScaler().fit(train).transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(z.std(axis=0), 1.0)
    np.testing.assert_allclose(RobustScaler().fit(train).transform([[5.0, 2.0]]), [[0.0, 0.0]])
    np.testing.assert_array_equal(IdentityScaler().fit(train).transform(train), train)


def test_fit_accepts_a_1d_series() -> None:
    scaler = MinMaxScaler().fit(np.array([2.0, 4.0]))
    assert scaler.n_features == 1
    np.testing.assert_allclose(scaler.transform(np.array([[3.0]])), [[0.5]])


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("level", [0.0, 0.1, 1e6])
def test_constant_feature_stays_finite(name: str, level: float) -> None:
    data = np.column_stack([np.full(50, level), np.arange(50.0)])
    scaler = make_scaler(name).fit(data)
    z = scaler.transform(data)
    assert np.isfinite(z).all()
    expected_constant = {"minmax": 0.0, "standard": 0.0, "robust": 0.0, "none": level}[name]
    np.testing.assert_allclose(z[:, 0], expected_constant, atol=1e-9)
    np.testing.assert_allclose(scaler.inverse_transform(z), data, rtol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_inverse_of_targets_only(name: str) -> None:
    data = _data()
    scaler = make_scaler(name).fit(data)
    z = scaler.transform(data)
    y = z[:, [2, 0]].reshape(20, 10, 2)  # (N, H, n_targets) in scaled units
    back = scaler.inverse_transform_targets(y, target_idx=[2, 0])
    np.testing.assert_allclose(back.reshape(200, 2), data[:, [2, 0]], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaler.transform_targets(data[:, [1]], [1]), z[:, [1]])


@pytest.mark.parametrize("name", ALL)
def test_state_round_trips_through_json(name: str) -> None:
    data = _data()
    scaler = make_scaler(name).fit(data[:100])
    text = json.dumps(scaler.to_dict())
    restored = Scaler.from_dict(json.loads(text))
    assert type(restored) is type(scaler)
    np.testing.assert_array_equal(restored.transform(data), scaler.transform(data))
    unfitted = type(scaler).from_dict(json.loads(json.dumps(make_scaler(name).to_dict())))
    assert not unfitted.is_fitted


def test_params_survive_serialization_and_repr_shows_non_defaults() -> None:
    scaler = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(np.arange(5.0))
    restored = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert restored.feature_range == (-1.0, 1.0)  # type: ignore[attr-defined]
    assert repr(scaler) == "MinMaxScaler(feature_range=[-1.0, 1.0])"
    assert repr(StandardScaler()) == "StandardScaler()"


def test_make_scaler_names_and_copies() -> None:
    assert scaler_names() == ["minmax", "none", "robust", "standard"]
    with pytest.raises(ConfigError, match=r"^scaler: expected one of \['minmax', 'none', 'robust', "
                                          r"'standard'\], got 'zscore'$"):
        make_scaler("zscore")
    fitted = RobustScaler(quantile_range=(10.0, 90.0)).fit(_data())
    clone = make_scaler(fitted)
    assert isinstance(clone, RobustScaler) and not clone.is_fitted
    assert clone.quantile_range == (10.0, 90.0) and fitted.is_fitted


def test_errors() -> None:
    with pytest.raises(ConfigError, match=r"^MinMaxScaler: expected a fitted scaler, got an "
                                          r"unfitted one\. call fit\(train_data\) first$"):
        MinMaxScaler().transform(np.zeros((2, 1)))
    scaler = StandardScaler().fit(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"data: expected last dimension 3 \(features seen in "
                                         r"fit\), got shape \(4, 2\)"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(ShapeError, match=r"values: expected last dimension 1 "
                                         r"\(len\(target_idx\)\)"):
        scaler.inverse_transform_targets(np.zeros((4, 2)), target_idx=[0])
    with pytest.raises(ConfigError, match=r"target_idx: expected feature positions in \[0, 3\)"):
        scaler.inverse_transform_targets(np.zeros((4, 1)), target_idx=[3])
    with pytest.raises(DataError, match=r"data: expected finite values, got 1 NaN/inf entries"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ConfigError, match=r"feature_range: expected \(low, high\) with low < high"):
        MinMaxScaler(feature_range=(1.0, 0.0))
    with pytest.raises(ConfigError, match=r"state\['name'\]: expected 'minmax', got 'standard'"):
        MinMaxScaler.from_dict(StandardScaler().to_dict())


# -- window (instance) normalization ------------------------------------------------------------


def _windows() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(4, 16, 3, generator=gen, dtype=torch.float64)
    return base * torch.tensor([1.0, 10.0, 0.1], dtype=torch.float64) + torch.tensor(
        [0.0, 100.0, -5.0], dtype=torch.float64)  # (B, L, F) at different levels and scales


def test_standard_mode_normalizes_each_window_by_its_own_statistics() -> None:
    x = _windows()
    norm = WindowNormalizer("standard")
    x_n, stats = norm.normalize(x)
    assert stats.loc.shape == (4, 1, 3) and stats.scale.shape == (4, 1, 3)
    torch.testing.assert_close(x_n.mean(dim=1), torch.zeros(4, 3, dtype=torch.float64))
    torch.testing.assert_close(x_n.std(dim=1, correction=0),
                               torch.ones(4, 3, dtype=torch.float64))
    torch.testing.assert_close(stats.loc[:, 0], x.mean(dim=1))


def test_denormalize_inverts_normalize_for_chosen_targets() -> None:
    x = _windows()
    stats = window_stats(x)
    x_n = normalize(x, stats)
    torch.testing.assert_close(denormalize(x_n, stats), x)  # all features
    y = x_n[:, -5:, [2, 1]]  # (B, H=5, 2): outputs for features 2 and 1
    torch.testing.assert_close(denormalize(y, stats, target_idx=[2, 1]), x[:, -5:, [2, 1]])
    torch.testing.assert_close(denormalize(y[:, 0], stats, target_idx=[2, 1]), x[:, -5, [2, 1]])


def test_last_mode_subtracts_the_last_value() -> None:
    x = _windows()
    x_n, stats = WindowNormalizer("last").normalize(x)
    torch.testing.assert_close(x_n[:, -1], torch.zeros(4, 3, dtype=torch.float64))
    torch.testing.assert_close(x_n, x - x[:, -1:])
    torch.testing.assert_close(WindowNormalizer("last").denormalize(x_n, stats), x)


@pytest.mark.parametrize("level", [0.0, 1.0, 250.0, -1e6])
def test_flat_windows_are_safe(level: float) -> None:
    x = torch.full((2, 8, 1), level, requires_grad=True)  # float32, std exactly 0
    norm = WindowNormalizer("standard", eps=1e-5)
    x_n, stats = norm.normalize(x)
    assert torch.isfinite(x_n).all() and torch.equal(x_n, torch.zeros_like(x_n))
    assert float(stats.scale.detach().min()) == pytest.approx(1e-5 * max(abs(level), 1.0))
    y = norm.denormalize(torch.ones(2, 3, 1), stats)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(norm.denormalize(torch.zeros(2, 3, 1), stats),
                               torch.full((2, 3, 1), level))
    (x_n.sum() + y.sum()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_gradients_match_finite_differences() -> None:
    x = _windows()[:2, :6].clone().requires_grad_(True)  # (2, 6, 3), float64

    def round_trip(inp: torch.Tensor) -> torch.Tensor:
        stats = window_stats(inp)
        return denormalize(normalize(inp, stats)[:, :, [1]] ** 2, stats, target_idx=[1])

    assert torch.autograd.gradcheck(round_trip, (x,))


def test_floor_is_relative_to_the_level() -> None:
    # rounding-size wiggles on a large level are not blown up to unit variance
    x = torch.tensor([[[1e6], [1e6 + 1e-6], [1e6]]], dtype=torch.float64)  # (1, 3, 1)
    stats = window_stats(x, eps=1e-5)
    assert float(stats.scale) == pytest.approx(10.0)
    assert float(normalize(x, stats).abs().max()) < 1e-6


def test_window_errors() -> None:
    with pytest.raises(ShapeError, match=r"x: expected a \(batch, time, features\) tensor with "
                                         r"time >= 1, got \(8, 1\)"):
        window_stats(torch.zeros(8, 1))
    with pytest.raises(ConfigError, match=r"mode: expected one of \['standard', 'last'\], "
                                          r"got 'max'"):
        WindowNormalizer("max")  # type: ignore[arg-type]
    stats = window_stats(torch.zeros(2, 4, 3))
    with pytest.raises(ShapeError, match=r"y: expected shape \(B=2, H, 1\) or \(B=2, 1\), "
                                         r"got \(2, 5, 3\)"):
        denormalize(torch.zeros(2, 5, 3), stats, target_idx=[0])
    with pytest.raises(ConfigError, match=r"target_idx: expected feature positions in \[0, 3\)"):
        denormalize(torch.zeros(2, 5, 1), stats, target_idx=[3])
