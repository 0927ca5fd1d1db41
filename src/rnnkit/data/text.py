"""Text to integer ids: tokenizers, a vocabulary with reserved ids, categorical encodings.

A pipeline is ``tokenizer.tokenize(text) -> tokens`` then ``vocab.encode(tokens) -> ids``:

* :class:`CharTokenizer` splits into characters (character language models),
* :class:`WordTokenizer` splits with a regular expression, optionally lower-casing,
* :class:`BPETokenizer` learns sub-word merges with the ``tokenizers`` library up to a
  vocabulary size; :meth:`BPETokenizer.to_vocabulary` gives a :class:`Vocabulary` whose ids
  are the BPE model's own.

Every :class:`Vocabulary` reserves the same four ids, so padding and masks agree across
tasks:

==========  ====  ===========================================================
token       id    meaning
==========  ====  ===========================================================
``<pad>``   0     padding (:func:`rnnkit.data.padding.pad_sequences` default)
``<unk>``   1     out-of-vocabulary token
``<bos>``   2     beginning of sequence (decoder start in seq2seq)
``<eos>``   3     end of sequence
==========  ====  ===========================================================

Categorical steps (a sequence of weekdays, event types, ...) use the same machinery:
:func:`integer_encode` maps them to ids, :func:`one_hot` to vectors, with padded steps as
all-zero vectors.

Example::

    >>> tok = WordTokenizer()
    >>> vocab = Vocabulary.build([tok.tokenize("The cat sat."), tok.tokenize("the dog")])
    >>> vocab.encode(tok.tokenize("the cat ran"), add_eos=True)
    [4, 6, 1, 3]
    >>> vocab.decode([4, 6, 1, 3])
    ['the', 'cat', '<unk>']
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "BOS",
    "BOS_ID",
    "EOS",
    "EOS_ID",
    "PAD",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "UNK",
    "UNK_ID",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "Vocabulary",
    "WordTokenizer",
    "integer_encode",
    "one_hot",
    "tokenizer_from_dict",
]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
#: The reserved tokens in id order.
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


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


# -- vocabulary ---------------------------------------------------------------------------


class Vocabulary:
    """A token <-> id mapping with ``<pad>``=0, ``<unk>``=1, ``<bos>``=2, ``<eos>``=3.

    Build one from tokenized sequences with :meth:`build`, or pass the ordered non-reserved
    tokens directly (they get ids 4, 5, ...). Looking up a token that is not in the
    vocabulary gives ``<unk>``'s id.

    Args:
        tokens: the ordinary tokens in id order (reserved tokens among them are skipped).
        counts: optional training frequencies, kept for inspection and saved with the
            vocabulary.

    Example::

        >>> v = Vocabulary(["a", "b"])
        >>> v["b"], v["zzz"], len(v)
        (5, 1, 6)
    """

    def __init__(self, tokens: Iterable[str] = (), counts: Mapping[str, int] | None = None) -> None:
        self._itos: list[str] = list(SPECIAL_TOKENS)
        self._stoi: dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
        for i, token in enumerate(tokens):
            if not isinstance(token, str):
                raise DataError(expected(f"tokens[{i}]", "a str", type(token).__name__))
            if token in self._stoi:
                if token in SPECIAL_TOKENS:
                    continue
                raise DataError(expected(f"tokens[{i}]", "each token once", token,
                                         "remove duplicates before building the vocabulary"))
            self._stoi[token] = len(self._itos)
            self._itos.append(token)
        self.counts: dict[str, int] = dict(counts) if counts else {}

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Count tokens in ``sequences`` and keep the frequent ones.

        Tokens are ordered by decreasing count, ties alphabetically (deterministic).

        Args:
            sequences: tokenized texts (an iterable of token iterables).
            min_freq: keep tokens seen at least this many times.
            max_size: cap on the total size *including* the four reserved tokens.
        """
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ConfigError(expected("min_freq", "an integer >= 1", min_freq))
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < len(SPECIAL_TOKENS)):
            raise ConfigError(expected("max_size", f"None or an integer >= {len(SPECIAL_TOKENS)}"
                                       " (the reserved tokens count)", max_size))
        if isinstance(sequences, str):
            raise DataError(expected("sequences", "an iterable of token sequences", "a str",
                                     "tokenize first: Vocabulary.build([tok.tokenize(t) for t in texts])"))
        counts: Counter[str] = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise DataError(expected("sequences", "token sequences (lists of str)",
                                         "a sequence of str", "wrap each text's tokens in a list"))
            counts.update(seq)
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIAL_TOKENS)]
        return cls(ranked, counts={t: counts[t] for t in ranked})

    # -- lookups --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __getitem__(self, token: str) -> int:
        return self._stoi.get(token, UNK_ID)

    def __iter__(self) -> Iterator[str]:
        return iter(self._itos)

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order (reserved ones first)."""
        return list(self._itos)

    def token_to_id(self, token: str) -> int:
        return self._stoi.get(token, UNK_ID)

    def id_to_token(self, index: int) -> str:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise DataError(expected("index", f"an id in [0, {len(self)})", index))
        return self._itos[index]

    # -- encode / decode ------------------------------------------------------------------
    def encode(self, tokens: Iterable[str], *, add_bos: bool = False,
               add_eos: bool = False) -> list[int]:
        """Ids of ``tokens`` (unknown ones -> ``<unk>``), optionally framed by bos/eos."""
        if isinstance(tokens, str):
            raise DataError(expected("tokens", "a sequence of tokens", "a str",
                                     "tokenize the text first"))
        ids = [self._stoi.get(t, UNK_ID) for t in tokens]
        if add_bos:
            ids.insert(0, BOS_ID)
        if add_eos:
            ids.append(EOS_ID)
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor, *, skip_special: bool = True,
               stop_at_eos: bool = True) -> list[str]:
        """Tokens of ``ids``.

        Args:
            ids: a list of ints or a 1-D integer tensor.
            skip_special: drop ``<pad>``, ``<bos>`` and ``<eos>`` (``<unk>`` is kept: it
                stands for real content).
            stop_at_eos: stop at the first ``<eos>`` (what a generated sequence means).
        """
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1 or ids.is_floating_point():
                raise DataError(expected("ids", "a 1-D integer tensor",
                                         f"{ids.dim()}-D {ids.dtype}"))
            ids = ids.tolist()
        out: list[str] = []
        n = len(self._itos)
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise DataError(expected("ids", f"ids in [0, {n})", i))
            if i == EOS_ID and stop_at_eos:
                break
            if skip_special and i in (PAD_ID, BOS_ID, EOS_ID):
                continue
            out.append(self._itos[i])
        return out

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": "rnnkit.Vocabulary", "version": 1, "tokens": self._itos,
                "counts": self.counts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabulary:
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or tokens[: len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            raise DataError(expected("data['tokens']",
                                     f"a list starting with {list(SPECIAL_TOKENS)}",
                                     tokens[:4] if isinstance(tokens, list) else tokens))
        return cls(tokens[len(SPECIAL_TOKENS):], counts=data.get("counts") or None)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON, atomically (temp file + ``os.replace``)."""
        _atomic_write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        return cls.from_dict(_read_json(Path(path)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other._itos == self._itos

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self._itos[len(SPECIAL_TOKENS):len(SPECIAL_TOKENS) + 5])
        more = ", ..." if len(self) > len(SPECIAL_TOKENS) + 5 else ""
        return f"Vocabulary(size={len(self)}, tokens=[{head}{more}])"


def _atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a saved vocabulary is ordinary data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError as exc:
        raise DataError(expected("path", "an existing JSON file", str(path))) from exc
    except json.JSONDecodeError as exc:
        raise DataError(expected("path", "a valid JSON file", str(path), str(exc))) from exc
    if not isinstance(data, dict):
        raise DataError(expected("path", "a JSON object", type(data).__name__))
    return data


# -- categorical steps --------------------------------------------------------------------


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
