"""Benchmark: the sequence-classification labs at their default configuration.

Runs ``rnnkit.labs.sentiment.run`` (VADER, BiLSTM vs bag-of-words) once and
``rnnkit.labs.vowels.run`` (JapaneseVowels, BiLSTM vs bag of features) for each seed, prints
the labs' tables, writes ``bench/results/lab_classification.json`` and prints Markdown rows for
BENCHMARKS.md.

    python bench/lab_classification.py [--threads 1] [--seeds 0 1 2 3 4] [--skip-sentiment]

``--threads 1``: on a 2-core machine shared with other jobs, one intra-op thread trained these
small recurrent nets several times faster than two (measured ~5x on the tagger's batches).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import torch

from rnnkit.labs import sentiment, vowels

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


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
    parser.add_argument("--skip-sentiment", action="store_true")
    parser.add_argument("--out", default="runs/bench-classification")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    result: dict = {"bench": "lab_classification", "date": date.today().isoformat(),
                    "machine": machine()}
    rows = []
    if not args.skip_sentiment:
        s = sentiment.run(out_dir=f"{args.out}/sentiment")
        result["sentiment"] = _strip(s)
        rows.append(f"| sentiment (VADER, {s['n_test']:,} test sentences) | {s['model_name']} | "
                    f"acc {s['model']['accuracy']:.4f}, F1 {s['model']['f1_macro']:.4f}, "
                    f"AUC {s['model']['roc_auc']:.4f} | {s['baseline_name']}: acc "
                    f"{s['baseline']['accuracy']:.4f}, F1 {s['baseline']['f1_macro']:.4f}, AUC "
                    f"{s['baseline']['roc_auc']:.4f} | {s['delta']['accuracy'] * 100:+.2f} | "
                    f"{s['train_seconds']:.0f} ({s['epochs_run']} epochs) |")
    runs = [vowels.run(out_dir=f"{args.out}/vowels-seed{seed}", seed=seed) for seed in args.seeds]
    accs = [r["model"]["accuracy"] for r in runs]
    base = runs[0]["baseline"]["accuracy"]  # deterministic: the same for every seed
    result["vowels"] = {
        "seeds": args.seeds,
        "accuracy": accs,
        "accuracy_mean": statistics.mean(accs),
        "accuracy_min": min(accs),
        "baseline_accuracy": base,
        "passed_all": all(r["passed"] for r in runs),
        "train_seconds": [r["train_seconds"] for r in runs],
        "runs": [_strip(r) for r in runs],
    }
    v = runs[0]
    rows.append(f"| vowels (JapaneseVowels, {v['n_test']} test utterances) | {v['model_name']} | "
                f"acc {statistics.mean(accs):.4f} mean, {min(accs):.4f} min over seeds "
                f"{args.seeds} | {v['baseline_name']}: acc {base:.4f} | "
                f"{(statistics.mean(accs) - base) * 100:+.2f} | "
                f"{statistics.mean(result['vowels']['train_seconds']):.0f} per seed |")
    result["total_seconds"] = time.perf_counter() - t0
    out = write_result("lab_classification.json", result)
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s in all)\n")
    print("| lab | model | model (test) | baseline (test) | Δ accuracy (points) | train s |\n"
          "|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
