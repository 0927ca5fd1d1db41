"""Tests of rnnkit.data.padding: pad_sequences (Keras semantics), masks, bucketing."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from rnnkit.data.padding import (
    BucketSampler,
    PaddingStats,
    lengths_to_mask,
    pad_sequences,
    padding_stats,
)
from rnnkit.data.text import WordTokenizer
from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import VADER, load_pydoc_topics, load_vader_sentiment
from rnnkit.errors import ConfigError, DataError, ShapeError

SEQS = [[1, 2, 3, 4], [5, 6], [7]]

# -- pad_sequences ------------------------------------------------------------------------


def test_pad_post_is_the_default_and_returns_lengths():
    x, lengths = pad_sequences(SEQS)
    assert x.dtype == torch.long and x.shape == (3, 4)
    assert x.tolist() == [[1, 2, 3, 4], [5, 6, 0, 0], [7, 0, 0, 0]]
    assert lengths.tolist() == [4, 2, 1] and lengths.dtype == torch.long


@pytest.mark.parametrize(
    ("padding", "truncating", "expected"),
    [
        # the Keras examples: maxlen=3, a length-4 sequence is cut, shorter ones padded
        ("post", "post", [[1, 2, 3], [5, 6, 0], [7, 0, 0]]),
        ("post", "pre", [[2, 3, 4], [5, 6, 0], [7, 0, 0]]),
        ("pre", "post", [[1, 2, 3], [0, 5, 6], [0, 0, 7]]),
        ("pre", "pre", [[2, 3, 4], [0, 5, 6], [0, 0, 7]]),
    ],
)
def test_pad_and_truncate_follow_keras_semantics(padding, truncating, expected):
    x, lengths = pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating)
    assert x.tolist() == expected
    assert lengths.tolist() == [3, 2, 1]


def test_pad_value_and_longer_maxlen():
    x, _ = pad_sequences([[1], [2, 3]], maxlen=4, value=-1, padding="pre")
    assert x.tolist() == [[-1, -1, -1, 1], [-1, -1, 2, 3]]


def test_pad_tensors_with_features_keeps_dtype():
    seqs = [torch.ones(3, 2), torch.full((1, 2), 2.0)]
    x, lengths = pad_sequences(seqs, value=0.5)
    assert x.shape == (2, 3, 2) and x.dtype == torch.float32
    assert x[1, 0].tolist() == [2.0, 2.0] and x[1, 1:].eq(0.5).all()
    assert lengths.tolist() == [3, 1]


def test_pad_handles_empty_sequences():
    x, lengths = pad_sequences([[], [1, 2]])
    assert x.tolist() == [[0, 0], [1, 2]] and lengths.tolist() == [0, 2]


def test_pad_validates_inputs_with_named_errors():
    with pytest.raises(ConfigError, match="padding: expected one of"):
        pad_sequences(SEQS, padding="left")
    with pytest.raises(ConfigError, match="truncating"):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ConfigError, match="maxlen"):
        pad_sequences(SEQS, maxlen=0)
    with pytest.raises(DataError, match="at least one sequence"):
        pad_sequences([])
    with pytest.raises(DataError, match="str"):
        pad_sequences("abc")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"sequences\[1\]: expected integer ids"):
        pad_sequences([[1], [0.5, 2.0]])  # type: ignore[list-item]
    with pytest.raises(ShapeError, match=r"sequences\[1\]"):
        pad_sequences([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ConfigError, match="value"):
        pad_sequences(SEQS, value=0.5)


# -- masks --------------------------------------------------------------------------------


def test_lengths_to_mask_matches_padding_side():
    for padding in ("post", "pre"):
        x, lengths = pad_sequences(SEQS, padding=padding)
        mask = lengths_to_mask(lengths, padding=padding)
        assert mask.dtype == torch.bool and mask.shape == x.shape
        assert torch.equal(mask, x != 0)  # no real token is 0 here


def test_lengths_to_mask_maxlen_and_errors():
    assert lengths_to_mask([1, 0], maxlen=3).tolist() == [[True, False, False],
                                                          [False, False, False]]
    with pytest.raises(DataError, match="maxlen=2"):
        lengths_to_mask([3], maxlen=2)
    with pytest.raises(DataError, match="non-negative"):
        lengths_to_mask([-1])
    with pytest.raises(ShapeError, match="1-D integer"):
        lengths_to_mask(torch.ones(2, 2, dtype=torch.long))


# -- BucketSampler ------------------------------------------------------------------------

LENGTHS = [(i * 37) % 101 + 1 for i in range(1000)]


def _flat(batches: list[list[int]]) -> list[int]:
    return sorted(i for b in batches for i in b)


def test_bucket_sampler_yields_every_index_once():
    sampler = BucketSampler(LENGTHS, batch_size=32, seed=1)
    batches = list(sampler)
    assert _flat(batches) == list(range(1000))
    assert len(batches) == len(sampler) == 32  # ceil(1000 / 32)
    assert sum(len(b) < 32 for b in batches) == 1


def test_bucket_sampler_drop_last():
    sampler = BucketSampler(LENGTHS, batch_size=32, drop_last=True)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 31
    assert all(len(b) == 32 for b in batches)


def test_bucket_sampler_is_reproducible_and_reshuffles_each_epoch():
    a, b = BucketSampler(LENGTHS, 16, seed=7), BucketSampler(LENGTHS, 16, seed=7)
    first_a, first_b = list(a), list(b)
    assert first_a == first_b  # same seed, same batches
    assert list(a) == list(b)  # ... and the same second epoch
    assert list(a) != first_a  # which differs from the first
    assert list(BucketSampler(LENGTHS, 16, seed=8)) != first_b


def test_bucket_sampler_without_shuffle_sorts_by_length():
    sampler = BucketSampler(LENGTHS, batch_size=10, shuffle=False)
    order = [i for b in sampler for i in b]
    assert [LENGTHS[i] for i in order] == sorted(LENGTHS)
    assert list(sampler) == list(sampler)


def test_bucket_sampler_groups_similar_lengths():
    batches = list(BucketSampler(LENGTHS, batch_size=20, seed=0))
    spread = [max(LENGTHS[i] for i in b) - min(LENGTHS[i] for i in b) for b in batches]
    assert sum(spread) / len(spread) < 10  # lengths span 1..101


def test_bucket_sampler_drives_a_dataloader():
    data = [torch.arange(n) for n in LENGTHS[:100]]
    loader = DataLoader(data, batch_sampler=BucketSampler(LENGTHS[:100], 8, seed=0),
                        collate_fn=lambda batch: pad_sequences(batch))
    shapes = [x.shape[0] for x, _ in loader]
    assert sum(shapes) == 100


def test_bucket_sampler_validates():
    with pytest.raises(ConfigError, match="batch_size"):
        BucketSampler(LENGTHS, 0)
    with pytest.raises(ConfigError, match="bucket_size"):
        BucketSampler(LENGTHS, 10, bucket_size=5)
    with pytest.raises(DataError, match="lengths"):
        BucketSampler([], 10)
    with pytest.raises(DataError, match="non-negative"):
        BucketSampler([1, -2], 1)
    assert repr(BucketSampler([1, 2], 2)) == "BucketSampler(n=2, batch_size=2)"


# -- padding statistics -------------------------------------------------------------------


def test_padding_stats_by_hand():
    lengths = [1, 9, 1, 9]
    sorted_stats = padding_stats(lengths, [[0, 2], [1, 3]])
    assert isinstance(sorted_stats, PaddingStats)
    assert (sorted_stats.real, sorted_stats.total, sorted_stats.padded_fraction) == (20, 20, 0.0)
    mixed = padding_stats(lengths, [[0, 1], [2, 3]])
    assert (mixed.real, mixed.total, mixed.padded_fraction) == (20, 36, 16 / 36)
    with pytest.raises(DataError, match=r"batches\[0\]"):
        padding_stats(lengths, [[0, 4]])


def _bucketing_saving(lengths: list[int]) -> PaddingStats:
    stats = padding_stats(lengths, BucketSampler(lengths, batch_size=32, seed=0))
    assert stats.n_batches == -(-len(lengths) // 32)
    assert stats.real == sum(lengths)
    return stats


def test_bucketing_saves_padding_on_python_docs():
    """A real corpus that needs no download: paragraphs of Python's help topics."""
    tok = WordTokenizer()
    paragraphs = [p for p in load_pydoc_topics().split("\n\n") if p.strip()]
    stats = _bucketing_saving([len(tok.tokenize(p)) for p in paragraphs])
    # a heavy-tailed corpus: random batches are mostly padding; bucketing halves that
    assert stats.baseline_padded_fraction > 0.7
    assert stats.padded_fraction < 0.5 * stats.baseline_padded_fraction


def test_bucketing_saves_padding_on_vader_sentences():
    if not is_cached(VADER) and not registry_reachable("pypi", timeout=3):
        pytest.skip("vaderSentiment is not cached and PyPI is unreachable")
    tok = WordTokenizer()
    stats = _bucketing_saving([len(tok.tokenize(s)) for s, _ in load_vader_sentiment()])
    assert stats.baseline_padded_fraction > 0.4  # measured: 0.55
    assert stats.padded_fraction < 0.1  # measured: 0.063
    assert stats.saving > 0.4
