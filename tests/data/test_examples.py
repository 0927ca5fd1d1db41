"""rnnkit.data.examples: labels as JSON values, tokenized sentences and tag lists, numeric
series; every error names the argument, what was expected and what came."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.data.examples import as_series_list, check_sentences, check_tag_lists, json_label
from rnnkit.errors import ConfigError, DataError, ShapeError


def test_json_label_turns_numpy_scalars_into_python_values():
    assert json_label(np.int64(3)) == 3 and type(json_label(np.int64(3))) is int
    assert type(json_label(np.float32(0.5))) is float and json_label(np.bool_(True)) is True
    assert json_label(torch.tensor(2)) == 2
    assert [json_label(v) for v in ["pos", 1, 2.5, False]] == ["pos", 1, 2.5, False]
    with pytest.raises(DataError, match=r"y: expected labels that are str, int, float or bool, "
                                        r"got 'NoneType'"):
        json_label(None)
    with pytest.raises(DataError, match=r"got 'tuple'"):
        json_label(("a", "b"))


def test_check_sentences():
    assert check_sentences((("we", "can"), ["fish"]), "sentences") == [["we", "can"], ["fish"]]
    with pytest.raises(DataError, match=r"sentences: expected a list of tokenized sentences "
                                        r"\(lists of str\), got 'str'"):
        check_sentences("we can", "sentences")
    with pytest.raises(DataError, match=r"sentences\[0\]: expected a list of str tokens, got "
                                        r"'str'\. split each sentence into tokens first"):
        check_sentences(["we can"], "sentences")
    with pytest.raises(DataError, match=r"sentences\[1\]: expected a list of str tokens"):
        check_sentences([["we"], ["can", 3]], "sentences")
    with pytest.raises(DataError, match=r"val\[1\]: expected at least one token"):
        check_sentences([["a"], []], "val")
    with pytest.raises(DataError, match=r"sentences: expected at least one sentence"):
        check_sentences([], "sentences")


def test_check_tag_lists():
    sents = [["we", "can"], ["fish"]]
    assert check_tag_lists(sents, (("PRON", "VERB"), ["NOUN"]), "tags") == [["PRON", "VERB"],
                                                                            ["NOUN"]]
    with pytest.raises(ShapeError, match=r"tags: expected 2 tag lists \(one per sentence\), "
                                         r"got 1"):
        check_tag_lists(sents, [["PRON", "VERB"]], "tags")
    with pytest.raises(ShapeError, match=r"tags\[0\]: expected 2 tags \(one per token\), got 1"):
        check_tag_lists(sents, [["PRON"], ["NOUN"]], "tags")
    with pytest.raises(ShapeError, match=r"tags\[1\]: expected 1 tags \(one per token\), got "
                                         r"\"'N'\""):
        check_tag_lists(sents, [["PRON", "VERB"], "N"], "tags")
    with pytest.raises(DataError, match=r"tags\[0\]: expected tag names \(str\), got \['int'\]"):
        check_tag_lists(sents, [[1, 2], ["NOUN"]], "tags")


def test_as_series_list_reads_arrays_lists_and_padded_batches():
    padded = np.arange(24, dtype=np.float32).reshape(2, 4, 3)  # (N, T, F)
    out = as_series_list(padded, [4, 2])
    assert [s.shape for s in out] == [(4, 3), (2, 3)] and out[0].dtype == np.float64
    np.testing.assert_array_equal(out[1], padded[1, :2])
    assert [s.shape for s in as_series_list(torch.zeros(2, 5), None)] == [(5, 1), (5, 1)]
    assert [s.shape for s in as_series_list(torch.zeros(2, 5), torch.tensor([1, 5]))] == [
        (1, 1), (5, 1)]
    listed = as_series_list([np.ones(3), torch.ones(2, 4), [[1.0, 2.0]]], None)
    assert [s.shape for s in listed] == [(3, 1), (2, 4), (1, 2)]


def test_as_series_list_errors():
    with pytest.raises(ShapeError, match=r"X: expected a 3D array \(samples, timesteps, "
                                         r"features\).*got shape \(2, 3, 4, 5\)"):
        as_series_list(np.zeros((2, 3, 4, 5)), None)
    with pytest.raises(ShapeError, match=r"lengths: expected 2 integers, got shape \(3,\), int"):
        as_series_list(np.zeros((2, 3, 1)), [1, 2, 3])
    with pytest.raises(DataError, match=r"lengths: expected values in \[1, 3\], got \[0, 2\]"):
        as_series_list(np.zeros((2, 3, 1)), [0, 2])
    with pytest.raises(ConfigError, match=r"lengths: expected None for a list of sequences"):
        as_series_list([np.ones(3)], [3])
    with pytest.raises(ShapeError, match=r"series\[1\]: expected a non-empty \(timesteps, "
                                         r"features\) array, got shape \(0, 2\)"):
        as_series_list([np.ones(3), np.ones((0, 2))], None, name="series")
