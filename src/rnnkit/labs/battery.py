"""Lab: forecasting battery capacity fade with an LSTM, against every baseline.

The data: :func:`rnnkit.data.battery_capacity`, 1000 charge cycles of a quadratic capacity fade
with Gaussian noise (std 0.01), floored at 0.1, plus the same curve without noise.

The tutorial's model: two LSTM layers of 50 units, dropout 0.2 after each, a linear output,
Adam, batch 32, 50 epochs, 20 past cycles in, the next cycle out; the last 20 % of the
windows are the test part and every test forecast reads the true previous 20 cycles
(one-step forecasts from true history).

What this lab does differently, and why:

* **No leakage.** The tutorial fits its min-max scaler on all 1000 cycles and validates on the
  test windows. Here scaling is fitted on the training rows only, and early stopping watches a
  validation part cut from the end of the training part; the test part is touched once.
* **Per-window normalization** (``forecast.scaling = "window"``, the default). The whole test
  part lies below the training minimum, and a third of it sits on the 0.1 floor: a network fed
  globally scaled inputs has never seen that range. Normalizing each window by its own mean
  and standard deviation, and mapping the output back, shows the network shapes it has seen.
  Measured on data seeds 0-4 (``bench/lab_battery.py``, BENCHMARKS.md "Battery lab").
* **Baselines on the same windows**: persistence, moving average, linear AR and an MLP on the
  flattened window (seasonal naive is skipped: the data have no season, m = 1), and the
  noiseless curve as the floor no forecaster can beat on average.

Run it with ``rnnkit lab battery`` or :func:`run`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rnnkit.labs._common import default_run_path, lab_report
from rnnkit.tasks.forecasting.config import ForecastConfig
from rnnkit.tasks.forecasting.experiment import run_experiment

__all__ = ["DEFAULTS", "QUICK", "config", "run"]

logger = logging.getLogger(__name__)

#: The lab's configuration (a :class:`ForecastConfig` as a dict).
DEFAULTS: dict[str, Any] = {
    "task": "forecasting",
    "name": "battery",
    "data": {"dataset": "battery", "dataset_args": {"n_cycles": 1000, "seed": 0}},
    "forecast": {"look_back": 20, "horizon": 1, "strategy": "direct", "scaling": "window",
                 "window_mode": "standard"},
    "model": {"cell": "lstm", "hidden_size": 50, "num_layers": 2, "dropout": 0.2,
              "head_dropout": 0.2},
    "training": {"epochs": 50, "batch_size": 32, "optimizer": "adam", "lr": 1e-3,
                 "seed": 0, "device": "cpu", "num_threads": 1},
    "early_stopping": {"patience": 5},
    "split": {"unit": "windows", "val": 0.1, "test": 0.2},
    "evaluation": {"baselines": True},
}

#: What ``quick=True`` changes: 300 cycles, a tiny network, two epochs (seconds).
QUICK: dict[str, Any] = {
    "data": {"dataset_args": {"n_cycles": 300}},
    "model": {"hidden_size": 8, "num_layers": 1},
    "training": {"epochs": 2},
    "evaluation": {"mlp_epochs": 20},
}


def config(overrides: dict[str, Any] | None = None, *, quick: bool = False,
           seed: int = 0) -> ForecastConfig:
    """The lab's :class:`ForecastConfig`: :data:`DEFAULTS`, then :data:`QUICK` when ``quick``,
    then ``overrides`` (by section), with ``seed`` as both the data and the training seed."""
    cfg = ForecastConfig.from_dict(DEFAULTS)
    if quick:
        cfg = cfg.with_overrides(QUICK)
    cfg = cfg.with_overrides(overrides)
    args = {**cfg.data.dataset_args, "seed": seed}
    return cfg.with_overrides({"data": {"dataset_args": args}, "training": {"seed": seed}})


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int = 0, verbose: bool = True,
        overwrite: bool = False, report: bool = True) -> dict[str, Any]:
    """Train the tutorial's LSTM on the battery data, compare it with every baseline and the
    noiseless floor, print the table and write the run directory.

    Args:
        config: overrides of :data:`DEFAULTS` by section, e.g. ``{"training": {"epochs": 5}}``.
        out_dir: the run directory (default ``runs/battery-YYYYmmdd-HHMMSS``); it must not
            exist yet.
        quick: a tiny run for tests (:data:`QUICK`).
        seed: the data seed and the training seed.
        verbose: print the table.
        report: write ``report.html`` (about 10 s of diagnostics; off for seed sweeps).

    Returns:
        ``run_dir``, ``rmse`` / ``mae`` / ``mase`` of the model on the test windows,
        ``baselines`` (name -> RMSE), ``floor_rmse`` (the noiseless curve), ``fit_seconds``,
        ``epochs_run``, ``best_epoch``, ``n_test_windows`` and the full ``metrics``.
    """
    cfg = _config(config, quick=quick, seed=seed)
    run_dir = Path(out_dir) if out_dir is not None else default_run_path("battery")
    result = run_experiment(cfg, run_dir, overwrite=overwrite)
    metrics = result.metrics
    test = metrics["evaluation"]
    floor = metrics["references"].get("noiseless curve (floor)", {})
    summary = {
        "run_dir": str(result.run_dir),
        "seed": seed,
        "rmse": test["model"]["rmse"],
        "mae": test["model"]["mae"],
        "mase": test["model"]["mase"],
        "baselines": {name: rep["rmse"] for name, rep in test["baselines"].items()},
        "floor_rmse": floor.get("rmse"),
        "fit_seconds": metrics["fit_seconds"],
        "epochs_run": metrics["epochs_run"],
        "best_epoch": metrics["best_epoch"],
        "n_test_windows": test["n_windows"],
        "metrics": metrics,
    }
    if verbose:
        from rich.console import Console

        console = Console()
        console.print(result.table(title=f"Battery capacity, seed {seed}: one-step forecasts "
                                         f"on the last {test['n_windows']} windows"))
        if result.report is not None:  # the headline: the model against the best baseline
            console.print(result.report.summary(), markup=False, highlight=False)
        console.print(f"fit {metrics['fit_seconds']:.2f} s, {metrics['epochs_run']} epochs "
                      f"(best {metrics['best_epoch']}); scaling {cfg.forecast.scaling!r}, "
                      "statistics from the training rows (or each window) only; early "
                      "stopping on the windows before the test part; run directory "
                      f"{result.run_dir}")
    report_path = (lab_report(result.run_dir, {"model": (result.forecaster, result.series)},
                              quick=quick)
                   if report else None)
    summary["report"] = str(report_path) if report_path else None
    return summary


_config = config  # ``run`` takes an argument named ``config``
