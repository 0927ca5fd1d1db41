"""rnnkit.tasks.classification: learning, masking, reproducibility, bundles and errors, on tiny
synthetic data (each fit takes well under a second)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.classification import (
    ClassifierConfig,
    ClassifierNet,
    SequenceClassifier,
    classification_metrics,
    split_validation,
)
from rnnkit.training import TrainerConfig

POS, NEG = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"]
FILLER = ["the", "movie", "was", "a", "plot", "it", "and", "so"]


def _texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Sentences of filler words with one sentiment word somewhere; the label follows it."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        words = list(rng.choice(FILLER, size=int(rng.integers(1, 9))))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(POS if label else NEG)))
        texts.append(" ".join(words))
        labels.append("pos" if label else "neg")
    return texts, labels


def _series(n: int, seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """Two-feature series of 4..12 steps; the class (0, 1, 2) sets the trend of feature 0."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        c = int(rng.integers(0, 3))
        T = int(rng.integers(4, 13))
        t = np.arange(T)
        f0 = (c - 1) * 0.5 * t + rng.normal(0, 0.3, T)
        f1 = rng.normal(0, 1, T)
        X.append(np.stack([f0, f1], axis=1) * 10 + 3)  # unscaled on purpose
        y.append(c)
    return X, y


def _small(**changes) -> ClassifierConfig:
    base = {"encoder": RecurrentSpec(hidden_size=8, bidirectional=True), "embedding_dim": 8,
            "dropout": 0.0}
    return ClassifierConfig(**{**base, **changes})


def _training(**changes) -> TrainerConfig:
    return TrainerConfig(**{"epochs": 12, "batch_size": 16, "lr": 2e-2, "seed": 0,
                            "device": "cpu", **changes})


def test_text_classifier_learns_the_keyword_rule():
    X, y = _texts(240)
    clf = SequenceClassifier(_small(), _training()).fit(X[:200], y[:200])
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
    clf = SequenceClassifier(_small(pooling="mean"), _training(epochs=15))
    clf.fit(X[:120], y[:120])
    m = clf.evaluate(X[120:], y[120:])
    assert m["accuracy"] >= 0.9
    assert len(m["confusion_matrix"]) == 3 and sum(map(sum, m["confusion_matrix"])) == 30
    # the scaler was fitted on every real training step
    steps = np.concatenate(X[:120])
    assert np.allclose(clf.inputs_.scaler.mean_, steps.mean(0))
    proba = clf.predict_proba(X[120:])
    assert proba.shape == (30, 3) and np.allclose(proba.sum(1), 1.0)
    assert clf.predict(X[120:]).tolist() == [clf.classes_[i] for i in proba.argmax(1)]


def test_padded_array_with_lengths_equals_list_input():
    X, y = _series(40)
    clf = SequenceClassifier(_small(pooling="max"), _training(epochs=2)).fit(X, y)
    T = max(len(s) for s in X)
    padded = np.zeros((40, T, 2))
    for i, s in enumerate(X):
        padded[i, : len(s)] = s
    lengths = np.array([len(s) for s in X])
    np.testing.assert_allclose(clf.predict_proba(padded, lengths=lengths), clf.predict_proba(X),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("kind", ["tokens", "numeric"])
def test_padding_never_changes_a_prediction(pooling, kind):
    """A sequence scored alone equals the same sequence padded inside a longer batch."""
    torch.manual_seed(0)
    spec = RecurrentSpec(cell="gru", hidden_size=5, bidirectional=True, num_layers=2)
    if kind == "tokens":
        net = ClassifierNet(3, spec, vocab_size=20, pooling=pooling, embedding_dim=4).eval()
        x = torch.randint(1, 20, (3, 7))
        x[1, 4:] = 0
        x[2, 2:] = 0
    else:
        net = ClassifierNet(3, spec, n_features=2, pooling=pooling).eval()
        x = torch.randn(3, 7, 2)
        x[1, 4:] = 99.0  # garbage in the padding
        x[2, 2:] = -99.0
    lengths = torch.tensor([7, 4, 2])
    batch = net(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i : i + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(batch[i : i + 1], alone, atol=1e-5, rtol=1e-5)


def test_same_seed_same_predictions_other_seed_differs():
    X, y = _texts(80)

    def proba(seed):
        return SequenceClassifier(_small(dropout=0.2), _training(epochs=2, seed=seed)).fit(
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
    clf = SequenceClassifier(_small(pooling="attention"), _training(epochs=2)).fit(X, y)
    path = clf.save(tmp_path / "clf")
    names = sorted(p.name for p in path.iterdir())
    assert names == ["config.json", "manifest.json", "metrics.json", "model.safetensors",
                     "preprocessing.json"]
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


def test_attention_weights_cover_the_real_steps():
    X, y = _texts(60)
    clf = SequenceClassifier(_small(), _training(epochs=8)).fit(X, y)
    weights = clf.attention(X[:10])
    for w, text in zip(weights, X[:10]):
        assert w.shape == (len(text.split()),) and w.sum() == pytest.approx(1.0, abs=1e-6)
    # after training, the sentiment word draws the largest weight in most sentences
    hits = [text.split()[int(w.argmax())] in POS + NEG for w, text in zip(weights, X[:10])]
    assert sum(hits) >= 8


def test_validation_history_and_early_stopping():
    X, y = _texts(120)
    clf = SequenceClassifier(_small(patience=1, monitor="val_accuracy"),
                             _training(epochs=30, lr=5e-2))
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


def test_classification_metrics_values():
    m = classification_metrics(["a", "b", "b", "a"], ["a", "b", "a", "a"],
                               np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]),
                               labels=["a", "b"])
    assert m["accuracy"] == 0.75 and m["confusion_matrix"] == [[2, 0], [1, 1]]
    assert m["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert m["f1_micro"] == 0.75 and m["roc_auc"] == 1.0 and m["n"] == 4


def test_config_round_trip_and_repr():
    cfg = ClassifierConfig.from_dict({"pooling": "max", "encoder": {"cell": "gru", "hidden_size": 7}})
    assert cfg.encoder == RecurrentSpec(cell="gru", hidden_size=7)
    assert ClassifierConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert repr(cfg) == ("ClassifierConfig(encoder=RecurrentSpec(cell='gru', hidden_size=7, "
                         "num_layers=1, dropout=0.0, bidirectional=False, merge_mode='concat', "
                         "recurrent_dropout=0.0, weight_drop=0.0, zoneout=0.0, layer_norm=False, "
                         "activation='tanh', recurrent_init='orthogonal', unit_forget_bias=True, "
                         "reset_after=True, backend='auto'), pooling='max')")


def test_errors_name_the_argument():
    X, y = _texts(20)
    with pytest.raises(ConfigError, match=r"ClassifierConfig keys: expected a subset of .* got \['pool'\]"):
        ClassifierConfig.from_dict({"pool": "max"})
    with pytest.raises(ConfigError, match=r"pooling: expected one of \['last', 'mean', 'max', 'attention'\], got 'first'"):
        ClassifierConfig(pooling="first")
    with pytest.raises(ConfigError, match=r"SequenceClassifier: expected a fitted classifier"):
        SequenceClassifier().predict(X)
    with pytest.raises(DataError, match=r"y: expected at least two classes, got \['pos'\]"):
        SequenceClassifier(_small(), _training(epochs=1)).fit(X, ["pos"] * 20)
    with pytest.raises(ShapeError, match=r"y: expected 20 labels \(one per sample of X\), got 19"):
        SequenceClassifier(_small(), _training(epochs=1)).fit(X, y[:19])
    with pytest.raises(DataError, match=r"X: expected a list of samples, got 'a single str'"):
        SequenceClassifier(_small(), _training(epochs=1)).fit("good film", y)
    clf = SequenceClassifier(_small(), _training(epochs=1)).fit(X, y)
    with pytest.raises(DataError, match=r"X: expected text samples like the training data"):
        clf.predict(np.zeros((2, 3, 2)))
    with pytest.raises(DataError, match=r"validation y: expected labels among the classes seen in fit"):
        SequenceClassifier(_small(), _training(epochs=1)).fit(X, y, validation=(X[:2], ["pos", "meh"]))
    with pytest.raises(ConfigError, match=r"validation: expected a fraction in \(0, 1\)"):
        SequenceClassifier(_small(), _training(epochs=1)).fit(X, y, validation=1.5)
    Xs, ys = _series(10)
    num = SequenceClassifier(_small(), _training(epochs=1)).fit(Xs, ys)
    with pytest.raises(ShapeError, match=r"X\[0\]: expected 2 features \(as in fit\), got 3"):
        num.predict([np.ones((4, 3))])
    with pytest.raises(ConfigError, match=r"config: expected a ClassifierConfig, got 'dict'"):
        SequenceClassifier({"pooling": "max"})  # type: ignore[arg-type]


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
    frozen = SequenceClassifier(_small(pretrained_embeddings=str(path), freeze_embeddings=True),
                                TrainerConfig(epochs=2, seed=0, device="cpu")).fit(X, y)
    vocab, weight = frozen.inputs_.vocab, frozen.model_.embedding.weight.detach().numpy()
    for word, v in vecs.items():
        np.testing.assert_allclose(weight[vocab[word]], v, rtol=1e-6)
    assert not frozen.model_.embedding.weight.requires_grad
    assert np.all(weight[0] == 0)
    n_words = len(vocab) - 4
    assert frozen.embedding_coverage_ == pytest.approx(len(vecs) / n_words)  # all but "plot"

    tuned = SequenceClassifier(_small(pretrained_embeddings=str(path)),
                               TrainerConfig(epochs=2, seed=0, device="cpu")).fit(X, y)
    moved = tuned.model_.embedding.weight.detach().numpy()[tuned.inputs_.vocab["good"]]
    assert not np.allclose(moved, vecs["good"])  # trainable by default: the vectors moved
    plain = SequenceClassifier(_small(), TrainerConfig(epochs=1, seed=0, device="cpu")).fit(X, y)
    assert plain.embedding_coverage_ is None


def test_a_saved_pretrained_model_loads_without_the_vectors(tmp_path):
    path, _ = _vector_file(tmp_path)
    X, y = _texts(48)
    clf = SequenceClassifier(_small(pretrained_embeddings=str(path)),
                             TrainerConfig(epochs=1, seed=0, device="cpu")).fit(X, y)
    clf.save(tmp_path / "model")
    path.unlink()
    back = SequenceClassifier.load(tmp_path / "model")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.config.pretrained_embeddings == str(path)


def test_pretrained_vectors_errors(tmp_path):
    path, _ = _vector_file(tmp_path, dim=8)
    X, y = _texts(16)
    with pytest.raises(ConfigError, match=r"embedding_dim: expected 8 \(the size of the "
                                          r"vectors.txt vectors named by pretrained_embeddings\), got 16"):
        SequenceClassifier(_small(embedding_dim=16, pretrained_embeddings=str(path)),
                           TrainerConfig(epochs=1, device="cpu")).fit(X, y)
    series, labels = _series(12)
    with pytest.raises(ConfigError, match="pretrained_embeddings: expected None for numeric "
                                          "inputs"):
        SequenceClassifier(_small(pretrained_embeddings=str(path)),
                           TrainerConfig(epochs=1, device="cpu")).fit(series, labels)
    with pytest.raises(ConfigError, match="pretrained_embeddings: expected a vector-set name "
                                          "or a file path, got ''"):
        ClassifierConfig(pretrained_embeddings="")
    with pytest.raises(ConfigError, match="pretrained vectors: expected one of"):
        SequenceClassifier(_small(pretrained_embeddings="no-such-vectors"),
                           TrainerConfig(epochs=1, device="cpu")).fit(X, y)
