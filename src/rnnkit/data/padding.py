"""Variable-length sequences to rectangular batches: padding, masks and length bucketing.

Symbols: ``B`` batch size, ``T`` padded length (the longest kept sequence, or ``maxlen``),
``F`` trailing feature size of tensor inputs.

* :func:`pad_sequences` pads/truncates id lists (or ``(T_i, *F)`` tensors) into one tensor
  and returns the kept lengths, with Keras' meaning of ``padding`` and ``truncating``.
* :func:`lengths_to_mask` turns those lengths into a ``(B, T)`` boolean mask.
* :class:`BucketSampler` yields batches of indices whose sequences have similar lengths,
  so each batch needs little padding; :func:`padding_stats` measures how much it saves.

Example::

    >>> x, lengths = pad_sequences([[5, 6, 7], [8]])
    >>> x
    tensor([[5, 6, 7],
            [8, 0, 0]])
    >>> lengths_to_mask(lengths)
    tensor([[ True,  True,  True],
            [ True, False, False]])
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Sampler

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "BucketSampler",
    "PaddingStats",
    "lengths_to_mask",
    "pad_sequences",
    "padding_stats",
]

_SIDES = ("post", "pre")


def _as_tensor(i: int, seq: Any) -> torch.Tensor:
    if isinstance(seq, torch.Tensor):
        if seq.dim() == 0:
            raise ShapeError(expected(f"sequences[{i}]", "a tensor with a time dimension",
                                      "a 0-D tensor"))
        return seq
    if isinstance(seq, str | bytes):
        raise DataError(expected(f"sequences[{i}]", "a sequence of integer ids", "a str",
                                 "encode the text first (Vocabulary.encode)"))
    try:
        items = list(seq)
        t = torch.as_tensor(items) if items else torch.zeros(0, dtype=torch.long)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(expected(f"sequences[{i}]", "a sequence of integers",
                                 type(seq).__name__, str(exc))) from exc
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise DataError(expected(f"sequences[{i}]", "integer ids", f"values of dtype {t.dtype}",
                                 "pass tensors to pad real-valued sequences"))
    t = t.long()
    if t.dim() != 1:
        raise ShapeError(expected(f"sequences[{i}]", "a flat sequence of integers",
                                  f"shape {tuple(t.shape)}"))
    return t


def pad_sequences(
    sequences: Iterable[Sequence[int] | torch.Tensor],
    maxlen: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    value: float = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad (and truncate) sequences to one length; return the batch and the kept lengths.

    The meaning of the options is Keras' ``pad_sequences``: ``padding="pre"`` puts the pad
    values before the sequence, ``truncating="pre"`` drops steps from the beginning of a
    sequence longer than ``maxlen``. The *defaults* differ from Keras ("pre", "pre"): rnnkit
    passes ``lengths`` to its recurrent layers, so post-padding costs nothing and is what
    ``torch.nn.utils.rnn.pack_padded_sequence`` expects; truncating at the end keeps each
    sequence's beginning.

    Args:
        sequences: ``B`` lists of integer ids, or ``B`` tensors of shape ``(T_i, *F)``.
        maxlen: output length ``T``; ``None`` means the longest sequence.
        padding: ``"post"`` or ``"pre"``.
        truncating: ``"post"`` or ``"pre"``.
        value: the pad value (``PAD_ID`` = 0 for token ids).

    Returns:
        ``(x, lengths)``: ``x`` of shape ``(B, T)`` (``torch.long`` for id lists) or
        ``(B, T, *F)`` (the tensors' dtype), and ``lengths`` of shape ``(B,)``,
        ``torch.long``: each sequence's length after truncation.
    """
    check_choice("padding", padding, _SIDES)
    check_choice("truncating", truncating, _SIDES)
    if maxlen is not None:
        check_positive_int("maxlen", maxlen)
    if isinstance(sequences, str | bytes):
        raise DataError(expected("sequences", "a list of sequences", "a str",
                                 "tokenize and encode the text first"))
    seqs = [_as_tensor(i, s) for i, s in enumerate(sequences)]
    if not seqs:
        raise DataError(expected("sequences", "at least one sequence", "none"))
    feat = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.shape[1:] != feat:
            raise ShapeError(expected(f"sequences[{i}]", f"trailing shape {tuple(feat)} "
                                      "like sequences[0]", f"{tuple(s.shape[1:])}"))
    dtype = functools.reduce(torch.promote_types, (s.dtype for s in seqs))
    if not (dtype.is_floating_point or dtype.is_complex) and float(value) != int(value):
        raise ConfigError(expected("value", f"an integer pad value for {dtype} sequences", value))
    T = max(len(s) for s in seqs) if maxlen is None else maxlen
    B = len(seqs)
    out = torch.full((B, T, *feat), value, dtype=dtype)  # (B, T, *F)
    lengths = torch.empty(B, dtype=torch.long)
    for b, s in enumerate(seqs):
        if len(s) > T:
            s = s[-T:] if truncating == "pre" else s[:T]
        n = len(s)
        lengths[b] = n
        if n == 0:
            continue
        if padding == "post":
            out[b, :n] = s
        else:
            out[b, T - n:] = s
    return out, lengths


def lengths_to_mask(
    lengths: torch.Tensor | Sequence[int],
    maxlen: int | None = None,
    padding: str = "post",
) -> torch.Tensor:
    """Boolean mask ``(B, T)``, ``True`` at real steps, from ``lengths`` ``(B,)``.

    Args:
        lengths: kept lengths, e.g. the second output of :func:`pad_sequences`.
        maxlen: ``T``; ``None`` means ``max(lengths)``.
        padding: where the pad steps are, as in :func:`pad_sequences` (``"pre"`` gives a
            right-aligned mask).
    """
    check_choice("padding", padding, _SIDES)
    lens = lengths if isinstance(lengths, torch.Tensor) else torch.as_tensor(lengths)
    if lens.dim() != 1 or lens.is_floating_point() or lens.dtype == torch.bool:
        raise ShapeError(expected("lengths", "a 1-D integer tensor (B,)",
                                  f"{lens.dim()}-D {lens.dtype}"))
    lens = lens.long()
    if lens.numel() and int(lens.min()) < 0:
        raise DataError(expected("lengths", "non-negative lengths", int(lens.min())))
    longest = int(lens.max()) if lens.numel() else 0
    T = longest if maxlen is None else maxlen
    if maxlen is not None:
        check_positive_int("maxlen", maxlen)
        if longest > maxlen:
            raise DataError(expected("lengths", f"lengths <= maxlen={maxlen}", longest))
    steps = torch.arange(T, device=lens.device)  # (T,)
    if padding == "post":
        return steps.unsqueeze(0) < lens.unsqueeze(1)  # (B, T)
    return steps.unsqueeze(0) >= (T - lens).unsqueeze(1)  # (B, T)


def _check_lengths(lengths: Sequence[int] | torch.Tensor) -> list[int]:
    if isinstance(lengths, torch.Tensor):
        if lengths.dim() != 1 or lengths.is_floating_point():
            raise ShapeError(expected("lengths", "a 1-D integer tensor",
                                      f"{lengths.dim()}-D {lengths.dtype}"))
        out = [int(v) for v in lengths.tolist()]
    else:
        out = []
        for i, v in enumerate(lengths):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise DataError(expected(f"lengths[{i}]", "an integer", v))
            out.append(int(v))
    if out and min(out) < 0:
        raise DataError(expected("lengths", "non-negative lengths", min(out)))
    return out


class BucketSampler(Sampler[list[int]]):
    """Batches of indices grouping sequences of similar length (a ``batch_sampler``).

    Each epoch (with ``shuffle=True``): shuffle all indices, cut them into pools of
    ``bucket_size`` indices, sort each pool by length, cut the concatenation into batches of
    ``batch_size`` and shuffle the order of the batches. Sorting inside pools (instead of
    globally) keeps batch composition random across epochs while neighbours in a pool have
    close lengths. With ``shuffle=False`` all indices are sorted by length once (stable) and
    batches come out shortest first, the same every epoch.

    The random stream comes from a generator seeded with ``seed`` once: two samplers with the
    same arguments yield the same sequence of epochs.

    Args:
        lengths: length of every sequence of the dataset, ``(N,)``.
        batch_size: indices per batch.
        bucket_size: pool size; default ``50 * batch_size``. ``bucket_size=batch_size``
            sorts within each batch only (no saving); ``bucket_size >= N`` sorts globally.
        shuffle: shuffle pools and batch order each epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        seed: seed of the sampler's own generator.

    Example::

        >>> from torch.utils.data import DataLoader
        >>> sampler = BucketSampler([3, 9, 4, 8], batch_size=2, seed=0)
        >>> sorted(sorted(b) for b in sampler)
        [[0, 2], [1, 3]]
        >>> # DataLoader(dataset, batch_sampler=sampler, collate_fn=...)
    """

    def __init__(
        self,
        lengths: Sequence[int] | torch.Tensor,
        batch_size: int,
        *,
        bucket_size: int | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int = 0,
    ) -> None:
        self.lengths = _check_lengths(lengths)
        if not self.lengths:
            raise DataError(expected("lengths", "at least one length", "an empty sequence"))
        self.batch_size = check_positive_int("batch_size", batch_size)
        if bucket_size is None:
            bucket_size = 50 * batch_size
        self.bucket_size = check_positive_int("bucket_size", bucket_size)
        if self.bucket_size < self.batch_size:
            raise ConfigError(expected("bucket_size", f"an integer >= batch_size={batch_size}",
                                       bucket_size))
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self._generator = torch.Generator().manual_seed(self.seed)

    def _order(self) -> list[int]:
        n = len(self.lengths)
        if not self.shuffle:
            return sorted(range(n), key=self.lengths.__getitem__)
        perm = torch.randperm(n, generator=self._generator).tolist()
        order: list[int] = []
        for start in range(0, n, self.bucket_size):
            pool = perm[start:start + self.bucket_size]
            order.extend(sorted(pool, key=self.lengths.__getitem__))
        return order

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle:
            perm = torch.randperm(len(batches), generator=self._generator).tolist()
            batches = [batches[p] for p in perm]
        yield from batches

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __repr__(self) -> str:
        args = [f"n={len(self.lengths)}", f"batch_size={self.batch_size}"]
        if self.bucket_size != 50 * self.batch_size:
            args.append(f"bucket_size={self.bucket_size}")
        if not self.shuffle:
            args.append("shuffle=False")
        if self.drop_last:
            args.append("drop_last=True")
        if self.seed:
            args.append(f"seed={self.seed}")
        return f"BucketSampler({', '.join(args)})"


@dataclass(frozen=True)
class PaddingStats:
    """How much of a set of padded batches is padding.

    Attributes:
        n_batches: number of batches.
        real: real (non-pad) positions over all batches.
        total: positions after padding each batch to its longest sequence.
        padded_fraction: ``(total - real) / total`` for the given batches.
        baseline_padded_fraction: the same for random batches of the same sizes (what an
            ordinary shuffled ``DataLoader`` pads), i.e. *without* bucketing.
    """

    n_batches: int
    real: int
    total: int
    padded_fraction: float
    baseline_padded_fraction: float

    @property
    def saving(self) -> float:
        """``baseline_padded_fraction - padded_fraction``: padding removed by the batching."""
        return self.baseline_padded_fraction - self.padded_fraction


def _padded(lengths: list[int], batches: Sequence[Sequence[int]]) -> tuple[int, int]:
    real = total = 0
    for batch in batches:
        lens = [lengths[i] for i in batch]
        if lens:
            real += sum(lens)
            total += max(lens) * len(lens)
    return real, total


def padding_stats(
    lengths: Sequence[int] | torch.Tensor,
    batches: Iterator[Sequence[int]] | Sequence[Sequence[int]] | Sampler[list[int]],
    *,
    seed: int = 0,
) -> PaddingStats:
    """Fraction of padded positions in ``batches``, and in random batches of the same sizes.

    Each batch is padded to its own longest sequence. The baseline shuffles all indices with
    ``seed`` and cuts them into batches of the same sizes, which is what batching without
    bucketing pads.

    Args:
        lengths: length of every sequence, ``(N,)``.
        batches: batches of indices into ``lengths`` (a list, or a sampler such as
            :class:`BucketSampler`, iterated once).
        seed: seed of the baseline's shuffle.

    Example::

        >>> lengths = [1, 9, 1, 9]
        >>> padding_stats(lengths, [[0, 2], [1, 3]]).padded_fraction
        0.0
    """
    lens = _check_lengths(lengths)
    batch_list = [list(b) for b in batches]
    n = len(lens)
    for k, batch in enumerate(batch_list):
        for i in batch:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise DataError(expected(f"batches[{k}]", f"indices in [0, {n})", i))
    real, total = _padded(lens, batch_list)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    baseline: list[list[int]] = []
    start = 0
    for batch in batch_list:
        idx = [perm[(start + j) % n] for j in range(len(batch))]
        baseline.append(idx)
        start += len(batch)
    b_real, b_total = _padded(lens, baseline)
    return PaddingStats(
        n_batches=len(batch_list),
        real=real,
        total=total,
        padded_fraction=(total - real) / total if total else 0.0,
        baseline_padded_fraction=(b_total - b_real) / b_total if b_total else 0.0,
    )
