"""Validation of labelled examples at the boundary: labels as JSON values, tokenized
sentences and their tag lists, numeric series.

The sequence tasks (:mod:`rnnkit.tasks.classification`, :mod:`rnnkit.tasks.tagging`) and
their baselines (:mod:`rnnkit.baselines.text`) read their inputs through these, so both raise
the same errors, naming the argument, what was expected and what came.

Symbols: N samples, T padded steps, T_i the length of sample i, F features.

Example:
    >>> check_sentences([["The", "dog"]], "sentences")
    [['The', 'dog']]
    >>> as_series_list([[1.0, 2.0, 3.0]], None)[0].shape
    (3, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["as_series_list", "check_sentences", "check_tag_lists", "json_label"]


def json_label(value: Any) -> Any:
    """A label as a JSON value: numpy scalars to Python, str/int/float/bool kept (anything
    else raises :class:`~rnnkit.errors.DataError`)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    raise DataError(expected("y", "labels that are str, int, float or bool", type(value).__name__))


def check_sentences(sentences: Any, name: str) -> list[list[str]]:
    """The sentences as lists of str tokens; each needs one token at least, and there must be
    one sentence at least (``name`` is the argument the errors name)."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise DataError(expected(name, "a list of tokenized sentences (lists of str)",
                                 type(sentences).__name__))
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not isinstance(s, Sequence) or not all(isinstance(t, str) for t in s):
            raise DataError(expected(f"{name}[{i}]", "a list of str tokens",
                                     type(s).__name__, "split each sentence into tokens first"))
        if not s:
            raise DataError(expected(f"{name}[{i}]", "at least one token", "an empty sentence"))
        out.append(list(s))
    if not out:
        raise DataError(expected(name, "at least one sentence", "none"))
    return out


def check_tag_lists(sentences: list[list[str]], tags: Any, name: str) -> list[list[str]]:
    """The tags as lists of str, one list per sentence and one tag per token of it."""
    if isinstance(tags, str) or not isinstance(tags, Sequence) or len(tags) != len(sentences):
        got = len(tags) if isinstance(tags, Sequence) else type(tags).__name__
        raise ShapeError(expected(name, f"{len(sentences)} tag lists (one per sentence)", got))
    out = []
    for i, (s, t) in enumerate(zip(sentences, tags)):
        if isinstance(t, str) or not isinstance(t, Sequence) or len(t) != len(s):
            got = repr(t) if isinstance(t, str) else (len(t) if isinstance(t, Sequence) else t)
            raise ShapeError(expected(f"{name}[{i}]", f"{len(s)} tags (one per token)", got))
        if not all(isinstance(v, str) for v in t):
            raise DataError(expected(f"{name}[{i}]", "tag names (str)",
                                     sorted({type(v).__name__ for v in t})))
        out.append(list(t))
    return out


def as_series_list(X: Any, lengths: Any, name: str = "X") -> list[np.ndarray]:
    """Numeric input -> list of float64 (T_i, F) arrays.

    ``X`` is an (N, T, F) array or tensor (or (N, T), one feature) whose first ``lengths[i]``
    steps are real (None: all T), or a list of (T_i, F) or (T_i,) arrays (``lengths`` must be
    None: their lengths are their own).
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 2:
            X = X[..., None]  # (N, T) univariate -> (N, T, 1)
        if X.ndim != 3:
            raise ShapeError(expected(name, "a 3D array (samples, timesteps, features), a list "
                                      "of (timesteps, features) arrays, texts or token lists",
                                      Described(f"shape {X.shape}")))
        N, T, _ = X.shape
        if lengths is None:
            lens = [T] * N
        else:
            lens = np.asarray(lengths.cpu() if isinstance(lengths, torch.Tensor) else lengths)
            if lens.shape != (N,) or lens.dtype.kind not in "iu":
                raise ShapeError(expected("lengths", f"{N} integers", Described(f"shape {lens.shape}, {lens.dtype}")))
            if lens.min() < 1 or lens.max() > T:
                raise DataError(expected("lengths", f"values in [1, {T}]",
                                         Described(f"[{lens.min()}, {lens.max()}]")))
        return [np.asarray(X[i, : int(n)], dtype=np.float64) for i, n in enumerate(lens)]
    if lengths is not None:
        raise ConfigError(expected("lengths", "None for a list of sequences (their lengths are "
                                   "their own)", Described("lengths")))
    out: list[np.ndarray] = []
    for i, seq in enumerate(X):
        a = np.asarray(seq.detach().cpu() if isinstance(seq, torch.Tensor) else seq, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]  # (T_i,) univariate -> (T_i, 1)
        if a.ndim != 2 or a.shape[0] == 0:
            raise ShapeError(expected(f"{name}[{i}]", "a non-empty (timesteps, features) array",
                                      Described(f"shape {a.shape}")))
        out.append(a)
    return out
