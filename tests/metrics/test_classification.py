"""Classification metrics against scikit-learn."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics import (
    accuracy,
    classification_metrics,
    classification_report,
    confusion_matrix,
    f1,
    precision,
    recall,
    roc_auc,
)

SCORES = {"precision": (precision, skm.precision_score), "recall": (recall, skm.recall_score),
          "f1": (f1, skm.f1_score)}


@pytest.fixture
def multiclass() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=300)
    logits = rng.normal(size=(300, 4)) + 1.5 * np.eye(4)[y_true]
    y_pred = logits.argmax(axis=1)
    y_pred[:5] = 4  # a class predicted but never true
    return y_true, y_pred, logits


@pytest.mark.parametrize("name", sorted(SCORES))
@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_multiclass_averages_match_sklearn(multiclass, name: str, average: str) -> None:
    y_true, y_pred, _ = multiclass
    ours, theirs = SCORES[name]
    expected = theirs(y_true, y_pred, average=average, zero_division=0)
    assert ours(y_true, y_pred, average=average) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_binary_matches_sklearn(name: str) -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, size=100)
    y_pred = np.where(rng.random(100) < 0.8, y_true, 1 - y_true)
    ours, theirs = SCORES[name]
    assert ours(y_true, y_pred) == pytest.approx(theirs(y_true, y_pred), rel=1e-12)
    assert ours(y_true, y_pred, pos_label=0) == pytest.approx(
        theirs(y_true, y_pred, pos_label=0), rel=1e-12
    )


def test_string_labels_and_explicit_labels() -> None:
    y_true = np.array(["cat", "dog", "dog", "bird", "cat"])
    y_pred = np.array(["cat", "cat", "dog", "bird", "bird"])
    assert f1(y_true, y_pred, average="macro") == pytest.approx(
        skm.f1_score(y_true, y_pred, average="macro")
    )
    labels = ["dog", "cat"]
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )
    assert recall(y_true, y_pred, average="macro", labels=labels) == pytest.approx(
        skm.recall_score(y_true, y_pred, average="macro", labels=labels)
    )


@pytest.mark.parametrize("name", sorted(SCORES))
@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_label_subset_matches_sklearn(multiclass, name: str, average: str) -> None:
    y_true, y_pred, _ = multiclass
    ours, theirs = SCORES[name]
    labels = [2, 0, 4]
    expected = theirs(y_true, y_pred, average=average, labels=labels, zero_division=0)
    assert ours(y_true, y_pred, average=average, labels=labels) == pytest.approx(expected)


def test_confusion_matrix_and_accuracy_match_sklearn(multiclass) -> None:
    y_true, y_pred, _ = multiclass
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert accuracy(torch.from_numpy(y_true), torch.from_numpy(y_pred)) == accuracy(y_true, y_pred)


def test_zero_division() -> None:
    y_true, y_pred = [0, 0, 1], [0, 0, 0]  # class 1 never predicted
    assert precision(y_true, y_pred) == 0.0
    assert precision(y_true, y_pred, zero_division=1.0) == 1.0
    assert precision([0, 0], [0, 0]) == 0.0  # pos_label absent altogether


def test_roc_auc_binary_with_ties_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, size=200)
    scores = np.round(y_true * 0.5 + rng.normal(size=200), 1)  # rounding creates ties
    assert roc_auc(y_true, scores) == pytest.approx(skm.roc_auc_score(y_true, scores), rel=1e-12)
    two_col = np.stack([-scores, scores], axis=1)
    assert roc_auc(y_true, two_col) == pytest.approx(skm.roc_auc_score(y_true, scores))
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)  # hand count 3/4


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_roc_auc_one_vs_rest_matches_sklearn(multiclass, average: str) -> None:
    y_true, _, logits = multiclass
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = skm.roc_auc_score(y_true, probs, multi_class="ovr", average=average)
    assert roc_auc(y_true, probs, average=average) == pytest.approx(expected, rel=1e-12)
    assert roc_auc(y_true, logits, average=average) != pytest.approx(0.5)  # logits work too


def test_roc_auc_errors() -> None:
    with pytest.raises(DataError, match="at least two classes"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ShapeError, match="3 columns"):
        roc_auc([0, 1, 2], np.zeros((3, 4)))
    with pytest.raises(ShapeError, match="y_score"):
        roc_auc([0, 1, 2], np.zeros(3))
    with pytest.raises(DataError, match="class 3"):
        roc_auc([0, 1, 2, 1], np.zeros((4, 4)), labels=[0, 1, 2, 3])


def test_report_is_json_and_consistent(multiclass) -> None:
    y_true, y_pred, logits = multiclass
    report = classification_report(y_true, y_pred)
    json.dumps(report)
    sk = skm.classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    for label in ["0", "1", "2", "3", "4"]:
        assert report["per_class"][label]["f1"] == pytest.approx(sk[label]["f1-score"])
        assert report["per_class"][label]["support"] == sk[label]["support"]
    assert report["macro"]["recall"] == pytest.approx(sk["macro avg"]["recall"])
    assert report["weighted"]["precision"] == pytest.approx(sk["weighted avg"]["precision"])
    assert report["accuracy"] == pytest.approx(sk["accuracy"])
    # class 4 is never true, so its one-vs-rest AUC is undefined: NaN, not an exception
    assert math.isnan(classification_report(y_true, y_pred, np.c_[logits, logits[:, 0]])["roc_auc"])
    mask = y_pred < 4
    scored = classification_report(y_true[mask], y_pred[mask], logits[mask])
    assert scored["roc_auc"] == pytest.approx(roc_auc(y_true[mask], logits[mask]))


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="average: expected"):
        f1([0, 1, 2], [0, 1, 2])  # binary on three classes
    with pytest.raises(ConfigError, match="average: expected one of"):
        f1([0, 1], [0, 1], average="samples")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="pos_label"):
        precision(["a", "b"], ["a", "b"])
    with pytest.raises(ShapeError, match="y_pred: expected shape"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ShapeError, match="1-D array of labels"):
        accuracy(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="labels"):
        confusion_matrix([0, 1], [0, 1], labels=[0, 0])


def test_classification_metrics_values():
    m = classification_metrics(["a", "b", "b", "a"], ["a", "b", "a", "a"],
                               np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]),
                               labels=["a", "b"])
    assert m["accuracy"] == 0.75 and m["confusion_matrix"] == [[2, 0], [1, 1]]
    assert m["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert m["f1_micro"] == 0.75 and m["roc_auc"] == 1.0 and m["n"] == 4
