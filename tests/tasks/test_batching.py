"""rnnkit.tasks._batching: batches cut to their longest row, evaluation in length order with
the results in the original order, seeded train / validation splits, the evaluation batch
size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks._batching import (
    cut_collate,
    eval_batch_size,
    make_loader,
    run_in_length_order,
    split_validation,
)
from rnnkit.training import TrainerConfig


def _rows(n=6, T=5):
    """x (n, T, 1) holding the row number, y (n, T), lengths 1..n cycling over 1..T."""
    lengths = torch.tensor([1 + i % T for i in range(n)])
    x = torch.arange(n, dtype=torch.float32)[:, None, None].expand(n, T, 1).clone()
    y = torch.arange(n)[:, None].expand(n, T).clone()
    return x, y, lengths


def test_cut_collate_cuts_every_sequence_tensor_to_the_longest_span():
    x, y, lengths = _rows()
    batch = [(x[i], y[i], lengths[i], lengths[i]) for i in (0, 2)]  # lengths 1 and 3
    xb, yb, lb = cut_collate(batch)
    assert xb.shape == (2, 3, 1) and yb.shape == (2, 3) and lb.tolist() == [1, 3]
    span = torch.tensor(4)  # a seq2seq pair may need more steps than its source
    xb, _, _ = cut_collate([(x[0], y[0], lengths[0], span)])
    assert xb.shape == (1, 4, 1)


def test_make_loader_in_order_shuffled_and_bucketed():
    x, y, lengths = _rows(n=10)
    ordered = [lb.tolist() for _, _, lb in make_loader(x, y, lengths, 4, shuffle=False,
                                                        bucket=False, seed=0)]
    assert ordered == [[1, 2, 3, 4], [5, 1, 2, 3], [4, 5]]

    def rows(loader):
        return [xb[:, 0, 0].long().tolist() for xb, _, _ in loader]

    shuffled = rows(make_loader(x, y, lengths, 4, shuffle=True, bucket=False, seed=3))
    assert sorted(i for batch in shuffled for i in batch) == list(range(10))
    assert shuffled != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert rows(make_loader(x, y, lengths, 4, shuffle=True, bucket=False, seed=3)) == shuffled
    for xb, yb, lb in make_loader(x, y, lengths, 2, shuffle=True, bucket=True, seed=0):
        assert xb.shape[1] == int(lb.max()) and yb.shape[1] == int(lb.max())
        assert int(lb.max()) - int(lb.min()) <= 1  # similar lengths batched together


def test_run_in_length_order_returns_rows_in_the_original_order():
    lengths = torch.tensor([3, 1, 5, 2, 4])
    x = torch.arange(5)[:, None].expand(5, 5) * 10 + torch.arange(5)
    seen = []

    def fn(xb, lb):
        seen.append((xb.shape[1], lb.tolist()))
        return xb[:, 0] + lb  # first step + length, one value per row

    out = run_in_length_order(fn, x, lengths, batch_size=2)
    assert seen == [(2, [1, 2]), (4, [3, 4]), (5, [5])]  # sorted, each cut to its longest
    assert [int(v) for v in out] == [0 + 3, 10 + 1, 20 + 5, 30 + 2, 40 + 4]


def test_split_validation_plain_is_seeded_and_disjoint():
    train, val = split_validation(10, 0.3, seed=0)
    assert len(val) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(10))
    assert list(train) == sorted(train) and list(val) == sorted(val)
    again = split_validation(10, 0.3, seed=0)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_validation(10, 0.3, seed=1)[1], val)
    assert len(split_validation(3, 0.01, seed=0)[1]) == 1  # at least one row


def test_split_validation_errors():
    for bad in (0.0, 1.0, 1, True, "0.2"):
        with pytest.raises(ConfigError) as info:
            split_validation(10, bad, seed=0)
        assert str(info.value) == ("validation: expected a fraction in (0, 1), a (X, y) "
                                   f"tuple or None, got {bad!r}")
    with pytest.raises(DataError) as info:
        split_validation(4, 0.1, seed=0, stratify=["a", "a", "b", "b"])  # 2 * 0.1 rounds to 0
    assert str(info.value) == ("validation: expected a fraction that leaves some of the 4 "
                               "samples for validation, got 0.1")


def test_eval_batch_size():
    assert eval_batch_size(TrainerConfig(batch_size=32)) == 256
    assert eval_batch_size(TrainerConfig(batch_size=512)) == 512
    assert eval_batch_size(TrainerConfig(batch_size=32, eval_batch_size=8)) == 8
