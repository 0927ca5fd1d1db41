"""A text as the Trainer's training data: B parallel streams of token ids, one slice of
every stream per Trainer epoch (:class:`Slices`), the History's stream columns
(:class:`StreamColumns`), and the n-gram counts the baselines are built from
(:class:`NgramCounts`)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset

from rnnkit._validation import expected
from rnnkit.baselines.language_model import BigramLM, UnigramLM
from rnnkit.errors import DataError
from rnnkit.training import Callback

__all__ = ["NgramCounts", "Slices", "StreamColumns", "streams"]


def streams(ids: torch.Tensor, rows: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A 1-D id stream -> inputs (R, L) and next-token targets (R, L): R = ``rows`` parallel
    streams (fewer for a short text), each a contiguous stretch of the text."""
    n = ids.numel()
    R = max(1, min(rows, (n - 1) // 2))
    L = (n - 1) // R
    if L < 1:
        raise DataError(expected(name, "at least 2 tokens", n))
    x = ids[: R * L].view(R, L)  # (R, L)
    y = ids[1 : R * L + 1].view(R, L)  # (R, L): the next token of each
    return x, y


class Slices(IterableDataset):  # type: ignore[type-arg]
    """The training streams, one slice per Trainer epoch: iterating yields the next slice
    ``(x (B, chunk, 1), y (B, chunk))`` of every stream, cycling through the text."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, chunk: int) -> None:
        self.x, self.y, self.chunk = x, y, chunk
        self.starts = list(range(0, x.shape[1], chunk))
        self.served = 0  # slices handed out so far

    def __len__(self) -> int:  # batches per epoch, for the progress display
        return 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        s = self.starts[self.served % len(self.starts)]
        self.served += 1
        yield self.x[:, s : s + self.chunk].unsqueeze(-1), self.y[:, s : s + self.chunk]


class StreamColumns(Callback):
    """Adds the stream's columns to each History row: ``bits_per_token`` (and
    ``val_bits_per_token``), ``tokens`` seen so far, ``passes`` over the text and
    ``elapsed`` seconds since ``fit`` began."""

    def __init__(self, slices: Slices) -> None:
        self.slices = slices
        self.tokens = 0
        self.t0 = time.perf_counter()

    def on_fit_begin(self, trainer: Any, **context: Any) -> None:
        self.tokens, self.t0 = 0, time.perf_counter()

    def on_epoch_end(self, trainer: Any, **context: Any) -> None:
        logs, sl = context["logs"], self.slices
        s = sl.starts[(sl.served - 1) % len(sl.starts)]
        self.tokens += int(sl.y[:, s : s + sl.chunk].numel())
        record = trainer.history.record
        record("bits_per_token", logs["loss"] / math.log(2))
        if "val_loss" in logs:
            record("val_bits_per_token", logs["val_loss"] / math.log(2))
        record("tokens", self.tokens)
        record("passes", sl.served / len(sl.starts))
        record("elapsed", time.perf_counter() - self.t0)


class NgramCounts:
    """The unigram and bigram counts of the training tokens, from which the baselines of
    :meth:`LanguageModel.evaluate` are built with any smoothing (saved in the bundle)."""

    def __init__(self, vocab_size: int, unigram: np.ndarray, pair_keys: np.ndarray,
                 pair_counts: np.ndarray) -> None:
        self.vocab_size = vocab_size
        self.unigram = unigram  # (V,) c(w)
        self.pair_keys = pair_keys  # (P,) v * V + w, sorted
        self.pair_counts = pair_counts  # (P,) c(v, w)

    @classmethod
    def count(cls, ids: np.ndarray, vocab_size: int) -> NgramCounts:
        keys, counts = np.unique(ids[:-1] * vocab_size + ids[1:], return_counts=True)
        return cls(vocab_size, np.bincount(ids, minlength=vocab_size), keys, counts)

    def to_dict(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "unigram": self.unigram.tolist(),
                "pair_keys": self.pair_keys.tolist(), "pair_counts": self.pair_counts.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NgramCounts:
        return cls(int(data["vocab_size"]), np.asarray(data["unigram"], dtype=np.int64),
                   np.asarray(data["pair_keys"], dtype=np.int64),
                   np.asarray(data["pair_counts"], dtype=np.int64))

    def unigram_lm(self, k: float) -> UnigramLM:
        lm = UnigramLM(k)
        lm.vocab_size = self.vocab_size
        lm.counts = self.unigram.astype(np.float64)
        lm.total = float(lm.counts.sum())
        return lm

    def bigram_lm(self, k: float, smoothing: str) -> BigramLM:
        """A :class:`BigramLM` in the state its ``fit`` leaves (the same fields, from the
        saved counts rather than the tokens)."""
        V = self.vocab_size
        lm = BigramLM(k, smoothing)
        lm.vocab_size = V
        lm.unigram = self.unigram_lm(k)
        lm.pair_keys = self.pair_keys
        lm.pair_counts = self.pair_counts.astype(np.float64)
        lm.context_counts = np.bincount(self.pair_keys // V, weights=lm.pair_counts,
                                        minlength=V)
        lm.types_after = np.bincount(self.pair_keys // V, minlength=V).astype(np.float64)
        return lm
