"""rnnkit.tasks.classification.task: learning, reproducibility, bundles, the task interface
(Report, baselines, callbacks, a cell of your own), pretrained vectors and errors, on tiny
synthetic data (each fit takes well under a second)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.bundle import save_bundle
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.nn import GRUCell
from rnnkit.tasks.base import Examples, Report
from rnnkit.tasks.classification import (
    ClassifierConfig,
    ClassifierModel,
    SequenceClassifier,
    split_validation,
)
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.registry import load
from rnnkit.training import Callback, TrainerConfig

from classifier_builders import FILLER, NEG, POS, _clf, _series, _small, _texts, _training


def test_text_classifier_learns_the_keyword_rule():
    X, y = _texts(240)
    clf = _clf(_small(), _training()).fit(X[:200], y[:200])
    m = clf.evaluate(X[200:], y[200:])
    assert m["accuracy"] >= 0.95 and m["roc_auc"] >= 0.95
    assert clf.classes_ == ["neg", "pos"]
    assert clf.predict(["the good movie", "a dull plot"]).tolist() == ["pos", "neg"]
    # the vocabulary holds the training words after the 4 reserved ids, <pad> = 0
    vocab = clf.inputs_.vocab
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and "great" in vocab
    assert clf.model_.embedding.padding_idx == 0


def test_numeric_multiclass_with_variable_lengths_and_scaling():
    X, y = _series(150)
    clf = _clf(_small(pooling="mean"), _training(epochs=15))
    clf.fit(X[:120], y[:120])
    m = clf.evaluate(X[120:], y[120:])
    assert m["accuracy"] >= 0.9
    assert len(m["confusion_matrix"]) == 3 and sum(map(sum, m["confusion_matrix"])) == 30
    # the scaler was fitted on every real training step
    steps = np.concatenate(X[:120])
    assert np.allclose(clf.inputs_.scaler.mean_, steps.mean(0))
    proba = clf.predict_proba(X[120:])
    assert proba.shape == (30, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(X[120:]).tolist() == [clf.classes_[i] for i in proba.argmax(1)]


def test_same_seed_same_predictions_other_seed_differs():
    X, y = _texts(80)

    def proba(seed):
        return _clf(_small(dropout=0.2), _training(epochs=2, seed=seed)).fit(
            X, y, validation=0.2).predict_proba(X)

    a, b = proba(3), proba(3)
    assert np.array_equal(a, b)
    assert not np.allclose(a, proba(4))


@pytest.mark.parametrize("kind", ["text", "tokens", "numeric"])
def test_save_then_load_predicts_the_same(tmp_path, kind):
    if kind == "numeric":
        X, y = _series(40)
    else:
        X, y = _texts(40)
        if kind == "tokens":
            X = [t.split() for t in X]
    clf = _clf(_small(pooling="attention"), _training(epochs=2)).fit(X, y)
    path = clf.save(tmp_path / "clf")
    names = sorted(p.name for p in path.iterdir())
    assert names == ["config.json", "manifest.json", "metrics.json", "model.safetensors",
                     "preprocessing.json", "profile.json"]
    pre = json.loads((path / "preprocessing.json").read_text())
    assert pre["classes"] == clf.classes_ and pre["inputs"]["kind"] == kind
    assert ("scaler" in pre["inputs"]) == (kind == "numeric")
    assert ("vocabulary" in pre["inputs"]) == (kind != "numeric")
    loaded = SequenceClassifier.load(path)
    assert loaded.classes_ == clf.classes_ and loaded.config == clf.config
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.predict(X).tolist() == clf.predict(X).tolist()
    for a, b in zip(loaded.attention(X[:5]), clf.attention(X[:5])):
        assert np.array_equal(a, b)
    # the baselines are in the bundle: evaluate after load reports them with the same numbers
    names = (["bag_of_features", "summary_forest", "nearest_neighbor"] if kind == "numeric"
             else ["bag_of_words"])
    assert pre["baselines"][names[0]]["type"] == names[0]
    before, after = clf.evaluate(X, y), loaded.evaluate(X, y)
    assert list(after.baselines) == ["most_frequent", *names]
    # the same numbers, exactly (JSON text, so that a NaN metric compares equal too)
    assert json.dumps([after.model, after.baselines]) == json.dumps([before.model, before.baselines])


def test_a_bundle_without_baselines_loads_and_reports_the_most_frequent_class(tmp_path):
    X, y = _texts(40)
    clf = _clf(_small(), _training(epochs=2)).fit(X, y)
    older = {k: v for k, v in clf._preprocessing().items() if k != "baselines"}
    save_bundle(tmp_path / "old", task="classification", model=clf.model_,
                config={"config": clf.config.to_dict()}, preprocessing=older,
                metrics={"epochs": 2})
    back = SequenceClassifier.load(tmp_path / "old")
    assert back.baselines_ == {}
    report = back.evaluate(X, y)
    assert list(report.baselines) == ["most_frequent"]
    assert report.baselines["most_frequent"] == clf.evaluate(X, y).baselines["most_frequent"]


def test_attention_weights_cover_the_real_steps():
    X, y = _texts(60)
    clf = _clf(_small(), _training(epochs=8)).fit(X, y)
    weights = clf.attention(X[:10])
    for w, text in zip(weights, X[:10]):
        assert w.shape == (len(text.split()),) and w.sum() == pytest.approx(1.0, abs=1e-6)
    # after training, the sentiment word draws the largest weight in most sentences
    hits = [text.split()[int(w.argmax())] in POS + NEG for w, text in zip(weights, X[:10])]
    assert sum(hits) >= 8


def test_validation_history_and_early_stopping():
    X, y = _texts(120)
    clf = _clf(_small(), _training(epochs=30, lr=5e-2), patience=1, monitor="val_accuracy")
    clf.fit(X[:100], y[:100], validation=(X[100:], y[100:]))
    h = clf.history_
    assert {"loss", "val_loss", "val_accuracy", "val_f1_macro"} <= set(h.keys())
    assert len(h) < 30  # stopped early once validation accuracy stopped improving
    best = h.best("val_accuracy")
    assert clf.evaluate(X[100:], y[100:])["accuracy"] == pytest.approx(best["val_accuracy"])


def test_split_validation_is_stratified_and_seeded():
    labels = ["a"] * 10 + ["b"] * 30
    tr, va = split_validation(40, 0.2, seed=0, stratify=labels)
    assert len(va) == 8 and sorted(labels[i] for i in va) == ["a"] * 2 + ["b"] * 6
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(40))
    assert np.array_equal(split_validation(40, 0.2, 0, labels)[1], va)


def test_the_constructor_takes_one_config():
    default = SequenceClassifier()
    assert default.config == ClassifierConfig() and default.config.task == "classification"
    cfg = ClassifierConfig.from_dict({"model": {"pooling": "mean"}})
    assert SequenceClassifier(cfg).config is cfg
    assert SequenceClassifier({"model": {"pooling": "mean"}}).config == cfg
    assert SequenceClassifier.from_dict({"model": {"pooling": "mean"}}).config == cfg
    with pytest.raises(TypeError):
        SequenceClassifier(cfg.model, _training())  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"config: expected a ClassifierConfig or a dict, got int"):
        SequenceClassifier(3)  # type: ignore[arg-type]


class _Rows(Callback):
    """Records the History keys at the end of each epoch."""

    def __init__(self) -> None:
        self.keys: list[set[str]] = []

    def on_epoch_end(self, trainer, **context) -> None:
        self.keys.append(set(trainer.history[-1]))


def test_fit_returns_self_and_evaluate_returns_a_report_with_the_baselines():
    X, y = _texts(60)
    clf = _clf(_small(), _training(epochs=3))
    seen = _Rows()
    assert clf.fit(X, y, validation=0.2, callbacks=[seen]) is clf and len(clf.history_) == 3
    assert "loss" in set(clf.history_.keys())
    assert seen.keys and "val_accuracy" in seen.keys[0]  # extra callbacks run after the task's
    assert clf.fit_seconds_ > 0 and sum(clf.class_counts_) == 48  # the training part
    report = clf.evaluate(X, y)
    assert isinstance(report, Report) and report.primary == "accuracy"
    frame = report.to_frame()
    assert list(frame.index) == ["model", "most_frequent", "bag_of_words"]
    assert frame.loc["most_frequent", "accuracy"] == max(y.count("neg"), y.count("pos")) / 60
    assert report["n"] == 60 and len(report["confusion_matrix"]) == 2  # details, by key
    Xs, ys = _series(30)
    num = _clf(_small(), _training(epochs=1)).fit(Examples(Xs, ys))
    assert list(num.evaluate(Examples(Xs, ys)).to_frame().index) == [
        "model", "most_frequent", "bag_of_features", "summary_forest", "nearest_neighbor"]
    off = SequenceClassifier({"model": _small(), "training": _training(epochs=1),
                              "evaluation": {"baselines": False}}).fit(X, y)
    assert list(off.evaluate(X, y).baselines) == ["most_frequent"]


class CountingGRUCell(GRUCell):
    """A user's own cell: a GRU cell that counts its steps."""

    steps = 0

    def step(self, *args, **kwargs):
        type(self).steps += 1
        return super().step(*args, **kwargs)


def test_a_cell_class_of_your_own_trains_saves_and_loads(tmp_path):
    X, y = _texts(40)
    model = _small(encoder=EncoderSection(cell=CountingGRUCell, hidden_size=6, backend="loop"))
    clf = _clf(model, _training(epochs=2)).fit(X, y)
    assert isinstance(clf.model_.encoder.cells[0], CountingGRUCell)
    assert CountingGRUCell.steps > 0
    name = clf.config.to_dict()["model"]["encoder"]["cell"]
    assert name.endswith(":CountingGRUCell")
    back = SequenceClassifier.load(clf.save(tmp_path / "own"))
    assert back.config.model.encoder.cell is CountingGRUCell
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


def test_errors_name_the_argument():
    X, y = _texts(20)
    with pytest.raises(ConfigError, match=r"pool: expected one of the keys .*did you mean 'pooling'"):
        ClassifierModel(pool="max")
    with pytest.raises(ConfigError, match=r"pooling: expected one of \['last', 'mean', 'max', 'attention'\], got 'first'"):
        ClassifierModel(pooling="first")
    with pytest.raises(ConfigError, match=r"SequenceClassifier: expected a fitted classifier"):
        SequenceClassifier().predict(X)
    with pytest.raises(DataError, match=r"y: expected at least two classes, got \['pos'\]"):
        _clf(_small(), _training(epochs=1)).fit(X, ["pos"] * 20)
    with pytest.raises(ShapeError, match=r"y: expected 20 labels \(one per sample of X\), got 19"):
        _clf(_small(), _training(epochs=1)).fit(X, y[:19])
    with pytest.raises(DataError, match=r"X: expected a list of samples, got 'a single str'"):
        _clf(_small(), _training(epochs=1)).fit("good film", y)
    with pytest.raises(DataError, match=r"y: expected labels \(one per sample of X\), got None"):
        _clf(_small(), _training(epochs=1)).fit(X)
    clf = _clf(_small(), _training(epochs=1)).fit(X, y)
    with pytest.raises(DataError, match=r"X: expected text samples like the training data"):
        clf.predict(np.zeros((2, 3, 2)))
    with pytest.raises(DataError, match=r"validation y: expected labels among the classes seen in fit"):
        _clf(_small(), _training(epochs=1)).fit(X, y, validation=(X[:2], ["pos", "meh"]))
    with pytest.raises(ConfigError, match=r"validation: expected a fraction in \(0, 1\)"):
        _clf(_small(), _training(epochs=1)).fit(X, y, validation=1.5)
    Xs, ys = _series(10)
    num = _clf(_small(), _training(epochs=1)).fit(Xs, ys)
    with pytest.raises(ShapeError, match=r"X\[0\]: expected 2 features \(as in fit\), got 3"):
        num.predict([np.ones((4, 3))])


def test_a_bundle_written_before_the_task_interface_still_loads(tmp_path):
    X, y = _texts(40)
    clf = _clf(_small(), _training(epochs=2), patience=2).fit(X, y)
    old_model = {**clf.config.model.model_dump(mode="json"), "patience": 2,
                 "monitor": "val_accuracy"}
    save_bundle(tmp_path / "old", task="sequence_classification", model=clf.model_,
                config={"model": old_model,
                        "training": clf.config.training.model_dump(mode="json"),
                        "n_classes": 2},
                preprocessing={"inputs": clf.inputs_.to_dict(), "classes": clf.classes_},
                metrics={"epochs": 2})
    for back in (SequenceClassifier.load(tmp_path / "old"), load(tmp_path / "old")):
        assert back.config.early_stopping.monitor == "val_accuracy"
        assert back.config.model == clf.config.model
        np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
        assert back.evaluate(X, y).baselines == {}  # neither class counts nor baselines saved


# -- pretrained word vectors ------------------------------------------------------------------
def _vector_file(tmp_path, dim: int = 8):
    """A GloVe-format file with a vector for every word of the synthetic texts but "plot"."""
    rng = np.random.default_rng(5)
    words = [w for w in POS + NEG + FILLER if w != "plot"]
    vecs = rng.normal(0, 0.5, size=(len(words), dim)).round(4)
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in zip(words, vecs)),
                    encoding="utf-8")
    return path, dict(zip(words, vecs))


def test_pretrained_vectors_initialize_the_embedding_and_freeze_keeps_them(tmp_path):
    path, vecs = _vector_file(tmp_path)
    X, y = _texts(64)
    frozen = _clf(_small(pretrained_embeddings=str(path), freeze_embeddings=True),
                 TrainerConfig(epochs=2, seed=0, device="cpu")).fit(X, y)
    vocab, weight = frozen.inputs_.vocab, frozen.model_.embedding.weight.detach().numpy()
    for word, v in vecs.items():
        np.testing.assert_allclose(weight[vocab[word]], v, rtol=1e-6)
    assert not frozen.model_.embedding.weight.requires_grad
    assert np.all(weight[0] == 0)
    n_words = len(vocab) - 4
    assert frozen.embedding_coverage_ == pytest.approx(len(vecs) / n_words)  # all but "plot"

    tuned = _clf(_small(pretrained_embeddings=str(path)),
                 TrainerConfig(epochs=2, seed=0, device="cpu")).fit(X, y)
    moved = tuned.model_.embedding.weight.detach().numpy()[tuned.inputs_.vocab["good"]]
    assert not np.allclose(moved, vecs["good"])  # trainable by default: the vectors moved
    plain = _clf(_small(), TrainerConfig(epochs=1, seed=0, device="cpu")).fit(X, y)
    assert plain.embedding_coverage_ is None


def test_a_saved_pretrained_model_loads_without_the_vectors(tmp_path):
    path, _ = _vector_file(tmp_path)
    X, y = _texts(48)
    clf = _clf(_small(pretrained_embeddings=str(path)),
               TrainerConfig(epochs=1, seed=0, device="cpu")).fit(X, y)
    clf.save(tmp_path / "model")
    path.unlink()
    back = SequenceClassifier.load(tmp_path / "model")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.config.model.pretrained_embeddings == str(path)


def test_pretrained_vectors_errors(tmp_path):
    path, _ = _vector_file(tmp_path, dim=8)
    X, y = _texts(16)
    with pytest.raises(ConfigError, match=r"embedding_dim: expected 8 \(the size of the "
                                          r"vectors.txt vectors named by pretrained_embeddings\), got 16"):
        _clf(_small(embedding_dim=16, pretrained_embeddings=str(path)),
             TrainerConfig(epochs=1, device="cpu")).fit(X, y)
    series, labels = _series(12)
    with pytest.raises(ConfigError, match="pretrained_embeddings: expected None for numeric "
                                          "inputs"):
        _clf(_small(pretrained_embeddings=str(path)),
             TrainerConfig(epochs=1, device="cpu")).fit(series, labels)
    with pytest.raises(ConfigError, match="pretrained_embeddings: expected a vector-set name "
                                          "or a file path, got ''"):
        ClassifierModel(pretrained_embeddings="")
    with pytest.raises(ConfigError, match="pretrained vectors: expected one of"):
        _clf(_small(pretrained_embeddings="no-such-vectors"),
             TrainerConfig(epochs=1, device="cpu")).fit(X, y)
