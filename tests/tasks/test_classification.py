"""rnnkit.tasks.classification: learning, masking, reproducibility, bundles, the task interface
(config, Report, files) and errors, on tiny synthetic data (each fit takes well under a
second)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnkit.bundle import save_bundle
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.nn import GRUCell
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.base import Examples, Report
from rnnkit.tasks.classification import (
    ClassifierConfig,
    ClassifierModel,
    ClassifierNet,
    SequenceClassifier,
    classification_metrics,
    split_validation,
)
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.registry import load, task_from_toml
from rnnkit.training import Callback, TrainerConfig

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


def _small(**changes) -> ClassifierModel:
    base = {"encoder": EncoderSection(hidden_size=8, bidirectional=True), "embedding_dim": 8,
            "dropout": 0.0}
    return ClassifierModel(**{**base, **changes})


def _training(**changes) -> TrainerConfig:
    return TrainerConfig(**{"epochs": 12, "batch_size": 16, "lr": 2e-2, "seed": 0,
                            "device": "cpu", **changes})


def _clf(model: ClassifierModel, training: TrainerConfig, **early_stopping) -> SequenceClassifier:
    """The classifier of a model section, a TrainerConfig and early-stopping fields."""
    config = {"model": model, "training": training}
    if early_stopping:
        config["early_stopping"] = early_stopping
    return SequenceClassifier(config)


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


def test_padded_array_with_lengths_equals_list_input():
    X, y = _series(40)
    clf = _clf(_small(pooling="max"), _training(epochs=2)).fit(X, y)
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


def test_classification_metrics_values():
    m = classification_metrics(["a", "b", "b", "a"], ["a", "b", "a", "a"],
                               np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]),
                               labels=["a", "b"])
    assert m["accuracy"] == 0.75 and m["confusion_matrix"] == [[2, 0], [1, 1]]
    assert m["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert m["f1_micro"] == 0.75 and m["roc_auc"] == 1.0 and m["n"] == 4


def test_config_round_trip_and_repr():
    cfg = ClassifierConfig.from_dict({"model": {"pooling": "max",
                                                "encoder": {"cell": "gru", "hidden_size": 7}}})
    assert cfg.model.encoder == EncoderSection(cell="gru", hidden_size=7)
    assert cfg.training.loss == "cross_entropy" and cfg.training.epochs == 10  # task defaults
    assert ClassifierConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert ClassifierConfig.from_toml_string(cfg.to_toml()) == cfg
    assert repr(cfg.model) == ("ClassifierModel(encoder.cell='gru', encoder.hidden_size=7, "
                               "pooling='max')")
    # a [training] table overrides the task's training defaults key by key
    cfg = ClassifierConfig.from_dict({"training": {"epochs": 3}})
    assert (cfg.training.epochs, cfg.training.lr, cfg.training.clipnorm) == (3, 2e-3, 5.0)
    # an encoder spec of an older config converts
    spec = RecurrentSpec(cell="gru", hidden_size=7)
    assert EncoderSection.from_spec(spec).build(3).hidden_size == 7


def test_from_toml_round_trip_and_relative_paths(tmp_path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "clf.toml"
    path.write_text('task = "classification"\n[data]\npath = "../texts.csv"\nvalidation = 0.1\n'
                    '[model]\npooling = "max"\n[model.encoder]\ncell = "gru"\n'
                    '[training]\nepochs = 2\n[early_stopping]\nmonitor = "val_accuracy"\n',
                    encoding="utf-8")
    clf = SequenceClassifier.from_toml(path)
    assert clf.config.data.path == str(tmp_path / "texts.csv")  # against the file's folder
    assert clf.config.model.encoder.cell == "gru" and clf.config.training.epochs == 2
    assert clf.config.early_stopping.monitor == "val_accuracy"
    assert ClassifierConfig.from_toml_string(clf.config.to_toml()) == clf.config
    over = SequenceClassifier.from_toml(path, {"model": {"encoder": {"hidden_size": 5}}})
    assert over.config.model.encoder.cell == "gru" and over.config.model.encoder.hidden_size == 5


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


def test_unknown_config_keys_get_a_suggestion():
    with pytest.raises(ConfigError, match=r"model\.pool: expected one of the keys .* got an "
                                          r"unknown key\. did you mean 'pooling'\?"):
        SequenceClassifier({"model": {"pool": "max"}})
    with pytest.raises(ConfigError, match=r"training\.epoks: .* did you mean 'epochs'\?"):
        SequenceClassifier({"training": {"epoks": 3}})
    with pytest.raises(ConfigError, match=r"model\.encoder\.cell: expected one of \['lstm', "
                                          r"'gru', 'rnn'\].* got 'lstn'\. did you mean 'lstm'\?"):
        SequenceClassifier({"model": {"encoder": {"cell": "lstn"}}})
    with pytest.raises(ConfigError, match=r"early_stopping\.patiense: .* did you mean 'patience'"):
        SequenceClassifier({"early_stopping": {"patiense": 2}})
    with pytest.raises(ConfigError, match=r"pooling: expected one of the keys \['data', "):
        SequenceClassifier({"pooling": "max"})


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
        "model", "most_frequent", "bag_of_features"]
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


# -- files: the command line's path ------------------------------------------------------------
def _write_texts(path, n, seed=0, labelled=True):
    import pandas as pd

    X, y = _texts(n, seed)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": X})
    if labelled:
        frame["label"] = y
    frame.to_csv(path, index=False)
    return X, y


def _write_series(path, n, seed=0):
    """Long format, rows of each series shuffled (read_data sorts them by step)."""
    import pandas as pd

    X, y = _series(n, seed)
    rows = [{"id": f"s{i}", "step": t, "a": float(x[t, 0]), "b": float(x[t, 1]), "label": c}
            for i, (x, c) in enumerate(zip(X, y)) for t in range(len(x))]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    frame.to_parquet(path) if str(path).endswith(".parquet") else frame.to_csv(path, index=False)
    return X, y


def test_a_text_csv_end_to_end_as_the_command_line_runs_it(tmp_path):
    _write_texts(tmp_path / "texts.csv", 150)
    _write_texts(tmp_path / "new.csv", 5, seed=1, labelled=False)
    (tmp_path / "clf.toml").write_text(
        'task = "classification"\n[data]\npath = "texts.csv"\ntest = 0.2\nvalidation = 0.1\n'
        '[model]\nembedding_dim = 8\npooling = "mean"\n[model.encoder]\nhidden_size = 8\n'
        '[training]\nepochs = 12\nbatch_size = 16\nlr = 0.02\ndevice = "cpu"\n', encoding="utf-8")
    task = task_from_toml(tmp_path / "clf.toml")
    assert isinstance(task, SequenceClassifier)
    data = task.read_data()
    assert len(data.inputs) == 150 and data.inputs.ids[:2] == ["r0", "r1"]
    fit_data, test_data = task.split(data)
    assert (len(fit_data.inputs), len(test_data.inputs)) == (120, 30)
    assert sorted(fit_data.inputs.ids + test_data.inputs.ids) == sorted(data.inputs.ids)
    assert task.fit(fit_data) is task
    assert "val_accuracy" in set(task.history_.keys())  # data.validation held out 10%
    report = task.evaluate(test_data)
    assert report["accuracy"] >= 0.8 and "bag_of_words" in report.baselines
    back = load(task.save(tmp_path / "model"))
    assert isinstance(back, SequenceClassifier)
    new = back.read_data(tmp_path / "new.csv", labelled=False)
    assert new.targets is None
    frame = back.predict_frame(new)
    assert list(frame.columns) == ["id", "text", "prediction", "proba_neg", "proba_pos"]
    assert frame["id"].tolist() == [f"r{i}" for i in range(5)]
    assert frame["prediction"].tolist() == task.predict(new.inputs).tolist()
    np.testing.assert_allclose(frame[["proba_neg", "proba_pos"]].sum(axis=1), 1.0)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_long_series_file_is_read_sorted_by_step(tmp_path, suffix):
    X, y = _write_series(tmp_path / f"series{suffix}", 12)
    task = SequenceClassifier({"data": {"path": str(tmp_path / f"series{suffix}")}})
    data = task.read_data()
    assert sorted(data.inputs.ids) == sorted(f"s{i}" for i in range(12))  # first seen first
    by_id = dict(zip(data.inputs.ids, zip(data.inputs, data.targets)))
    for i, (x, c) in enumerate(zip(X, y)):
        np.testing.assert_allclose(by_id[f"s{i}"][0], x)  # (T_i, 2), in step order
        assert by_id[f"s{i}"][1] == c


def test_series_end_to_end_and_file_errors(tmp_path):
    import pandas as pd

    _write_series(tmp_path / "train.csv", 90)
    _write_series(tmp_path / "test.csv", 30, seed=1)
    task = SequenceClassifier({
        "data": {"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"),
                 "kind": "series", "feature_columns": ["a", "b"]},
        "model": _small(pooling="mean"), "training": _training(epochs=15)})
    fit_data, test_data = task.split(task.read_data())
    assert (len(fit_data.inputs), len(test_data.inputs)) == (90, 30)
    report = task.fit(fit_data).evaluate(test_data)
    assert report["accuracy"] >= 0.8
    frame = task.predict_frame(test_data)
    assert list(frame.columns[:4]) == ["id", "steps", "label", "prediction"]
    assert frame["steps"].tolist() == [len(x) for x in test_data.inputs]
    back = SequenceClassifier.load(task.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(back.predict_frame(test_data), frame)

    bad = pd.DataFrame({"id": ["a", "a", "b"], "step": [0, 1, 0], "x": [1.0, 2.0, 3.0],
                        "label": ["up", "down", "up"]})
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"series 'a': expected one label on all its rows, got "
                                        r"labels \['down', 'up'\]"):
        SequenceClassifier().read_data(tmp_path / "bad.csv")
    pd.DataFrame({"words": ["x"], "label": [1]}).to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(DataError, match=r"expected a text column 'text' or a series id column 'id'"):
        SequenceClassifier().read_data(tmp_path / "odd.csv")
    with pytest.raises(DataError, match=r"expected a label column 'label'"):
        SequenceClassifier().read_data(_unlabelled(tmp_path))
    with pytest.raises(ConfigError, match=r"data\.path: expected the path of a CSV or Parquet file"):
        SequenceClassifier().read_data()


def _unlabelled(tmp_path):
    _write_texts(tmp_path / "unlabelled.csv", 3, labelled=False)
    return tmp_path / "unlabelled.csv"


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
