"""Benchmark: the English-to-Spanish verse translation lab at its default configuration.

Runs ``rnnkit.labs.translate.run`` (at most ``--budget`` seconds of CPU training), prints the
lab's table, writes ``bench/results/lab_translate.json`` and prints a Markdown table for
BENCHMARKS.md.

    python bench/lab_translate.py [--threads 1] [--budget 900] [--units bpe] [--out DIR]
"""

from __future__ import annotations

import argparse
from datetime import date

import torch

from rnnkit.labs import translate

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=900.0, help="training seconds")
    parser.add_argument("--units", choices=("word", "bpe"), default="word")
    parser.add_argument("--out", default=None, help="default runs/bench-translate[-bpe]")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    metrics = translate.run({"training": {"max_time": args.budget},
                             "data": {"units": args.units}},
                            out_dir=args.out or f"runs/bench-translate{'-bpe' * (args.units == 'bpe')}")
    result = {"bench": "lab_translate", "date": date.today().isoformat(), "machine": machine(),
              "load": load(), **metrics}
    out = write_result(f"lab_translate{'_bpe' * (args.units == 'bpe')}.json", result)
    print(f"\nwrote {out}\n")
    k = metrics["beam_width"]
    print("| model | BLEU | token error rate | exact match |\n|---|---|---|---|")
    for label, key in (("seq2seq, greedy", "greedy"), (f"seq2seq, beam {k}", "beam"),
                       ("translation memory", "baseline")):
        m = metrics[key]
        print(f"| {label} | {m['bleu'] * 100:.2f} | {m['token_error_rate']:.2%} | "
              f"{m['exact_match']:.2%} |")
    print(f"\n{metrics['n_train']:,} training pairs, vocabularies {metrics['src_vocab']:,} / "
          f"{metrics['tgt_vocab']:,}; trained {metrics['train_seconds']:.0f} s, "
          f"{metrics['epochs']} epochs")


if __name__ == "__main__":
    main()
