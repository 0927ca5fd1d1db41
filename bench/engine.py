"""Benchmark: one training step (forward + backward over the whole sequence) of the engine.

For LSTM, GRU and SimpleRNN, standard and with each option (layer_norm, recurrent_dropout,
weight_drop, zoneout, bidirectional, masking), it times:

* ``torch.nn``: torch.nn.LSTM / GRU / RNN where they can run the configuration (packed
  sequences for variable lengths);
* ``auto``: the rnnkit layer as built (``backend="auto"``: PyTorch's kernels where they serve,
  else rnnkit's BPTT kernels); the backend that ran is recorded;
* ``kernel``: rnnkit's BPTT kernels (:mod:`rnnkit.nn.backends`), forced even where PyTorch's
  kernels would serve;
* ``loop``: the plain per-step autograd loop (``backend="loop"``).

Sizes (batch, steps, inputs, hidden): small (32, 20, 1, 50), medium (64, 100, 32, 256),
large (64, 100, 256, 1024). Every configuration is warmed up, then the repeats are
interleaved (one step of each configuration per round, so that a burst of load on a shared
machine hits all of them alike) and the median is reported.

    python bench/engine.py [--sizes small,medium,large] [--repeats 7] [--quick] [--threads 2]

Prints a table and writes ``bench/results/engine.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.nn import GRU, LSTM, Recurrent, SimpleRNN

SIZES: dict[str, tuple[int, int, int, int]] = {  # (B, T, I, H)
    "small": (32, 20, 1, 50),
    "medium": (64, 100, 32, 256),
    "large": (64, 100, 256, 1024),
}
# default repeats per size (the large size is slow on the loop backend)
REPEATS = {"small": 15, "medium": 7, "large": 3}
KINDS: dict[str, tuple[type[Recurrent], type[torch.nn.RNNBase]]] = {
    "LSTM": (LSTM, torch.nn.LSTM),
    "GRU": (GRU, torch.nn.GRU),
    "SimpleRNN": (SimpleRNN, torch.nn.RNN),
}
# variant -> (rnnkit layer options, masking: None | "lengths" | "ragged")
VARIANTS: dict[str, tuple[dict, str | None]] = {
    "standard": ({}, None),
    "layer_norm": ({"layer_norm": True}, None),
    "recurrent_dropout": ({"recurrent_dropout": 0.25}, None),
    "weight_drop": ({"weight_drop": 0.25}, None),
    "zoneout": ({"zoneout": 0.1}, None),
    "bidirectional": ({"bidirectional": True}, None),
    "lengths": ({}, "lengths"),
    "ragged_mask": ({}, "ragged"),
}
COLUMNS = ("torch.nn", "auto", "kernel", "loop")

Step = Callable[[], None]


@dataclass
class Case:
    """One timed configuration."""

    size: str
    cell: str
    variant: str
    column: str
    times_ms: list[float] = field(default_factory=list)
    backend: str | None = None  # what the rnnkit layer ran (auto/kernel/loop)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")


# ---------------------------------------------------------------------------- the steps
def _inputs(size: str, masking: str | None, seed: int = 0):
    B, T, I, _ = SIZES[size]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, I, generator=gen)
    if masking is None:
        return x, {}, None
    if masking == "lengths":  # post-padding, lengths uniform in [T/2, T], one full row
        lengths = torch.randint(T // 2, T + 1, (B,), generator=gen)
        lengths[0] = T
        return x, {"lengths": lengths}, lengths
    mask = torch.rand(B, T, generator=gen) > 0.1  # ragged: ~10% holes anywhere
    mask[:, 0] = True
    return x, {"mask": mask}, None


def _rnnkit_step(kind: str, variant: str, size: str, column: str) -> tuple[Step, Recurrent]:
    options, masking = VARIANTS[variant]
    _, _, I, H = SIZES[size]
    # "kernel": rnnkit's kernels, even where PyTorch's would serve
    backend = {"loop": "loop", "kernel": "rnnkit"}.get(column, "auto")
    layer = KINDS[kind][0](I, H, backend=backend, **options).train()
    x, call, _ = _inputs(size, masking)

    def step() -> None:
        out, _ = layer(x, **call)
        out.square().mean().backward()

    return step, layer


def _torch_step(kind: str, variant: str, size: str) -> Step | None:
    options, masking = VARIANTS[variant]
    if set(options) - {"bidirectional"} or masking == "ragged":
        return None  # PyTorch's layers have no such option
    _, T, I, H = SIZES[size]
    model = KINDS[kind][1](I, H, batch_first=True, **options).train()
    x, _, lengths = _inputs(size, masking)

    def step() -> None:
        if lengths is None:
            out, _ = model(x)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(model(packed)[0], batch_first=True, total_length=T)
        out.square().mean().backward()

    return step


def _build(size: str, kinds: list[str], columns: tuple[str, ...] = COLUMNS
           ) -> list[tuple[Case, Step, Recurrent | None]]:
    cases = []
    for kind in kinds:
        for variant in VARIANTS:
            for column in columns:
                if column == "torch.nn":
                    step, layer = _torch_step(kind, variant, size), None
                else:
                    step, layer = _rnnkit_step(kind, variant, size, column)
                if step is not None:
                    cases.append((Case(size, kind, variant, column), step, layer))
    return cases


def _time(step: Step) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1e3


def run_size(size: str, kinds: list[str], repeats: int, warmup: int = 2,
             columns: tuple[str, ...] = COLUMNS) -> list[Case]:
    """Warm every case up, then time ``repeats`` interleaved rounds; returns the cases."""
    cases = _build(size, kinds, columns)
    for case, step, layer in cases:
        for _ in range(warmup):
            step()
        case.backend = None if layer is None else layer.last_backend
    for _ in range(repeats):
        for case, step, _ in cases:
            case.times_ms.append(_time(step))
    return [case for case, _, _ in cases]


# ---------------------------------------------------------------------------- reporting
def machine() -> dict[str, str | int]:
    model = platform.processor()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                      if ln.startswith("Model name")), model)
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count() or 0, "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def table_rows(cases: list[Case]) -> list[dict[str, str]]:
    """One row per (size, cell, variant): the four columns and the ratios."""
    by_key: dict[tuple[str, str, str], dict[str, Case]] = {}
    for c in cases:
        by_key.setdefault((c.size, c.cell, c.variant), {})[c.column] = c
    ref_lstm = {c.size: c.median_ms for c in cases
                if (c.cell, c.variant, c.column) == ("LSTM", "standard", "torch.nn")}
    rows = []
    for (size, cell, variant), cols in by_key.items():
        row = {"size": size, "cell": cell, "variant": variant}
        for col in COLUMNS:
            c = cols.get(col)
            row[col] = "—" if c is None else f"{c.median_ms:.1f}"
        auto = cols["auto"]
        row["auto ran"] = auto.backend or "?"
        kernel = cols["kernel"].median_ms
        row["kernel / torch.nn.LSTM"] = (f"{kernel / ref_lstm[size]:.2f}"
                                         if size in ref_lstm else "—")
        own = cols.get("torch.nn")
        row["kernel / torch.nn"] = "—" if own is None else f"{kernel / own.median_ms:.2f}"
        loop = cols.get("loop")
        row["loop / kernel"] = "—" if loop is None else f"{loop.median_ms / kernel:.1f}"
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, str]]) -> None:
    headers = list(rows[0])
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text
        print(" | ".join(headers))
        for row in rows:
            print(" | ".join(row[h] for h in headers))
        return
    table = Table(title="one training step, median ms (forward + backward)")
    for h in headers:
        table.add_column(h, justify="left" if h in ("size", "cell", "variant") else "right")
    for row in rows:
        table.add_row(*(row[h] for h in headers))
    Console().print(table)


def markdown(rows: list[dict[str, str]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row[h] for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def _merge(path: Path, sizes: list[str], run: dict, cases: list[Case],
           rows: list[dict[str, str]]) -> dict:
    """The JSON to write: this run's sizes replace the same sizes of an earlier file, the
    others are kept (so the large size can be measured in a separate, quieter window)."""
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def keep(items: list[dict]) -> list[dict]:
        return [x for x in items if x["size"] not in sizes]

    runs = {s: r for s, r in old.get("runs", {}).items() if s not in sizes}
    runs.update({s: run for s in sizes})
    return {
        "bench": "engine",
        "sizes": {s: SIZES[s] for s in SIZES if s in runs},
        "runs": runs,
        "cases": keep(old.get("cases", [])) + [{**asdict(c), "median_ms": c.median_ms}
                                               for c in cases],
        "table": keep(old.get("table", [])) + rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated subset of " + ",".join(SIZES))
    parser.add_argument("--cells", default=",".join(KINDS),
                        help="comma-separated subset of " + ",".join(KINDS))
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per size (default: 15 small, 7 medium, 3 large)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run in under 2 minutes: small and medium sizes, one "
                             "warm-up and 2 rounds, the per-step loop at the small size only; "
                             "written to engine_quick.json unless --out is given")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None,
                        help="the JSON to write (default bench/results/engine.json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sizes = ["small", "medium"] if args.quick else args.sizes.split(",")
    kinds = args.cells.split(",")
    for name in sizes:
        if name not in SIZES:
            parser.error(f"--sizes: expected names from {list(SIZES)}, got {name!r}")
    for name in kinds:
        if name not in KINDS:
            parser.error(f"--cells: expected names from {list(KINDS)}, got {name!r}")
    cases: list[Case] = []
    load_before = os.getloadavg()
    def rounds(size: str) -> int:
        return 2 if args.quick else (args.repeats or REPEATS[size])

    for size in sizes:
        # the loop takes seconds per step at the medium size: a quick run leaves it out there
        columns = tuple(c for c in COLUMNS if not (args.quick and c == "loop" and size != "small"))
        print(f"timing {size} {SIZES[size]} x {rounds(size)} rounds ...", flush=True)
        cases += run_size(size, kinds, rounds(size), warmup=1 if args.quick else 2,
                          columns=columns)
    rows = table_rows(cases)
    print_table(rows)
    run = {"date": date.today().isoformat(), "machine": machine(),
           "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
           "repeats": {s: rounds(s) for s in sizes}, "quick": args.quick}
    default = "engine_quick.json" if args.quick else "engine.json"
    out = Path(args.out or Path(__file__).parent / "results" / default)
    result = _merge(out, sizes, run, cases, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
