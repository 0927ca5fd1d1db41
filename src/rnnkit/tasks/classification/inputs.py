"""The classifier's input pipeline (:class:`SequenceInputs`): texts, token lists or numeric
series -> padded tensors and lengths, fitted on the training data and saved as JSON.

Symbols: N samples, T padded steps, T_i the length of sample i, F numeric features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from rnnkit._validation import Described, check_choice, expected
from rnnkit.data.examples import as_series_list
from rnnkit.data.padding import pad_sequences
from rnnkit.data.scalers import Scaler, make_scaler
from rnnkit.data.text import CharTokenizer, WordTokenizer, tokenizer_from_dict
from rnnkit.data.vocabulary import UNK_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.tasks.classification.config import ClassifierModel

__all__ = ["SequenceInputs"]


def _is_text_like(first: Any) -> str | None:
    if isinstance(first, str):
        return "text"
    if isinstance(first, (list, tuple)) and (not first or isinstance(first[0], str)):
        return "tokens"
    return None


class SequenceInputs:
    """The fitted input pipeline: raw samples -> ``(x, lengths)`` tensors, and back to JSON.

    * ``"text"``: strings, tokenized (word or char), looked up in a :class:`Vocabulary`;
    * ``"tokens"``: lists of string tokens, looked up in a :class:`Vocabulary`;
    * ``"numeric"``: (T_i, F) arrays (or (N, T, F) with ``lengths``), scaled per feature by a
      scaler fitted on every real training step.

    ``x`` is (N, T) long ids, 0 on padding, or (N, T, F) float32; ``lengths`` (N,) long.
    An empty text becomes the single token <unk> (every sequence needs a step).
    """

    def __init__(self, kind: str, *, config: ClassifierModel) -> None:
        self.kind = check_choice("input kind", kind, ("text", "tokens", "numeric"))
        self.config = config
        self.tokenizer: WordTokenizer | CharTokenizer | None = None
        self.vocab: Vocabulary | None = None
        self.scaler: Scaler | None = None
        self.n_features: int | None = None

    @staticmethod
    def detect(X: Any, name: str = "X") -> str:
        if isinstance(X, (str, bytes)):
            raise DataError(expected(name, "a list of samples", "a single str",
                                     "wrap one text in a list: [text]"))
        if isinstance(X, (np.ndarray, torch.Tensor)) and (not isinstance(X, np.ndarray) or X.dtype != object):
            return "numeric"
        try:
            n = len(X)
        except TypeError as exc:
            raise DataError(expected(name, "a sequence of samples", type(X).__name__)) from exc
        if n == 0:
            raise DataError(expected(name, "at least one sample", "an empty sequence"))
        return _is_text_like(X[0]) or "numeric"

    # -- fit / transform ----------------------------------------------------------------
    def _tokens(self, X: Sequence[Any], name: str) -> list[list[str]]:
        cfg = self.config
        out: list[list[str]] = []
        for i, sample in enumerate(X):
            if self.kind == "text":
                if not isinstance(sample, str):
                    raise DataError(expected(f"{name}[{i}]", "a str like the training texts",
                                             type(sample).__name__))
                toks = self.tokenizer.tokenize(sample)  # type: ignore[union-attr]
            else:
                if isinstance(sample, str) or not all(isinstance(t, str) for t in sample):
                    raise DataError(expected(f"{name}[{i}]", "a list of str tokens like the "
                                             "training samples", type(sample).__name__))
                toks = [t.lower() for t in sample] if cfg.lowercase else list(sample)
            if cfg.max_length is not None:
                toks = toks[: cfg.max_length]
            out.append(toks)
        return out

    def fit(self, X: Any, lengths: Any = None) -> SequenceInputs:
        cfg = self.config
        if self.kind == "numeric":
            seqs = as_series_list(X, lengths)
            F = seqs[0].shape[1]
            self._check_features(seqs, F)
            self.n_features = F
            self.scaler = make_scaler(cfg.scaler).fit(np.concatenate(seqs, axis=0))
            return self
        if self.kind == "text":
            self.tokenizer = (WordTokenizer(lower=cfg.lowercase) if cfg.tokenizer == "word"
                              else CharTokenizer(lower=cfg.lowercase))
        self.vocab = Vocabulary.build(self._tokens(X, "X"), min_freq=cfg.min_freq,
                                      max_size=cfg.max_vocab)
        return self

    def _check_features(self, seqs: list[np.ndarray], F: int, name: str = "X") -> None:
        for i, s in enumerate(seqs):
            if s.shape[1] != F:
                raise ShapeError(expected(f"{name}[{i}]", f"{F} features (as in fit)",
                                          Described(f"{s.shape[1]} (shape {s.shape})")))
            if not np.isfinite(s).all():
                raise DataError(expected(f"{name}[{i}]", "finite values",
                                         Described(f"{int((~np.isfinite(s)).sum())} NaN/inf"),
                                         "impute or drop missing values first"))

    def transform(self, X: Any, lengths: Any = None, name: str = "X") -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "numeric":
            seqs = as_series_list(X, lengths, name)
            self._check_features(seqs, self.n_features, name)  # type: ignore[arg-type]
            cut = self.config.max_length
            scaled = [torch.as_tensor(self.scaler.transform(s[:cut] if cut else s),  # type: ignore[union-attr]
                                      dtype=torch.float32) for s in seqs]
            x, lens = pad_sequences(scaled)  # (N, T, F), (N,)
            return x, lens
        if lengths is not None:
            raise ConfigError(expected("lengths", "None for text or token inputs",
                                       Described("lengths")))
        if self.detect(X, name) == "numeric":
            raise DataError(expected(name, f"{self.kind} samples like the training data",
                                     Described("numeric arrays")))
        ids = [self.vocab.encode(toks) or [UNK_ID] for toks in self._tokens(X, name)]  # type: ignore[union-attr]
        return pad_sequences(ids)  # (N, T) long, (N,)

    # -- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "numeric":
            out.update(n_features=self.n_features, scaler=self.scaler.to_dict())  # type: ignore[union-attr]
        else:
            out["vocabulary"] = self.vocab.to_dict()  # type: ignore[union-attr]
            if self.tokenizer is not None:
                out["tokenizer"] = self.tokenizer.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: ClassifierModel) -> SequenceInputs:
        self = cls(data["kind"], config=config)
        if self.kind == "numeric":
            self.n_features = int(data["n_features"])
            self.scaler = Scaler.from_dict(data["scaler"])
        else:
            self.vocab = Vocabulary.from_dict(data["vocabulary"])
            if "tokenizer" in data:
                self.tokenizer = tokenizer_from_dict(data["tokenizer"])  # type: ignore[assignment]
        return self

    @property
    def input_size(self) -> int:
        """Embedding rows (vocabulary size) for tokens, features for numeric inputs."""
        return len(self.vocab) if self.vocab is not None else int(self.n_features)  # type: ignore[arg-type]
