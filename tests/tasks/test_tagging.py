"""rnnkit.tasks.tagging: features, masking, learning a context-dependent tag, CRF decoding,
reproducibility, bundles, the task interface (config, Report, CoNLL files) and errors, on tiny
synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnkit.bundle import save_bundle
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.nn import LSTMCell
from rnnkit.tasks.base import Examples, Report
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.registry import load, task_from_toml
from rnnkit.tasks.tagging import (
    SHAPES,
    SequenceTagger,
    TaggerConfig,
    TaggerModel,
    TaggerNet,
    TokenFeatures,
    parse_conll,
    tagging_metrics,
    word_shape,
)
from rnnkit.training import TrainerConfig


def _corpus(n: int, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """'can' / 'fish' are VERB after 'we' / 'they' and NOUN after 'the' / 'a': only context
    tells; other words have one tag each."""
    rng = np.random.default_rng(seed)
    sents, tags = [], []
    for _ in range(n):
        s: list[str] = []
        t: list[str] = []
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                s += [str(rng.choice(["we", "they"])), str(rng.choice(["can", "fish"]))]
                t += ["PRON", "VERB"]
            else:
                s += [str(rng.choice(["the", "a"])), str(rng.choice(["can", "fish", "dog"]))]
                t += ["DET", "NOUN"]
            if rng.random() < 0.3:
                s.append(".")
                t.append(".")
        sents.append(s)
        tags.append(t)
    return sents, tags


def _small(**changes) -> TaggerModel:
    base = {"encoder": EncoderSection(hidden_size=8, bidirectional=True), "embedding_dim": 8,
            "suffix_dim": 4, "shape_dim": 2, "dropout": 0.0, "min_freq": 1}
    return TaggerModel(**{**base, **changes})


def _training(**changes) -> TrainerConfig:
    return TrainerConfig(**{"epochs": 10, "batch_size": 16, "lr": 3e-2, "seed": 0,
                            "device": "cpu", **changes})


def _tagger(model: TaggerModel, training: TrainerConfig, **early_stopping) -> SequenceTagger:
    """The tagger of a model section, a TrainerConfig and early-stopping fields."""
    config = {"model": model, "training": training}
    if early_stopping:
        config["early_stopping"] = early_stopping
    return SequenceTagger(config)


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


@pytest.mark.parametrize("crf", [False, True])
def test_padding_never_changes_emissions_or_tags(crf):
    torch.manual_seed(0)
    net = TaggerNet(4, _small(crf=crf), vocab_size=10, suffix_vocab_size=6).eval()
    x = torch.randint(1, 6, (3, 5, 3))
    lengths = torch.tensor([5, 3, 1])
    x[torch.arange(5) >= lengths[:, None]] = 0
    em = net(x, lengths)
    tags = net.decode(em, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i : i + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(em[i : i + 1, :n], alone, atol=1e-5, rtol=1e-5)
        assert torch.equal(tags[i, :n], net.decode(alone, torch.tensor([n]))[0])
        assert (tags[i, n:] == -100).all()
    if crf:
        assert torch.equal(tags, net.crf.decode(em, lengths=lengths))
    else:
        assert torch.equal(tags[0], em[0].argmax(-1))


@pytest.mark.parametrize("crf", [False, True])
def test_tagger_learns_tags_that_depend_on_context(crf):
    sents, tags = _corpus(200)
    tagger = _tagger(_small(crf=crf), _training()).fit(sents[:160], tags[:160])
    m = tagger.evaluate(sents[160:], tags[160:])
    assert m["token_accuracy"] >= 0.98
    assert tagger.predict([["we", "can"], ["the", "can"]]) == [["PRON", "VERB"], ["DET", "NOUN"]]
    assert tagger.tags_ == [".", "DET", "NOUN", "PRON", "VERB"]
    assert set(m["per_class"]) == set(tagger.tags_)
    assert m["per_class"]["VERB"]["f1"] >= 0.95


def test_validation_history_early_stopping_and_unknown_words():
    sents, tags = _corpus(120)
    tagger = _tagger(_small(), _training(epochs=25), patience=2, monitor="val_token_accuracy")
    tagger.fit(sents[:100], tags[:100], validation=(sents[100:], tags[100:]))
    h = tagger.history_
    assert {"loss", "val_loss", "val_token_accuracy"} <= set(h.keys())
    assert len(h) < 25
    m = tagger.evaluate(sents[100:], tags[100:])
    assert m["token_accuracy"] == pytest.approx(h.best("val_token_accuracy")["val_token_accuracy"])
    # an unseen word still gets a tag from its context
    assert tagger.predict([["the", "zebra"]])[0][0] == "DET"


def test_same_seed_same_predictions_and_save_load(tmp_path):
    sents, tags = _corpus(60)

    def fit(seed):
        return _tagger(_small(dropout=0.3), _training(epochs=3, seed=seed)).fit(
            sents, tags, validation=0.2)

    a, b = fit(5), fit(5)
    probe = [*sents[:20], ["They", "fish", "."], ["a", "zebra"]]
    x, lengths = a.features_.transform(probe)
    em_a = a.model_(x, lengths)
    assert torch.equal(em_a, b.model_(x, lengths))
    assert not torch.equal(em_a, fit(6).model_(x, lengths))
    path = a.save(tmp_path / "tagger")
    pre = json.loads((path / "preprocessing.json").read_text())
    assert pre["tags"] == a.tags_ and pre["features"]["words"]["tokens"][:4] == [
        "<pad>", "<unk>", "<bos>", "<eos>"]
    loaded = SequenceTagger.load(path)
    assert loaded.config == a.config and loaded.tags_ == a.tags_
    assert torch.equal(loaded.model_(x, lengths), em_a)
    assert loaded.predict(probe) == a.predict(probe)


def test_tagging_metrics_values():
    gold = [["D", "N", "V"], ["D", "N"]]
    pred = [["D", "N", "N"], ["D", "N"]]
    m = tagging_metrics(gold, pred, known=[[True, True, False], [True, False]])
    assert m["token_accuracy"] == 0.8 and m["sentence_accuracy"] == 0.5
    assert m["n_tokens"] == 5 and m["n_sentences"] == 2
    assert m["n_oov"] == 2 and m["oov_accuracy"] == 0.5
    assert m["per_class"]["N"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert m["per_class"]["V"]["f1"] == 0.0
    assert m["f1_macro"] == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    assert m["confusion_matrix"] == [[2, 0, 0], [0, 2, 0], [0, 1, 0]]


def test_config_round_trip():
    cfg = TaggerConfig.from_dict({"model": {"crf": False,
                                            "encoder": {"cell": "gru", "hidden_size": 5}}})
    assert cfg.model.encoder == EncoderSection(cell="gru", hidden_size=5) and not cfg.model.crf
    assert TaggerConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert TaggerConfig.from_toml_string(cfg.to_toml()) == cfg
    assert repr(TaggerModel(crf=False)) == "TaggerModel(crf=False)"
    # the tagger's early stopping waits 3 epochs unless told otherwise
    assert cfg.early_stopping.patience == 3
    assert TaggerConfig.from_dict({"early_stopping": {"monitor": "val_token_accuracy"}}
                                  ).early_stopping.patience == 3


def test_the_constructor_takes_one_config_and_refuses_unknown_keys():
    assert SequenceTagger().config == TaggerConfig()
    cfg = TaggerConfig.from_dict({"model": {"crf": False}})
    assert SequenceTagger(cfg).config is cfg and SequenceTagger({"model": {"crf": False}}).config == cfg
    with pytest.raises(TypeError):
        SequenceTagger(cfg.model, _training())  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"model\.crf_: expected one of the keys .* did you mean 'crf'\?"):
        SequenceTagger({"model": {"crf_": True}})
    with pytest.raises(ConfigError, match=r"data\.test_pat: .* did you mean 'test_path'\?"):
        SequenceTagger({"data": {"test_pat": "x.conll"}})


def test_fit_returns_self_and_evaluate_returns_a_report_beside_most_frequent_tag():
    sents, tags = _corpus(60)
    tagger = _tagger(_small(), _training(epochs=3))
    assert tagger.fit(Examples(sents, tags)) is tagger and len(tagger.history_) == 3
    report = tagger.evaluate(Examples(sents, tags))
    assert isinstance(report, Report) and report.primary == "token_accuracy"
    assert list(report.to_frame().index) == ["model", "most_frequent_tag"]
    assert report["n_tokens"] == sum(map(len, sents)) and "VERB" in report["per_class"]
    # "can" / "fish" need the context: the baseline tags each word alone
    assert report.baselines["most_frequent_tag"]["token_accuracy"] < 1.0


class PeepLSTMCell(LSTMCell):
    """A user's own cell: an LSTM cell (a subclass, to show the class is used)."""


def test_a_cell_class_of_your_own_trains_in_the_tagger(tmp_path):
    sents, tags = _corpus(40)
    model = _small(encoder=EncoderSection(cell=PeepLSTMCell, hidden_size=6))
    tagger = _tagger(model, _training(epochs=2)).fit(sents, tags)
    assert type(tagger.model_.encoder.cells[0]) is PeepLSTMCell
    back = SequenceTagger.load(tagger.save(tmp_path / "own"))
    assert back.predict(sents) == tagger.predict(sents)


CONLL = """-DOCSTART- -X- O O

we\tPRP\tPRON
can\tMD\tVERB

the DT DET
can NN NOUN
.   .  .
"""


def test_parse_conll():
    data = parse_conll(CONLL)
    assert data.inputs == [["we", "can"], ["the", "can", "."]]
    assert data.targets == [["PRON", "VERB"], ["DET", "NOUN", "."]]
    tokens = parse_conll("we\ncan\n\nthe\ncan\n", labelled=False)
    assert tokens.inputs == [["we", "can"], ["the", "can"]] and tokens.targets is None
    with pytest.raises(DataError, match=r"x\.conll line 2: expected a token and its tag, got "
                                        r"'can' alone"):
        parse_conll("we PRON\ncan\n", source="x.conll")
    with pytest.raises(DataError, match=r"expected at least one sentence"):
        parse_conll("-DOCSTART-\n\n")


def _write_conll(path, sents, tags=None):
    blocks = ["\n".join(f"{w}\t{t}" if tags is not None else w
                        for w, t in zip(s, tags[i] if tags is not None else s))
              for i, s in enumerate(sents)]
    path.write_text("-DOCSTART-\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")


def test_a_conll_file_end_to_end_as_the_command_line_runs_it(tmp_path):
    sents, tags = _corpus(150)
    _write_conll(tmp_path / "train.conll", sents, tags)
    _write_conll(tmp_path / "new.conll", [["we", "fish"], ["the", "fish", "."]])
    (tmp_path / "tagger.toml").write_text(
        'task = "tagging"\n[data]\npath = "train.conll"\ntest = 0.2\nvalidation = 0.1\n'
        '[model]\nembedding_dim = 8\nsuffix_dim = 4\nshape_dim = 2\nmin_freq = 1\n'
        'dropout = 0.0\n[model.encoder]\nhidden_size = 8\n'
        '[training]\nepochs = 10\nbatch_size = 16\nlr = 0.03\ndevice = "cpu"\n',
        encoding="utf-8")
    task = task_from_toml(tmp_path / "tagger.toml")
    assert isinstance(task, SequenceTagger)
    data = task.read_data()
    assert data.inputs == sents and data.targets == tags
    fit_data, test_data = task.split(data)
    assert (len(fit_data.inputs), len(test_data.inputs)) == (120, 30)
    assert "val_token_accuracy" in set(task.fit(fit_data).history_.keys())
    report = task.evaluate(test_data)
    assert report["token_accuracy"] >= 0.95
    back = load(task.save(tmp_path / "model"))
    assert isinstance(back, SequenceTagger)
    frame = back.predict_frame(back.read_data(tmp_path / "new.conll", labelled=False))
    assert list(frame.columns) == ["sentence", "position", "token", "prediction"]
    assert frame["token"].tolist() == ["we", "fish", "the", "fish", "."]
    assert frame["prediction"].tolist() == ["PRON", "VERB", "DET", "NOUN", "."]
    labelled = back.predict_frame(test_data)
    assert list(labelled.columns) == ["sentence", "position", "token", "tag", "prediction"]
    assert len(labelled) == sum(map(len, test_data.inputs))


def test_a_bundle_written_before_the_task_interface_still_loads(tmp_path):
    sents, tags = _corpus(40)
    tagger = _tagger(_small(), _training(epochs=2)).fit(sents, tags)
    old_model = {**tagger.config.model.model_dump(mode="json"), "patience": 4,
                 "monitor": "val_token_accuracy"}
    save_bundle(tmp_path / "old", task="sequence_tagging", model=tagger.model_,
                config={"model": old_model,
                        "training": tagger.config.training.model_dump(mode="json")},
                preprocessing=tagger._preprocessing(), metrics={"epochs": 2})
    for back in (SequenceTagger.load(tmp_path / "old"), load(tmp_path / "old")):
        assert back.config.early_stopping.patience == 4
        assert back.config.model == tagger.config.model
        assert back.predict(sents) == tagger.predict(sents)


def test_errors_name_the_argument():
    sents, tags = _corpus(10)
    with pytest.raises(ConfigError, match=r"crf_: expected one of the keys .* did you mean 'crf'"):
        TaggerModel(crf_=True)
    with pytest.raises(ConfigError, match=r"suffix_length: expected a number >= 0, got -1"):
        TaggerModel(suffix_length=-1)
    with pytest.raises(ConfigError, match=r"SequenceTagger: expected a fitted tagger"):
        SequenceTagger().predict(sents)
    with pytest.raises(DataError, match=r"sentences\[0\]: expected a list of str tokens, got 'str'"):
        _tagger(_small(), _training(epochs=1)).fit(["we can"], [["PRON", "VERB"]])
    with pytest.raises(ShapeError, match=r"tags\[0\]: expected 2 tags \(one per token\), got 1"):
        _tagger(_small(), _training(epochs=1)).fit([["we", "can"]], [["PRON"]])
    with pytest.raises(ShapeError, match=r"tags: expected 10 tag lists \(one per sentence\), got 9"):
        _tagger(_small(), _training(epochs=1)).fit(sents, tags[:9])
    with pytest.raises(DataError, match=r"sentences\[1\]: expected at least one token"):
        _tagger(_small(), _training(epochs=1)).fit([["a"], []], [["D"], []])
    with pytest.raises(DataError, match=r"validation tags\[0\]: expected tags among those seen in fit"):
        _tagger(_small(), _training(epochs=1)).fit(
            sents, tags, validation=([["we"]], [["XX"]]))
    with pytest.raises(ShapeError, match=r"pred_tags\[0\]: expected 2 tags like the sentence, got 1"):
        tagging_metrics([["a", "b"]], [["a"]])
    with pytest.raises(DataError, match=r"tags: expected a tag list per sentence, got None"):
        _tagger(_small(), _training(epochs=1)).fit(sents)


def test_pretrained_word_vectors_start_the_word_embedding(tmp_path):
    rng = np.random.default_rng(3)
    vecs = {w: rng.normal(0, 0.5, 8).round(4) for w in ["we", "they", "can", "fish", "the"]}
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vecs.items()),
                    encoding="utf-8")
    sents, tags = _corpus(40)
    tagger = _tagger(_small(pretrained_embeddings=str(path), freeze_embeddings=True),
                     _training(epochs=1)).fit(sents, tags)
    vocab, weight = tagger.features_.words, tagger.model_.words.weight.detach().numpy()
    for word, v in vecs.items():
        np.testing.assert_allclose(weight[vocab[word]], v, rtol=1e-6)
    # words: we, they, can, fish, the, a, dog, "." -> 5 of 8 have vectors
    assert tagger.embedding_coverage_ == pytest.approx(5 / (len(vocab) - 4))
    assert len(vocab) - 4 == 8
    with pytest.raises(ConfigError, match=r"embedding_dim: expected 8 \(the size of the "
                                          r"vectors.txt vectors named by pretrained_embeddings\)"
                                          r", got 6"):
        _tagger(_small(embedding_dim=6, pretrained_embeddings=str(path)),
                _training(epochs=1)).fit(sents, tags)
    with pytest.raises(ConfigError, match="pretrained_embeddings: expected a vector-set name"):
        TaggerModel(pretrained_embeddings=3)
