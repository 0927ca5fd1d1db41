"""rnnkit.labs.vowels offline on synthetic series (JapaneseVowels and another archive
dataset), the .ts parser, and the real corpus: quick (skipped, saying why, when it is not
cached and its registry cannot be reached) and the full lab's bar (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.labs import vowels
from rnnkit.tasks.classification import SequenceClassifier

from lab_builders import _check_run_dir, _fake_vowels, _needs


def test_vowels_lab_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(vowels, "load_japanese_vowels", _fake_vowels)
    m = vowels.run({"training": {"epochs": 6, "lr": 1e-2}}, out_dir=tmp_path / "run",
                   quick=True, seed=1)
    assert (m["n_train"], m["n_test"]) == (45, 27)
    assert m["model"]["accuracy"] == 1.0 and m["passed"] is True
    assert len(m["model"]["confusion_matrix"]) == 3
    assert "bag of features" in capsys.readouterr().out
    _, config, clf = _check_run_dir(tmp_path / "run", SequenceClassifier)
    assert config["training"]["seed"] == 1
    X, y = _fake_vowels("test")
    assert clf.evaluate(X, y)["accuracy"] == m["model"]["accuracy"]
    assert m["dataset"] == "JapaneseVowels" and config["data"]["dataset"] == "JapaneseVowels"


def test_vowels_lab_on_another_dataset_offline(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_loader(name, split="train"):
        calls.append((name, split))
        rng = np.random.default_rng(0 if split == "train" else 1)
        y = ["Walking", "Running"] * (20 if split == "train" else 10)
        return [rng.normal(2.0 * (c == "Running"), 0.3, size=(30, 6)) for c in y], y

    def no_vowels(split="train"):
        raise AssertionError("JapaneseVowels was loaded")

    monkeypatch.setattr(vowels, "load_ts_classification", fake_loader)
    monkeypatch.setattr(vowels, "load_japanese_vowels", no_vowels)
    m = vowels.run({"data": {"dataset": "BasicMotions"}, "training": {"epochs": 6, "lr": 1e-2}},
                   out_dir=tmp_path / "run", quick=True)
    assert calls == [("BasicMotions", "train"), ("BasicMotions", "test")]
    assert m["dataset"] == "BasicMotions" and (m["n_train"], m["n_test"]) == (40, 20)
    assert m["model"]["labels"] == ["Running", "Walking"] and m["model"]["accuracy"] == 1.0
    assert m["baseline_name"].startswith("bag of features (7 statistics x 6 + length)")
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines at the terminal width
    assert "BasicMotions: 40 train, 20 test series, 6 dimensions, 30-30 steps, 2 classes" in out
    assert "Class of 20 held-out BasicMotions series (2 classes)" in out
    assert "JapaneseVowels" not in out
    saved, config, _ = _check_run_dir(tmp_path / "run", SequenceClassifier)
    assert saved["dataset"] == "BasicMotions" and config["data"]["dataset"] == "BasicMotions"
    with pytest.raises(ConfigError, match=r"data\.dataset: expected one of \['ACSF1', .*"
                                          r"'UnitTest'\], got 'Covid3Month'"):
        vowels.run({"data": {"dataset": "Covid3Month"}}, out_dir=tmp_path / "bad", quick=True)
    assert not (tmp_path / "bad").exists()  # refused before the run directory is made


def test_parse_ts():
    text = ("#comment\n@problemName Toy\n@univariate false\n@dimensions 2\n@data\n"
            "1,2,3:4,5,6:a\n\n0.5:-1:b\n")
    X, y = vowels.parse_ts(text)
    assert y == ["a", "b"]
    assert X[0].tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]] and X[1].tolist() == [[0.5, -1.0]]
    with pytest.raises(DataError, match=r"line 2: expected dimensions of equal length, got \[2, 1\]"):
        vowels.parse_ts("@data\n1,2:3:a\n")
    with pytest.raises(DataError, match=r"line 2: expected comma-separated numbers"):
        vowels.parse_ts("@data\n1,?:a\n")
    with pytest.raises(DataError, match=r"text: expected a .ts file with series after @data"):
        vowels.parse_ts("@problemName x\n")


# -- real data, quick ---------------------------------------------------------------------
def test_vowels_lab_quick_on_japanese_vowels(tmp_path):
    _needs(vowels.SKTIME)
    X, y = vowels.load_japanese_vowels("train")
    assert len(X) == 270 and sorted(set(y)) == [str(i) for i in range(1, 10)]
    assert all(x.shape[1] == 12 and 7 <= x.shape[0] <= 29 for x in X)
    assert X[0][0, :3].tolist() == [1.860936, -0.207383, 0.261557]  # first frame of the file
    m = vowels.run(out_dir=tmp_path / "run", quick=True)
    assert (m["n_train"], m["n_test"]) == (90, 90) and m["baseline"]["accuracy"] > 0.8


# -- the full lab and its bar ----------------------------------------------------------------
@pytest.mark.slow
def test_vowels_lab_reaches_97_percent(tmp_path):
    _needs(vowels.SKTIME)
    m = vowels.run(out_dir=tmp_path / "run")
    assert m["model"]["accuracy"] >= 0.97

