"""Tests of rnnkit.data.categorical: categorical steps as ids and one-hot vectors."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data.categorical import integer_encode, one_hot
from rnnkit.data.vocabulary import PAD_ID, UNK_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError


def test_integer_encode_categorical_steps():
    train = [["mon", "tue", "mon"], ["sun"]]
    vocab = Vocabulary.build(train)
    assert integer_encode(train, vocab) == [[4, 6, 4], [5]]
    assert integer_encode([["fri"], [1]], vocab) == [[UNK_ID], [UNK_ID]]  # unseen -> <unk>
    assert integer_encode([[1, 2]], Vocabulary(["1", "2"])) == [[4, 5]]  # values as str


def test_one_hot_shapes_and_zero_padding():
    ids = torch.tensor([[4, 5, 0], [6, 0, 0]])
    out = one_hot(ids, 7)
    assert out.shape == (2, 3, 7) and out.dtype == torch.float32
    assert out[0, 0, 4] == 1 and out[0, 0].sum() == 1
    assert out[0, 2].sum() == 0  # the <pad> step is all zeros
    kept = one_hot(ids, 7, zero_pad=False, dtype=torch.float64)
    assert kept[0, 2, PAD_ID] == 1 and kept.dtype == torch.float64
    assert torch.equal(one_hot([1, 2], 3), torch.tensor([[0.0, 1, 0], [0, 0, 1]]))


def test_one_hot_validates():
    with pytest.raises(DataError, match=r"ids in \[0, 3\)"):
        one_hot([0, 3], 3)
    with pytest.raises(DataError, match="integer ids"):
        one_hot(torch.tensor([0.5]), 3)
    with pytest.raises(ConfigError, match="num_classes"):
        one_hot([0], 0)
