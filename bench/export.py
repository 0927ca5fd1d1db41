"""Benchmark: a batch-1 forecast under onnxruntime versus torch eager.

A forecaster with ``--layers`` x LSTM(``--hidden``) over ``--look-back`` steps (the battery
series, one epoch: the weights do not matter for speed) is exported with
:func:`rnnkit.export.export_onnx` (float32 and int8) and timed, one thread each, interleaved
round by round so that a load change hits every variant alike:

* ``torch``: the network alone on a scaled (1, L, 1) tensor, under ``torch.no_grad()``;
* ``onnx``: the exported graph on the raw (1, L, 1) history (scaling and its inverse
  inside, so it does more than the torch call);
* ``onnx-int8``: the same graph with int8 weights.

Each variant's time is the median over ``--rounds`` rounds of the mean of ``--calls`` calls.
Prints a table (and the parity of each graph with torch); writes ``bench/results/export.json``.

    python bench/export.py [--hidden 50] [--layers 2] [--look-back 20] [--rounds 15] [--calls 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path


def fit(hidden: int, layers: int, look_back: int):
    from rnnkit.tasks.forecasting import Forecaster

    task = Forecaster({
        "data": {"dataset": "battery", "dataset_args": {"n_cycles": 300, "seed": 0}},
        "forecast": {"look_back": look_back, "horizon": 1, "scaling": "standard"},
        "model": {"cell": "lstm", "hidden_size": hidden, "num_layers": layers,
                  "dropout": 0.0, "head_dropout": 0.0},
        "training": {"epochs": 1, "device": "cpu", "progress": "off"},
        "evaluation": {"baselines": False},
    })
    return task.fit(task.read_data())


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--look-back", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    from rnnkit.export import export_onnx

    torch.set_num_threads(1)
    task = fit(args.hidden, args.layers, args.look_back)
    prep = task._prep()
    series = task.read_data()
    raw = series.values[None, -args.look_back:].astype(np.float32)  # (1, L, 1)
    x = torch.as_tensor(prep.scaler.transform(raw), dtype=torch.float32)
    model = task.model_.eval()
    with torch.no_grad():
        want = task._forecast(raw.astype(np.float64), 1)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = export_onnx(task, Path(tmp) / "f32.onnx")
        i8 = export_onnx(task, Path(tmp) / "i8.onnx", quantize="int8")
        sessions = {"onnx": session(f32.path), "onnx-int8": session(i8.path)}

        def torch_call() -> None:
            with torch.no_grad():
                model(x)

        calls = {"torch": torch_call}
        for name, sess in sessions.items():
            calls[name] = (lambda s: lambda: s.run(None, {"history": raw}))(sess)
        parity = {name: float(np.abs(sess.run(None, {"history": raw})[0] - want).max())
                  for name, sess in sessions.items()}
        for call in calls.values():  # warm up
            for _ in range(20):
                call()
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, call in calls.items():
                start = time.perf_counter()
                for _ in range(args.calls):
                    call()
                times[name].append((time.perf_counter() - start) / args.calls * 1e6)
    med = {name: float(np.median(v)) for name, v in times.items()}
    rows = []
    print(f"batch-1 forecast, {args.layers} x LSTM({args.hidden}) over {args.look_back} steps; "
          f"{machine()}; load {load()}")
    print(f"{'runtime':<10} {'median us':>10} {'vs torch':>9} {'max |diff| vs torch':>20}")
    for name, us in med.items():
        diff = parity.get(name, 0.0)
        print(f"{name:<10} {us:>10.1f} {med['torch'] / us:>8.2f}x {diff:>20.2e}")
        rows.append({"runtime": name, "median_us": round(us, 2),
                     "speedup_vs_torch": round(med["torch"] / us, 2),
                     "max_abs_diff_vs_torch": diff})
    print(f"int8 accuracy change (example inputs): {i8.accuracy}")
    result = {"date": str(date.today()), "machine": machine(), "load": load(),
              "config": vars(args), "results": rows, "int8_accuracy": i8.accuracy,
              "onnxruntime": ort.__version__, "torch": torch.__version__}
    print(f"written: {write_result('export.json', result)}")


if __name__ == "__main__":
    main()
