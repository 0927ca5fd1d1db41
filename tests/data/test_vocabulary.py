"""Tests of rnnkit.data.vocabulary: reserved ids, building, encoding, saving."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from rnnkit.data.text import WordTokenizer
from rnnkit.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError, RnnkitError

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log.",
    "A cat and a dog met on a mat!",
] * 10


def test_vocabulary_reserved_ids():
    v = Vocabulary()
    assert (v["<pad>"], v["<unk>"], v["<bos>"], v["<eos>"]) == (0, 1, 2, 3)
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert len(v) == 4


def test_vocabulary_build_orders_by_count_then_alphabet():
    seqs = [["b", "a", "c"], ["a", "c"], ["a", "d"]]
    v = Vocabulary.build(seqs)
    assert v.tokens == [*SPECIAL_TOKENS, "a", "c", "b", "d"]
    assert v.counts == {"a": 3, "c": 2, "b": 1, "d": 1}


def test_vocabulary_min_freq_and_max_size():
    seqs = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocabulary.build(seqs, min_freq=2).tokens[4:] == ["a", "b", "c"]
    assert Vocabulary.build(seqs, max_size=6).tokens[4:] == ["a", "b"]  # 4 reserved + 2
    assert len(Vocabulary.build(seqs, max_size=4)) == 4
    with pytest.raises(ConfigError, match="max_size"):
        Vocabulary.build(seqs, max_size=3)
    with pytest.raises(ConfigError, match="min_freq"):
        Vocabulary.build(seqs, min_freq=0)


def test_vocabulary_build_ignores_reserved_tokens_in_data():
    v = Vocabulary.build([["<pad>", "x", "<eos>"]])
    assert v.tokens == [*SPECIAL_TOKENS, "x"]


def test_vocabulary_rejects_raw_strings_and_duplicates():
    with pytest.raises(DataError, match="tokenize first"):
        Vocabulary.build("a text")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="sequences"):
        Vocabulary.build(["a text", "another"])
    with pytest.raises(DataError, match="each token once"):
        Vocabulary(["a", "a"])
    with pytest.raises(DataError, match="tokenize the text first"):
        Vocabulary(["a"]).encode("a")


def test_encode_maps_oov_to_unk_and_frames_with_bos_eos():
    tok = WordTokenizer()
    v = Vocabulary.build(tok.tokenize(t) for t in CORPUS)
    ids = v.encode(tok.tokenize("The zebra sat"), add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    assert ids[2] == UNK_ID
    assert v.decode(ids) == ["the", "<unk>", "sat"]
    assert v.decode(ids, skip_special=False) == ["<bos>", "the", "<unk>", "sat"]
    assert v.decode(ids, skip_special=False, stop_at_eos=False)[-1] == "<eos>"
    assert v.decode(torch.tensor([*ids, PAD_ID, PAD_ID])) == ["the", "<unk>", "sat"]


def test_decode_validates_ids():
    v = Vocabulary(["a"])
    with pytest.raises(DataError, match=r"ids: expected ids in \[0, 5\), got 9"):
        v.decode([4, 9])
    with pytest.raises(DataError, match="1-D integer tensor"):
        v.decode(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(DataError, match="index"):
        v.id_to_token(5)
    assert v.id_to_token(4) == "a" and v.token_to_id("zzz") == UNK_ID


def test_vocabulary_save_load_round_trip(tmp_path: Path):
    v = Vocabulary.build([["héllo", "wörld", "héllo"]])
    path = tmp_path / "sub" / "vocab.json"
    v.save(path)
    loaded = Vocabulary.load(path)
    assert loaded == v
    assert loaded.counts == v.counts
    assert json.loads(path.read_text(encoding="utf-8"))["tokens"][:4] == list(SPECIAL_TOKENS)
    assert [p.name for p in path.parent.iterdir()] == ["vocab.json"]  # no temp files left


def test_vocabulary_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "vocab.json"
    Vocabulary(["old"]).save(path)
    before = path.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        Vocabulary(["new"]).save(path)
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # temp file cleaned up


def test_vocabulary_load_errors_name_the_problem(tmp_path: Path):
    with pytest.raises(DataError, match="an existing JSON file"):
        Vocabulary.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="valid JSON"):
        Vocabulary.load(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"tokens": ["a", "b"]}), encoding="utf-8")
    with pytest.raises(RnnkitError, match="<pad>"):
        Vocabulary.load(wrong)


def test_vocabulary_repr():
    assert repr(Vocabulary(["a", "b"])) == "Vocabulary(size=6, tokens=['a', 'b'])"
