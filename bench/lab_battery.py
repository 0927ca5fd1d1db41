"""Benchmark: the battery lab on data seeds 0-4, against the team's reference numbers.

Protocol (the tutorial's, without its leak): 1000 cycles, 20 past cycles in, the next out;
the last 20 % of the windows are the test part; one-step forecasts from true history; early
stopping on a validation part cut from the end of the training part; scaling fitted on
training rows only (or per window). Each seed is both the data seed and the training seed.

For every seed it runs the lab (:func:`rnnkit.labs.battery.run`, which writes a run
directory: checkpoints and History logs every epoch), then fits the same config again with
:meth:`Forecaster.fit` and no run directory, to separate training from file writing (the two
fits must give identical forecasts). ``--compare`` also runs the other scalings, which is how
the lab's default was chosen.

    python bench/lab_battery.py [--seeds 0 1 2 3 4] [--threads 1] [--compare]

Prints a table and a Markdown block for BENCHMARKS.md, writes
``bench/results/lab_battery.json`` (``lab_battery_compare.json`` with ``--compare``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import torch

from rnnkit.datasets import load_dataset
from rnnkit.labs import battery
from rnnkit.tasks.forecasting import Forecaster

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

#: The team's measurements on this protocol (median over data seeds 0-4).
REFERENCE = {
    "tutorial Keras (scaler sees the test part)": (0.0094, 15.0),
    "NeuralForecast LSTM": (0.0085, 5.6),
    "Darts RNNModel": (0.027, 4.8),
    "persistence": (0.0109, None),
    "noiseless curve (floor)": (0.0077, None),
}
BAR_RMSE, BAR_FIT_S = 0.0088, 2.5
NOTES = {
    "linear_ar": "least squares on the raw windows",
    "linear_ar_window": "ridge on window-normalized inputs (as the model), LOO penalty",
    "ets": "statsmodels, fitted once on the training rows, rolled forward",
    "arima": "SARIMAX (1, 1, 1), fitted once on the training rows, rolled forward",
}
VARIANTS = {
    "window/standard": {"forecast": {"scaling": "window", "window_mode": "standard"}},
    "window/last": {"forecast": {"scaling": "window", "window_mode": "last"}},
    "minmax (train rows)": {"forecast": {"scaling": "minmax"}},
    "standard (train rows)": {"forecast": {"scaling": "standard"}},
}


def run_seed(seed: int, overrides: dict[str, Any] | None, workdir: Path) -> dict[str, Any]:
    lab = battery.run(overrides, out_dir=workdir / f"seed{seed}", seed=seed, verbose=False,
                      report=False)
    cfg = battery.config(overrides, seed=seed)
    series = load_dataset("battery", **cfg.data.dataset_args).series
    lean = Forecaster(cfg).fit(series)
    ev = lean.evaluate(series)
    return {"seed": seed, "rmse": lab["rmse"], "mae": lab["mae"],
            "fit_time_s": lab["fit_seconds"], "lean_fit_time_s": lean.fit_seconds_,
            "lean_rmse": ev["model"]["rmse"], "epochs_run": lab["epochs_run"],
            "best_epoch": lab["best_epoch"], "floor_rmse": lab["floor_rmse"],
            "baselines": lab["baselines"],
            "skipped": lab["metrics"]["evaluation"].get("skipped", {}),
            "notes": lab["metrics"]["evaluation"].get("notes", [])}


def median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compare", action="store_true", help="also run the other scalings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = VARIANTS if args.compare else {"lab default": None}
    results: dict[str, Any] = {"bench": "lab_battery", "date": date.today().isoformat(),
                               "machine": machine(cores=True), "threads": args.threads,
                               "load_before": load(), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in variants.items():
            rows = []
            for seed in args.seeds:
                t0 = time.perf_counter()
                row = run_seed(seed, overrides, Path(tmp) / name.replace("/", "-"))
                rows.append(row)
                print(f"{name:24s} seed {seed}: rmse {row['rmse']:.4f} (lean {row['lean_rmse']:.4f})"
                      f"  fit {row['fit_time_s']:.2f} s (lean {row['lean_fit_time_s']:.2f} s), "
                      f"{row['epochs_run']} epochs, best {row['best_epoch']}; "
                      f"persistence {row['baselines']['persistence']:.4f}, floor "
                      f"{row['floor_rmse']:.4f}  [{time.perf_counter() - t0:.0f} s]", flush=True)
            results["variants"][name] = {
                "runs": rows,
                "median_rmse": median(rows, "rmse"),
                "median_fit_time_s": median(rows, "fit_time_s"),
                "median_lean_fit_time_s": median(rows, "lean_fit_time_s"),
                "median_epochs": median(rows, "epochs_run"),
                "median_baselines": {b: float(statistics.median(r["baselines"][b] for r in rows))
                                     for b in rows[0]["baselines"]},
                "median_floor_rmse": median(rows, "floor_rmse"),
            }
    results["load_after"] = load()
    name = "lab_battery_compare.json" if args.compare else "lab_battery.json"
    out = write_result(name, results)
    print(f"\nwrote {out}\n")
    print(markdown(results))


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}, {results['threads']} torch thread(s); date "
             f"{results['date']}; load average {results['load_before']} before, "
             f"{results['load_after']} after.", "",
             "| forecaster | median test RMSE | median fit s / seed | notes |",
             "|---|---|---|---|"]
    for name, v in results["variants"].items():
        lines.append(f"| rnnkit, {name} | {v['median_rmse']:.4f} | "
                     f"{v['median_fit_time_s']:.2f} (lean {v['median_lean_fit_time_s']:.2f}) | "
                     f"median {v['median_epochs']:.0f} epochs (early stopping) |")
    first = next(iter(results["variants"].values()))
    for b, rmse in first["median_baselines"].items():
        lines.append(f"| baseline {b} (same windows) | {rmse:.4f} | | {NOTES.get(b, '')} |")
    lines.append(f"| noiseless curve (floor, same windows) | {first['median_floor_rmse']:.4f} "
                 "| | |")
    for name, (rmse, fit) in REFERENCE.items():
        lines.append(f"| team reference: {name} | {rmse:.4f} | "
                     f"{'' if fit is None else f'{fit:.1f}'} | |")
    lines.append(f"| bar | <= {BAR_RMSE} | < {BAR_FIT_S} | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
