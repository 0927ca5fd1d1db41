"""Benchmark: how fast gradients vanish through time, tanh RNN vs LSTM vs GRU, orthogonal vs
Glorot-uniform W_hh, on the adding problem at T = 100 and 200.

Runs ``rnnkit.labs.gradients.run`` (the full lab: gradient flow at initialization averaged over
3 seeds, and after ``--budget`` seconds of Adam per model), writes
``bench/results/gradient_decay.json`` and prints a Markdown table for BENCHMARKS.md: the decay
rate (decades of ||dL/dh_t|| lost per 100 steps back in time, a least-squares fit) and the ratio
||dL/dh_1|| / ||dL/dh_T||.

    python bench/gradient_decay.py [--threads 1] [--budget 20] [--lengths 100,200]
                                   [--out runs/bench-gradients]
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import gradients

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

_NAMES = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}
_INITS = {"orthogonal": "orthogonal", "glorot_uniform": "Glorot uniform"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=20.0, help="training seconds per model")
    parser.add_argument("--lengths", default="100,200", help="comma-separated T")
    parser.add_argument("--out", default="runs/bench-gradients")
    args = parser.parse_args()
    try:
        lengths = [int(t) for t in args.lengths.split(",") if t.strip()]
    except ValueError:
        parser.error(f"--lengths: expected comma-separated integers, got {args.lengths!r}")
    torch.set_num_threads(args.threads)
    metrics = gradients.run({"data": {"lengths": lengths},
                             "training": {"time_budget_s": args.budget}},
                            out_dir=args.out, overwrite=True)
    result = {"bench": "gradient_decay", "date": date.today().isoformat(),
              "machine": machine(), "load": load(), "budget_s": args.budget, **metrics}
    out = write_result("gradient_decay.json", result)
    print(f"\nwrote {out} (figure: {metrics['run_dir']}/gradients.png)\n")
    by = {(r["length"], r["cell"], r["init"], r["stage"]): r for r in metrics["rows"]}
    print("| T | cell | W_hh init | decades / 100 steps, init (seed range) | ratio h_1/h_T, "
          "init | decades / 100 steps, trained | ratio, trained | steps | loss, trained |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for (T, cell, init, stage), r in by.items():
        if stage != "init":
            continue
        tr = by.get((T, cell, init, "trained"), {})
        trained = (f"{tr['decades_per_100']:.2f} | {tr['ratio_first_last']:.1e} | "
                   f"{tr['steps']} | {tr['final_loss']:.3f}" if tr else "- | - | - | -")
        seeds = r["decades_per_100_per_seed"]
        print(f"| {T} | {_NAMES[cell]} | {_INITS.get(init, init)} | "
              f"{r['decades_per_100']:.2f} ({min(seeds):.1f} to {max(seeds):.1f}) | "
              f"{r['ratio_first_last']:.1e} | {trained} |")
    print(f"\nbar: {'pass' if metrics['passed'] else 'FAIL'}")
    for name, ok in metrics["checks"].items():
        print(f"  {'ok' if ok else 'NO'}  {name}")


if __name__ == "__main__":
    main()
