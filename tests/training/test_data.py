"""rnnkit.training.data: the trainer's data adapters. In-memory tuples are checked, cast to
the model's dtype and sliced from one seeded permutation; Datasets and DataLoaders stream
through the same conversion; every refusal names the argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.errors import DataError, ShapeError
from rnnkit.training.data import BatchConverter


def converter(loss: str = "mse", lengths: bool = True, dtype=torch.float32) -> BatchConverter:
    return BatchConverter(device=torch.device("cpu"), dtype=dtype, loss_name=loss,
                          model_name="Net", accepts_lengths=lengths)


def test_in_memory_tuples_are_cast_to_the_models_dtypes():
    x = np.arange(24, dtype=np.float64).reshape(4, 3, 2)
    data = converter("cross_entropy").as_data("train_data", (x, np.array([0, 1, 1, 0], dtype=np.int32),
                                                            [3, 1, 2, 3]))
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    assert data.lengths.tolist() == [3, 1, 2, 3] and data.lengths.dtype == torch.int64
    mse = converter("mse", dtype=torch.float64).as_data("train_data", (torch.ones(2, 1), torch.tensor([1, 2])))
    assert mse.x.dtype == torch.float64 and mse.y.dtype == torch.float64  # int targets -> floats
    ids = converter().as_data("X", torch.ones(2, 3, dtype=torch.long), targets=False)
    assert ids.x.dtype == torch.long and ids.y is None  # integer inputs are left alone


def test_in_memory_batches_slice_one_seeded_permutation():
    data = converter().as_data("train_data", (torch.arange(10.0)[:, None], torch.arange(10.0)))
    assert data.num_batches(4) == 3
    ordered = [xb[:, 0].tolist() for xb, _, _ in data.batches(4, False, torch.Generator())]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    shuffled = [(xb[:, 0].tolist(), yb.tolist())
                for xb, yb, _ in data.batches(4, True, torch.Generator().manual_seed(0))]
    assert all(xs == ys for xs, ys in shuffled)  # rows stay with their targets
    flat = [v for xs, _ in shuffled for v in xs]
    assert sorted(flat) == list(range(10)) and flat != list(range(10))
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0)).tolist()
    assert flat == perm


def test_x_alone_for_predict():
    c = converter()
    for given in (torch.ones(3, 2), np.ones((3, 2)), (torch.ones(3, 2),)):
        data = c.as_data("X", given, targets=False, lengths=[1, 2, 2])
        assert data.y is None and data.lengths.tolist() == [1, 2, 2]


def test_datasets_and_loaders_stream_through_the_same_conversion():
    x, y = torch.arange(12, dtype=torch.float64).reshape(6, 2), torch.tensor([0, 1, 0, 1, 0, 1])
    c = converter("cross_entropy")
    streamed = c.as_data("train_data", TensorDataset(x, y))
    assert streamed.num_batches(4) == 2
    batches = list(streamed.batches(4, False, torch.Generator()))
    assert [xb.shape[0] for xb, _, _ in batches] == [4, 2]
    assert batches[0][0].dtype == torch.float32 and batches[0][1].dtype == torch.int64
    loader = c.as_data("train_data", DataLoader(TensorDataset(x, y), batch_size=5))
    assert loader.num_batches(4) == 2  # the loader's own batch size
    assert [xb.shape[0] for xb, _, _ in loader.batches(4, True, torch.Generator())] == [5, 1]


def test_refusals_name_the_argument():
    c = converter(lengths=False)
    x, y = torch.randn(4, 3, 2), torch.randn(4, 1)
    cases = [
        (DataError, ("val_data", (x,)),
         "val_data: expected a tuple (X, y) or (X, y, lengths), got ('Tensor',)"),
        (DataError, ("train_data", x),
         "train_data: expected (X, y), (X, y, lengths), a Dataset or a DataLoader, got 'Tensor'"),
        (DataError, ("train_data", (x[:0], y[:0])),
         "train_data X: expected at least one row, got (0, 3, 2)"),
        (ShapeError, ("train_data", (x, y[:3])),
         "train_data y: expected 4 rows like X, got (3, 1)"),
        (DataError, ("train_data", (x, y, [1, 2, 3, 3])),
         "train_data: expected (X, y) for Net, whose forward has no lengths=, got "
         "'(X, y, lengths)'. add a lengths= parameter to forward, or drop the lengths"),
        (DataError, ("train_data", ({"a": 1}, y)),
         "train_data X: expected a tensor or array, got 'dict'"),
    ]
    for error, (name, data), message in cases:
        with pytest.raises(error) as info:
            c.as_data(name, data)
        assert str(info.value) == message


def test_lengths_are_checked():
    c = converter()
    x, y = torch.randn(2, 3, 2), torch.randn(2, 1)
    with pytest.raises(ShapeError, match=r"^train_data lengths: expected \(2,\) integers, got \(3,\)$"):
        c.as_data("train_data", (x, y, [1, 2, 3]))
    with pytest.raises(ShapeError, match=r"^train_data lengths: expected \(2,\) integers, got \(2,\)$"):
        c.as_data("train_data", (x, y, [1.0, 2.0]))
    with pytest.raises(DataError, match=r"^train_data lengths: expected values in \[1, 3\], got '\[0, 4\]'$"):
        c.as_data("train_data", (x, y, [0, 4]))
    with pytest.raises(DataError, match=r"^lengths: expected lengths given once, got 'both in data and lengths='$"):
        c.as_data("X", (x, y, [1, 2]), lengths=[1, 2])
