"""rnnkit.tasks.language_model.streams: a text as parallel id streams and their next-token
targets, one slice per Trainer epoch, the History's stream columns and the n-gram counts
the baselines are rebuilt from."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnnkit.baselines.language_model import BigramLM, UnigramLM
from rnnkit.errors import DataError
from rnnkit.tasks.language_model.streams import NgramCounts, Slices, StreamColumns, streams
from rnnkit.training import History


def test_streams_cut_the_text_into_rows_with_next_token_targets():
    x, y = streams(torch.arange(11), 2, "text")  # 10 (input, target) pairs in 2 rows of 5
    assert x.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert y.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    x, y = streams(torch.arange(12), 3, "text")  # 11 pairs: 3 rows of 3, the tail dropped
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and y[-1].tolist() == [7, 8, 9]


def test_a_short_text_gets_fewer_rows_and_too_short_is_an_error():
    x, y = streams(torch.arange(5), 32, "text")  # at most (n - 1) // 2 rows of >= 2 steps
    assert x.shape == (2, 2) and y.tolist() == [[1, 2], [3, 4]]
    x, _ = streams(torch.arange(2), 4, "text")
    assert x.tolist() == [[0]]
    with pytest.raises(DataError) as info:
        streams(torch.arange(1), 4, "validation")
    assert str(info.value) == "validation: expected at least 2 tokens, got 1"


def test_slices_serve_one_chunk_per_epoch_and_cycle():
    x, y = streams(torch.arange(11), 2, "text")  # (2, 5)
    slices = Slices(x, y, chunk=2)
    assert len(slices) == 1 and slices.starts == [0, 2, 4]
    served = []
    for _ in range(4):
        (xb, yb), = list(slices)
        served.append((xb.squeeze(-1).tolist(), yb.tolist()))
    assert xb.shape == (2, 2, 1)  # (B, chunk, 1): the trainer's layout
    assert served[0] == ([[0, 1], [5, 6]], [[1, 2], [6, 7]])
    assert served[2] == ([[4], [9]], [[5], [10]])  # the last, shorter slice
    assert served[3] == served[0] and slices.served == 4


def test_stream_columns_record_bits_tokens_and_passes():
    x, y = streams(torch.arange(11), 2, "text")
    slices = Slices(x, y, chunk=2)
    trainer = SimpleNamespace(history=History())
    columns = StreamColumns(slices)
    columns.on_fit_begin(trainer)
    for epoch, loss in enumerate([math.log(2), 2 * math.log(2)], start=1):
        next(iter(slices))
        trainer.history.new_epoch(epoch)
        columns.on_epoch_end(trainer, logs={"loss": loss, "val_loss": 3 * math.log(2)})
    rows = trainer.history.rows
    assert [r["bits_per_token"] for r in rows] == pytest.approx([1.0, 2.0])
    assert [r["val_bits_per_token"] for r in rows] == pytest.approx([3.0, 3.0])
    assert [r["tokens"] for r in rows] == [4, 8]  # two 2-step slices of 2 streams each
    assert [r["passes"] for r in rows] == pytest.approx([1 / 3, 2 / 3])
    assert rows[1]["elapsed"] >= rows[0]["elapsed"] >= 0


def test_ngram_counts_round_trip_and_rebuild_the_fitted_baselines():
    ids = np.array([4, 5, 4, 5, 6, 4, 4])
    counts = NgramCounts.count(ids, 7)
    assert counts.unigram.tolist() == [0, 0, 0, 0, 4, 2, 1]
    pairs = dict(zip(counts.pair_keys.tolist(), counts.pair_counts.tolist()))
    assert pairs == {4 * 7 + 5: 2, 5 * 7 + 4: 1, 5 * 7 + 6: 1, 6 * 7 + 4: 1, 4 * 7 + 4: 1}
    again = NgramCounts.from_dict(counts.to_dict())
    assert again.vocab_size == 7 and np.array_equal(again.pair_keys, counts.pair_keys)
    test = np.array([4, 5, 6, 4, 0])
    fitted = UnigramLM(0.5).fit(ids, 7)
    np.testing.assert_allclose(again.unigram_lm(0.5).log_probs(test), fitted.log_probs(test))
    for smoothing in ("add_k", "witten_bell"):
        fitted = BigramLM(0.5, smoothing).fit(ids, 7)
        np.testing.assert_allclose(again.bigram_lm(0.5, smoothing).log_probs(test, context=4),
                                   fitted.log_probs(test, context=4))
