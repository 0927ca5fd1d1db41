"""rnnkit.tasks.tagging.task: learning a context-dependent tag (with and without a CRF),
reproducibility, bundles, the task interface (Report, a cell of your own), pretrained vectors
and errors, on tiny synthetic data."""

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
from rnnkit.tasks.registry import load
from rnnkit.tasks.tagging import SequenceTagger, TaggerConfig, TaggerModel

from tagger_builders import _corpus, _small, _tagger, _training


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
    # the baseline is in the bundle: evaluate after load reports it with the same numbers
    assert pre["baselines"]["most_frequent_tag"]["type"] == "most_frequent_tag"
    before, after = a.evaluate(sents, tags), loaded.evaluate(sents, tags)
    assert list(after.baselines) == ["most_frequent_tag"]
    # the same numbers, exactly (JSON text, so that a NaN metric compares equal too)
    assert json.dumps([after.model, after.baselines]) == json.dumps([before.model, before.baselines])


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


def test_a_bundle_written_before_the_task_interface_still_loads(tmp_path):
    sents, tags = _corpus(40)
    tagger = _tagger(_small(), _training(epochs=2)).fit(sents, tags)
    old_model = {**tagger.config.model.model_dump(mode="json"), "patience": 4,
                 "monitor": "val_token_accuracy"}
    older = {k: v for k, v in tagger._preprocessing().items() if k != "baselines"}
    save_bundle(tmp_path / "old", task="sequence_tagging", model=tagger.model_,
                config={"model": old_model,
                        "training": tagger.config.training.model_dump(mode="json")},
                preprocessing=older, metrics={"epochs": 2})
    for back in (SequenceTagger.load(tmp_path / "old"), load(tmp_path / "old")):
        assert back.config.early_stopping.patience == 4
        assert back.config.model == tagger.config.model
        assert back.predict(sents) == tagger.predict(sents)
        # written before the baseline was saved: the model alone is reported
        report = back.evaluate(sents, tags)
        assert report.baselines == {}
        assert json.dumps(report.model) == json.dumps(tagger.evaluate(sents, tags).model)


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
