"""Seq2Seq, the task: fit -> self, predictions and attention, evaluate -> Report, save/load,
the CLI contract (read_data, split, predict_frame), errors."""

import random

import pytest
import torch

from rnnkit.data.vocabulary import PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn.gru import GRUCell
from rnnkit.tasks import registry
from rnnkit.tasks.base import Examples, Report
from rnnkit.tasks.seq2seq import Seq2Seq, Seq2SeqConfig


@pytest.fixture(scope="module")
def trained(tiny_config, reverse_pairs):
    model = Seq2Seq(tiny_config("bahdanau", epochs=2))
    return model.fit(reverse_pairs(120), validation=reverse_pairs(20, seed=1))


# ------------------------------------------------------------------------- construction
def test_the_constructor_takes_one_config():
    assert Seq2Seq().config == Seq2SeqConfig()
    task = Seq2Seq({"decoding": {"beam_width": 3}})
    assert task.config.decoding.beam_width == 3 and task.config.task == "seq2seq"
    assert Seq2Seq(task.config).config is task.config
    with pytest.raises(ConfigError, match="config: expected a Seq2SeqConfig or a dict"):
        Seq2Seq(42)
    with pytest.raises(TypeError):
        Seq2Seq({}, {})  # no second argument: training is the config's [training]
    assert repr(task).startswith("Seq2Seq(Seq2SeqConfig(decoding.beam_width=3")
    assert repr(task).endswith("unfitted)")


# ------------------------------------------------------------------------------ training
def test_fit_returns_self_and_fills_the_history(tiny_config, reverse_pairs):
    model = Seq2Seq(tiny_config("general+feeding", epochs=3))
    assert model.fit(reverse_pairs(120), validation=reverse_pairs(20, seed=1)) is model
    history = model.history_
    assert len(history) == 3 and model.fit_seconds_ > 0 and model.is_fitted
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert model.model_.decoder.cells[0].input_size == 8 + 16  # embedding + o_{t-1}


def test_training_learns_and_schedules_teacher_forcing(tiny_config, reverse_pairs):
    model = Seq2Seq(tiny_config("general", epochs=3, teacher_forcing_final=0.5))
    history = model.fit(reverse_pairs(120), validation=reverse_pairs(20, seed=1)).history_
    assert history["teacher_forcing"] == [1.0, 0.75, 0.5]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_validation_fraction_from_the_config(tiny_config, reverse_pairs):
    model = Seq2Seq(tiny_config(epochs=1, data={"validation": 0.25}))
    model.fit(Examples(*zip(*reverse_pairs(40))))
    assert "val_loss" in model.history_[-1]
    assert "val_loss" not in Seq2Seq(tiny_config(epochs=1)).fit(reverse_pairs(40)).history_[-1]


def test_a_users_cell_class_trains_in_the_task(tiny_config, reverse_pairs, tmp_path):
    class DampedGRUCell(GRUCell):  # a user's cell: keeps a tenth of the old state
        def step(self, xp, state, w_hh, h_mask):
            (new,) = super().step(xp, state, w_hh, h_mask)
            return (0.9 * new + 0.1 * state[0],)

    model = Seq2Seq(tiny_config("general", epochs=2,
                                encoder={"cell": DampedGRUCell, "hidden_size": 8,
                                         "bidirectional": True}))
    model.fit(reverse_pairs(60), validation=reverse_pairs(10, seed=1))
    assert isinstance(model.model_.encoder.cells[0], DampedGRUCell)
    assert len(model.history_) == 2 and all(torch.isfinite(torch.tensor(
        model.history_["val_loss"])))
    assert model.config.to_dict()["model"]["encoder"]["cell"].endswith("DampedGRUCell")


def test_same_seed_same_model(tiny_config, reverse_pairs):
    pairs = reverse_pairs(32)
    a, b = Seq2Seq(tiny_config(epochs=1)), Seq2Seq(tiny_config(epochs=1))
    a.fit(pairs)
    b.fit(pairs)
    for pa, pb in zip(a.model_.parameters(), b.model_.parameters()):
        assert torch.equal(pa, pb)


def test_vocabulary_caps_and_min_freq(tiny_config):
    pairs = [("ab", ["X", "Y"]), ("ab", ["X", "Z"]), ("ac", ["X", "W"])]
    model = Seq2Seq(tiny_config(epochs=1, min_freq=2))
    model.fit(pairs)
    assert model.src_vocab_.tokens[4:] == ["a", "b"]  # "c" seen once -> <unk>
    assert model.tgt_vocab_.tokens[4:] == ["X"]
    capped = Seq2Seq(tiny_config(epochs=1, max_src_vocab=5, max_tgt_vocab=6))
    capped.fit(pairs)
    assert len(capped.src_vocab_) == 5 and len(capped.tgt_vocab_) == 6
    with pytest.raises(ConfigError, match="max_tgt_vocab: expected a number >= 5"):
        tiny_config(max_tgt_vocab=3)


def test_bucketed_batches_keep_whole_targets_and_train(tiny_config):
    from rnnkit.tasks.seq2seq.task import _bucketed_loader

    rng = random.Random(0)
    pairs = []
    for _ in range(96):  # targets longer than sources: a cut at the source length would lose them
        s = "".join(rng.choice("abcd") for _ in range(rng.randint(1, 6)))
        pairs.append((s, list((s + s).upper())))
    model = Seq2Seq(tiny_config(epochs=2, bucket=True))
    assert len(model.fit(pairs).history_) == 2
    X, y, lengths = model._tensors(*model._pairs("pairs", pairs))
    seen = 0
    for xb, yb, lb in _bucketed_loader(X, y, lengths, 16, seed=0):
        need = int(torch.maximum(lb, (yb != PAD_ID).sum(1)).max())
        assert xb.shape[1] == yb.shape[1] == need  # cut to the longest need, nothing lost
        seen += len(lb)
    assert seen == 96
    total_targets = int((y != PAD_ID).sum())
    kept = sum(int((yb != PAD_ID).sum()) for _, yb, _ in _bucketed_loader(X, y, lengths, 16, 0))
    assert kept == total_targets


# ---------------------------------------------------------------------- predict, evaluate
def test_predictions_attention_and_likelihood(trained):
    decoded = trained.decode(["abc", "dcba", "a"], beam_width=1)
    for src, d in zip(["abc", "dcba", "a"], decoded):
        assert d.attention.shape == (len(d.ids), len(src))
        if d.ids:
            torch.testing.assert_close(d.attention.sum(1), torch.ones(len(d.ids)))
        tokens = trained.tgt_vocab_.decode(d.ids, stop_at_eos=False)
        assert trained.log_likelihood(src, tokens) == pytest.approx(d.score, abs=1e-4)
    beams = trained.decode(["abc", "dcba"], beam_width=3)
    assert all(b.score >= -1e9 for b in beams)


def test_evaluate_returns_a_report(trained, reverse_pairs):
    pairs = reverse_pairs(30, seed=5)
    result = trained.evaluate(pairs)
    assert isinstance(result, Report)
    assert set(result.model) == {"exact_match", "token_error_rate", "character_error_rate",
                                 "bleu"}
    assert 0 <= result["exact_match"] <= 1 and result["n"] == 30
    assert result.primary == "token_error_rate" and not result.higher_is_better
    frame = result.to_frame()
    assert list(frame.index) == ["model", "translation_memory"]  # letters vs capitals
    assert frame.loc["model", "bleu"] == result["bleu"]
    own = [(s, p) for (s, _), p in zip(pairs, trained.predict([s for s, _ in pairs]))
           if p]  # the model's own outputs as references: a perfect score
    perfect = trained.evaluate(own)
    assert perfect["exact_match"] == 1.0 and perfect["token_error_rate"] == 0.0


def test_identity_baseline_when_sources_and_targets_share_tokens(tiny_config):
    rng = random.Random(0)
    words = ["".join(rng.choice("abcde") for _ in range(rng.randint(2, 5))) for _ in range(60)]
    pairs = [(w, w.replace("a", "e")) for w in words]  # a spelling rule: mostly copying
    model = Seq2Seq(tiny_config(epochs=1, data={"units": "char"}))
    report = model.fit(pairs).evaluate(pairs[:20])
    assert model.shared_vocabulary_
    assert set(report.baselines) == {"translation_memory", "identity"}
    copy = report.baselines["identity"]
    assert copy["exact_match"] == sum("a" not in w for w in words[:20]) / 20
    assert set(Seq2Seq(tiny_config(epochs=1, evaluation={"baselines": False})).fit(
        pairs).evaluate(pairs[:5]).baselines) == set()


def test_save_load_same_predictions(trained, reverse_pairs, tmp_path):
    path = trained.save(tmp_path / "s2s")
    loaded = Seq2Seq.load(path)
    assert isinstance(registry.load(path), Seq2Seq)
    srcs = ["abcd", "ba", "ccd"]
    assert loaded.predict(srcs) == trained.predict(srcs)
    assert loaded.predict(srcs, beam_width=3) == trained.predict(srcs, beam_width=3)
    X, y, lengths = trained._tensors([list(s) for s in srcs], [["A"], ["B", "C"], ["D"]])
    assert torch.equal(loaded.model_(X, lengths), trained.model_(X, lengths))
    assert loaded.config == trained.config and loaded.max_len_ == trained.max_len_
    assert isinstance(loaded.tgt_vocab_, Vocabulary) and loaded.tgt_vocab_ == trained.tgt_vocab_
    assert loaded.history_.to_list() == trained.history_.to_list()
    # the translation memory's pairs are in the bundle: the same report after loading
    pairs = reverse_pairs(10, seed=5)
    assert loaded.evaluate(pairs).to_dict() == trained.evaluate(pairs).to_dict()
    assert set(loaded.evaluate(pairs).baselines) == {"translation_memory"}
    other = loaded.evaluate(pairs, train=reverse_pairs(5, seed=9))  # a memory of 5 pairs
    assert other.model == trained.evaluate(pairs).model


def test_bundles_of_the_old_flat_config_load(trained, tmp_path):
    from rnnkit.bundle import save_bundle

    old = {"encoder": {"cell": "gru", "hidden_size": 8, "num_layers": 1, "bidirectional": True},
           "decoder": {"cell": "lstm", "hidden_size": 16}, "attention": "bahdanau",
           "attn_size": None, "input_feeding": False, "src_embedding_dim": 8,
           "tgt_embedding_dim": 8, "dropout": 0.0, "teacher_forcing": 1.0,
           "teacher_forcing_final": None, "epochs": 2, "batch_size": 16, "optimizer": "adam",
           "lr": 0.01, "weight_decay": 0.0, "clipnorm": 1.0, "schedule": None,
           "time_budget_s": 60.0, "max_len": None, "beam_width": 1, "length_penalty": 0.0,
           "seed": 0, "device": "cpu", "min_freq": 1, "max_src_vocab": None,
           "max_tgt_vocab": None, "bucket": False}
    path = save_bundle(tmp_path / "old", task="seq2seq", model=trained.model_,
                       config={"model": old},
                       preprocessing={"src_vocab": trained.src_vocab_.to_dict(),
                                      "tgt_vocab": trained.tgt_vocab_.to_dict(),
                                      "max_len": trained.max_len_},
                       metrics={"phoneme_error_rate": 0.5,
                                "history": trained.history_.to_list()})
    loaded = Seq2Seq.load(path)
    assert loaded.config.model == trained.config.model
    assert loaded.config.training.max_time == 60.0 and loaded.config.training.epochs == 2
    assert loaded.predict(["abcd", "ba"], beam_width=2) == trained.predict(["abcd", "ba"],
                                                                           beam_width=2)
    assert len(loaded.history_) == len(trained.history_)


# ----------------------------------------------------------------------------- errors
def test_errors(tiny_config):
    with pytest.raises(ConfigError, match="attention: expected one of"):
        tiny_config("luong")
    with pytest.raises(ConfigError, match="attention: expected 'general' or 'bahdanau'"):
        Seq2SeqConfig.from_dict({"model": {"attention": "dot",
                                           "decoder": {"hidden_size": 100}}})  # 256 vs 100
    with pytest.raises(ConfigError, match="decoder.bidirectional: expected False"):
        Seq2SeqConfig.from_dict({"model": {"decoder": {"bidirectional": True}}})
    with pytest.raises(ConfigError, match="Seq2Seq: expected a fitted seq2seq task"):
        Seq2Seq().predict(["abc"])
    model = Seq2Seq(tiny_config())
    with pytest.raises(DataError, match=r"data\[1\]: expected a \(source, target\) pair"):
        model.fit([("ab", "BA"), ("ab",)])
    with pytest.raises(DataError, match=r"data\[0\]: expected a non-empty source and target"):
        model.fit([("", "BA")])
    with pytest.raises(DataError, match="data: expected labelled examples"):
        model.fit(Examples(["ab"]))


def test_decode_errors(trained):
    with pytest.raises(DataError, match="sources: expected a list of sources"):
        trained.predict("abc")
    with pytest.raises(ConfigError, match="beam_width: expected an integer >= 1"):
        trained.predict(["abc"], beam_width=0)
    with pytest.raises(DataError, match="x: expected ids of shape"):
        trained.model_(torch.zeros(2, 3, dtype=torch.long))


def test_subword_units_learn_pieces_and_speak_words(tiny_config, tmp_path):
    rng = random.Random(0)
    en_es = {"god": "dios", "said": "dijo", "light": "luz", "earth": "tierra", "good": "buena"}
    words = sorted(en_es)
    pairs = []
    for _ in range(80):
        s = [rng.choice(words) for _ in range(rng.randint(2, 4))]
        pairs.append((" ".join(s), " ".join(en_es[w] for w in s)))
    model = Seq2Seq(tiny_config(epochs=1, max_src_vocab=30, max_tgt_vocab=30,
                                data={"units": "bpe"}))
    report = model.fit(pairs).evaluate(pairs[:10])
    assert report.primary == "bleu" and report.higher_is_better
    assert model.src_bpe_ is not None and len(model.tgt_vocab_) <= 30
    out = model.predict(["god said"])[0]
    assert all("▁" not in w for w in out)  # words, not pieces
    assert model.model_tokens("god said")[0].startswith("▁")
    loaded = Seq2Seq.load(model.save(tmp_path / "bpe"))
    assert loaded.predict(["god said", "the light"]) == model.predict(["god said", "the light"])
