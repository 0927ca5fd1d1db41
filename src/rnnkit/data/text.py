"""Text to tokens: character, word and BPE tokenizers, and how to rebuild a saved one.

A pipeline is ``tokenizer.tokenize(text) -> tokens`` then ``vocab.encode(tokens) -> ids``:

* :class:`CharTokenizer` splits into characters (character language models),
* :class:`WordTokenizer` splits with a regular expression, optionally lower-casing,
* :class:`BPETokenizer` learns sub-word merges with the ``tokenizers`` library up to a
  vocabulary size; :meth:`BPETokenizer.to_vocabulary` gives a :class:`Vocabulary` whose ids
  are the BPE model's own.

The vocabulary and its four reserved ids (``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``) live
in :mod:`rnnkit.data.vocabulary`; categorical steps (:func:`~rnnkit.data.categorical.
integer_encode`, :func:`~rnnkit.data.categorical.one_hot`) in :mod:`rnnkit.data.categorical`.

Example::

    >>> tok = WordTokenizer()
    >>> vocab = Vocabulary.build([tok.tokenize("The cat sat."), tok.tokenize("the dog")])
    >>> vocab.encode(tok.tokenize("the cat ran"), add_eos=True)
    [4, 6, 1, 3]
    >>> vocab.decode([4, 6, 1, 3])
    ['the', 'cat', '<unk>']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rnnkit._validation import expected
from rnnkit.data.vocabulary import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK,
    UNK_ID,
    Vocabulary,
    _atomic_write_json,
    _read_json,
)
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "WordTokenizer",
    "tokenizer_from_dict",
]


def _check_text(name: str, text: Any) -> str:
    if not isinstance(text, str):
        raise DataError(expected(name, "a str", type(text).__name__))
    return text


@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer offers: text to tokens and back, and a JSON-able description."""

    def tokenize(self, text: str) -> list[str]: ...

    def detokenize(self, tokens: Sequence[str]) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class CharTokenizer:
    """Split text into characters; ``detokenize`` joins them back exactly.

    Args:
        lower: lower-case the text first.

    Example::

        >>> CharTokenizer().tokenize("Hi!")
        ['H', 'i', '!']
    """

    def __init__(self, lower: bool = False) -> None:
        self.lower = bool(lower)

    def tokenize(self, text: str) -> list[str]:
        text = _check_text("text", text)
        return list(text.lower() if self.lower else text)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "char", "lower": self.lower}

    def __repr__(self) -> str:
        return "CharTokenizer(lower=True)" if self.lower else "CharTokenizer()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.lower == self.lower

    __hash__ = None  # type: ignore[assignment]


class WordTokenizer:
    """Split text into words and punctuation with a regular expression.

    The default pattern keeps words with inner apostrophes or hyphens together
    (``don't``, ``well-known``) and makes every other non-space symbol its own token.
    ``detokenize`` joins with single spaces (the split is not reversible in general).

    Args:
        pattern: regular expression whose matches (``re.findall``) are the tokens.
        lower: lower-case the text first (the default).

    Example::

        >>> WordTokenizer().tokenize("Don't panic, Arthur!")
        ["don't", 'panic', ',', 'arthur', '!']
    """

    DEFAULT_PATTERN = r"\w+(?:['’-]\w+)*|[^\w\s]"

    def __init__(self, pattern: str = DEFAULT_PATTERN, lower: bool = True) -> None:
        try:
            self._regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(expected("pattern", "a valid regular expression", pattern,
                                       str(exc))) from exc
        if self._regex.groups:
            raise ConfigError(expected(
                "pattern", "a regular expression without capturing groups", pattern,
                "use non-capturing groups (?:...) so re.findall returns whole matches"))
        self.pattern = pattern
        self.lower = bool(lower)

    def tokenize(self, text: str) -> list[str]:
        text = _check_text("text", text)
        return self._regex.findall(text.lower() if self.lower else text)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "word", "pattern": self.pattern, "lower": self.lower}

    def __repr__(self) -> str:
        args = []
        if self.pattern != self.DEFAULT_PATTERN:
            args.append(f"pattern={self.pattern!r}")
        if not self.lower:
            args.append("lower=False")
        return f"WordTokenizer({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, WordTokenizer) and other.pattern == self.pattern
                and other.lower == self.lower)

    __hash__ = None  # type: ignore[assignment]


class BPETokenizer:
    """Byte-pair-encoding sub-words learned from a corpus (wraps the ``tokenizers`` library).

    Text is NFKC-normalized (and lower-cased if asked), split on spaces with the
    SentencePiece convention (every space becomes ``▁`` and starts the next piece), and
    merged into at most ``vocab_size`` pieces, the four reserved tokens included at ids 0-3.
    A character never seen in training becomes ``<unk>``. ``decode(encode(text))`` gives
    back the NFKC-normalized text, spaces and newlines included, except a leading space
    and ``<unk>`` pieces (dropped unless ``skip_special=False``).

    Args:
        vocab_size: target vocabulary size, reserved tokens included (the result can be
            smaller when the corpus has fewer distinct merges).
        min_frequency: a merge must occur at least this often to be learned.
        lower: lower-case the text first.

    Example::

        >>> bpe = BPETokenizer(vocab_size=60).fit(["low lower lowest"] * 20)
        >>> bpe.tokenize("lowest")
        ['▁lowest']
        >>> bpe.decode(bpe.encode("low lower"))
        'low lower'
    """

    def __init__(self, vocab_size: int = 8000, min_frequency: int = 2, lower: bool = False) -> None:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size <= len(
                SPECIAL_TOKENS):
            raise ConfigError(expected("vocab_size", f"an integer > {len(SPECIAL_TOKENS)}",
                                       vocab_size))
        if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 1:
            raise ConfigError(expected("min_frequency", "an integer >= 1", min_frequency))
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.lower = bool(lower)
        self._tok: Any = None  # tokenizers.Tokenizer once fitted

    # -- training -------------------------------------------------------------------------
    def _new_backend(self) -> Any:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, normalizers, pre_tokenizers

        tok = HFTokenizer(models.BPE(unk_token=UNK))
        norms = [normalizers.NFKC()]
        if self.lower:
            norms.append(normalizers.Lowercase())
        tok.normalizer = normalizers.Sequence(norms)
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        return tok

    def fit(self, texts: Iterable[str]) -> BPETokenizer:
        """Learn the merges from ``texts`` (any iterable of strings); returns ``self``."""
        from tokenizers import trainers

        def checked() -> Iterable[str]:
            for i, text in enumerate(texts):
                yield _check_text(f"texts[{i}]", text)

        tok = self._new_backend()
        trainer = trainers.BpeTrainer(vocab_size=self.vocab_size,
                                      min_frequency=self.min_frequency,
                                      special_tokens=list(SPECIAL_TOKENS), show_progress=False)
        tok.train_from_iterator(checked(), trainer)
        if [tok.token_to_id(t) for t in SPECIAL_TOKENS] != [PAD_ID, UNK_ID, BOS_ID, EOS_ID]:
            raise DataError("BPE training did not place the reserved tokens at ids 0-3")
        self._tok = tok
        return self

    @property
    def fitted(self) -> bool:
        return self._tok is not None

    def _backend(self) -> Any:
        if self._tok is None:
            raise ConfigError(expected("BPETokenizer", "a fitted tokenizer", "an unfitted one",
                                       "call .fit(texts) first (or load a saved one)"))
        return self._tok

    # -- use ------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        return list(self._backend().encode(_check_text("text", text)).tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (the BPE model's ids; equal to :meth:`to_vocabulary`'s)."""
        return list(self._backend().encode(_check_text("text", text)).ids)

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        return str(self._backend().decode(list(ids), skip_special_tokens=skip_special))

    def detokenize(self, tokens: Sequence[str]) -> str:
        tok = self._backend()
        ids = [tok.token_to_id(t) for t in tokens]
        return str(tok.decode([UNK_ID if i is None else i for i in ids]))

    def __len__(self) -> int:
        return int(self._backend().get_vocab_size())

    def to_vocabulary(self) -> Vocabulary:
        """A :class:`Vocabulary` with exactly the BPE model's token ids."""
        tok = self._backend()
        itos = [tok.id_to_token(i) for i in range(tok.get_vocab_size())]
        return Vocabulary(itos[len(SPECIAL_TOKENS):])

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"type": "bpe", "vocab_size": self.vocab_size,
                "min_frequency": self.min_frequency, "lower": self.lower,
                "model": self._backend().to_str()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BPETokenizer:
        from tokenizers import Tokenizer as HFTokenizer

        out = cls(vocab_size=int(data["vocab_size"]), min_frequency=int(data["min_frequency"]),
                  lower=bool(data["lower"]))
        out._tok = HFTokenizer.from_str(data["model"])
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted tokenizer as JSON (atomically)."""
        _atomic_write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BPETokenizer:
        data = _read_json(Path(path))
        if data.get("type") != "bpe":
            raise DataError(expected("path", "a BPETokenizer JSON file", data.get("type")))
        return cls.from_dict(data)

    def __repr__(self) -> str:
        args = []
        if self.vocab_size != 8000:
            args.append(f"vocab_size={self.vocab_size}")
        if self.min_frequency != 2:
            args.append(f"min_frequency={self.min_frequency}")
        if self.lower:
            args.append("lower=True")
        return f"BPETokenizer({', '.join(args)})"


def tokenizer_from_dict(data: Mapping[str, Any]) -> CharTokenizer | WordTokenizer | BPETokenizer:
    """Rebuild a tokenizer from its :meth:`to_dict` description (``data["type"]`` decides)."""
    kind = data.get("type")
    if kind == "char":
        return CharTokenizer(lower=bool(data.get("lower", False)))
    if kind == "word":
        return WordTokenizer(pattern=str(data.get("pattern", WordTokenizer.DEFAULT_PATTERN)),
                             lower=bool(data.get("lower", True)))
    if kind == "bpe":
        return BPETokenizer.from_dict(data)
    raise ConfigError(expected("data['type']", "one of ['char', 'word', 'bpe']", kind))
