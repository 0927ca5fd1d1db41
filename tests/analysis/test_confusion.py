from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_recall_fscore_support

from rnnkit.analysis import ConfusionMatrix, confusion_matrix, plot_confusion_matrix
from rnnkit.analysis.confusion import from_counts
from rnnkit.errors import DataError


def test_counts_and_scores_equal_scikit_learn():
    rng = np.random.default_rng(0)
    actual = rng.choice(["cat", "dog", "owl"], size=200)
    predicted = np.where(rng.random(200) < 0.7, actual, rng.choice(["cat", "dog", "owl"], 200))
    cm = confusion_matrix(actual, predicted)
    assert isinstance(cm, ConfusionMatrix) and cm.labels == ("cat", "dog", "owl")
    np.testing.assert_array_equal(cm.counts, sk_confusion(actual, predicted,
                                                          labels=["cat", "dog", "owl"]))
    p, r, f, s = precision_recall_fscore_support(actual, predicted, labels=list(cm.labels))
    table = cm.per_class()
    np.testing.assert_allclose(table["precision"], p)
    np.testing.assert_allclose(table["recall"], r)
    np.testing.assert_allclose(table["f1"], f)
    np.testing.assert_array_equal(table["support"], s)
    assert cm.accuracy == pytest.approx(np.mean(actual == predicted))


def test_the_most_frequent_mistakes_come_first():
    cm = from_counts([[5, 1, 0], [2, 7, 3], [0, 0, 9]], ["a", "b", "c"])
    assert cm.confused(2) == [("b", "c", 3), ("b", "a", 2)]
    assert cm.confused(10) == [("b", "c", 3), ("b", "a", 2), ("a", "b", 1)]
    # a class never predicted scores 0, not NaN
    never = confusion_matrix(["a", "b"], ["a", "a"], labels=["a", "b"])
    assert never.per_class().loc["b", "precision"] == 0.0


def test_plot(tmp_path):
    cm = from_counts([[5, 1], [2, 7]], ["yes", "no"])
    fig = cm.plot(title="t")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "2", "5", "7"] and fig.axes[0].get_title() == "t"
    path = plot_confusion_matrix([[5, 1, 0], [2, 7, 1], [0, 0, 9]], ["a", "b", "c"],
                                 tmp_path / "cm.png")
    assert imread(path).shape[1] >= 300


def test_misuse_names_the_argument(tmp_path):
    with pytest.raises(DataError, match=r"matrix: expected shape \(2, 2\) for 2 labels, got "
                                        r"shape \(3, 3\)"):
        plot_confusion_matrix(np.eye(3), ["a", "b"], tmp_path / "bad.png")
    with pytest.raises(DataError, match="matrix: expected whole counts >= 0"):
        from_counts([[1, -1], [0, 2]], ["a", "b"])
    with pytest.raises(DataError, match="matrix: expected whole counts >= 0"):
        from_counts([[1, 0.5], [0, 2]], ["a", "b"])
    with pytest.raises(DataError, match="actual, predicted: expected two non-empty sequences "
                                        "of the same length, got 2 and 1 values"):
        confusion_matrix(["a", "b"], ["a"])
    with pytest.raises(DataError, match=r"labels: expected every class of actual and "
                                        r"predicted, got missing \['c'\]"):
        confusion_matrix(["a", "c"], ["a", "a"], labels=["a", "b"])
    assert not (tmp_path / "bad.png").exists()
