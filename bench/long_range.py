"""Benchmark: long-range dependencies, the adding problem at T = 200 and the copy task.

``--tasks adding`` (the default) runs ``rnnkit.labs.adding.run`` (tanh RNN, IRNN, LSTM, GRU;
at most 4 minutes per cell) and prints the lab's table; ``--tasks copy`` runs the copy task
(``--delay`` blank steps between the 10 symbols and their recall) for the same four cells;
``--tasks adding,copy`` both. Writes ``bench/results/long_range.json`` (``copy`` alone:
``long_range_copy_d<delay>.json``) and prints a Markdown table for BENCHMARKS.md.

    python bench/long_range.py [--threads 1] [--length 200] [--budget 240]
                               [--tasks adding,copy] [--delay 50] [--copy-hidden 64]
                               [--copy-lr 3e-3] [--copy-epochs 30]
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import adding
from rnnkit.labs._long_range import LongRangeConfig, compare_cells

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--budget", type=float, default=240.0, help="training seconds per cell")
    parser.add_argument("--tasks", default="adding", help="comma-separated: adding, copy")
    parser.add_argument("--delay", type=int, default=50, help="copy task: blank steps")
    parser.add_argument("--copy-hidden", type=int, default=64, help="copy task: units")
    parser.add_argument("--copy-lr", type=float, default=3e-3)
    parser.add_argument("--copy-epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/bench-adding")
    args = parser.parse_args()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - {"adding", "copy"})
    if unknown or not tasks:
        parser.error(f"--tasks: expected a comma-separated subset of adding, copy, got {unknown}")
    torch.set_num_threads(args.threads)
    result: dict = {"bench": "long_range", "date": date.today().isoformat(),
                    "machine": machine()}
    rows = []
    if "adding" in tasks:
        metrics = adding.run({"data": {"length": args.length},
                              "training": {"time_budget_s": args.budget}}, out_dir=args.out)
        result["adding"] = metrics
        rows += [f"| adding, T={args.length} | {name} | {c['mse']:.4f} (MSE) | - | "
                 f"{c['epochs']} | {c['steps']} | {c['seconds']:.0f} |"
                 for name, c in metrics["cells"].items()]
        rows.append(f"| adding, T={args.length} | predict 1 | {metrics['baseline_mse']:.4f} "
                    "(MSE) | - | - | - | - |")
    if "copy" in tasks:
        config = LongRangeConfig(task="copy", length=args.delay, hidden_size=args.copy_hidden,
                                 lr=args.copy_lr, epochs=args.copy_epochs,
                                 time_budget_s=args.budget, stop_below=0.01)
        copy = compare_cells(config)
        result["copy"] = {"config": config.to_dict(), "baseline": copy["baseline"],
                          "cells": {n: {**{k: v for k, v in r.items()
                                           if k not in ("model", "history")},
                                        "val_loss": [round(h["val_loss"], 4)
                                                     for h in r["history"]]}
                                    for n, r in copy["results"].items()}}
        T = args.delay + 2 * config.copy_len
        for name, r in result["copy"]["cells"].items():
            rows.append(f"| copy, delay={args.delay} (T={T}) | {name} | {r['test_loss']:.4f} "
                        f"(CE) | {r['accuracy']:.1%} | {r['epochs']} | {r['steps']} | "
                        f"{r['seconds']:.0f} |")
        rows.append(f"| copy, delay={args.delay} (T={T}) | blanks, then uniform guesses | "
                    f"{copy['baseline']:.4f} (CE) | {1 / config.num_symbols:.1%} | - | - | - |")
    name = "long_range.json" if "adding" in tasks else f"long_range_copy_d{args.delay}.json"
    out = write_result(name, result)
    print(f"\nwrote {out}\n")
    print("| task | cell | test loss | symbols copied | epochs | steps | train s |\n"
          "|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if "adding" in tasks:
        print(f"\nbar: {'pass' if result['adding']['passed'] else 'FAIL'}")


if __name__ == "__main__":
    main()
