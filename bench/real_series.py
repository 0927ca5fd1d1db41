"""Benchmark: every packaged real series with its example config, against seasonal naive.

Protocol: the last 20 % of the windows are the test part; one-step forecasts from true
history; MASE scaled by the in-sample seasonal-naive error of the training rows (m = 12
monthly, 4 quarterly, 1 yearly, set in each ``examples/NAME.toml``). Each series is fitted
with training seeds 0-4 and the medians are reported, beside the best peer defaults the team
measured on the same protocol.

    python bench/real_series.py [--seeds 0 1 2 3 4] [--threads 1] [--only airline co2]

Prints a table and a Markdown block for BENCHMARKS.md, writes
``bench/results/real_series.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from typing import Any

import torch

from rnnkit.examples import FOLDER
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster, load_data

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

EXAMPLES = FOLDER
SERIES = ("airline", "co2", "sunspots", "nile", "macrodata")
#: Best peer defaults measured by the team on this protocol (test MASE).
PEERS = {"airline": 0.73, "co2": 0.20, "sunspots": 0.87}
#: The baselines shown in the per-baseline table, in this order (when they ran).
BASELINE_COLUMNS = ("persistence", "seasonal_naive", "moving_average", "linear_ar",
                    "linear_ar_window", "mlp", "ets", "arima")


def bench_series(name: str, seeds: list[int]) -> dict[str, Any]:
    base = ForecastConfig.from_toml(EXAMPLES / f"{name}.toml")
    series = load_data(base).series
    runs = []
    for seed in seeds:
        cfg = base.with_overrides({"training": {"seed": seed}})
        forecaster = Forecaster(cfg).fit(series)
        ev = forecaster.evaluate(series)
        runs.append({"seed": seed, "mase": ev["model"]["mase"], "rmse": ev["model"]["rmse"],
                     "fit_time_s": forecaster.fit_seconds_, "epochs_run": len(forecaster.history_),
                     "baselines": {b: {"mase": r["mase"], "rmse": r["rmse"]}
                                   for b, r in ev["baselines"].items()},
                     "n_windows": ev["n_windows"], "m": ev["seasonal_period"]})
        print(f"{name:10s} seed {seed}: MASE {runs[-1]['mase']:.3f} RMSE {runs[-1]['rmse']:.4g} "
              f"fit {forecaster.fit_seconds_:.2f} s ({len(forecaster.history_)} epochs)",
              flush=True)
    first = runs[0]
    m = first["m"]
    naive = "seasonal_naive" if "seasonal_naive" in first["baselines"] else "persistence"
    return {
        "series": name, "n_steps": series.n_steps, "m": m, "n_test_windows": first["n_windows"],
        "config": {"forecast": base.forecast.model_dump(), "model": base.model.model_dump(),
                   "training": {**{k: getattr(base.training, k) for k in
                                   ("epochs", "batch_size", "lr", "loss")},
                                "patience": base.early_stopping.patience}},
        "runs": runs,
        "median_mase": float(statistics.median(r["mase"] for r in runs)),
        "median_rmse": float(statistics.median(r["rmse"] for r in runs)),
        "median_fit_time_s": float(statistics.median(r["fit_time_s"] for r in runs)),
        "seasonal_naive": naive,
        "seasonal_naive_mase": first["baselines"][naive]["mase"],
        "seasonal_naive_rmse": first["baselines"][naive]["rmse"],
        "best_baseline": min(first["baselines"], key=lambda b: first["baselines"][b]["mase"]),
        "baselines_mase": {b: r["mase"] for b, r in first["baselines"].items()},
        "peer_mase": PEERS.get(name),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}, {results['threads']} torch thread(s); date "
             f"{results['date']}; load average {results['load_before']} before, "
             f"{results['load_after']} after. Medians over training seeds "
             f"{results['seeds']}.", "",
             "| series | m | test windows | rnnkit MASE | RMSE | fit s | seasonal naive MASE "
             "| best peer MASE | best baseline (MASE) | beats seasonal naive |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["series"].values():
        peer = "" if r["peer_mase"] is None else f"{r['peer_mase']:.2f}"
        best = r["best_baseline"]
        lines.append(
            f"| {r['series']} | {r['m']} | {r['n_test_windows']} | {r['median_mase']:.3f} | "
            f"{r['median_rmse']:.4g} | {r['median_fit_time_s']:.1f} | "
            f"{r['seasonal_naive_mase']:.3f} ({r['seasonal_naive']}) | {peer} | "
            f"{best} ({r['baselines_mase'][best]:.3f}) | "
            f"{'yes' if r['median_mase'] < 1 and r['median_mase'] < r['seasonal_naive_mase'] else 'NO'} |")
    lines += ["", "Test MASE of every baseline (same windows; ETS and ARIMA fitted once on the "
              "training rows and rolled forward), and the model's gap to the best one "
              "(negative: the model is better):", ""]
    names = [b for b in BASELINE_COLUMNS
             if any(b in r["baselines_mase"] for r in results["series"].values())]
    lines += ["| series | rnnkit | " + " | ".join(names) + " | gap to best |",
              "|---|---|" + "---|" * len(names) + "---|"]
    for r in results["series"].values():
        cells = [f"{r['baselines_mase'][b]:.3f}" if b in r["baselines_mase"] else "-"
                 for b in names]
        best = r["baselines_mase"][r["best_baseline"]]
        lines.append(f"| {r['series']} | {r['median_mase']:.3f} | " + " | ".join(cells)
                     + f" | {100 * (r['median_mase'] - best) / best:+.1f}% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=SERIES, default=list(SERIES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {"bench": "real_series", "date": date.today().isoformat(),
                               "machine": machine(cores=True), "threads": args.threads,
                               "seeds": args.seeds, "load_before": load(), "series": {}}
    t0 = time.perf_counter()
    for name in args.only:
        results["series"][name] = bench_series(name, args.seeds)
    results["load_after"] = load()
    results["wall_s"] = time.perf_counter() - t0
    out = write_result("real_series.json", results)
    print(f"\nwrote {out}\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
