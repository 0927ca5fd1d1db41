"""The baselines a seq2seq model is compared with: the translation memory and the identity.

* :class:`TranslationMemory`: for each source, the target of the most similar training
  source (cosine of TF-IDF token 1-2-grams, scikit-learn). It needs no model of order;
  sources that repeat formulas are where it shines.
* :class:`CopySource`: the source itself as the prediction; the floor of any task whose
  sources and targets share their tokens (spelling correction, normalization,
  paraphrase), where a model must learn to change something.

Both answer ``fit(sources, targets) -> self`` and ``predict(sources) -> token lists``.

Example::

    >>> memory = TranslationMemory().fit([["the", "earth"]], [["la", "tierra"]])
    >>> memory.predict([["earth"]])
    [['la', 'tierra']]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["CopySource", "TranslationMemory", "shared_vocabulary"]

Tokens = Sequence[str]


class TranslationMemory:
    """Translate a source by the target of its most similar training source (cosine of
    TF-IDF token 1-2-grams)."""

    def fit(self, sources: Sequence[Tokens], targets: Sequence[Tokens]) -> TranslationMemory:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer=_grams)
        self.matrix = self.vectorizer.fit_transform([list(s) for s in sources])  # (N, F)
        self.targets = [list(t) for t in targets]
        return self

    def predict(self, sources: Sequence[Tokens], batch: int = 512) -> list[list[str]]:
        out: list[list[str]] = []
        for i in range(0, len(sources), batch):
            rows = [list(s) for s in sources[i : i + batch]]
            q = self.vectorizer.transform(rows)  # (b, F), rows L2-normalized
            best = np.asarray((q @ self.matrix.T).argmax(axis=1)).ravel()
            out.extend(self.targets[j] for j in best)
        return out


def _grams(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class CopySource:
    """The identity: predict the source tokens unchanged."""

    def fit(self, sources: Sequence[Tokens] = (), targets: Sequence[Tokens] = ()) -> CopySource:
        return self

    def predict(self, sources: Sequence[Tokens]) -> list[list[str]]:
        return [list(s) for s in sources]


def shared_vocabulary(sources: Sequence[Tokens], targets: Sequence[Tokens],
                      threshold: float = 0.5) -> bool:
    """Whether sources and targets share their tokens: at least ``threshold`` of the target
    tokens (counted with repeats) also occur in the sources."""
    seen = {t for s in sources for t in s}
    total = sum(len(t) for t in targets)
    hits = sum(tok in seen for t in targets for tok in t)
    return total > 0 and hits / total >= threshold
