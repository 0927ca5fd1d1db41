"""Long-range problems: the data generators' contracts (shapes, markers, seeds, baselines)."""

import math

import pytest
import torch

from rnnkit.datasets.long_range import (
    adding_baseline_mse,
    adding_problem,
    copy_baseline_loss,
    copy_task,
)


def test_adding_problem_contract():
    X, y = adding_problem(500, 30, seed=0)
    assert X.shape == (500, 30, 2) and y.shape == (500, 1)
    values, markers = X[..., 0], X[..., 1]
    assert bool(((values >= 0) & (values < 1)).all())
    assert torch.equal(markers.sum(1), torch.full((500,), 2.0))
    assert torch.equal(markers[:, :15].sum(1), torch.ones(500))  # one in each half
    torch.testing.assert_close(y[:, 0], (values * markers).sum(1))
    X2, y2 = adding_problem(500, 30, seed=0)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(adding_problem(500, 30, seed=1)[0], X)


def test_adding_baseline_is_one_sixth():
    _, y = adding_problem(20_000, 10, seed=0)
    assert adding_baseline_mse(y) == pytest.approx(1 / 6, abs=0.01)


def test_copy_task_contract():
    X, y = copy_task(50, delay=7, num_symbols=5, copy_len=4, seed=0)
    T = 7 + 2 * 4
    assert X.shape == y.shape == (50, T) and X.dtype == torch.long
    symbols = X[:, :4]
    assert bool(((symbols >= 1) & (symbols <= 5)).all())
    assert torch.equal(X[:, 4 + 7], torch.full((50,), 6))  # the delimiter, K + 1
    assert bool((X[:, 4 : 4 + 7] == 0).all()) and bool((X[:, 4 + 7 + 1 :] == 0).all())
    assert torch.equal(y[:, -4:], symbols)
    assert bool((y[:, :-4] == 0).all())
    assert copy_baseline_loss(7, num_symbols=5, copy_len=4) == pytest.approx(4 * math.log(5) / T)
