r"""Count-based language-model baselines: unigram and bigram, add-k or Witten-Bell smoothed.

A recurrent language model earns its keep only if it beats these. Both work on integer token
ids in [0, V) (the ids a :class:`~rnnkit.data.text.Vocabulary` gives), so they are scored on
exactly the tokens the neural model sees. Symbols: c(w) the count of token w, c(v, w) the
count of the pair "v then w", c(v·) = Σ_w c(v, w) the number of pairs starting with v,
N the number of tokens, V the vocabulary size, k the smoothing constant:

=====================  =================================================
unigram                P(w)     = (c(w) + k) / (N + kV)
bigram, add-k          P(w | v) = (c(v, w) + k) / (c(v·) + kV)
bigram, Witten-Bell    P(w | v) = (c(v, w) + T(v) P(w)) / (c(v·) + T(v))
=====================  =================================================

T(v) is the number of distinct tokens seen after v: Witten-Bell smoothing (Witten & Bell
1991; the "interpolated" form of Chen & Goodman 1998) gives the unigram as much weight as v
has had new continuations, with no constant to tune, and falls back to the unigram for a
context never seen. Add-k spreads k counts over all V continuations of every context; with a
word vocabulary (V in the tens of thousands) add-1 puts most of the mass on unseen pairs and
can score worse than the unigram, so word-level comparisons should use
``smoothing="witten_bell"``.

Pairs are counted inside each training sequence (a stream is one sequence). The bigram model
scores the first token of a sequence with the unigram distribution, unless ``context`` gives
the token before it. ``cross_entropy`` is in nats per token; bits per token is that over
ln 2 (for a character vocabulary, bits per character).

Example:
    >>> lm = BigramLM(k=1.0).fit([[4, 5, 4, 5, 4]], vocab_size=6)
    >>> round(lm.prob(5, prev=4), 4)   # (c(4,5) + 1) / (c(4·) + 6) = (2 + 1) / (2 + 6)
    0.375
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Self

import numpy as np

from rnnkit._validation import check_positive_int, expected
from rnnkit.errors import ConfigError, DataError

__all__ = ["BigramLM", "UnigramLM", "evaluate_lm_baselines"]

Ids = Sequence[int] | np.ndarray


def _as_sequences(name: str, data: Any) -> list[np.ndarray]:
    """One id array or a list of id sequences -> list of int64 arrays."""
    if isinstance(data, np.ndarray) and data.ndim == 1:
        return [data.astype(np.int64)]
    if hasattr(data, "tolist") and not isinstance(data, np.ndarray):  # torch tensors
        data = data.tolist()
    if isinstance(data, str):
        raise DataError(expected(name, "token ids", "a str", "encode the text with a Vocabulary"))
    items = list(data)
    if items and all(isinstance(i, (int, np.integer)) for i in items):
        return [np.asarray(items, dtype=np.int64)]
    return [np.asarray(list(s), dtype=np.int64) for s in items]


def _check_ids(name: str, seqs: list[np.ndarray], vocab_size: int) -> None:
    for s in seqs:
        if s.size and (int(s.min()) < 0 or int(s.max()) >= vocab_size):
            raise DataError(expected(name, f"ids in [0, {vocab_size})",
                                     (int(s.min()), int(s.max())), "pass vocab_size=len(vocab)"))


def _check_k(k: Any) -> float:
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not k > 0 or math.isinf(k):
        raise ConfigError(expected("k", "a finite number > 0 (add-k smoothing)", k))
    return float(k)


class _CountLM:
    """Shared evaluation: :meth:`log_probs` of every token, then averages."""

    def __init__(self, k: float = 1.0) -> None:
        self.k = _check_k(k)
        self.vocab_size: int | None = None

    def _fitted(self) -> int:
        if self.vocab_size is None:
            raise ConfigError(expected(type(self).__name__, "a fitted model", "an unfitted one",
                                       "call .fit(ids, vocab_size=...) first"))
        return self.vocab_size

    def log_probs(self, ids: Ids, context: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def cross_entropy(self, data: Ids | Iterable[Ids]) -> float:
        """Mean negative log-likelihood in nats per token over one or many sequences."""
        seqs = _as_sequences("data", data)
        _check_ids("data", seqs, self._fitted())
        total = sum(-float(self.log_probs(s).sum()) for s in seqs)
        n = sum(len(s) for s in seqs)
        if n == 0:
            raise DataError(expected("data", "at least one token", "none"))
        return total / n

    def evaluate(self, data: Ids | Iterable[Ids]) -> dict[str, float]:
        """``{"loss": nats/token, "perplexity": exp(loss), "bits_per_token": loss / ln 2}``."""
        ce = self.cross_entropy(data)
        return {"loss": ce, "perplexity": math.exp(ce), "bits_per_token": ce / math.log(2.0)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})" if self.k != 1.0 else f"{type(self).__name__}()"


class UnigramLM(_CountLM):
    """P(w) = (c(w) + k) / (N + kV): every token independent of its context."""

    def fit(self, data: Ids | Iterable[Ids], vocab_size: int) -> Self:
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        seqs = _as_sequences("data", data)
        _check_ids("data", seqs, vocab_size)
        counts = np.zeros(vocab_size, dtype=np.float64)
        for s in seqs:
            counts += np.bincount(s, minlength=vocab_size)
        self.counts = counts  # (V,)
        self.total = float(counts.sum())
        return self

    def probabilities(self) -> np.ndarray:
        """The distribution over the V ids, (V,)."""
        V = self._fitted()
        return (self.counts + self.k) / (self.total + self.k * V)

    def prob(self, token: int) -> float:
        return float(self.probabilities()[token])

    def log_probs(self, ids: Ids, context: int | None = None) -> np.ndarray:
        """log P of each token of ``ids`` (``context`` is ignored)."""
        ids = np.asarray(ids, dtype=np.int64)
        return np.log(self.probabilities())[ids]


class BigramLM(_CountLM):
    """P(w | v) with add-k (``smoothing="add_k"``) or Witten-Bell (``"witten_bell"``)
    smoothing (formulas in the module doc), pairs counted within each sequence; the unigram
    P(w) it falls back on is add-k smoothed.

    Counts are stored sparsely (one int64 key v·V + w per distinct pair), so a word-level
    vocabulary of tens of thousands of ids costs memory in the number of distinct pairs.
    """

    def __init__(self, k: float = 1.0, smoothing: str = "add_k") -> None:
        super().__init__(k)
        if smoothing not in ("add_k", "witten_bell"):
            raise ConfigError(expected("smoothing", "'add_k' or 'witten_bell'", smoothing))
        self.smoothing = smoothing

    def __repr__(self) -> str:
        extra = f", smoothing={self.smoothing!r}" if self.smoothing != "add_k" else ""
        return f"BigramLM(k={self.k}{extra})"

    def _conditional(self, pair_counts: np.ndarray, prev: np.ndarray,
                     nxt: np.ndarray) -> np.ndarray:
        """P(nxt | prev) element-wise from the pair counts c(prev, nxt)."""
        V = self._fitted()
        c = self.context_counts[prev]
        if self.smoothing == "add_k":
            return (pair_counts + self.k) / (c + self.k * V)
        T = self.types_after[prev]
        uni = self.unigram.probabilities()[nxt]
        seen = c > 0
        return np.where(seen, (pair_counts + T * uni) / np.where(seen, c + T, 1.0), uni)

    def fit(self, data: Ids | Iterable[Ids], vocab_size: int) -> Self:
        V = self.vocab_size = check_positive_int("vocab_size", vocab_size)
        seqs = _as_sequences("data", data)
        _check_ids("data", seqs, V)
        self.unigram = UnigramLM(self.k).fit(seqs, V)
        keys = [s[:-1] * V + s[1:] for s in seqs if len(s) > 1]
        flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        self.pair_keys, pair_counts = np.unique(flat, return_counts=True)  # sorted keys
        self.pair_counts = pair_counts.astype(np.float64)
        self.context_counts = np.bincount(self.pair_keys // V, weights=self.pair_counts,
                                          minlength=V)  # c(v·), (V,)
        self.types_after = np.bincount(self.pair_keys // V, minlength=V).astype(np.float64)  # T(v)
        return self

    def _pair_count(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """c(prev, nxt) element-wise, by binary search in the sorted pair keys."""
        key = prev * self._fitted() + nxt
        if len(self.pair_keys) == 0:
            return np.zeros(key.shape, dtype=np.float64)
        pos = np.minimum(np.searchsorted(self.pair_keys, key), len(self.pair_keys) - 1)
        return np.where(self.pair_keys[pos] == key, self.pair_counts[pos], 0.0)

    def probabilities(self, prev: int) -> np.ndarray:
        """The distribution P(· | prev) over the V ids, (V,)."""
        V = self._fitted()
        nxt = np.arange(V, dtype=np.int64)
        ctx = np.full(V, prev, dtype=np.int64)
        return self._conditional(self._pair_count(ctx, nxt), ctx, nxt)

    def prob(self, token: int, prev: int) -> float:
        return float(self.probabilities(prev)[token])

    def log_probs(self, ids: Ids, context: int | None = None) -> np.ndarray:
        """log P of each token of ``ids``: the first given ``context`` (unigram if None)."""
        self._fitted()
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty(len(ids), dtype=np.float64)
        if len(ids) == 0:
            return out
        prev, nxt = ids[:-1], ids[1:]
        out[1:] = np.log(self._conditional(self._pair_count(prev, nxt), prev, nxt))
        if context is None:
            out[0] = self.unigram.log_probs(ids[:1])[0]
        else:
            ctx = np.array([context], dtype=np.int64)
            out[0] = math.log(self._conditional(self._pair_count(ctx, ids[:1]), ctx,
                                                ids[:1])[0])
        return out


def evaluate_lm_baselines(train: Ids | Iterable[Ids], test: Ids | Iterable[Ids],
                          vocab_size: int, k: float = 1.0, smoothing: str = "add_k"
                          ) -> dict[str, dict[str, float]]:
    """Fit both baselines on ``train`` and evaluate them on ``test``:
    ``{"unigram": {...}, "bigram": {...}}`` with the keys of :meth:`UnigramLM.evaluate`;
    ``smoothing`` is the bigram's."""
    return {
        "unigram": UnigramLM(k).fit(train, vocab_size).evaluate(test),
        "bigram": BigramLM(k, smoothing).fit(train, vocab_size).evaluate(test),
    }
