"""Lab: who is speaking? Multivariate, variable-length time-series classification on
JapaneseVowels, with a BiLSTM against a bag-of-features logistic regression; ``data.dataset``
runs the same comparison on any other classification set of the sktime archive.

Data: JapaneseVowels (Kudo, Toyama & Shimbo, 1999; UCI): nine male speakers uttered the vowels
/ae/; each utterance is 7 to 29 frames of 12 LPC cepstrum coefficients, and the task is to
name the speaker. The official split has 270 training utterances (30 per speaker) and 370
test utterances (24 to 88 per speaker). The two ``.ts`` files ship inside the source
distribution of PyPI ``sktime`` 1.2.0, which :func:`load_japanese_vowels` fetches once into
rnnkit's cache (36 MB, sha256-pinned, like every corpus of :mod:`rnnkit.datasets.corpora`) and
reads with :func:`parse_ts`; sktime itself is not installed or imported.

Other data sets: ``data.dataset`` names any key of
:data:`rnnkit.datasets.ts_archive.TS_DATASETS` (``BasicMotions``: 6 dimensions, 100 steps, 4
activities, 40 / 40; ``ItalyPowerDemand``: 1 dimension, 24 steps, 2 classes, 67 / 1029;
``ACSF1``, ``ArrowHead``, ``GunPoint``, ``OSULeaf``, ``PLAID``, ``UnitTest``), read from the
same archive with :func:`rnnkit.datasets.ts_archive.load_ts_classification` on its official
split. The printed title, the table and ``metrics["dataset"]`` name the chosen set. The model,
training and baseline settings and the bar stay those chosen for JapaneseVowels: tune them
(and ``bar.min_accuracy``) for another set with ``--set``.

Model: the F dimensions (12 coefficients), standardized with statistics of the training
frames -> bidirectional LSTM (64 each way) -> the final state of each direction
(``pooling="last"``: forward after the last real frame, backward after reading back to the
first) -> dropout -> linear (:class:`rnnkit.tasks.classification.SequenceClassifier`); Adam
for a fixed 60 epochs (no early stopping: 30 utterances per speaker are few). The pooling and
dropout were chosen on validation splits cut from the JapaneseVowels training utterances (8
splits, 54 utterances each: last 98.1%, mean 97.2% on average), never on the test set.

Baseline: per-dimension mean, std, min, max, first, last and slope plus the length,
standardized, into a logistic regression
(:class:`rnnkit.baselines.text.BagOfFeaturesClassifier`).

Bar: test accuracy >= 97% (set for JapaneseVowels).

Your own series: ``--set data.path=recordings.csv`` reads a long-format CSV or Parquet file
(one row per step: series id, step, features, label; the format of
:meth:`rnnkit.tasks.classification.SequenceClassifier.read_data`, its columns named by
``data.id_column``, ``data.step_column``, ``data.feature_columns``, ``data.label_column``) and
runs the same comparison on it: the test part is ``data.test_path`` if given, else a
stratified, seeded ``data.test`` fraction of the series. ``data.dataset`` is then not used.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``confusion.png`` (the
model's test confusion matrix) and the model bundle in
``model/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import check_choice
from rnnkit.analysis.confusion import plot_confusion_matrix
from rnnkit.baselines.series import ResampledNearestNeighbor, SummaryForestClassifier
from rnnkit.baselines.text import BagOfFeaturesClassifier
from rnnkit.datasets.ts_archive import SKTIME, TS_DATASETS, load_ts_classification, parse_ts
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
from rnnkit.tasks.base import EarlyStoppingSection, Examples
from rnnkit.tasks.classification import ClassifierModel, SequenceClassifier
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.training import TrainerConfig

__all__ = ["DEFAULTS", "QUICK", "SKTIME", "load_japanese_vowels", "parse_ts", "run"]

#: The lab's configuration by table (``data.dataset``: a key of
#: :data:`~rnnkit.datasets.ts_archive.TS_DATASETS`, or ``data.path``: your file; ``model``:
#: every :class:`~rnnkit.tasks.classification.ClassifierModel` field; ``training``: every
#: TrainerConfig field; ``early_stopping``: off, there is no validation part).
DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"dataset": "JapaneseVowels", "max_train": None, "max_test": None,
             "path": None, "test_path": None, "test": 0.2, "seed": 0, "id_column": "id",
             "step_column": None, "feature_columns": None, "label_column": "label"},
    "model": ClassifierModel(
        encoder=EncoderSection(cell="lstm", hidden_size=64, bidirectional=True),
        pooling="last", dropout=0.2, scaler="standard").model_dump(mode="json"),
    "early_stopping": EarlyStoppingSection(patience=0).model_dump(),
    "training": {**TrainerConfig(epochs=60, batch_size=16, lr=3e-3, clipnorm=5.0,
                                 loss="cross_entropy", seed=0, device="cpu").to_dict(),
                 "num_threads": None},
    "baseline": {"C": 1.0},
    "bar": {"min_accuracy": 0.97},
}

#: What ``quick=True`` changes: at most 90 training and 90 test series, a tiny network, 3
#: epochs.
QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_train": 90, "max_test": 90},
    "model": {"encoder": {"hidden_size": 8}},
    "training": {"epochs": 3},
}


def load_japanese_vowels(split: str = "train", *, cache_dir: str | Path | None = None,
                         ) -> tuple[list[np.ndarray], list[str]]:
    """JapaneseVowels utterances (T_i, 12) and speaker labels ``"1"`` ... ``"9"``.

    ``split``: ``"train"`` (270) or ``"test"`` (370). The sktime sdist is fetched on first use
    (``pip download``, sha256-checked) and the file is read straight from it (see
    :func:`rnnkit.datasets.ts_archive.load_ts_classification`).
    """
    return load_ts_classification("JapaneseVowels", split, cache_dir=cache_dir)


def _load(dataset: str, split: str) -> tuple[list[np.ndarray], list[str]]:
    # JapaneseVowels goes through load_japanese_vowels, the lab's own loader (tests replace it)
    if dataset == "JapaneseVowels":
        return load_japanese_vowels(split)
    return load_ts_classification(dataset, split)


def _task(cfg: dict[str, Any], training: TrainerConfig) -> SequenceClassifier:
    """The classifier of the lab's tables (series files read as ``data`` says; the lab fits
    its own baseline)."""
    data = cfg["data"]
    files = {k: data[k] for k in ("path", "test_path", "test", "seed", "id_column",
                                  "step_column", "feature_columns", "label_column")}
    return SequenceClassifier({"data": {"kind": "series", **files}, "model": cfg["model"],
                               "training": training, "early_stopping": cfg["early_stopping"],
                               "evaluation": {"baselines": False}})


def _subset(X: list[np.ndarray], y: list[str], n: int | None, seed: int
            ) -> tuple[list[np.ndarray], list[str]]:
    if not n or n >= len(X):
        return X, y
    keep = np.sort(np.random.default_rng(seed).permutation(len(X))[:n])
    return [X[i] for i in keep], [y[i] for i in keep]


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train the BiLSTM and the bag-of-features baseline on the official split of
    ``data.dataset`` (JapaneseVowels unless set), print the table, write the run directory.

    Args:
        config: overrides of :data:`DEFAULTS` by table.
        out_dir: the run directory (default ``runs/vowels-YYYYmmdd-HHMMSS``).
        quick: apply :data:`QUICK` first (a tiny run, for tests).
        seed: overrides ``training.seed``.

    Returns:
        the metrics (also in ``metrics.json``): ``dataset``, ``model`` and ``baseline``
        (accuracy, macro F1, ROC AUC, confusion matrix ...), ``delta``, ``passed`` (accuracy
        >= the bar), ``n_train``, ``n_test``, ``train_seconds``, ``epochs_run`` and
        ``run_dir``.

    Raises:
        ConfigError: an unknown key, or ``data.dataset`` not a key of
            :data:`~rnnkit.datasets.ts_archive.TS_DATASETS` (the message lists them).
    """
    from rich.console import Console

    cfg = merge_config(merge_config(DEFAULTS, QUICK) if quick else DEFAULTS, config)
    if seed is not None:
        cfg["training"]["seed"] = seed
    data = cfg["data"]
    if data["path"] is None:
        dataset = check_choice("data.dataset", data["dataset"], sorted(TS_DATASETS))
    else:
        dataset = Path(data["path"]).stem
    training = training_config(cfg["training"])
    clf = _task(cfg, training)  # validates the tables before the run directory is made
    model_cfg = clf.config.model
    console = Console()
    run_dir = run_path(out_dir, "vowels")

    with lab_run(run_dir, "vowels", overwrite=overwrite) as work:
        if data["path"] is None:
            train, test = Examples(*_load(dataset, "train")), Examples(*_load(dataset, "test"))
        else:
            train, test = clf.split(clf.read_data())
        x_tr, y_tr = _subset(list(train.inputs), list(train.targets), data["max_train"], 0)
        x_te, y_te = _subset(list(test.inputs), list(test.targets), data["max_test"], 0)
        lengths = [len(s) for s in x_tr + x_te]
        n_dims, n_classes = x_tr[0].shape[1], len(set(y_tr) | set(y_te))
        console.print(f"{dataset}: {len(x_tr)} train, {len(x_te)} test series, {n_dims} "
                      f"dimension{'s' * (n_dims != 1)}, {min(lengths)}-{max(lengths)} steps, "
                      f"{n_classes} classes")

        clf.fit(x_tr, y_tr)
        model_m = clf.evaluate(x_te, y_te)
        t0 = time.perf_counter()
        base = BagOfFeaturesClassifier(C=float(cfg["baseline"]["C"])).fit(x_tr, y_tr)
        base_seconds = time.perf_counter() - t0
        base_m = base.evaluate(x_te, y_te)

        enc = model_cfg.encoder
        name = (f"{'Bi' if enc.bidirectional else ''}{enc.cell_name} {enc.hidden_size}, "
                f"{model_cfg.pooling} pooling")
        bar = float(cfg["bar"]["min_accuracy"])
        keys = ("accuracy", "f1_macro", "f1_micro", "roc_auc", "confusion_matrix", "labels",
                "per_class", "n")
        metrics: dict[str, Any] = {
            "lab": "vowels",
            "dataset": dataset,
            "quick": quick,
            "model_name": name,
            "baseline_name": f"bag of features (7 statistics x {n_dims} + length) + logistic "
                             "regression",
            "model": {k: model_m[k] for k in keys},
            "baseline": {k: base_m[k] for k in keys},
            "delta": {k: model_m[k] - base_m[k] for k in ("accuracy", "f1_macro", "roc_auc")},
            "bar_min_accuracy": bar,
            "passed": bool(model_m["accuracy"] >= bar),
            "n_train": len(x_tr), "n_test": len(x_te),
            "train_seconds": clf.fit_seconds_,
            "baseline_seconds": base_seconds,
            "epochs_run": len(clf.history_),
        }
        rows = {name: {**model_m, "seconds": clf.fit_seconds_},
                "bag of features + logistic regression": {**base_m, "seconds": base_seconds}}
        metrics["baselines"] = {}
        for key, label, make in (
                ("summary_forest", "summary statistics + random forest",
                 lambda: SummaryForestClassifier(seed=int(training.seed))),
                ("nearest_neighbor", "resampled series, 1-nearest neighbour",
                 ResampledNearestNeighbor)):
            t0 = time.perf_counter()
            other = make().fit(x_tr, y_tr)
            seconds = time.perf_counter() - t0
            other_m = other.evaluate(x_te, y_te)
            metrics["baselines"][key] = {k: other_m[k] for k in ("accuracy", "f1_macro",
                                                                  "roc_auc")}
            rows[label] = {**other_m, "seconds": seconds}
        best = max(rows, key=lambda r: rows[r]["accuracy"] if r != name else -1.0)
        metrics["best_baseline"] = {"name": best, "accuracy": rows[best]["accuracy"]}
        console.print(comparison_table(
            f"Class of {len(x_te)} held-out {dataset} series ({n_classes} classes)", rows,
            [("accuracy", "accuracy", ".4f"), ("F1 macro", "f1_macro", ".4f"),
             ("ROC AUC", "roc_auc", ".4f"), ("train s", "seconds", ".1f")]))
        console.print(f"{name}: {model_m['accuracy']:.2%} test accuracy "
                      f"({metrics['delta']['accuracy'] * 100:+.2f} points over the logistic "
                      f"baseline; the best baseline is {best}, "
                      f"{rows[best]['accuracy']:.2%}); bar "
                      f">= {bar:.0%} {verdict(metrics['passed'], quick)}; "
                      f"run directory {run_dir}")

        write_json(work / "config.json", cfg)
        clf.history_.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        plot_confusion_matrix(model_m["confusion_matrix"], model_m["labels"],
                              work / "confusion.png",
                              title=f"{name}: {len(x_te)} held-out {dataset} series")
        clf.save(work / "model", metrics={"test": metrics["model"]})
        lab_report(work, {"model": (clf, x_te)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
