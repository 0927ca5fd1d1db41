"""Sequence metrics: hand-computed values, a reference DP, and NLTK when it is installed."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics import (
    bits_per_character,
    character_error_rate,
    corpus_bleu,
    edit_distance,
    exact_match,
    perplexity,
    tagging_metrics,
    token_accuracy,
    token_error_rate,
)


def words(text: str) -> list[str]:
    return text.split()


# --- likelihood metrics -------------------------------------------------------------------

def test_uniform_model_has_perplexity_of_vocab_size() -> None:
    vocab = 50
    logits = torch.zeros(8, 30, vocab)  # (batch, timesteps, vocab): a uniform model
    targets = torch.randint(0, vocab, (8, 30))
    ce = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
    assert perplexity(ce) == pytest.approx(vocab, rel=1e-6)
    assert bits_per_character(ce) == pytest.approx(math.log2(vocab), rel=1e-6)
    assert perplexity(0.0) == 1.0
    assert perplexity(1e4) == math.inf


def test_likelihood_metric_errors() -> None:
    with pytest.raises(DataError, match="mean_cross_entropy: expected a value >= 0"):
        perplexity(-0.1)
    with pytest.raises(ShapeError, match="one number"):
        bits_per_character(np.array([1.0, 2.0]))
    with pytest.raises(DataError, match="finite"):
        perplexity(float("nan"))


def test_token_accuracy_ignores_padding() -> None:
    targets = torch.tensor([[1, 2, 3, -100], [4, 4, -100, -100]])
    preds = torch.tensor([[1, 0, 3, 7], [4, 1, 4, 4]])
    assert token_accuracy(preds, targets) == pytest.approx(3 / 5)
    logits = F.one_hot(preds.clamp(min=0), num_classes=8).float()  # (2, 4, vocab=8)
    assert token_accuracy(logits, targets) == pytest.approx(3 / 5)
    assert token_accuracy([[1, 2]], [[1, 0]], ignore_index=0) == 1.0


def test_token_accuracy_errors() -> None:
    with pytest.raises(DataError, match="only padding"):
        token_accuracy([[1, 2]], [[-100, -100]])
    with pytest.raises(ShapeError, match="predictions: expected shape"):
        token_accuracy([[1, 2, 3]], [[1, 2]])
    with pytest.raises(DataError, match="integer token ids"):
        token_accuracy([[1.0]], [[1.0]])


# --- edit distance and error rates ----------------------------------------------------------

def _reference_levenshtein(a: list, b: list) -> int:
    """The textbook full-matrix dynamic programme."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1][-1]


def test_edit_distance_known_values() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("abc", "") == 3
    assert edit_distance("", "") == 0
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance(words("the cat sat"), words("the cat sat down")) == 1
    assert edit_distance([1, 2, 3], (1, 3)) == 1


def test_edit_distance_matches_reference_dp() -> None:
    rng = random.Random(0)
    for _ in range(300):
        a = [rng.randrange(4) for _ in range(rng.randrange(0, 12))]
        b = [rng.randrange(4) for _ in range(rng.randrange(0, 12))]
        assert edit_distance(a, b) == _reference_levenshtein(a, b) == edit_distance(b, a)


def test_error_rates_sum_edits_over_reference_length() -> None:
    refs = ["the cat sat on the mat", "hello world"]
    hyps = ["the cat sat on mat", "hello there world"]
    # edits: 1 deletion + 1 insertion; reference words 6 + 2
    assert token_error_rate(refs, hyps) == pytest.approx(2 / 8)
    assert token_error_rate([[1, 2, 3]], [[1, 2, 4, 5]]) == pytest.approx(2 / 3)
    assert character_error_rate(["abcd", "xy"], ["abd", "xyz"]) == pytest.approx(2 / 6)
    assert token_error_rate(["a"], ["b c d"]) == 3.0  # insertions can push it above 1


def test_error_rate_and_exact_match_errors() -> None:
    with pytest.raises(ShapeError, match="hypotheses: expected 2 items"):
        token_error_rate(["a", "b"], ["a"])
    with pytest.raises(DataError, match="reference token"):
        character_error_rate([""], ["abc"])
    with pytest.raises(ConfigError, match="wrap it in a list"):
        exact_match("abc", "abc")


def test_exact_match() -> None:
    assert exact_match(["abc", "de", "f"], ["abc", "dx", "f"]) == pytest.approx(2 / 3)
    assert exact_match([[1, 2], (3,)], [(1, 2), [3]]) == 1.0


# --- BLEU -----------------------------------------------------------------------------------

CAT_REF = words("the cat is on the mat")
CAT_HYP = words("the cat sat on the mat")


def test_bleu_hand_computed() -> None:
    # n-gram precisions of CAT_HYP against CAT_REF, counted by hand:
    #   p1 = 5/6 (the×2, cat, on, mat; not sat)     p2 = 3/5 (the cat, on the, the mat)
    #   p3 = 1/4 (on the mat)                      p4 = 0/3
    # c = r = 6, so BP = exp(1 − 6/6) = 1.
    # Up to trigrams: (5/6 · 3/5 · 1/4)^(1/3) = (1/8)^(1/3) = 1/2 exactly.
    assert corpus_bleu([[CAT_REF]], [CAT_HYP], max_n=3) == pytest.approx(0.5, rel=1e-12)
    # 4-grams: no match, so 0 without smoothing; method 1 makes p4 = 0.1/3.
    assert corpus_bleu([[CAT_REF]], [CAT_HYP]) == 0.0
    smoothed = corpus_bleu([[CAT_REF]], [CAT_HYP], smoothing="method1")
    assert smoothed == pytest.approx((1 / 8 * 0.1 / 3) ** 0.25, rel=1e-12)


def test_bleu_brevity_penalty_and_clipping() -> None:
    # "the cat": p1 = p2 = 1, but c = 2 < r = 6 -> BP = exp(1 − 6/2) = exp(−2)
    assert corpus_bleu([[CAT_REF]], [["the", "cat"]], max_n=2) == pytest.approx(math.exp(-2))
    # "the" ×7 against two references: clipped by the largest count of "the" in one of them (2)
    refs = [CAT_REF, words("there is a cat on the mat")]
    assert corpus_bleu([refs], [["the"] * 7], max_n=1) == pytest.approx(2 / 7)
    # NLTK's convention: a hypothesis shorter than n still counts one n-gram, so p3 = 0/1,
    # and method 1 smooths it to 0.1/1
    short = corpus_bleu([[CAT_REF]], [["the", "cat"]], max_n=3, smoothing="method1")
    assert short == pytest.approx(math.exp(-2) * 0.1 ** (1 / 3))
    # an identical hypothesis scores 1
    assert corpus_bleu([[CAT_REF]], [CAT_REF]) == pytest.approx(1.0)
    assert corpus_bleu([[CAT_REF]], [["dog"]]) == 0.0


HYP1 = words("It is a guide to action which ensures that the military always obeys the "
             "commands of the party")
REF1 = [
    "It is a guide to action that ensures that the military will forever heed Party commands",
    "It is the guiding principle which guarantees the military forces always being under the "
    "command of the Party",
    "It is the practical guide for the army always to heed the directions of the party",
]
HYP2 = words("he read the book because he was interested in world history")
REF2 = ["he was interested in world history because he read the book"]


def test_bleu_matches_values_published_in_nltk_docs() -> None:
    refs1 = [words(r) for r in REF1]
    refs2 = [words(r) for r in REF2]
    assert corpus_bleu([refs1], [HYP1]) == pytest.approx(0.5045, abs=1e-4)
    assert corpus_bleu([refs1, refs2], [HYP1, HYP2]) == pytest.approx(0.5920, abs=1e-4)


def test_bleu_matches_nltk_when_installed() -> None:
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = random.Random(1)
    vocab = list("abcdefgh")
    refs = [[[rng.choice(vocab) for _ in range(rng.randrange(3, 12))] for _ in range(2)]
            for _ in range(20)]
    hyps = [[rng.choice(vocab) for _ in range(rng.randrange(2, 12))] for _ in range(20)]
    assert corpus_bleu(refs, hyps) == pytest.approx(nltk_bleu.corpus_bleu(refs, hyps))
    method1 = nltk_bleu.SmoothingFunction().method1
    assert corpus_bleu(refs, hyps, smoothing="method1") == pytest.approx(
        nltk_bleu.corpus_bleu(refs, hyps, smoothing_function=method1)
    )


def test_bleu_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="weights"):
        corpus_bleu([[CAT_REF]], [CAT_HYP], weights=[0.5, 0.5])
    with pytest.raises(ConfigError, match="smoothing"):
        corpus_bleu([[CAT_REF]], [CAT_HYP], smoothing="method7")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"references\[0\]"):
        corpus_bleu(["the cat"], [CAT_HYP])
    with pytest.raises(ConfigError, match="max_n"):
        corpus_bleu([[CAT_REF]], [CAT_HYP], max_n=0)


# --- tagging -------------------------------------------------------------------------------
def test_tagging_metrics_values():
    gold = [["D", "N", "V"], ["D", "N"]]
    pred = [["D", "N", "N"], ["D", "N"]]
    m = tagging_metrics(gold, pred, known=[[True, True, False], [True, False]])
    assert m["token_accuracy"] == 0.8 and m["sentence_accuracy"] == 0.5
    assert m["n_tokens"] == 5 and m["n_sentences"] == 2
    assert m["n_oov"] == 2 and m["oov_accuracy"] == 0.5
    assert m["per_class"]["N"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert m["per_class"]["V"]["f1"] == 0.0
    assert m["f1_macro"] == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    assert m["confusion_matrix"] == [[2, 0, 0], [0, 2, 0], [0, 1, 0]]


def test_tagging_metrics_errors():
    with pytest.raises(ShapeError, match=r"pred_tags\[0\]: expected 2 tags like the sentence, got 1"):
        tagging_metrics([["a", "b"]], [["a"]])
