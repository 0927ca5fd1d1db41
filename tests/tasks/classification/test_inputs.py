"""rnnkit.tasks.classification.inputs: a padded array with lengths reads as the list of its
sequences."""

from __future__ import annotations

import numpy as np

from classifier_builders import _clf, _series, _small, _training


def test_padded_array_with_lengths_equals_list_input():
    X, y = _series(40)
    clf = _clf(_small(pooling="max"), _training(epochs=2)).fit(X, y)
    T = max(len(s) for s in X)
    padded = np.zeros((40, T, 2))
    for i, s in enumerate(X):
        padded[i, : len(s)] = s
    lengths = np.array([len(s) for s in X])
    np.testing.assert_allclose(clf.predict_proba(padded, lengths=lengths), clf.predict_proba(X),
                               rtol=0, atol=1e-6)
