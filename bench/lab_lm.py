"""Benchmark: the Shakespeare character-LM lab at its default configuration.

Runs ``rnnkit.labs.shakespeare.run`` (at most 10 minutes of CPU training), prints the lab's
table, writes ``bench/results/lab_lm.json`` and prints a Markdown block for BENCHMARKS.md.

    python bench/lab_lm.py [--threads 1] [--budget 580] [--out runs/bench-shakespeare]

``--threads 1`` is what the recorded numbers used: on a 2-core machine shared with other
jobs, one intra-op thread was ~4x faster than two (measured: 26k vs 5k chars/s).
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import shakespeare

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=580.0, help="training seconds")
    parser.add_argument("--out", default="runs/bench-shakespeare")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    metrics = shakespeare.run({"training": {"time_budget_s": args.budget}}, out_dir=args.out)
    result = {"bench": "lab_lm", "date": date.today().isoformat(), "machine": machine(),
              **metrics}
    out = write_result("lab_lm.json", result)
    print(f"\nwrote {out}\n")
    print(f"| corpus | model bpc | bigram bpc | unigram bpc | train s | passes | bar |\n"
          f"|---|---|---|---|---|---|---|\n"
          f"| {metrics['corpus']} | {metrics['bits_per_character']:.3f} | "
          f"{metrics['bigram_bits_per_character']:.3f} | "
          f"{metrics['unigram_bits_per_character']:.3f} | {metrics['train_seconds']:.0f} | "
          f"{metrics['passes']:.2f} | {'pass' if metrics['passed'] else 'FAIL'} |")


if __name__ == "__main__":
    main()
