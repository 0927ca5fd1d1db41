"""rnnkit.labs.brown offline on synthetic tagged sentences, and the real corpus: quick
(skipped, saying why, when it is not cached and its registry cannot be reached) and the full
lab's bar (slow)."""

from __future__ import annotations

import pytest

from rnnkit.datasets.corpora import BROWN
from rnnkit.labs import brown
from rnnkit.tasks.tagging import SequenceTagger

from lab_builders import _check_run_dir, _fake_brown, _needs


def test_brown_lab_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(brown, "load_brown_pos", _fake_brown)
    m = brown.run({"training": {"epochs": 3, "lr": 3e-2}, "data": {"max_sentences": None}},
                  out_dir=tmp_path / "run", quick=True)
    assert m["n_test_sentences"] == 15 and m["n_val_sentences"] == 7
    assert m["model"]["token_accuracy"] == 1.0 and m["baseline"]["token_accuracy"] == 1.0
    assert m["model"]["n_oov"] == 0
    assert "most frequent tag" in capsys.readouterr().out
    _, _, tagger = _check_run_dir(tmp_path / "run", SequenceTagger, plots=())
    assert tagger.predict([["a", "cat", "sleeps"]]) == [["DET", "NOUN", "VERB"]]


# -- real data, quick ---------------------------------------------------------------------
def test_brown_lab_quick_on_brown(tmp_path):
    _needs(BROWN)
    m = brown.run(out_dir=tmp_path / "run", quick=True)
    assert m["n_test_sentences"] == 80 and m["baseline"]["token_accuracy"] > 0.8


# -- the full lab and its bar ----------------------------------------------------------------
@pytest.mark.slow
def test_brown_lab_reaches_95_percent(tmp_path):
    _needs(BROWN)
    m = brown.run(out_dir=tmp_path / "run")
    assert m["model"]["token_accuracy"] >= 0.95 > m["baseline"]["token_accuracy"]

