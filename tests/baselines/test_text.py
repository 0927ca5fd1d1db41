"""rnnkit.baselines.text: exact behaviour on tiny hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.baselines.text import (
    SUMMARY_STATISTICS,
    BagOfFeaturesClassifier,
    BagOfWordsClassifier,
    MostFrequentTagTagger,
    summary_features,
)
from rnnkit.errors import ConfigError, DataError, ShapeError

TEXTS = ["a good film", "a bad film", "good acting", "bad acting", "really good", "really bad"]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"]


def test_bag_of_words_separates_sentiment_words_and_reports_metrics():
    clf = BagOfWordsClassifier().fit(TEXTS, LABELS)
    assert clf.classes_ == ["neg", "pos"]
    assert clf.predict(["good good", "so bad"]).tolist() == ["pos", "neg"]
    proba = clf.predict_proba(["good", "bad"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1.0)
    assert proba[0, 1] > 0.5 > proba[1, 1]
    m = clf.evaluate(TEXTS, LABELS)
    assert m["accuracy"] == 1.0 and m["f1_macro"] == 1.0 and m["roc_auc"] == 1.0
    assert m["confusion_matrix"] == [[3, 0], [0, 3]] and m["labels"] == ["neg", "pos"]


def test_bag_of_words_uses_bigrams_and_token_lists():
    clf = BagOfWordsClassifier(ngram_range=(1, 2)).fit([t.split() for t in TEXTS], LABELS)
    vocab = clf.pipeline_[0].vocabulary_
    assert "good acting" in vocab and "really" in vocab
    assert clf.predict([["Really", "good"]]).tolist() == ["pos"]  # lower-cased like training
    unigrams = BagOfWordsClassifier(ngram_range=(1, 1)).fit(TEXTS, LABELS)
    assert all(" " not in k for k in unigrams.pipeline_[0].vocabulary_)


def test_summary_features_exact_values():
    s = np.array([[1.0, 10.0], [2.0, 10.0], [4.0, 10.0]])  # (T=3, F=2)
    f = summary_features([s, s[:1]])
    assert f.shape == (2, len(SUMMARY_STATISTICS) * 2 + 1)
    mean, std, lo, hi, first, last, slope = f[0, :-1].reshape(7, 2)
    assert mean.tolist() == pytest.approx([7 / 3, 10.0])
    assert std.tolist() == pytest.approx([np.std([1, 2, 4]), 0.0])
    assert (lo.tolist(), hi.tolist(), first.tolist(), last.tolist()) == (
        [1.0, 10.0], [4.0, 10.0], [1.0, 10.0], [4.0, 10.0])
    assert slope.tolist() == pytest.approx([1.5, 0.0])  # least squares on t = -1, 0, 1
    assert f[0, -1] == 3 and f[1, -1] == 1
    assert f[1, 12:14].tolist() == [0.0, 0.0]  # one step: slope 0
    # an (N, T, F) array with lengths gives the same rows
    padded = np.zeros((2, 3, 2))
    padded[0], padded[1, :1] = s, s[:1]
    assert np.allclose(summary_features(padded, lengths=[3, 1]), f)


def test_bag_of_features_learns_a_level_difference():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(3, 9)), 2)) + 2 * (i % 2) for i in range(60)]
    y = [i % 2 for i in range(60)]
    clf = BagOfFeaturesClassifier().fit(X[:40], y[:40])
    m = clf.evaluate(X[40:], y[40:])
    assert m["accuracy"] == 1.0 and clf.classes_ == [0, 1]
    assert clf.predict_proba(X[:3]).shape == (3, 2)


def test_most_frequent_tag_rules():
    sents = [["The", "dog", "runs"], ["the", "run", "ends"], ["A", "dog", "run"],
             ["the", "cat", "runs"]]
    tags = [["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"],
            ["DET", "NOUN", "VERB"]]
    tagger = MostFrequentTagTagger().fit(sents, tags)
    assert tagger.lexicon_["run"] == "NOUN"  # NOUN once, VERB once: the tag seen first wins
    assert tagger.lexicon_["runs"] == "VERB"
    # words seen once: The, ends, A, cat -> DET, VERB, DET, NOUN: DET is the unknown-word tag
    assert tagger.unknown_tag_ == "DET"
    assert tagger.predict([["THE", "zebra", "Runs"]]) == [["DET", "DET", "VERB"]]
    assert MostFrequentTagTagger(lowercase_fallback=False).fit(sents, tags).predict(
        [["Runs"]]) == [["DET"]]
    m = tagger.evaluate([["the", "zebra", "runs"]], [["DET", "NOUN", "VERB"]])
    assert m["token_accuracy"] == pytest.approx(2 / 3)
    assert m["n_oov"] == 1 and m["oov_accuracy"] == 0.0
    assert m["sentence_accuracy"] == 0.0 and m["n_tokens"] == 3
    assert m["per_class"]["VERB"]["f1"] == 1.0


def test_errors_name_the_argument():
    with pytest.raises(DataError, match=r"y: expected at least two classes"):
        BagOfWordsClassifier().fit(["a", "b"], [1, 1])
    with pytest.raises(DataError, match=r"y: expected 2 labels \(one per sample of X\), got 3"):
        BagOfWordsClassifier().fit(["a", "b"], [1, 0, 1])
    with pytest.raises(ConfigError, match=r"ngram_range: expected \(min_n, max_n\)"):
        BagOfWordsClassifier(ngram_range=(2, 1))
    with pytest.raises(ConfigError, match=r"C: expected a number > 0, got 0"):
        BagOfFeaturesClassifier(C=0)
    with pytest.raises(ConfigError, match=r"BagOfWordsClassifier: expected a fitted baseline"):
        BagOfWordsClassifier().predict(["a"])
    with pytest.raises(ConfigError, match=r"MostFrequentTagTagger: expected a fitted tagger"):
        MostFrequentTagTagger().predict([["a"]])
    with pytest.raises(ShapeError, match=r"tags\[0\]: expected 2 tags \(one per token\), got 1"):
        MostFrequentTagTagger().fit([["a", "b"]], [["X"]])
    with pytest.raises(DataError, match=r"sentences\[0\]: expected a list of str tokens"):
        MostFrequentTagTagger().fit(["a b"], [["X", "Y"]])
    with pytest.raises(ShapeError, match=r"X\[1\]: expected a non-empty \(timesteps, features\) array"):
        summary_features([np.ones((2, 2)), np.ones((0, 2))])
