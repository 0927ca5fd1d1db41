"""rnnkit.tasks.language_model.task: LanguageModel: stateful generation, evaluation,
save/load, errors, the Task interface (Report, files end to end)."""

import math

import pandas as pd
import pytest
import torch

from rnnkit.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import example_path
from rnnkit.nn import LSTMCell
from rnnkit.tasks.base import Report, Task
from rnnkit.tasks.language_model import LanguageModel, LanguageModelConfig

from lm_builders import TEXT, TINY, tiny


@pytest.fixture(scope="module")
def lm():
    return LanguageModel(tiny(training={"epochs": 4})).fit(TEXT, validation=TEXT[:300])


# --------------------------------------------------------------------------- the model
def test_training_learns_the_text(lm):
    losses = lm.history_["loss"]
    assert len(lm.history_) == 4  # 2 passes x 2 epochs per pass
    assert losses[-1] < losses[0]
    result = lm.evaluate(TEXT[:400])
    uniform_bits = math.log2(len(lm.vocab_))
    assert result["bits_per_character"] < uniform_bits - 1.0
    assert result["bits_per_character"] == pytest.approx(result["loss"] / math.log(2))
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))
    assert "val_bits_per_token" in lm.history_[-1]


def test_stateful_steps_equal_rereading_the_prefix(lm):
    ids = lm.encode("the dog sat on")
    full = lm.prefix_logits(ids)  # (T, V), each row re-reads from a zero state
    state = None
    for t, token in enumerate(ids):
        logits, state = lm.step(torch.tensor([token]), state)
        torch.testing.assert_close(logits[0], full[t], atol=1e-5, rtol=1e-5)


def test_stateful_generation_equals_stateless(lm):
    for kwargs in ({"greedy": True}, {"temperature": 0.9, "top_k": 5, "seed": 7},
                   {"top_p": 0.8, "seed": 2}):
        fast = lm.generate("the ", 40, **kwargs)
        slow = lm.generate("the ", 40, stateful=False, **kwargs)
        assert fast == slow
        assert len(fast) == 40


def test_generation_is_seeded(lm):
    a = lm.generate("the c", 50, seed=5)
    assert a == lm.generate("the c", 50, seed=5)
    assert any(lm.generate("the c", 50, seed=s) != a for s in range(6, 10))


def test_generation_never_emits_reserved_ids(lm):
    net = lm.model_
    saved = net.head.bias.detach().clone()
    with torch.no_grad():
        net.head.bias[[PAD_ID, BOS_ID, EOS_ID]] = 100.0  # make them overwhelmingly likely
    try:
        out = lm.generate("the", 20, seed=0)
        assert len(out) == 20 and "<" not in out
    finally:
        with torch.no_grad():
            net.head.bias.copy_(saved)


def test_save_load_gives_identical_logits(lm, tmp_path):
    path = lm.save(tmp_path / "lm")
    loaded = LanguageModel.load(path)
    ids = lm.encode("the cat")
    assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))
    assert loaded.vocab_ == lm.vocab_
    assert loaded.config == lm.config
    assert loaded.generate("the ", 30, seed=1) == lm.generate("the ", 30, seed=1)
    assert loaded.history_.rows == lm.history_.rows


def test_same_seed_same_model():
    a, b = LanguageModel(tiny()), LanguageModel(tiny())
    a.fit(TEXT)
    b.fit(TEXT)
    ids = a.encode("the mat")
    assert torch.equal(a.prefix_logits(ids), b.prefix_logits(ids))


def test_word_level_gru_with_tied_weights(tmp_path):
    cfg = tiny(model={"level": "word", "encoder": {"cell": "gru", "hidden_size": 12},
                      "tie_weights": True, "max_vocab": 10}, training={"tbptt_steps": 5})
    lm = LanguageModel(cfg)
    lm.fit(TEXT)
    assert lm.model_.head.weight is lm.model_.embedding.weight
    assert lm.model_.proj is not None  # H = 12 -> D = 8 before the tied head
    assert len(lm.vocab_) == 10
    assert lm.encode("the zebra")[1] == UNK_ID
    words = lm.generate("the cat", 6, seed=0).split()
    assert len(words) == 6 and all(w in lm.vocab_ for w in words)
    assert "bits_per_character" not in lm.evaluate(TEXT[:200])
    loaded = LanguageModel.load(lm.save(tmp_path / "wlm"))
    ids = lm.encode("the dog sat")
    assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))


def test_time_budget_stops_after_a_round():
    lm = LanguageModel(tiny(training={"epochs": 100, "max_time": 1e-3}))
    lm.fit(TEXT)
    assert len(lm.history_) == 1
    assert lm.history_[-1]["stop_reason"] == "max_time"


def test_generate_errors(lm):
    with pytest.raises(DataError, match="prompt: expected at least one token"):
        lm.generate("", 5)
    with pytest.raises(ConfigError, match="max_new_tokens: expected an integer >= 1"):
        lm.generate("the", 0)


# ------------------------------------------------------------------------ the Task shape
class ScaledLSTMCell(LSTMCell):
    """A user's own cell: an LSTM whose candidate input is halved (module level, so a saved
    bundle can import it again)."""

    def project_input(self, x):
        return 0.5 * super().project_input(x)


def test_one_constructor_shape():
    assert issubclass(LanguageModel, Task) and LanguageModel.name == "language_model"
    assert LanguageModel().config == LanguageModelConfig()
    assert LanguageModel(TINY).config == tiny()
    assert LanguageModel(tiny()).config == tiny()
    with pytest.raises(ConfigError, match="config: expected a LanguageModelConfig or a dict"):
        LanguageModel(42)
    with pytest.raises(TypeError):
        LanguageModel(tiny(), tiny())  # one argument: the whole config


def test_fit_returns_self_and_fills_the_history(lm):
    fresh = LanguageModel(tiny())
    assert fresh.fit(TEXT) is fresh
    assert len(fresh.history_) == 2 and fresh.fit_seconds_ > 0
    row = lm.history_[-1]
    assert row["passes"] == 2.0 and row["tokens"] > 0
    assert row["val_bits_per_token"] == pytest.approx(row["val_loss"] / math.log(2))


def test_evaluate_reports_the_model_and_the_baselines(lm):
    report = lm.evaluate(TEXT[:400])
    assert isinstance(report, Report) and report.primary == "perplexity"
    assert not report.higher_is_better
    frame = report.to_frame()
    assert list(frame.index) == ["model", "unigram", "bigram", "bigram_witten_bell"]
    assert {"perplexity", "cross_entropy", "bits_per_character"} <= set(frame.columns)
    assert report["loss"] == report["cross_entropy"] and report["tokens"] == 396
    base = report["baselines"]
    assert base["bigram_witten_bell"]["perplexity"] < base["unigram"]["perplexity"]
    for metrics in base.values():
        assert metrics["perplexity"] == pytest.approx(math.exp(metrics["cross_entropy"]))


def test_baselines_score_the_same_next_tokens(lm):
    from rnnkit.baselines.language_model import BigramLM, UnigramLM
    from rnnkit.tasks.language_model.streams import streams

    train = lm.encode(TEXT)  # what fit counted (no validation was cut from TEXT)
    text = TEXT[:400]
    ids = torch.tensor(lm.encode(text))
    x, y = streams(ids, 4, "text")
    V = len(lm.vocab_)
    for name, ref in (("unigram", UnigramLM().fit(train, V)),
                      ("bigram", BigramLM().fit(train, V)),
                      ("bigram_witten_bell", BigramLM(smoothing="witten_bell").fit(train, V))):
        nll = -sum(ref.log_probs(y[r].numpy(), context=int(x[r, 0])).sum() for r in range(4))
        assert lm.evaluate(text)["baselines"][name]["cross_entropy"] == pytest.approx(
            nll / y.numel(), rel=1e-12)


def test_validation_fraction_holds_out_the_tail():
    lm = LanguageModel(tiny(data={"validation": 0.2})).fit(TEXT)
    assert "val_loss" in lm.history_[-1]
    n_fit = len(TEXT) - round(0.2 * len(TEXT))
    assert lm.ngram_counts_.unigram.sum() == n_fit  # counted on the fitting part only


def test_split_and_predict_frame(lm):
    fit_text, test_text = LanguageModel(tiny(data={"test": 0.25})).split("abcdefgh")
    assert (fit_text, test_text) == ("abcdef", "gh")
    frame = lm.predict_frame(["the ", "a dog"])
    assert list(frame.columns) == ["prompt", "generated"]
    assert list(frame["prompt"]) == ["the ", "a dog"]
    g = lm.config.generation
    assert frame["generated"][1] == lm.generate("a dog", g.max_new_tokens, seed=g.seed + 1)
    assert lm.predict(["the ", "a dog"]) == list(frame["generated"])  # seeded


def test_a_users_cell_class_trains_saves_and_loads(tmp_path):
    lm = LanguageModel(tiny(model={"encoder": {"cell": ScaledLSTMCell}})).fit(TEXT)
    assert isinstance(lm.model_.rnn.cells[0], ScaledLSTMCell)
    assert lm.history_["loss"][-1] < lm.history_["loss"][0]
    assert lm.config.to_dict()["model"]["encoder"]["cell"].endswith(":ScaledLSTMCell")
    loaded = LanguageModel.load(lm.save(tmp_path / "own"))
    assert loaded.config.model.encoder.cell is ScaledLSTMCell
    ids = lm.encode("the cat")
    assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))


def test_loads_a_bundle_saved_before_the_task_api(lm, tmp_path):
    from rnnkit.bundle import save_bundle
    from rnnkit.tasks import registry

    old = {"level": "char", "lower": False, "max_vocab": None, "min_freq": 1,
           "embedding_dim": 8, "rnn": {"cell": "lstm", "hidden_size": 16, "num_layers": 1,
                                       "dropout": 0.0, "bidirectional": False,
                                       "merge_mode": "concat", "recurrent_dropout": 0.0,
                                       "weight_drop": 0.0, "zoneout": 0.0, "layer_norm": False,
                                       "activation": "tanh", "recurrent_init": "orthogonal",
                                       "unit_forget_bias": True, "reset_after": True,
                                       "backend": "auto"},
           "tie_weights": False, "dropout": 0.0, "seq_len": 10, "batch_size": 4,
           "epochs": 2.0, "rounds_per_epoch": 2, "optimizer": "adam", "lr": 1e-2,
           "min_lr": 1e-4, "lr_decay": "cosine", "weight_decay": 0.0, "clipnorm": 1.0,
           "time_budget_s": None, "val_tokens": 200, "seed": 0, "device": "cpu"}
    path = save_bundle(tmp_path / "old", task="language_model", model=lm.model_,
                       config={"model": old},
                       preprocessing={"vocab": lm.vocab_.to_dict(),
                                      "tokenizer": lm.tokenizer.to_dict()},
                       metrics={"history": lm.history_.to_list()})
    for loaded in (LanguageModel.load(path), registry.load(path)):
        assert isinstance(loaded, LanguageModel)
        assert loaded.config.training.tbptt_steps == 10 and loaded.config.training.epochs == 4
        assert loaded.config.data.epochs_per_pass == 2
        ids = lm.encode("the dog")
        assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))
        assert loaded.evaluate(TEXT[:200])["baselines"] == {}  # no counts in old bundles


def test_train_a_text_file_end_to_end(tmp_path):
    from rnnkit.tasks import registry

    (tmp_path / "corpus.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "prompts.txt").write_text("the cat\n\nthe dog\n", encoding="utf-8")
    (tmp_path / "lm.toml").write_text("""
task = "language_model"
[data]
path = "corpus.txt"
validation = 0.1
test = 0.1
epochs_per_pass = 2
[model]
embedding_dim = 8
encoder = { cell = "gru", hidden_size = 16 }
[training]
epochs = 2
batch_size = 4
tbptt_steps = 10
lr = 1e-2
device = "cpu"
progress = "off"
num_threads = 1
[generation]
max_new_tokens = 12
""", encoding="utf-8")
    task = registry.task_from_toml(tmp_path / "lm.toml")
    assert isinstance(task, LanguageModel)
    text = task.read_data()
    fit_text, test_text = task.split(text)
    assert fit_text + test_text == TEXT and len(test_text) == round(0.1 * len(TEXT))
    task.fit(fit_text)
    assert "val_loss" in task.history_[-1]
    report = task.evaluate(test_text)
    assert report.score == report["perplexity"] > 1
    loaded = registry.load(task.save(tmp_path / "model"))
    prompts = loaded.read_data(tmp_path / "prompts.txt", labelled=False)
    assert prompts == ["the cat", "the dog"]
    frame = loaded.predict_frame(prompts)
    assert isinstance(frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, task.predict_frame(prompts))
    assert all(len(g) == 12 for g in frame["generated"])
    assert loaded.evaluate(test_text).to_dict() == report.to_dict()


def test_read_data_errors(tmp_path):
    with pytest.raises(ConfigError, match="data.path: expected a text file"):
        LanguageModel(tiny()).read_data()
    with pytest.raises(DataError, match="path: expected an existing UTF-8 text file"):
        LanguageModel(tiny()).read_data(tmp_path / "missing.txt")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(DataError, match="path: expected a UTF-8 text file"):
        LanguageModel(tiny()).read_data(tmp_path / "latin1.txt")
    with pytest.raises(DataError, match="text: expected a str"):
        LanguageModel(tiny()).fit(["not", "a", "str"])


def test_the_example_config_reads_the_sample_text():
    from pathlib import Path

    task = LanguageModel.from_toml(example_path("language_model"))
    assert Path(task.config.data.path).is_file()
    text = task.read_data()
    fit_text, test_text = task.split(text)
    assert 5_000 < len(text) < 10_000 and fit_text + test_text == text
    prompts = task.read_data(example_path("language_model").parent / "data" / "sonnet_prompts.txt", labelled=False)
    assert prompts[0] == "From fairest"
