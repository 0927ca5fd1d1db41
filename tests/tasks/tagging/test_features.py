"""rnnkit.tasks.tagging.features: word shapes, and the word, suffix and shape ids of tokens."""

from __future__ import annotations

import json

import torch

from rnnkit.tasks.tagging import SHAPES, TaggerModel, TokenFeatures, word_shape


def test_word_shapes():
    cases = {"dog": "lower", "Paris": "title", "USA": "upper", "I": "upper", "McCoy": "mixed",
             "1,984.5": "number", "3/4": "number", "-2": "number", "B-52": "has_digit",
             "--": "punct", ".": "punct", "well-known": "lower", "o'clock": "lower", "ñandú": "lower"}
    assert {w: word_shape(w) for w in cases} == cases
    assert set(cases.values()) <= set(SHAPES)


def test_token_features_vocabulary_suffix_and_shape():
    feats = TokenFeatures(TaggerModel(min_freq=2, suffix_length=2)).fit(
        [["The", "dog", "runs"], ["the", "dogs", "run"]])
    assert feats.words.tokens[4:] == ["the"]  # seen twice (lower-cased); the rest once
    x, lengths = feats.transform([["The", "cat"], ["RUNS"]])
    assert x.shape == (2, 2, 3) and lengths.tolist() == [2, 1]
    words, suffixes, shapes = x[..., 0], x[..., 1], x[..., 2]
    assert words.tolist() == [[feats.words["the"], 1], [1, 0]]  # cat, runs -> <unk>; pad 0
    assert suffixes[0, 0] == feats.suffixes["he"] and suffixes[1, 0] == feats.suffixes["ns"]
    assert shapes.tolist() == [[SHAPES.index("title") + 1, SHAPES.index("lower") + 1],
                               [SHAPES.index("upper") + 1, 0]]
    assert feats.is_known([["THE", "dog"]]) == [[True, False]]
    again = TokenFeatures.from_dict(json.loads(json.dumps(feats.to_dict())), feats.config)
    assert torch.equal(again.transform([["The", "cat"], ["RUNS"]])[0], x)
