"""Helpers the sequence tasks share (classification, tagging, seq2seq): DataLoaders whose
batches are cut to their longest row, evaluation in length order, and seeded train /
validation splits. (Their inputs are validated by :mod:`rnnkit.data.examples`.)

Symbols: N samples, B batch, T padded steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from rnnkit._validation import expected
from rnnkit.data.padding import BucketSampler
from rnnkit.errors import ConfigError, DataError
from rnnkit.training import TrainerConfig

__all__ = [
    "cut_collate",
    "eval_batch_size",
    "make_loader",
    "run_in_length_order",
    "split_validation",
]


def cut_collate(batch: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    """Stack ``(x, y, lengths, span)`` rows, cut every (B, T, ...) tensor to the batch's
    longest span and return ``(x, y, lengths)``."""
    *cols, span = (torch.stack(c) for c in zip(*batch))
    t_max = int(span.max())
    return tuple(c[:, :t_max] if c.dim() >= 2 else c for c in cols)


def make_loader(x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor, batch_size: int, *,
                shuffle: bool, bucket: bool, seed: int,
                span: torch.Tensor | None = None) -> DataLoader[Any]:
    """A DataLoader of ``(x, y, lengths)`` batches cut to their longest sequence.

    ``span`` (N,) is how many steps each row needs (default ``lengths``; a seq2seq pair needs
    max(source, target) steps): batches are cut to, and bucketed by, it. ``bucket=True``
    groups similar spans (:class:`BucketSampler`, seeded); otherwise batches are random
    (``shuffle``) or in order.
    """
    span = lengths if span is None else span
    data = TensorDataset(x, y, lengths, span)
    if bucket:
        sampler = BucketSampler(span, batch_size, shuffle=shuffle, seed=seed)
        return DataLoader(data, batch_sampler=sampler, collate_fn=cut_collate)
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, collate_fn=cut_collate,
                      generator=gen if shuffle else None)


def run_in_length_order(fn: Callable[[torch.Tensor, torch.Tensor], Any], x: torch.Tensor,
                        lengths: torch.Tensor, batch_size: int) -> list[Any]:
    """Call ``fn(x_batch, lengths_batch)`` on batches of similar length (sorted, cut to their
    longest row) and return the per-row results in the original order.

    ``fn`` returns a tensor whose first dimension is the batch (its rows are collected).
    """
    order = torch.argsort(lengths, stable=True)
    out: list[Any] = [None] * len(order)
    for idx in order.split(batch_size):
        lb = lengths[idx]
        res = fn(x[idx][:, : int(lb.max())], lb)
        for row, i in zip(res, idx.tolist()):
            out[i] = row
    return out


def split_validation(n: int, fraction: float, seed: int, stratify: Sequence[Any] | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Random (train, validation) index arrays; per-class when ``stratify`` labels are given,
    so every class keeps its share."""
    if isinstance(fraction, bool) or not isinstance(fraction, float) or not 0.0 < fraction < 1.0:
        raise ConfigError(expected("validation", "a fraction in (0, 1), a (X, y) tuple or None",
                                   fraction))
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        k = max(1, round(n * fraction))
        return np.sort(perm[k:]), np.sort(perm[:k])
    labels = np.asarray([str(v) for v in stratify])
    val: list[np.ndarray] = []
    for c in sorted(set(labels.tolist())):
        idx = rng.permutation(np.flatnonzero(labels == c))
        val.append(idx[: round(len(idx) * fraction)])
    v = np.sort(np.concatenate(val))
    if v.size == 0:
        raise DataError(expected("validation", f"a fraction that leaves some of the {n} "
                                 "samples for validation", fraction))
    return np.setdiff1d(np.arange(n), v), v


def eval_batch_size(cfg: TrainerConfig) -> int:
    """The evaluation batch size the Trainer uses too."""
    return cfg.eval_batch_size or max(cfg.batch_size, 256)
