"""Word vectors: the table, its files and the lookup into a vocabulary (the named sets are
tested in tests/datasets/test_word_vectors.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnkit.data.embeddings import WordVectors
from rnnkit.data.vocabulary import Vocabulary
from rnnkit.errors import DataError

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
