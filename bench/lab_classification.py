"""Benchmark: the sequence-classification labs at their default configuration.

Runs ``rnnkit.labs.sentiment.run`` (VADER, BiLSTM vs bag-of-words) for each of
``--sentiment-seeds``, with its default GloVe-initialized embedding and again with the
embedding trained from scratch (``--no-scratch`` skips that), and ``rnnkit.labs.vowels.run``
(BiLSTM vs bag of features) on each of ``--datasets`` (JapaneseVowels, BasicMotions,
ItalyPowerDemand; the lab's default settings, chosen for JapaneseVowels, and, where
``examples/<dataset>.toml`` exists, also with the settings chosen there for that set) for
each of ``--seeds``; prints the labs' tables,
writes ``bench/results/lab_classification.json`` and prints Markdown rows for BENCHMARKS.md.
The seeds change the network's initial weights and batch order; the data split (and so the
baseline) stays the labs' default.

    python bench/lab_classification.py [--threads 1] [--seeds 0 1 2 3 4]
                                       [--sentiment-seeds 0 1 2] [--no-scratch]
                                       [--skip-sentiment] [--skip-vowels]

``--threads 1``: on a 2-core machine shared with other jobs, one intra-op thread trained these
small recurrent nets several times faster than two (measured ~5x on the tagger's batches).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib
from datetime import date
from pathlib import Path

import torch

from rnnkit.examples import FOLDER
from rnnkit.labs import sentiment, vowels

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path

#: Per-dataset settings of the vowels lab (``examples/<dataset>.toml``), run beside the defaults.
EXAMPLES = FOLDER


def _strip(metrics: dict) -> dict:
    """Drop the bulky per-class tables from the JSON record (they stay in the run dirs)."""
    out = dict(metrics)
    for part in ("model", "baseline"):
        out[part] = {k: v for k, v in metrics[part].items() if k != "per_class"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="training seeds of the vowels lab")
    parser.add_argument("--sentiment-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-scratch", action="store_true",
                        help="skip the sentiment runs with embeddings trained from scratch")
    parser.add_argument("--skip-sentiment", action="store_true")
    parser.add_argument("--skip-vowels", action="store_true")
    parser.add_argument("--datasets", nargs="+",
                        default=["JapaneseVowels", "BasicMotions", "ItalyPowerDemand"],
                        help="series sets of the vowels lab (rnnkit.datasets.ts_archive)")
    parser.add_argument("--out", default="runs/bench-classification")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    result: dict = {"bench": "lab_classification", "date": date.today().isoformat(),
                    "machine": machine()}
    rows = []
    if not args.skip_sentiment:
        variants = {"glove": {}}
        if not args.no_scratch:
            variants["scratch"] = {"model": {"pretrained_embeddings": None}}
        result["sentiment"] = {}
        for variant, override in variants.items():
            runs = [sentiment.run({**override, "training": {"seed": seed}},
                                  out_dir=f"{args.out}/sentiment-{variant}-seed{seed}")
                    for seed in args.sentiment_seeds]
            result["sentiment"][variant] = {"seeds": args.sentiment_seeds,
                                            "runs": [_strip(r) for r in runs]}
            rows.append(_sentiment_row(runs, args.sentiment_seeds))
        bag = _bag_of_vectors()
        result["sentiment"]["bag_of_vectors"] = bag
        rows.append(f"| sentiment (same split) | bag of GloVe vectors (mean, max and min of the "
                    f"words' vectors) + logistic regression | acc {bag['accuracy']:.4f}, F1 "
                    f"{bag['f1_macro']:.4f}, AUC {bag['roc_auc']:.4f} | (the TF-IDF baseline "
                    f"above) | {bag['delta_vs_tfidf'] * 100:+.2f} vs TF-IDF | "
                    f"{bag['seconds']:.0f} |")
    if args.skip_vowels:
        _finish(result, rows, t0)
        return
    result["vowels"] = {}
    for dataset in args.datasets:
        record, row = _vowels(dataset, args.seeds, args.out)
        result["vowels"][dataset] = record
        rows.append(row)
        example = EXAMPLES / f"{dataset.lower()}.toml"
        if dataset != "JapaneseVowels" and example.is_file():  # settings chosen for this set
            record, row = _vowels(dataset, args.seeds, args.out, example)
            result["vowels"][f"{dataset} ({example.name})"] = record
            rows.append(row)
    _finish(result, rows, t0)


def _vowels(dataset: str, seeds: list[int], out: str,
            example: Path | None = None) -> tuple[dict, str]:
    """The vowels lab on ``dataset`` for each seed, at its default settings or with the
    overrides of an ``examples/`` TOML file."""
    config = {"data": {"dataset": dataset}}
    if example is not None:
        config = {**tomllib.loads(example.read_text(encoding="utf-8")), **config}
    tag = f"{dataset}-{example.stem}" if example is not None else dataset
    runs = [vowels.run(config, out_dir=f"{out}/{tag}-seed{seed}", seed=seed) for seed in seeds]
    accs = [r["model"]["accuracy"] for r in runs]
    base = runs[0]["baseline"]["accuracy"]  # deterministic: the same for every seed
    record = {
        "seeds": seeds,
        "accuracy": accs,
        "accuracy_mean": statistics.mean(accs),
        "accuracy_min": min(accs),
        "baseline_accuracy": base,
        "passed_all": all(r["passed"] for r in runs),
        "train_seconds": [r["train_seconds"] for r in runs],
        "runs": [_strip(r) for r in runs],
    }
    v = runs[0]
    how = f", `examples/{example.name}`" if example is not None else ""
    row = (f"| vowels ({dataset}, {v['n_train']} train / {v['n_test']} test series) | "
           f"{v['model_name']}{how} | acc {statistics.mean(accs):.4f} mean, {min(accs):.4f} min "
           f"over seeds {seeds} | {v['baseline_name']}: acc {base:.4f} | "
           f"{(statistics.mean(accs) - base) * 100:+.2f} | "
           f"{statistics.mean(record['train_seconds']):.1f} per seed |")
    return record, row


def _bag_of_vectors() -> dict:
    """What the pretrained vectors give without a recurrent network: each sentence as the
    mean, max and min of its words' GloVe vectors (words GloVe lacks are skipped),
    standardized, into a logistic regression (C = 1, not tuned); the sentiment lab's split."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from rnnkit.baselines.text import BagOfWordsClassifier
    from rnnkit.data.text import WordTokenizer
    from rnnkit.datasets.word_vectors import load_word_vectors
    from rnnkit.metrics.classification import classification_metrics
    from rnnkit.tasks.classification import split_validation

    t0 = time.perf_counter()
    data = sentiment.DEFAULTS["data"]
    texts, labels = sentiment.load_data(data)
    rest, test = split_validation(len(texts), data["test_fraction"], data["split_seed"],
                                  stratify=labels)
    glove, tok = load_word_vectors("glove-6b-100d"), WordTokenizer()

    def features(idx: np.ndarray) -> np.ndarray:
        out = []
        for i in idx:
            rows = [r for t in tok.tokenize(texts[i]) if (r := glove.lookup(t)) is not None]
            v = glove.vectors[rows] if rows else np.zeros((1, glove.dim), np.float32)
            out.append(np.concatenate([v.mean(0), v.max(0), v.min(0)]))
        return np.asarray(out)

    train_rel, _ = split_validation(len(rest), data["val_fraction"], data["split_seed"],
                                    stratify=[labels[i] for i in rest])
    train = rest[train_rel]  # the lab's training sentences (its validation part left out)
    y_train, y_test = [labels[i] for i in train], [labels[i] for i in test]
    X_train = features(train)
    scaler = StandardScaler().fit(X_train)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(X_train), y_train)
    Xt = scaler.transform(features(test))
    m = classification_metrics(y_test, lr.predict(Xt).tolist(), lr.predict_proba(Xt),
                               labels=list(lr.classes_))
    # the lab's TF-IDF baseline on the same sentences, for the difference
    b = sentiment.DEFAULTS["baseline"]
    bow = BagOfWordsClassifier(ngram_range=(1, b["ngram_max"]), min_df=b["min_df"], C=b["C"])
    tfidf = bow.fit([texts[i] for i in train], y_train).evaluate(
        [texts[i] for i in test], y_test)["accuracy"]
    return {"accuracy": m["accuracy"], "f1_macro": m["f1_macro"], "roc_auc": m["roc_auc"],
            "delta_vs_tfidf": m["accuracy"] - tfidf, "seconds": time.perf_counter() - t0}


def _sentiment_row(runs: list[dict], seeds: list[int]) -> str:
    def stat(part: str, key: str) -> str:
        vals = [r[part][key] for r in runs]
        return f"{statistics.mean(vals):.4f}" + (f" (min {min(vals):.4f})" if len(vals) > 1 else "")

    s = runs[0]  # the baseline does not depend on the training seed
    deltas = [r["delta"]["accuracy"] * 100 for r in runs]
    return (f"| sentiment (VADER, {s['n_test']:,} test sentences) | {s['model_name']} | "
            f"acc {stat('model', 'accuracy')}, F1 {stat('model', 'f1_macro')}, AUC "
            f"{stat('model', 'roc_auc')}; seeds {seeds} | {s['baseline_name']}: acc "
            f"{s['baseline']['accuracy']:.4f}, F1 {s['baseline']['f1_macro']:.4f}, AUC "
            f"{s['baseline']['roc_auc']:.4f} | {statistics.mean(deltas):+.2f} (min "
            f"{min(deltas):+.2f}) | {statistics.mean(r['train_seconds'] for r in runs):.0f} "
            f"per seed ({'/'.join(str(r['epochs_run']) for r in runs)} epochs) |")


def _finish(result: dict, rows: list[str], t0: float) -> None:
    result["total_seconds"] = time.perf_counter() - t0
    out = write_result("lab_classification.json", result)
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s in all)\n")
    print("| lab | model | model (test) | baseline (test) | Δ accuracy (points) | train s |\n"
          "|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
