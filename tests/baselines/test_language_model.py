"""Unigram / bigram baselines: probabilities by hand, normalization, evaluation, errors."""

import math

import numpy as np
import pytest

from rnnkit.baselines.language_model import BigramLM, UnigramLM, evaluate_lm_baselines
from rnnkit.errors import ConfigError, DataError

# two sequences over ids {4, 5, 6}, vocabulary of 7 ids (the 4 reserved ones included)
SEQS = [[4, 5, 4, 6], [5, 5, 4]]
V = 7


def test_unigram_probabilities_by_hand():
    lm = UnigramLM(k=0.5).fit(SEQS, vocab_size=V)
    # counts: 4 -> 3, 5 -> 3, 6 -> 1; N = 7; P(w) = (c + 0.5) / (7 + 0.5 * 7)
    assert lm.prob(4) == pytest.approx(3.5 / 10.5)
    assert lm.prob(6) == pytest.approx(1.5 / 10.5)
    assert lm.prob(0) == pytest.approx(0.5 / 10.5)
    assert lm.probabilities().sum() == pytest.approx(1.0)


def test_bigram_probabilities_by_hand():
    lm = BigramLM(k=1.0).fit(SEQS, vocab_size=V)
    # pairs within sequences: (4,5) (5,4) (4,6) | (5,5) (5,4): c(4.) = 2, c(5.) = 3, c(6.) = 0
    assert lm.prob(5, prev=4) == pytest.approx((1 + 1) / (2 + 7))
    assert lm.prob(4, prev=5) == pytest.approx((2 + 1) / (3 + 7))
    assert lm.prob(5, prev=5) == pytest.approx((1 + 1) / (3 + 7))
    assert lm.prob(4, prev=6) == pytest.approx(1 / 7)  # unseen context: uniform
    assert lm.prob(6, prev=5) == pytest.approx(1 / 10)  # unseen pair: k / (c + kV)
    for prev in range(V):
        assert lm.probabilities(prev).sum() == pytest.approx(1.0)


def test_witten_bell_bigram_by_hand():
    lm = BigramLM(k=1.0, smoothing="witten_bell").fit(SEQS, vocab_size=V)
    uni = lm.unigram.probabilities()  # (c + 1) / (7 + 7): 4 -> 4/14, 5 -> 4/14, 6 -> 2/14
    # context 4: pairs (4,5) (4,6): c(4.) = 2, T(4) = 2
    assert lm.prob(5, prev=4) == pytest.approx((1 + 2 * uni[5]) / (2 + 2))
    assert lm.prob(4, prev=4) == pytest.approx((0 + 2 * uni[4]) / (2 + 2))
    # context 5: pairs (5,4) x2, (5,5): c(5.) = 3, T(5) = 2
    assert lm.prob(4, prev=5) == pytest.approx((2 + 2 * uni[4]) / (3 + 2))
    # context 6 never seen: the unigram itself
    assert lm.prob(4, prev=6) == pytest.approx(uni[4])
    for prev in range(V):
        assert lm.probabilities(prev).sum() == pytest.approx(1.0)
    lp = lm.log_probs([4, 5, 4], context=5)
    assert lp[0] == pytest.approx(math.log(lm.prob(4, prev=5)))
    assert lp[1] == pytest.approx(math.log(lm.prob(5, prev=4)))
    assert lp[2] == pytest.approx(math.log(lm.prob(4, prev=5)))
    assert repr(lm) == "BigramLM(k=1.0, smoothing='witten_bell')"
    with pytest.raises(ConfigError, match="smoothing: expected 'add_k' or 'witten_bell', "
                                          "got 'kneser'"):
        BigramLM(smoothing="kneser")


def test_witten_bell_beats_add_one_on_a_large_sparse_vocabulary():
    rng = np.random.default_rng(0)
    V_big = 5000
    # a Zipfian stream with bigram structure: half the time a token is followed by its own
    # favourite successor, otherwise by a fresh Zipf draw
    favourite = rng.integers(4, V_big, size=V_big)
    draws = np.minimum(rng.zipf(1.3, size=40_000) + 3, V_big - 1)
    stream = [int(draws[0])]
    for t in range(1, 40_000):
        stream.append(int(favourite[stream[-1]]) if rng.random() < 0.5 else int(draws[t]))
    ids = np.asarray(stream)
    train, test = ids[:30_000], ids[30_000:]
    add1 = evaluate_lm_baselines(train, test, V_big)["bigram"]["perplexity"]
    wb = evaluate_lm_baselines(train, test, V_big, smoothing="witten_bell")
    assert wb["bigram"]["perplexity"] < add1
    assert wb["bigram"]["perplexity"] < wb["unigram"]["perplexity"] < add1


def test_bigram_log_probs_and_cross_entropy():
    lm = BigramLM(k=1.0).fit(SEQS, vocab_size=V)
    ids = [4, 5, 4]
    lp = lm.log_probs(ids)
    assert lp[0] == pytest.approx(math.log(lm.unigram.prob(4)))  # first token: unigram
    assert lp[1] == pytest.approx(math.log(2 / 9))
    assert lp[2] == pytest.approx(math.log(3 / 10))
    assert lm.log_probs(ids, context=5)[0] == pytest.approx(math.log(3 / 10))
    assert lm.cross_entropy(ids) == pytest.approx(-lp.mean())
    result = lm.evaluate(np.array(ids))
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))
    assert result["bits_per_token"] == pytest.approx(result["loss"] / math.log(2))


def test_bigram_beats_unigram_on_structured_text():
    rng = np.random.default_rng(0)
    # a Markov chain that alternates 4 and 5 with a little noise
    seq = [4]
    for _ in range(2000):
        seq.append(9 - seq[-1] if rng.random() < 0.9 else int(rng.integers(4, 8)))
    out = evaluate_lm_baselines(seq[:1500], seq[1500:], vocab_size=8)
    assert out["bigram"]["loss"] < out["unigram"]["loss"] - 0.3


def test_large_vocabulary_is_sparse():
    lm = BigramLM().fit([[100_000, 5, 100_000]], vocab_size=200_000)  # no V x V matrix
    assert lm.prob(5, prev=100_000) == pytest.approx(2 / 200_001)


def test_errors():
    with pytest.raises(ConfigError, match="k: expected a finite number > 0"):
        UnigramLM(k=0)
    with pytest.raises(ConfigError, match="BigramLM: expected a fitted model"):
        BigramLM().cross_entropy([1, 2])
    with pytest.raises(DataError, match=r"data: expected ids in \[0, 7\)"):
        BigramLM().fit([[1, 9]], vocab_size=7)
    with pytest.raises(DataError, match="data: expected token ids, got 'a str'"):
        UnigramLM().fit("abc", vocab_size=7)
    lm = UnigramLM().fit(SEQS, vocab_size=V)
    with pytest.raises(DataError, match="data: expected at least one token"):
        lm.cross_entropy([[]])
