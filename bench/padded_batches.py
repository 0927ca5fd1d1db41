"""Benchmark: what a variable-length batch costs against the same batch without lengths.

For LSTM and GRU, uni- and bidirectional, hidden 32/64/128/256, T = 84/336/1344, batch 16
(32 input features, lengths drawn uniformly in [T/2, T], the longest T), it times one
forward + backward (``out.square().mean().backward()``) of the same layer on the same padded
tensor with ``lengths`` and without, per backend:

* ``torch``: PyTorch's unpacked kernel; with lengths, one call per layer and direction on the
  padded batch (:func:`rnnkit.nn.fused.run_padded`);
* ``rnnkit``: rnnkit's BPTT kernel (:func:`rnnkit.nn.backends.run_bptt`), forced;
* ``loop``: the per-step reference (``backend="loop"``);
* ``packed``: the path ``auto`` took before (PyTorch's kernel on a ``PackedSequence``), with
  lengths only, timed once per configuration (its CPU backward grows with T^2: 7 s a call for
  a bidirectional LSTM(64) at T=1344), and at T=1344 only for hidden 64.

The two calls of a backend alternate (without, with, without, with, ...) so that a burst of
load on a shared machine hits both alike, each call with lengths drawn afresh, as batches come
in training; the best of ``--repeats`` is kept (fewer for the slow cells: a cell stops
repeating once it has spent ``--budget`` seconds, after two calls of each). ``auto`` names the
backend the layer picks with lengths (and without, when it differs). The ratio is with /
without lengths.

    python bench/padded_batches.py [--threads 1] [--repeats 9] [--budget 1.2] [--quick]

Prints a markdown table and writes ``bench/results/padded_batches.json``.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.nn import GRU, LSTM, Recurrent
from rnnkit.nn.fused import flat_weights

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

B, I = 16, 32
HIDDEN = (32, 64, 128, 256)
STEPS = (84, 336, 1344)
KINDS: dict[str, type[Recurrent]] = {"LSTM": LSTM, "GRU": GRU}
BACKENDS = ("torch", "rnnkit", "loop")


def _layer(kind: str, H: int, bidirectional: bool, backend: str) -> Recurrent:
    torch.manual_seed(0)
    return KINDS[kind](I, H, bidirectional=bidirectional, backend=backend).train()


def _lengths(T: int, gen: torch.Generator) -> torch.Tensor:
    """(B,) lengths uniform in [T/2, T], the first T (the batch's padded length)."""
    lengths = torch.randint(T // 2, T + 1, (B,), generator=gen)
    lengths[0] = T
    return lengths


def _seconds(call) -> float:
    start = time.perf_counter()
    out = call()
    out.square().mean().backward()
    return time.perf_counter() - start


def _packed_call(layer: Recurrent, x: torch.Tensor, lengths: torch.Tensor):
    """The former path: PyTorch's kernel on a PackedSequence, then padded back (B, T, D*H)."""
    cells = list(layer.cells)
    weights = [w for cell in cells for w in flat_weights(cell)]
    kernel = _VF.lstm if layer.num_states == 2 else _VF.gru
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    rows = layer.num_layers * layer.num_directions
    h0 = x.new_zeros(rows, B, layer.hidden_size)
    hx = (h0, h0) if layer.num_states == 2 else h0
    result = kernel(packed.data, packed.batch_sizes, hx, weights, True, layer.num_layers, 0.0,
                    True, layer.bidirectional)
    out = PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices,
                         packed.unsorted_indices)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def measure(kind: str, H: int, bidirectional: bool, T: int, repeats: int,
            budget: float) -> dict:
    gen = torch.Generator().manual_seed(T)
    x = torch.randn(B, T, I, generator=gen)
    row: dict = {"cell": kind, "hidden": H, "bidirectional": bidirectional, "T": T}
    auto = KINDS[kind](I, H, bidirectional=bidirectional)
    row["auto"] = auto._choose_backend("post", x.device)
    row["auto_full"] = auto._choose_backend("full", x.device)
    for backend in BACKENDS:
        layer = _layer(kind, H, bidirectional, backend)
        full, padded = [], []
        spent = 0.0
        for _ in range(repeats):
            full.append(_seconds(lambda: layer(x)[0]))  # noqa: B023 (called at once)
            lengths = _lengths(T, gen)
            padded.append(_seconds(lambda: layer(x, lengths=lengths)[0]))  # noqa: B023
            spent += full[-1] + padded[-1]
            if spent > budget and len(full) >= 2:
                break
        assert layer.last_backend == backend, (layer.last_backend, backend)
        row[backend] = {"full_s": min(full), "lengths_s": min(padded),
                        "ratio": min(padded) / min(full), "calls": len(full)}
    if T <= 336 or H == 64:
        layer = _layer(kind, H, bidirectional, "torch")
        lengths = _lengths(T, gen)
        row["packed"] = {"lengths_s": _seconds(lambda: _packed_call(layer, x, lengths))}
        row["packed"]["ratio"] = row["packed"]["lengths_s"] / row["torch"]["full_s"]
    return row


def _cell(entry: dict | None) -> str:
    if entry is None:
        return "-"
    if "full_s" not in entry:
        return f"{entry['lengths_s']:.3f} ({entry['ratio']:.2f}x)"
    return f"{entry['full_s']:.3f} / {entry['lengths_s']:.3f} ({entry['ratio']:.2f}x)"


def _auto(row: dict) -> str:
    if row["auto"] == row["auto_full"]:
        return row["auto"]
    return f"{row['auto']} ({row['auto_full']} without)"


def table(rows: list[dict]) -> str:
    head = ("| cell | D | H | T | auto (lengths) | torch: without / with (ratio) | rnnkit | loop "
            "| packed, before (ratio to torch without) |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r['cell']} | {2 if r['bidirectional'] else 1} | {r['hidden']} "
                     f"| {r['T']} | {_auto(r)} | {_cell(r['torch'])} | {_cell(r['rnnkit'])} "
                     f"| {_cell(r['loop'])} | {_cell(r.get('packed'))} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--budget", type=float, default=1.2,
                        help="seconds after which a cell stops repeating (at least 2 calls)")
    parser.add_argument("--quick", action="store_true", help="hidden 64 and T 84/336 only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hidden, steps = ((64,), (84, 336)) if args.quick else (HIDDEN, STEPS)
    started = time.perf_counter()
    rows = []
    for T in steps:
        for H in hidden:
            for kind in KINDS:
                for bidirectional in (False, True):
                    rows.append(measure(kind, H, bidirectional, T, args.repeats, args.budget))
                    print(table(rows[-1:]).splitlines()[-1], flush=True)
    worst = {b: max(r[b]["ratio"] for r in rows) for b in BACKENDS}
    for r in rows:  # what a user of backend="auto" sees: its pick with lengths over without
        r["auto_ratio"] = r[r["auto"]]["lengths_s"] / r[r["auto_full"]]["full_s"]
    auto_worst = max(r["auto_ratio"] for r in rows)
    result = {"bench": "padded_batches", "date": date.today().isoformat(),
              "machine": machine(), "load": load(), "batch": B, "input_size": I,
              "seconds": time.perf_counter() - started, "worst_ratio": worst,
              "auto_worst_ratio": auto_worst, "rows": rows}
    path = write_result("padded_batches.json", result)
    print(f"\n{machine()}, load {load()}, {date.today()}: seconds per forward+backward, "
          f"batch {B}, without / with lengths (ratio)\n")
    print(table(rows))
    print(f"\nworst ratio with/without lengths: {worst}; auto: {auto_worst:.2f}")
    print(f"{time.perf_counter() - started:.0f} s; wrote {path}")


if __name__ == "__main__":
    main()
