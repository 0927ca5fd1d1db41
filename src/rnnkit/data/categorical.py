"""Categorical steps (a sequence of weekdays, event types, ...) as ids and one-hot vectors.

They use the text machinery: :func:`integer_encode` maps them to ids with a
:class:`~rnnkit.data.vocabulary.Vocabulary`, :func:`one_hot` to vectors, with padded steps
as all-zero vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.data.vocabulary import PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError

__all__ = ["integer_encode", "one_hot"]


def integer_encode(sequences: Iterable[Iterable[Any]], vocab: Vocabulary) -> list[list[int]]:
    """Map each categorical step to its id in ``vocab`` (values are looked up as ``str``).

    Build ``vocab`` with ``Vocabulary.build([[str(v) for v in seq] for seq in train])``;
    unseen categories become ``<unk>``.

    Example::

        >>> days = [["mon", "tue"], ["sun"]]
        >>> integer_encode(days, Vocabulary.build(days))
        [[4, 6], [5]]
    """
    return [vocab.encode([str(v) for v in seq]) for seq in sequences]


def one_hot(
    ids: torch.Tensor | Sequence[int] | Sequence[Sequence[int]],
    num_classes: int,
    *,
    zero_pad: bool = True,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """One-hot vectors of integer ids: shape ``(*ids.shape, num_classes)``.

    Args:
        ids: integer ids of any shape, e.g. ``(B, T)`` from :func:`pad_sequences`.
        num_classes: vector length, normally ``len(vocab)``.
        zero_pad: give ``<pad>`` (id 0) steps an all-zero vector, so padded steps carry no
            input (the ``<pad>`` column stays, always zero, keeping column ``k`` = id ``k``).
        dtype: floating dtype of the result.

    Example::

        >>> one_hot([[4, 5, 0]], 6).shape
        torch.Size([1, 3, 6])
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigError(expected("num_classes", "an integer >= 1", num_classes))
    t = ids if isinstance(ids, torch.Tensor) else torch.as_tensor(ids)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise DataError(expected("ids", "integer ids", t.dtype))
    t = t.long()
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise DataError(expected("ids", f"ids in [0, {num_classes})",
                                 f"range [{int(t.min())}, {int(t.max())}]",
                                 "pass num_classes=len(vocab)"))
    out = torch.nn.functional.one_hot(t, num_classes).to(dtype)  # (*ids.shape, K)
    if zero_pad:
        out[..., PAD_ID] = 0
    return out
