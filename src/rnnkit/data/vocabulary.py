"""A vocabulary: the token <-> id mapping, with the same four reserved ids everywhere.

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

Tokens come from a tokenizer (:mod:`rnnkit.data.text`); a vocabulary maps them to ids and
back, and saves itself as JSON.

Example::

    >>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]])
    >>> vocab.encode(["the", "cat", "ran"], add_eos=True)
    [4, 5, 1, 3]
    >>> vocab.decode([4, 5, 1, 3])
    ['the', 'cat', '<unk>']
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

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
    "Vocabulary",
]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
#: The reserved tokens in id order.
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS)

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
