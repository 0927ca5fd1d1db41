"""Non-sequential baselines for series classification, beside the logistic regression on
summary statistics (:class:`~rnnkit.baselines.text.BagOfFeaturesClassifier`):

* :class:`SummaryForestClassifier`: the same summary statistics of each series
  (:func:`~rnnkit.baselines.text.summary_features`: mean, std, min, max, first, last, slope
  per feature, and the length) with a random forest (scikit-learn), which finds the
  thresholds and interactions a linear model cannot;
* :class:`ResampledNearestNeighbor`: each series resampled to a fixed number of steps by
  linear interpolation over its real length, each feature standardized with the training
  statistics, and the class of the nearest training series (Euclidean distance), the
  classic 1-NN baseline of the UCR/UEA archives.

Both answer ``fit(X, y, lengths=None)``, ``predict_proba``, ``predict`` and ``evaluate`` like
the other classifier baselines, and save as plain JSON (:meth:`to_dict` / :meth:`from_dict`,
no pickle): the forest keeps its small training matrix of summaries and is refitted
identically on load (seeded, one job), the nearest neighbour keeps its resampled training
series.

Example::

    >>> import numpy as np
    >>> X = [np.arange(5.0)[:, None], -np.arange(7.0)[:, None]] * 4
    >>> knn = ResampledNearestNeighbor(steps=8).fit(X, ["up", "down"] * 4)
    >>> knn.predict([np.arange(3.0)[:, None]]).tolist()
    ['up']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.baselines.text import (
    _check_type,
    _field,
    _floats,
    _labels,
    _LogisticBaseline,
    summary_features,
)
from rnnkit.data.examples import as_series_list
from rnnkit.errors import ConfigError, DataError

__all__ = ["ResampledNearestNeighbor", "SummaryForestClassifier", "resample"]


def resample(X: Any, lengths: Any = None, steps: int = 32) -> np.ndarray:
    """Every series linearly interpolated over its real steps to ``steps`` points:
    (N, steps, F). A one-step series is held constant."""
    seqs = as_series_list(X, lengths)
    out = np.empty((len(seqs), steps, seqs[0].shape[1] if seqs else 0))
    grid = np.linspace(0.0, 1.0, steps)
    for i, s in enumerate(seqs):
        if s.shape[0] == 1:
            out[i] = s[0]
            continue
        src = np.linspace(0.0, 1.0, s.shape[0])
        for f in range(s.shape[1]):
            out[i, :, f] = np.interp(grid, src, s[:, f])
    return out


class _SeriesBaseline:
    """Shared evaluate of the series baselines."""

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        raise NotImplementedError

    @property
    def classes_(self) -> list[Any]:
        raise NotImplementedError

    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """The most probable class of every series, (N,)."""
        proba = self.predict_proba(X, lengths=lengths)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(1)]

    #: the metrics of :func:`~rnnkit.metrics.classification_metrics`, as the logistic
    #: baselines compute them (from ``predict_proba`` and ``classes_``)
    evaluate = _LogisticBaseline.evaluate

    def _unfitted(self) -> ConfigError:
        return ConfigError(expected(type(self).__name__, "a fitted baseline",
                                    Described("an unfitted one"), "call fit(X, y) first"))


class SummaryForestClassifier(_SeriesBaseline):
    """Summary statistics of each series + a random forest.

    Args:
        n_estimators: trees.
        seed: the forest's random state (it is refitted identically on load).
    """

    def __init__(self, n_estimators: int = 200, seed: int = 0) -> None:
        self.n_estimators = check_positive_int("n_estimators", n_estimators)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(expected("seed", "an integer", seed))
        self.seed = seed
        self.forest_: Any = None
        self.labels_: list[Any] = []
        self._train: tuple[np.ndarray, list[Any]] | None = None

    def __repr__(self) -> str:
        return f"SummaryForestClassifier(n_estimators={self.n_estimators})"

    def _fit_features(self, feats: np.ndarray, labels: list[Any]) -> Self:
        from sklearn.ensemble import RandomForestClassifier

        # labels of any type as class indices (scikit-learn refuses object arrays of numbers)
        self.labels_ = sorted(set(labels), key=str)
        index = {c: i for i, c in enumerate(self.labels_)}
        self.forest_ = RandomForestClassifier(n_estimators=self.n_estimators,
                                              random_state=self.seed, n_jobs=1)
        self.forest_.fit(feats, np.asarray([index[c] for c in labels]))
        self._train = (feats, list(labels))
        return self

    def fit(self, X: Any, y: Any, *, lengths: Any = None) -> Self:
        feats = summary_features(X, lengths)
        return self._fit_features(feats, _labels(y, len(feats)))

    @property
    def classes_(self) -> list[Any]:
        """The class labels (sorted as text), the columns of :meth:`predict_proba`."""
        if self.forest_ is None:
            raise self._unfitted()
        return list(self.labels_)

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Class probabilities (N, C) (the trees' vote shares); column c is ``classes_[c]``."""
        if self.forest_ is None:
            raise self._unfitted()
        return self.forest_.predict_proba(summary_features(X, lengths))

    def to_dict(self) -> dict[str, Any]:
        """The settings and the training summaries with their labels (the forest is refitted
        from them on load: the same trees, seeded)."""
        if self._train is None:
            raise self._unfitted()
        feats, labels = self._train
        return {"type": "summary_forest",
                "params": {"n_estimators": self.n_estimators, "seed": self.seed},
                "features": feats.tolist(), "labels": list(labels)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SummaryForestClassifier:
        """Rebuild from :meth:`to_dict` by refitting (no pickle)."""
        _check_type(data, "summary_forest")
        params = _field(data, "params")
        out = cls(n_estimators=_field(params, "n_estimators", "data['params']"),
                  seed=_field(params, "seed", "data['params']"))
        feats = _floats(data, "features", "data", 2)
        labels = list(_field(data, "labels"))
        if len(labels) != len(feats):
            raise DataError(expected("data['labels']", f"{len(feats)} labels (one per row)",
                                     len(labels)))
        return out._fit_features(feats, labels)


class ResampledNearestNeighbor(_SeriesBaseline):
    """Series resampled to ``steps`` points, standardized per feature, 1-nearest neighbour.

    Args:
        steps: the common length every series is interpolated to.
    """

    def __init__(self, steps: int = 32) -> None:
        self.steps = check_positive_int("steps", steps)
        self.train_: np.ndarray | None = None  # (N, steps * F), standardized
        self.labels_: list[Any] = []
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"ResampledNearestNeighbor(steps={self.steps})"

    def _flat(self, X: Any, lengths: Any) -> np.ndarray:
        if self.mean_ is None or self.scale_ is None:
            raise self._unfitted()
        r = resample(X, lengths, self.steps)  # (N, steps, F)
        if r.shape[2] != self.mean_.shape[0]:
            raise DataError(expected("X", f"series of {self.mean_.shape[0]} features",
                                     Described(f"{r.shape[2]} features")))
        return ((r - self.mean_) / self.scale_).reshape(len(r), -1)  # (N, steps * F)

    def fit(self, X: Any, y: Any, *, lengths: Any = None) -> Self:
        r = resample(X, lengths, self.steps)
        self.mean_ = r.mean(axis=(0, 1))
        std = r.std(axis=(0, 1))
        self.scale_ = np.where(std > 0, std, 1.0)
        self.train_ = ((r - self.mean_) / self.scale_).reshape(len(r), -1)
        self.labels_ = _labels(y, len(r))
        return self

    @property
    def classes_(self) -> list[Any]:
        if self.train_ is None:
            raise self._unfitted()
        return sorted(set(self.labels_), key=str)

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """One-hot (N, C) on the nearest training series' class (1-NN has no softer vote)."""
        q = self._flat(X, lengths)
        if self.train_ is None:
            raise self._unfitted()
        # squared distances, (N, M), without forming the (N, M, D) differences
        d = (q**2).sum(1)[:, None] - 2 * q @ self.train_.T + (self.train_**2).sum(1)[None]
        nearest = d.argmin(1)
        classes = self.classes_
        index = {c: i for i, c in enumerate(classes)}
        proba = np.zeros((len(q), len(classes)))
        proba[np.arange(len(q)), [index[self.labels_[j]] for j in nearest]] = 1.0
        return proba

    def to_dict(self) -> dict[str, Any]:
        """The settings, the standardization and the resampled training series."""
        if self.train_ is None or self.mean_ is None or self.scale_ is None:
            raise self._unfitted()
        return {"type": "resampled_1nn", "params": {"steps": self.steps},
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                "train": self.train_.tolist(), "labels": list(self.labels_)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResampledNearestNeighbor:
        """Rebuild from :meth:`to_dict` (no fitting, no pickle)."""
        _check_type(data, "resampled_1nn")
        out = cls(steps=_field(_field(data, "params"), "steps", "data['params']"))
        out.mean_ = _floats(data, "mean", "data", 1)
        out.scale_ = _floats(data, "scale", "data", 1)
        out.train_ = _floats(data, "train", "data", 2)
        out.labels_ = list(_field(data, "labels"))
        F = len(out.mean_)
        if (len(out.scale_) != F or out.train_.shape[1] != out.steps * F
                or len(out.labels_) != len(out.train_)):
            raise DataError(expected("data", f"mean and scale of {F} features, train rows of "
                                     f"{out.steps * F} values and one label per row",
                                     Described(f"train {out.train_.shape}, "
                                               f"{len(out.labels_)} labels")))
        return out
