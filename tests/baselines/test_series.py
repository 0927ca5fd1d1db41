from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

from rnnkit.baselines.series import ResampledNearestNeighbor, SummaryForestClassifier, resample
from rnnkit.baselines.text import summary_features
from rnnkit.errors import ConfigError, DataError


def series(n=60, seed=0):
    """Two-feature series of 4..15 steps; the class sets the first feature's trend."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        c = int(rng.integers(0, 3))
        t = np.arange(int(rng.integers(4, 16)), dtype=float)
        X.append(np.stack([(c - 1) * t + rng.normal(0, 0.5, t.size),
                           rng.normal(0, 1, t.size)], axis=1))
        y.append(["down", "flat", "up"][c])
    return X, y


def test_resampling_keeps_a_line_a_line():
    line = np.arange(5.0)[:, None] * 2 + 1  # 1, 3, ..., 9 over 5 steps
    out = resample([line, np.array([[4.0]])], steps=9)
    np.testing.assert_allclose(out[0, :, 0], np.linspace(1, 9, 9))
    np.testing.assert_array_equal(out[1, :, 0], 4.0)  # one step: held constant
    padded = np.zeros((1, 8, 1))
    padded[0, :5] = line
    np.testing.assert_allclose(resample(padded, lengths=[5], steps=9)[0], out[0])


def test_nearest_neighbor_equals_scikit_learn():
    X, y = series()
    Xt, yt = series(30, seed=1)
    knn = ResampledNearestNeighbor(steps=16).fit(X, y)
    r = resample(X, steps=16)
    mean, std = r.mean(axis=(0, 1)), r.std(axis=(0, 1))
    flat = lambda a: ((resample(a, steps=16) - mean) / std).reshape(len(a), -1)  # noqa: E731
    ref = KNeighborsClassifier(n_neighbors=1).fit(flat(X), y)
    assert knn.predict(Xt).tolist() == ref.predict(flat(Xt)).tolist()
    assert knn.evaluate(Xt, yt)["accuracy"] == pytest.approx(np.mean(ref.predict(flat(Xt)) == yt))
    back = ResampledNearestNeighbor.from_dict(json.loads(json.dumps(knn.to_dict())))
    np.testing.assert_array_equal(back.predict_proba(Xt), knn.predict_proba(Xt))


def test_forest_equals_scikit_learn_and_reloads_identically():
    X, y = series()
    Xt, _ = series(30, seed=1)
    forest = SummaryForestClassifier(n_estimators=25, seed=3).fit(X, y)
    ref = RandomForestClassifier(n_estimators=25, random_state=3).fit(summary_features(X), y)
    np.testing.assert_allclose(forest.predict_proba(Xt), ref.predict_proba(summary_features(Xt)))
    back = SummaryForestClassifier.from_dict(json.loads(json.dumps(forest.to_dict())))
    np.testing.assert_array_equal(back.predict_proba(Xt), forest.predict_proba(Xt))
    assert back.classes_ == ["down", "flat", "up"]


def test_misuse_is_named():
    X, y = series(10)
    with pytest.raises(ConfigError, match="ResampledNearestNeighbor: expected a fitted baseline"):
        ResampledNearestNeighbor().predict(X)
    with pytest.raises(ConfigError, match="SummaryForestClassifier: expected a fitted baseline"):
        SummaryForestClassifier().to_dict()
    with pytest.raises(ConfigError, match="steps: expected"):
        ResampledNearestNeighbor(steps=0)
    knn = ResampledNearestNeighbor(steps=4).fit(X, y)
    with pytest.raises(DataError, match="X: expected series of 2 features, got 3 features"):
        knn.predict([np.zeros((5, 3))])
    broken = {**knn.to_dict(), "labels": ["up"]}
    with pytest.raises(DataError, match="one label per row"):
        ResampledNearestNeighbor.from_dict(broken)


def test_a_numeric_classifier_reports_and_saves_every_series_baseline(tmp_path):
    from rnnkit.tasks.classification import SequenceClassifier

    X, y = series(48)
    Xt, yt = series(24, seed=2)
    task = SequenceClassifier({"model": {"embedding_dim": 4, "encoder": {"hidden_size": 4}},
                               "training": {"epochs": 1, "progress": "off", "seed": 0}})
    report = task.fit(X, y).evaluate(Xt, yt)
    assert {"bag_of_features", "summary_forest", "nearest_neighbor"} <= set(report.baselines)
    knn = ResampledNearestNeighbor().fit(X, y)
    assert report.baselines["nearest_neighbor"]["accuracy"] == pytest.approx(
        knn.evaluate(Xt, yt)["accuracy"])
    task.save(tmp_path / "m")
    again = SequenceClassifier.load(tmp_path / "m").evaluate(Xt, yt)
    for name in ("summary_forest", "nearest_neighbor"):
        assert again.baselines[name] == pytest.approx(report.baselines[name])
