"""The tagger's token features (:class:`TokenFeatures`): each token becomes its word id (looked
up lower-cased by default; words rarer than ``min_freq`` in training map to <unk>), the id of
its last k characters and the id of its shape (:func:`word_shape`), fitted on the training
sentences and saved as JSON.

Example:
    >>> [word_shape(w) for w in ["dog", "Paris", "USA", "1,984.5", "B-52", "--"]]
    ['lower', 'title', 'upper', 'number', 'has_digit', 'punct']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.data.padding import pad_sequences
from rnnkit.data.vocabulary import UNK_ID, Vocabulary
from rnnkit.errors import DataError
from rnnkit.tasks.tagging.config import TaggerModel

__all__ = ["SHAPES", "TokenFeatures", "word_shape"]

#: Word shape classes; a token's shape id is its position here + 1 (0 is padding).
SHAPES: tuple[str, ...] = ("lower", "title", "upper", "mixed", "number", "has_digit", "punct",
                           "other")
_NUMBER = re.compile(r"[+-]?[\d.,:/-]*\d[\d.,:/-]*%?")


def word_shape(word: str) -> str:
    """The shape class of a token: ``"lower"`` (dog), ``"title"`` (Paris), ``"upper"`` (USA,
    I), ``"mixed"`` (McCoy), ``"number"`` (1,984.5, 3/4), ``"has_digit"`` (B-52), ``"punct"``
    (no letter or digit) or ``"other"``."""
    if any(c.isdigit() for c in word):
        return "number" if _NUMBER.fullmatch(word) else "has_digit"
    if not any(c.isalnum() for c in word):
        return "punct"
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    if word[0].isupper():
        return "title" if word[1:] == word[1:].lower() else "mixed"
    return "other"


class TokenFeatures:
    """Token -> (word id, suffix id, shape id), fitted on the training sentences.

    ``transform`` returns ``x`` (N, T, 3) long (0 on padding) and ``lengths`` (N,).
    """

    def __init__(self, config: TaggerModel) -> None:
        self.config = config
        self.words: Vocabulary | None = None
        self.suffixes: Vocabulary | None = None

    def _word(self, token: str) -> str:
        return token.lower() if self.config.lowercase else token

    def _suffix(self, token: str) -> str:
        return token.lower()[-self.config.suffix_length:]

    def fit(self, sentences: list[list[str]]) -> TokenFeatures:
        cfg = self.config
        self.words = Vocabulary.build(([self._word(t) for t in s] for s in sentences),
                                      min_freq=cfg.min_freq, max_size=cfg.max_vocab)
        if cfg.suffix_length:
            self.suffixes = Vocabulary.build(([self._suffix(t) for t in s] for s in sentences),
                                             min_freq=cfg.min_freq)
        return self

    def transform(self, sentences: list[list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = []
        words, suffixes = self.words, self.suffixes
        for s in sentences:
            w = words.encode([self._word(t) for t in s])  # type: ignore[union-attr]
            x = (suffixes.encode([self._suffix(t) for t in s]) if suffixes is not None
                 else [0] * len(s))
            h = [SHAPES.index(word_shape(t)) + 1 for t in s]
            rows.append(torch.tensor([w, x, h], dtype=torch.long).T)  # (T_i, 3)
        return pad_sequences(rows)  # (N, T, 3), (N,)

    def is_known(self, sentences: list[list[str]]) -> list[list[bool]]:
        """Whether each token's word is in the vocabulary (False: it is read as <unk>)."""
        return [[self.words[self._word(t)] != UNK_ID for t in s] for s in sentences]  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        return {"words": self.words.to_dict(),  # type: ignore[union-attr]
                "suffixes": None if self.suffixes is None else self.suffixes.to_dict(),
                "shapes": list(SHAPES)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: TaggerModel) -> TokenFeatures:
        if list(data.get("shapes", [])) != list(SHAPES):
            raise DataError(expected("preprocessing shapes", list(SHAPES), data.get("shapes")))
        self = cls(config)
        self.words = Vocabulary.from_dict(data["words"])
        self.suffixes = None if data.get("suffixes") is None else Vocabulary.from_dict(data["suffixes"])
        return self
