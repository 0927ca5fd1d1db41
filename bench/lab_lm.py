"""Benchmark: the Shakespeare language-model lab, character level (its default) or word level.

Runs ``rnnkit.labs.shakespeare.run`` (at most 10 minutes of CPU training), prints the lab's
table, writes ``bench/results/lab_lm.json`` (word level: ``lab_lm_word.json``) and prints a
Markdown block for BENCHMARKS.md.

    python bench/lab_lm.py [--threads 1] [--budget 580] [--out runs/bench-shakespeare]
                           [--level word] [--max-vocab 20000] [--k 1.0]
                           [--set model.tie_weights=true ...]   (any lab key, TOML values)

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
    parser.add_argument("--out", default=None, help="default runs/bench-shakespeare[-word]")
    parser.add_argument("--level", choices=("char", "word"), default="char")
    parser.add_argument("--max-vocab", type=int, default=20_000, help="word level")
    parser.add_argument("--k", type=float, default=1.0, help="add-k of the n-gram baselines")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="any other lab setting (as `rnnkit lab --set`)")
    parser.add_argument("--result", default=None, help="file name in bench/results/")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    word = args.level == "word"
    out_dir = args.out or f"runs/bench-shakespeare{'-word' if word else ''}"
    from rnnkit.cli.app import parse_sets

    overrides = parse_sets(args.set, base={"training": {"time_budget_s": args.budget},
                                           "model": {"level": args.level,
                                                     "max_vocab": args.max_vocab},
                                           "baseline": {"k": args.k}})
    metrics = shakespeare.run(overrides, out_dir=out_dir)
    result = {"bench": "lab_lm", "date": date.today().isoformat(), "machine": machine(),
              **metrics}
    out = write_result(args.result or ("lab_lm_word.json" if word else "lab_lm.json"), result)
    print(f"\nwrote {out}\n")
    if word:
        print(f"| corpus | vocabulary | model perplexity | bigram ({metrics['bigram_smoothing']}) "
              f"| unigram | "
              f"train s | passes |\n|---|---|---|---|---|---|---|\n"
              f"| {metrics['corpus']} | {metrics['vocab_size']:,} | {metrics['perplexity']:.1f} | "
              f"{metrics['bigram_perplexity']:.1f} | {metrics['unigram_perplexity']:.1f} | "
              f"{metrics['train_seconds']:.0f} | {metrics['passes']:.2f} |")
        return
    print(f"| corpus | model bpc | bigram bpc | unigram bpc | train s | passes | bar |\n"
          f"|---|---|---|---|---|---|---|\n"
          f"| {metrics['corpus']} | {metrics['bits_per_character']:.3f} | "
          f"{metrics['bigram_bits_per_character']:.3f} | "
          f"{metrics['unigram_bits_per_character']:.3f} | {metrics['train_seconds']:.0f} | "
          f"{metrics['passes']:.2f} | {'pass' if metrics['passed'] else 'FAIL'} |")


if __name__ == "__main__":
    main()
