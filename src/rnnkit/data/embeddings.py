"""Word vectors: a table of words and their vectors, its files, and the rows it gives a
vocabulary.

A sentence classifier trained on 14,000 sentences sees most words a handful of times; word
vectors learned from billions of words tell it, before training starts, that "superb" sits
near "excellent". :class:`WordVectors` holds such a table, and :meth:`WordVectors.matrix_for`
turns it into the initial weight of an embedding layer for a fitted
:class:`~rnnkit.data.text.Vocabulary`. Named pretrained sets (GloVe) are fetched by
:mod:`rnnkit.datasets.word_vectors`.

:meth:`WordVectors.load` reads a ``.safetensors`` file written by :meth:`WordVectors.save`, or
the GloVe / word2vec text format (one ``word v1 ... vE`` line per word; word2vec's
``count dim`` first line is recognised and skipped).

Example::

    >>> vecs = WordVectors.load("glove.6B.100d.txt")        # doctest: +SKIP
    >>> matrix, found = vecs.matrix_for(vocab)              # doctest: +SKIP
    >>> embedding.weight.data.copy_(torch.from_numpy(matrix))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.data.vocabulary import PAD_ID, Vocabulary
from rnnkit.errors import DataError

__all__ = ["WordVectors"]

PathLike = str | os.PathLike[str]


class WordVectors:
    """A table of word vectors: ``words[i]`` has the vector ``vectors[i]``.

    Args:
        words: the N distinct words.
        vectors: (N, E) array (stored as float32).
        name: where the table came from (for messages and reports).
    """

    def __init__(self, words: Sequence[str], vectors: Any, name: str = "vectors") -> None:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2:
            raise DataError(expected("vectors", "a 2-D array (words, dimensions)",
                                     Described(f"shape {arr.shape}")))
        words = list(words)
        if len(words) != arr.shape[0]:
            raise DataError(expected("words", f"{arr.shape[0]} words (one per vector row)",
                                     len(words)))
        if not np.isfinite(arr).all():
            raise DataError(expected("vectors", "finite values",
                                     Described(f"{int((~np.isfinite(arr)).sum())} NaN/inf")))
        self.words = words
        self.vectors = arr
        self.name = name
        self.index: dict[str, int] = {}
        for i, w in enumerate(words):
            self.index.setdefault(w, i)  # the first (most frequent) row of a repeated word

    @property
    def dim(self) -> int:
        """E, the vector size."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            raise DataError(expected("word", f"a word of {self.name}", word)) from None

    def __repr__(self) -> str:
        return f"WordVectors({self.name!r}, {len(self)} words x {self.dim})"

    def lookup(self, token: str) -> int | None:
        """The row of ``token``: exact, else lower-cased, else with curly apostrophes made
        straight (``don’t`` -> ``don't``), else without apostrophes (``don't`` -> ``dont``:
        GloVe's tokenizer split contractions, so the joined form is the one it has); None
        when none of them is in the table."""
        low = token.lower().replace("\u2019", "'")
        for candidate in (token, token.lower(), low, low.replace("'", "")):
            row = self.index.get(candidate)
            if row is not None:
                return row
        return None

    def matrix_for(self, vocab: Vocabulary | Iterable[str], *, seed: int = 0,
                   scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Initial embedding weights for ``vocab``, row i for token id i.

        Rows of tokens found by :meth:`lookup` copy their vector; the padding row (id 0 of a
        :class:`Vocabulary`) is zero; every other row (reserved tokens, words the table lacks)
        is drawn from N(0, scale²), ``scale`` defaulting to the standard deviation of the
        copied vectors so that new rows start on the same scale as pretrained ones.

        Returns:
            ``(matrix (V, E) float32, found (V,) bool)``.
        """
        tokens = vocab.tokens if isinstance(vocab, Vocabulary) else list(vocab)
        rows = np.array([-1 if (r := self.lookup(t)) is None else r for t in tokens])
        found = rows >= 0
        if isinstance(vocab, Vocabulary):
            found[PAD_ID] = False
        copied = self.vectors[rows[found]]
        if scale is None:
            scale = float(copied.std()) if copied.size > 1 else 1.0
        rng = np.random.default_rng(seed)
        matrix = rng.normal(0.0, scale, size=(len(tokens), self.dim)).astype(np.float32)
        matrix[found] = copied
        if isinstance(vocab, Vocabulary):
            matrix[PAD_ID] = 0.0
        return matrix, found

    # -- persistence --------------------------------------------------------------------
    def save(self, path: PathLike) -> Path:
        """Write a ``.safetensors`` file (the words go in its metadata), atomically."""
        from safetensors.numpy import save

        from rnnkit.training.checkpoint import atomic_write_bytes

        data = save({"vectors": self.vectors},
                    metadata={"words": json.dumps(self.words, ensure_ascii=False),
                              "name": self.name})
        return atomic_write_bytes(Path(path), data)

    @classmethod
    def load(cls, path: PathLike, name: str | None = None) -> WordVectors:
        """Read a file written by :meth:`save`, or a GloVe / word2vec text file."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataError(expected("path", "an existing word-vector file", str(path)))
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as fh:
                meta, names = fh.metadata() or {}, list(fh.keys())
                if "words" not in meta or "vectors" not in names:
                    raise DataError(expected(str(path), "a WordVectors.save file (tensor "
                                             "'vectors', metadata 'words')",
                                             Described(f"tensors {names}")))
                vectors = fh.get_tensor("vectors")
            return cls(json.loads(meta["words"]), vectors, name or meta.get("name", path.name))
        return cls._load_text(path, name or path.name)

    @classmethod
    def _load_text(cls, path: Path, name: str) -> WordVectors:
        words: list[str] = []
        rows: list[list[float]] = []
        dim: int | None = None
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                parts = line.rstrip("\n").rstrip().split(" ")
                if not parts or parts == [""]:
                    continue
                if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec header: "count dim"
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim or dim < 1:
                    raise DataError(expected(f"{path.name} line {lineno}",
                                             f"a word and {dim} numbers",
                                             Described(f"{len(parts) - 1} values")))
                try:
                    rows.append([float(v) for v in parts[1:]])
                except ValueError:
                    raise DataError(expected(f"{path.name} line {lineno}",
                                             "a word followed by numbers",
                                             line[:60])) from None
                words.append(parts[0])
        if not words:
            raise DataError(expected(str(path), "at least one 'word v1 ... vE' line", "none"))
        return cls(words, np.asarray(rows, dtype=np.float32), name)
