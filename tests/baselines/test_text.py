"""rnnkit.baselines.text: exact behaviour on tiny hand-made data; the JSON round trip on the
shipped sample files."""

from __future__ import annotations

import csv
import json

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
from rnnkit.examples import FOLDER
from rnnkit.tasks.tagging.files import parse_conll

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


# -- the JSON round trip ----------------------------------------------------------------------
def _through_json(baseline):
    """``from_dict`` of ``to_dict`` written to JSON text and read back, as a bundle does."""
    return type(baseline).from_dict(json.loads(json.dumps(baseline.to_dict())))


def _vader():
    with open(FOLDER / "data" / "vader_sample.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


@pytest.mark.parametrize("labels", ["str", "int"])
@pytest.mark.parametrize("tokenized", [False, True])
def test_bag_of_words_round_trip_predicts_the_same(labels, tokenized):
    texts, y = _vader()
    if labels == "int":
        y = [int(v == "positive") for v in y]
    X = [t.split() for t in texts] if tokenized else texts
    fit, test = (X[:90], y[:90]), X[90:]
    clf = BagOfWordsClassifier().fit(*fit)
    back = _through_json(clf)
    assert back.classes_ == clf.classes_ and type(back.classes_[0]) is type(y[0])
    assert back.predict(test).tolist() == clf.predict(test).tolist()
    assert back.predict(test).dtype == clf.predict(test).dtype
    np.testing.assert_allclose(back.predict_proba(test), clf.predict_proba(test), rtol=0, atol=1e-12)
    assert back.evaluate(X, y) == clf.evaluate(X, y)
    assert repr(back) == repr(clf)
    state = clf.to_dict()
    assert json.loads(json.dumps(state)) == state  # plain JSON values only
    assert len(state["vectorizer"]["terms"]) == len(state["vectorizer"]["idf"])


def _three_trends(n: int, seed: int = 0):
    """Two-feature series of 3..9 steps whose class (0, 1, 2) sets the trend of feature 0."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        T = int(rng.integers(3, 10))
        trend = (i % 3 - 1) * np.arange(T)
        X.append(np.stack([trend + rng.normal(0, 0.5, T), rng.normal(0, 1, T)], axis=1))
        y.append(i % 3)
    return X, y


@pytest.mark.parametrize("labels", ["int", "str", "bool"])
def test_bag_of_features_round_trip_predicts_the_same(labels):
    X, y = _three_trends(45)
    if labels == "str":
        y = [["down", "flat", "up"][c] for c in y]
    elif labels == "bool":
        y = [c == 2 for c in y]
    clf = BagOfFeaturesClassifier().fit(X[:30], y[:30])
    back = _through_json(clf)
    assert back.classes_ == clf.classes_ and type(back.classes_[0]) is type(y[0])
    assert back.predict(X[30:]).tolist() == clf.predict(X[30:]).tolist()
    np.testing.assert_allclose(back.predict_proba(X[30:]), clf.predict_proba(X[30:]),
                               rtol=0, atol=1e-12)
    padded = np.zeros((3, 9, 2))
    for i, s in enumerate(X[:3]):
        padded[i, : len(s)] = s
    lengths = [len(s) for s in X[:3]]
    assert back.predict(padded, lengths=lengths).tolist() == clf.predict(X[:3]).tolist()


def test_most_frequent_tag_round_trip_predicts_the_same():
    corpus = parse_conll((FOLDER / "data" / "brown_sample.conll").read_text(encoding="utf-8"))
    sents, tags = corpus.inputs, corpus.targets
    half = len(sents) // 2
    tagger = MostFrequentTagTagger().fit(sents[:half], tags[:half])
    back = _through_json(tagger)
    probe = [*sents[half:], ["THE", "Zyzzyva", "Guests"]]  # unseen words, case fallback
    assert back.predict(probe) == tagger.predict(probe)
    assert back.is_known(probe) == tagger.is_known(probe)
    assert back.evaluate(sents, tags) == tagger.evaluate(sents, tags)
    assert (back.unknown_tag_, back.tags_) == (tagger.unknown_tag_, tagger.tags_)
    strict = MostFrequentTagTagger(lowercase_fallback=False).fit(sents, tags)
    assert repr(_through_json(strict)) == "MostFrequentTagTagger(lowercase_fallback=False)"
    assert _through_json(strict).predict(probe) == strict.predict(probe)


def test_from_dict_of_a_malformed_dict_names_the_key():
    clf = BagOfWordsClassifier().fit(TEXTS, LABELS)
    state = clf.to_dict()
    with pytest.raises(DataError, match=r"data: expected a dict written by to_dict\(\) with the key 'logistic'"):
        BagOfWordsClassifier.from_dict({k: v for k, v in state.items() if k != "logistic"})
    with pytest.raises(DataError, match=r"data\['vectorizer'\]: expected .* with the key 'idf'"):
        BagOfWordsClassifier.from_dict({**state, "vectorizer": {
            k: v for k, v in state["vectorizer"].items() if k != "idf"}})
    with pytest.raises(DataError, match=r"data\['type'\]: expected 'bag_of_features', got 'bag_of_words'"):
        BagOfFeaturesClassifier.from_dict(state)
    with pytest.raises(DataError, match=r"data\['logistic'\]: expected coef of shape \(1, \d+\)"):
        BagOfWordsClassifier.from_dict({**state, "logistic": {**state["logistic"], "coef": [[0.0]]}})
    with pytest.raises(DataError, match=r"data: expected a dict written by to_dict\(\), got 'list'"):
        BagOfFeaturesClassifier.from_dict([])
    tagger = MostFrequentTagTagger().fit([["a", "b"]], [["X", "Y"]])
    with pytest.raises(DataError, match=r"data\['lexicon'\]\['a'\]: expected one of the tags \['X', 'Y'\], got 'Z'"):
        MostFrequentTagTagger.from_dict({**tagger.to_dict(), "lexicon": {"a": "Z"}})
    with pytest.raises(DataError, match=r"data: expected .* with the key 'unknown_tag'"):
        MostFrequentTagTagger.from_dict({k: v for k, v in tagger.to_dict().items()
                                         if k != "unknown_tag"})
    with pytest.raises(ConfigError, match=r"BagOfWordsClassifier: expected a fitted baseline"):
        BagOfWordsClassifier().to_dict()
    with pytest.raises(ConfigError, match=r"MostFrequentTagTagger: expected a fitted tagger"):
        MostFrequentTagTagger().to_dict()
