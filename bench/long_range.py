"""Benchmark: long-range dependencies, the adding problem at T = 200 for four cells.

Runs ``rnnkit.labs.adding.run`` (tanh RNN, IRNN, LSTM, GRU; at most 4 minutes per cell),
prints the lab's table, writes ``bench/results/long_range.json`` and prints a Markdown table
for BENCHMARKS.md. ``--copy`` adds the copy task (delay ``--delay``) for the same cells.

    python bench/long_range.py [--threads 1] [--length 200] [--budget 240] [--copy]
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import adding
from rnnkit.tasks.long_range import LongRangeConfig, compare_cells

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--budget", type=float, default=240.0, help="training seconds per cell")
    parser.add_argument("--copy", action="store_true", help="also run the copy task")
    parser.add_argument("--delay", type=int, default=50)
    parser.add_argument("--out", default="runs/bench-adding")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    metrics = adding.run({"data": {"length": args.length},
                          "training": {"time_budget_s": args.budget}}, out_dir=args.out)
    result = {"bench": "long_range", "date": date.today().isoformat(), "machine": machine(),
              "adding": metrics}
    rows = [f"| adding, T={args.length} | {name} | {c['mse']:.4f} (MSE) | {c['epochs']} | "
            f"{c['steps']} | {c['seconds']:.0f} |" for name, c in metrics["cells"].items()]
    rows.append(f"| adding, T={args.length} | predict 1 | {metrics['baseline_mse']:.4f} (MSE) "
                "| - | - | - |")
    if args.copy:
        copy = compare_cells(LongRangeConfig(task="copy", length=args.delay,
                                             time_budget_s=args.budget, stop_below=0.01))
        result["copy"] = {"baseline": copy["baseline"],
                          "cells": {n: {k: v for k, v in r.items() if k not in ("model", "history")}
                                    for n, r in copy["results"].items()}}
        for name, r in result["copy"]["cells"].items():
            rows.append(f"| copy, delay={args.delay} | {name} | {r['test_loss']:.4f} (CE), "
                        f"{r['accuracy']:.1%} copied | {r['epochs']} | {r['steps']} | "
                        f"{r['seconds']:.0f} |")
    out = write_result("long_range.json", result)
    print(f"\nwrote {out}\n")
    print("| task | cell | test loss | epochs | steps | train s |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nbar: {'pass' if metrics['passed'] else 'FAIL'}")


if __name__ == "__main__":
    main()
