"""Benchmark: batch scoring holds one chunk in memory, whatever the file's size.

A tiny text classifier (BiLSTM, 8 units each way) is trained on synthetic sentences and saved;
then a Parquet file of ``--rows`` generated texts is written (in row groups, never whole in
memory, 50,000 rows a row group). Each scoring runs in a fresh process, which reports its
resident memory before scoring (after imports and loading the model: ``VmRSS``) and its peak
while scoring (``VmHWM``, reset after loading):

* ``chunked``: :func:`rnnkit.tasks.scoring.score_file` to a Parquet file, ``--chunk-rows``
  texts at a time (what ``rnnkit predict RUN --input IN --output OUT.parquet`` runs);
* ``whole`` (with ``--whole``): ``task.predict_frame(task.read_data(IN, labelled=False))``,
  the file read at once, for comparison.

The chunked scoring runs on a quarter of ``--rows`` and on all of them: its growth (peak minus
the resident memory before) must not follow the file's size and must stay under the cap, while
scoring the whole file at once would need several times the cap (``--whole`` measures that on
the quarter file; the whole file's need is scaled from it). Prints a table; writes
``bench/results/batch_scoring.json``.

    python bench/batch_scoring.py [--rows 480000] [--cap-mb 256] [--chunk-rows 10000] [--whole]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

WORDS = [f"w{i}" for i in range(500)]
POS, NEG = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"]


def texts(n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """``n`` sentences of 20..40 filler words with one sentiment word; the label follows it."""
    out, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        words = list(rng.choice(WORDS, size=int(rng.integers(20, 41))))
        words.insert(int(rng.integers(0, len(words))), str(rng.choice(POS if label else NEG)))
        out.append(" ".join(words))
        labels.append("pos" if label else "neg")
    return out, labels


def train(model_dir: Path) -> None:
    from rnnkit.tasks.base import Examples
    from rnnkit.tasks.classification import SequenceClassifier

    x, y = texts(2000, np.random.default_rng(0))
    task = SequenceClassifier({
        "model": {"embedding_dim": 8, "encoder": {"hidden_size": 8, "bidirectional": True}},
        "training": {"epochs": 1, "device": "cpu", "progress": "off", "seed": 0}})
    task.fit(Examples(x, y))
    task.save(model_dir)


def generate(path: Path, rows: int, batch: int = 50_000) -> int:
    """Write ``rows`` texts (with ids) to a Parquet file, ``batch`` rows per row group;
    returns the bytes pandas would hold for them all (``memory_usage(deep=True)``)."""
    rng = np.random.default_rng(1)
    in_memory = 0
    writer = None
    for start in range(0, rows, batch):
        x, _ = texts(min(batch, rows - start), rng)
        frame = pd.DataFrame({"id": np.arange(start, start + len(x)), "text": x})
        in_memory += int(frame.memory_usage(deep=True, index=False).sum())
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return in_memory


def child(mode: str, model_dir: str, source: str, out: str, chunk_rows: int) -> None:
    """Score in this fresh process; print a JSON line of peak RSS before and after (MiB)."""
    import torch

    from rnnkit.tasks import load
    from rnnkit.tasks.scoring import score_file

    torch.set_num_threads(1)
    task = load(model_dir)
    before = _status_mib("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    if mode == "chunked":
        rows = score_file(task, source, out, chunk_rows=chunk_rows, progress=False).rows
    else:
        frame = task.predict_frame(task.read_data(source, labelled=False))
        frame.to_parquet(out)
        rows = len(frame)
    seconds = time.perf_counter() - start
    after = _status_mib("VmHWM")
    print(json.dumps({"mode": mode, "rows": rows, "seconds": round(seconds, 2),
                      "rss_before_mib": round(before, 1), "peak_mib": round(after, 1),
                      "growth_mib": round(after - before, 1)}))


def _status_mib(key: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the peak


def _reset_peak() -> None:
    """Start VmHWM afresh (Linux >= 4.0), so the peak is the scoring's, not the imports'."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def run_child(mode: str, model_dir: Path, source: Path, out: Path, chunk_rows: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(model_dir), str(source), str(out),
           "--chunk-rows", str(chunk_rows)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=480_000)
    parser.add_argument("--cap-mb", type=float, default=256.0,
                        help="the memory growth the chunked scoring must stay under (MiB)")
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--whole", action="store_true",
                        help="also score the quarter file at once (its growth, times 4, is what "
                             "the whole file would need)")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "MODEL", "IN", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, chunk_rows=args.chunk_rows)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train(work / "model")
        for rows in (args.rows // 4, args.rows):  # the growth must not follow the file's size
            source = work / f"texts-{rows}.parquet"
            frame_mib = generate(source, rows) / 2**20
            file_mib = source.stat().st_size / 2**20
            modes = ["chunked", "whole"] if args.whole and rows < args.rows else ["chunked"]
            for mode in modes:
                r = run_child(mode, work / "model", source, work / f"{mode}.parquet",
                              args.chunk_rows)
                results.append({**r, "file_mib": round(file_mib, 1),
                                "frame_mib": round(frame_mib, 1)})
            if len(modes) == 2:  # the same predictions either way
                pd.testing.assert_frame_equal(pd.read_parquet(work / "chunked.parquet"),
                                              pd.read_parquet(work / "whole.parquet"))
            source.unlink()
    print(f"machine: {machine()}; load {load()}; chunks of {args.chunk_rows:,} rows")
    print(f"{'mode':8} {'rows':>9} {'file':>10} {'frame':>10} {'seconds':>8} {'rows/s':>8} "
          f"{'RSS before':>11} {'peak':>10} {'growth':>10}")
    for r in results:
        print(f"{r['mode']:8} {r['rows']:9,} {r['file_mib']:6.1f} MiB {r['frame_mib']:6.1f} MiB "
              f"{r['seconds']:8.1f} {r['rows'] / r['seconds']:8,.0f} "
              f"{r['rss_before_mib']:7.1f} MiB {r['peak_mib']:6.1f} MiB "
              f"{r['growth_mib']:6.1f} MiB")
    big = results[-1]
    verdict = "under" if big["growth_mib"] < args.cap_mb else "OVER"
    print(f"chunked growth on {big['rows']:,} rows: {big['growth_mib']:.1f} MiB, {verdict} the "
          f"{args.cap_mb:.0f} MiB cap")
    summary = {"date": date.today().isoformat(), "machine": machine(), "load": load(),
               "chunk_rows": args.chunk_rows, "cap_mib": args.cap_mb, "results": results,
               "under_cap": big["growth_mib"] < args.cap_mb}
    whole = [r for r in results if r["mode"] == "whole"]
    if whole:
        need = whole[0]["growth_mib"] * args.rows / whole[0]["rows"]
        summary["whole_file_estimate_mib"] = round(need, 1)
        print(f"scoring the {args.rows:,} rows at once would grow by about {need:.0f} MiB "
              f"({need / args.cap_mb:.1f}x the cap; measured on {whole[0]['rows']:,} rows, "
              "scaled by the row count)")
    print(f"written: {write_result('batch_scoring.json', summary)}")


if __name__ == "__main__":
    main()
