"""Tests of rnnkit.data.text: character, word and BPE tokenizers."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from rnnkit.data.text import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnkit.data.vocabulary import SPECIAL_TOKENS, UNK_ID, Vocabulary
from rnnkit.datasets.corpora import load_pydoc_topics
from rnnkit.errors import ConfigError, DataError

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
