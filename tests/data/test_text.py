"""Tests of rnnkit.data.text: tokenizers, Vocabulary, categorical encodings."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
import torch

from rnnkit.data.text import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    Vocabulary,
    WordTokenizer,
    integer_encode,
    one_hot,
    tokenizer_from_dict,
)
from rnnkit.datasets.corpora import load_pydoc_topics
from rnnkit.errors import ConfigError, DataError, RnnkitError

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log.",
    "A cat and a dog met on a mat!",
] * 10

# -- tokenizers ---------------------------------------------------------------------------


def test_char_tokenizer_round_trips_exactly():
    tok = CharTokenizer()
    text = "Hi,  there!\n\tÜber"
    assert tok.tokenize(text) == list(text)
    assert tok.detokenize(tok.tokenize(text)) == text
    assert CharTokenizer(lower=True).tokenize("AbC") == ["a", "b", "c"]


def test_word_tokenizer_splits_words_and_punctuation():
    tok = WordTokenizer()
    assert tok.tokenize("Don't panic, well-known Arthur!") == [
        "don't", "panic", ",", "well-known", "arthur", "!"]
    assert WordTokenizer(lower=False).tokenize("Hello World") == ["Hello", "World"]
    assert WordTokenizer(pattern=r"\S+").tokenize("a-b c.d") == ["a-b", "c.d"]
    assert tok.detokenize(["a", "b"]) == "a b"


def test_word_tokenizer_rejects_bad_patterns_with_a_named_error():
    with pytest.raises(ConfigError, match="pattern"):
        WordTokenizer(pattern="(")
    with pytest.raises(ConfigError, match="capturing"):
        WordTokenizer(pattern=r"(\w)+")


def test_tokenizers_reject_non_text():
    for tok in (CharTokenizer(), WordTokenizer()):
        with pytest.raises(DataError, match="text: expected a str, got 'list'"):
            tok.tokenize(["not", "a", "string"])  # type: ignore[arg-type]


def test_tokenizers_satisfy_protocol_and_round_trip_through_dict():
    bpe = BPETokenizer(vocab_size=40).fit(CORPUS)
    for tok in (CharTokenizer(lower=True), WordTokenizer(pattern=r"\w+", lower=False), bpe):
        assert isinstance(tok, Tokenizer)
        again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
        assert type(again) is type(tok)
        assert again.tokenize("The cat met a dog.") == tok.tokenize("The cat met a dog.")
    with pytest.raises(ConfigError, match="type"):
        tokenizer_from_dict({"type": "sentencepiece"})


def test_reprs_show_only_non_defaults():
    assert repr(CharTokenizer()) == "CharTokenizer()"
    assert repr(WordTokenizer(lower=False)) == "WordTokenizer(lower=False)"
    assert repr(BPETokenizer(vocab_size=100)) == "BPETokenizer(vocab_size=100)"


# -- BPE ----------------------------------------------------------------------------------


def test_bpe_reserves_ids_and_respects_vocab_size():
    bpe = BPETokenizer(vocab_size=40).fit(CORPUS)
    vocab = bpe.to_vocabulary()
    assert vocab.tokens[:4] == list(SPECIAL_TOKENS)
    assert len(bpe) == len(vocab) <= 40
    text = "The cat sat on the log."
    assert vocab.encode(bpe.tokenize(text)) == bpe.encode(text)  # same ids both ways
    assert bpe.decode(bpe.encode(text)) == text
    assert bpe.detokenize(bpe.tokenize(text)) == text


def test_bpe_merges_frequent_words_and_maps_unseen_chars_to_unk():
    bpe = BPETokenizer(vocab_size=200).fit(CORPUS)
    assert "▁cat" in bpe.tokenize("cat")  # a frequent word becomes one piece
    assert UNK_ID in bpe.encode("cat ∑")  # a character never seen in training


def test_bpe_lower_and_save_load(tmp_path: Path):
    bpe = BPETokenizer(vocab_size=60, lower=True).fit(CORPUS)
    assert bpe.tokenize("THE CAT") == bpe.tokenize("the cat")
    path = tmp_path / "bpe.json"
    bpe.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.encode("the dog met the cat") == bpe.encode("the dog met the cat")
    assert repr(loaded) == repr(bpe)
    Vocabulary().save(tmp_path / "vocab.json")
    with pytest.raises(DataError, match="BPETokenizer"):
        BPETokenizer.load(tmp_path / "vocab.json")


def test_bpe_validates_arguments_and_fit_state():
    with pytest.raises(ConfigError, match="vocab_size"):
        BPETokenizer(vocab_size=4)
    with pytest.raises(ConfigError, match="min_frequency"):
        BPETokenizer(min_frequency=0)
    with pytest.raises(ConfigError, match=r"fit\(texts\)"):
        BPETokenizer().tokenize("hello")
    with pytest.raises(DataError, match=r"texts\[1\]"):
        BPETokenizer(vocab_size=30).fit(["ok", 3])  # type: ignore[list-item]


def test_bpe_on_a_real_corpus_compresses_python_docs():
    text = load_pydoc_topics()
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    bpe = BPETokenizer(vocab_size=2000).fit(paragraphs)
    sample = paragraphs[100]
    assert len(bpe) == 2000
    assert len(bpe.encode(sample)) < 0.4 * len(sample)  # sub-words are several chars long
    # lossless up to NFKC normalization, for text that does not start with a space
    flush = [p for p in paragraphs if not p[0].isspace()]
    assert all(bpe.decode(bpe.encode(p)) == unicodedata.normalize("NFKC", p) for p in flush)


# -- Vocabulary ---------------------------------------------------------------------------


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


# -- categorical steps --------------------------------------------------------------------


def test_integer_encode_categorical_steps():
    train = [["mon", "tue", "mon"], ["sun"]]
    vocab = Vocabulary.build(train)
    assert integer_encode(train, vocab) == [[4, 6, 4], [5]]
    assert integer_encode([["fri"], [1]], vocab) == [[UNK_ID], [UNK_ID]]  # unseen -> <unk>
    assert integer_encode([[1, 2]], Vocabulary(["1", "2"])) == [[4, 5]]  # values as str


def test_one_hot_shapes_and_zero_padding():
    ids = torch.tensor([[4, 5, 0], [6, 0, 0]])
    out = one_hot(ids, 7)
    assert out.shape == (2, 3, 7) and out.dtype == torch.float32
    assert out[0, 0, 4] == 1 and out[0, 0].sum() == 1
    assert out[0, 2].sum() == 0  # the <pad> step is all zeros
    kept = one_hot(ids, 7, zero_pad=False, dtype=torch.float64)
    assert kept[0, 2, PAD_ID] == 1 and kept.dtype == torch.float64
    assert torch.equal(one_hot([1, 2], 3), torch.tensor([[0.0, 1, 0], [0, 0, 1]]))


def test_one_hot_validates():
    with pytest.raises(DataError, match=r"ids in \[0, 3\)"):
        one_hot([0, 3], 3)
    with pytest.raises(DataError, match="integer ids"):
        one_hot(torch.tensor([0.5]), 3)
    with pytest.raises(ConfigError, match="num_classes"):
        one_hot([0], 0)
