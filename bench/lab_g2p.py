"""Benchmark: the CMUdict grapheme-to-phoneme lab at its default configuration.

Runs ``rnnkit.labs.g2p.run`` (2 epochs, at most 25 minutes of CPU training), prints the
lab's table, writes ``bench/results/lab_g2p.json`` and prints a Markdown row for
BENCHMARKS.md.

    python bench/lab_g2p.py [--threads 1] [--budget 1500] [--input-feeding] [--epochs 2]
                            [--out runs/bench-g2p] [--result lab_g2p.json]
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import g2p

from _common import machine, write_result  # bench/_common.py: this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1500.0, help="training seconds")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--input-feeding", action="store_true",
                        help="Luong input feeding (the decoder steps through time)")
    parser.add_argument("--out", default="runs/bench-g2p")
    parser.add_argument("--result", default="lab_g2p.json", help="file in bench/results/")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    metrics = g2p.run({"training": {"max_time": args.budget, "epochs": args.epochs},
                       "model": {"input_feeding": args.input_feeding}}, out_dir=args.out)
    result = {"bench": "lab_g2p", "date": date.today().isoformat(), "machine": machine(),
              **metrics}
    out = write_result(args.result, result)
    print(f"\nwrote {out}\n")
    k = metrics["beam_width"]
    print(f"| model | PER greedy | WER greedy | PER beam {k} | WER beam {k} | baseline PER | "
          f"memory PER | train s | epochs | bar |\n|---|---|---|---|---|---|---|---|---|---|\n"
          f"| {metrics['model_name']} | {metrics['phoneme_error_rate']:.2%} | {metrics['word_error_rate']:.2%} | "
          f"{metrics['beam_phoneme_error_rate']:.2%} | {metrics['beam_word_error_rate']:.2%} | "
          f"{metrics['baseline_phoneme_error_rate']:.2%} | "
          f"{metrics['memory_phoneme_error_rate']:.2%} | {metrics['train_seconds']:.0f} | "
          f"{metrics['epochs']} | {'pass' if metrics['passed'] else 'FAIL'} |")


if __name__ == "__main__":
    main()
