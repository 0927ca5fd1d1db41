"""Benchmark: the Brown POS-tagging lab at its default configuration.

Runs ``rnnkit.labs.brown.run`` (BiLSTM-CRF vs most frequent tag, held-out 10% of the
sentences), optionally also without the CRF, prints the lab's tables, writes
``bench/results/lab_tagging.json`` and prints Markdown rows for BENCHMARKS.md.

    python bench/lab_tagging.py [--threads 1] [--no-crf-too]

``--threads 1``: on a 2-core machine shared with other jobs, one intra-op thread trained the
tagger ~5x faster than two (measured: 42k vs 8k tokens/s on batches of 128 x 25 tokens).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import torch

from rnnkit.labs import brown

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


def _row(m: dict) -> str:
    mm, b = m["model"], m["baseline"]
    return (f"| {m['model_name']} | {mm['token_accuracy']:.4f} | {mm['oov_accuracy']:.4f} | "
            f"{mm['f1_macro']:.4f} | {b['token_accuracy']:.4f} | {b['oov_accuracy']:.4f} | "
            f"{m['delta']['token_accuracy'] * 100:+.2f} | {m['train_seconds']:.0f} "
            f"({m['epochs_run']} epochs) | {'pass' if m['passed'] else 'FAIL'} |")


def _strip(metrics: dict) -> dict:
    out = dict(metrics)
    for part in ("model", "baseline"):
        out[part] = {k: v for k, v in metrics[part].items() if k != "confusion_matrix"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-crf-too", action="store_true",
                        help="also run the same tagger with a softmax output (no CRF)")
    parser.add_argument("--out", default="runs/bench-tagging")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    runs = {"crf": brown.run(out_dir=f"{args.out}/crf")}
    if args.no_crf_too:
        runs["softmax"] = brown.run({"model": {"crf": False}}, out_dir=f"{args.out}/softmax")
    result = {"bench": "lab_tagging", "date": date.today().isoformat(), "machine": machine(),
              **{name: _strip(m) for name, m in runs.items()},
              "total_seconds": time.perf_counter() - t0}
    out = write_result("lab_tagging.json", result)
    m = runs["crf"]
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s in all)\n")
    print(f"Brown, universal tags: {m['n_train_sentences']:,} train sentences "
          f"({m['n_train_tokens']:,} tokens), {m['n_test_sentences']:,} test sentences "
          f"({m['model']['n_tokens']:,} tokens, {m['model']['n_oov']:,} OOV)\n")
    print("| model | token acc | OOV acc | F1 macro | most-frequent-tag acc | its OOV acc | "
          "Δ (points) | train s | bar 95% |\n|---|---|---|---|---|---|---|---|---|")
    for m in runs.values():
        print(_row(m))


if __name__ == "__main__":
    main()
