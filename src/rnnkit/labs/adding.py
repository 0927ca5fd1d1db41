"""Lab: the adding problem at T = 200, tanh RNN vs IRNN vs LSTM vs GRU.

Data: :func:`rnnkit.datasets.long_range.adding_problem` (10,000 training, 1,000 validation and
2,000 test sequences of 200 steps, seeded). The trivial baseline predicts 1 (MSE ≈ 0.167).

Models: one recurrent layer of 64 units and a linear head on the last step, for each cell of
:func:`rnnkit.labs._long_range.cell_spec`; Adam (lr 3e-3; 1e-4 for the IRNN, whose relu
recurrence overflows at 3e-3), gradient norm clipped at 1, at most ``training.time_budget_s``
seconds per cell, stopping early once the validation MSE is under ``training.stop_below``
(or when it diverges).

Bar: the LSTM and the GRU reach a test MSE < 0.01; the tanh RNN stays no better than 0.1
(it cannot carry the first marked value over ~100 steps).

Run directory: ``config.json``, ``history.json`` (one History per cell), ``metrics.json`` and
one bundle per cell in ``models/<cell>/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.bundle import save_bundle
from rnnkit.labs._common import lab_report, lab_run, setup_run, verdict, write_json
from rnnkit.labs._long_range import LongRangeConfig, cell_spec, compare_cells
from rnnkit.report.sample import capture_sample

__all__ = ["DEFAULTS", "QUICK", "run"]

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"length": 200, "train_size": 10_000, "val_size": 1_000, "test_size": 2_000},
    "model": {"cells": ["rnn", "irnn", "lstm", "gru"], "hidden_size": 64},
    "training": {"epochs": 30, "batch_size": 64, "lr": 3e-3, "irnn_lr": 1e-4, "clipnorm": 1.0,
                 "time_budget_s": 240.0, "stop_below": 1e-3, "seed": 0, "num_threads": None},
    "bar": {"max_gated_mse": 0.01, "min_tanh_mse": 0.1},
}

QUICK: dict[str, dict[str, Any]] = {
    "data": {"length": 20, "train_size": 256, "val_size": 64, "test_size": 128},
    "model": {"hidden_size": 8},
    "training": {"epochs": 2, "batch_size": 64, "time_budget_s": 10.0},
}

_NAMES = {"rnn": "tanh RNN", "irnn": "IRNN (relu, identity)", "lstm": "LSTM", "gru": "GRU"}


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train every cell on the adding problem, compare, write the run directory.

    Returns the metrics (also in ``metrics.json``): ``baseline_mse`` and per cell
    ``{"mse", "epochs", "steps", "seconds"}`` under ``"cells"``, and ``passed`` (the bar,
    judged on the cells that ran).
    """
    from rich.console import Console
    from rich.table import Table

    cfg, run_dir = setup_run(DEFAULTS, QUICK, config, quick=quick, seed=seed, name="adding",
                             out_dir=out_dir)
    with lab_run(run_dir, "adding", overwrite=overwrite) as work:
        data, model, training = cfg["data"], cfg["model"], cfg["training"]
        console = Console()
        lr_config = LongRangeConfig(
            task="adding", length=data["length"], cells=tuple(model["cells"]),
            hidden_size=model["hidden_size"], train_size=data["train_size"],
            val_size=data["val_size"], test_size=data["test_size"], epochs=training["epochs"],
            time_budget_s=training["time_budget_s"], stop_below=training["stop_below"],
            batch_size=training["batch_size"], lr=training["lr"], clipnorm=training["clipnorm"],
            cell_lr={"irnn": training["irnn_lr"]}, seed=training["seed"])
        console.print(f"adding problem, T = {lr_config.length}: training "
                      f"{', '.join(_NAMES[c] for c in lr_config.cells)}")
        out = compare_cells(lr_config)
        results = out["results"]
        cells = {name: {"mse": r["test_loss"], "epochs": r["epochs"], "steps": r["steps"],
                        "seconds": r["seconds"]} for name, r in results.items()}
        bar = cfg["bar"]
        checks = [cells[c]["mse"] < bar["max_gated_mse"] for c in ("lstm", "gru") if c in cells]
        if "rnn" in cells:
            checks.append(not cells["rnn"]["mse"] < bar["min_tanh_mse"])
        metrics: dict[str, Any] = {"length": lr_config.length, "baseline_mse": out["baseline"],
                                   "cells": cells, "passed": bool(checks) and all(checks)}

        table = Table(title=f"Adding problem, T = {lr_config.length} "
                            f"({lr_config.test_size:,} test sequences)")
        for col in ("model", "test MSE", "epochs", "seconds"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for name, c in cells.items():
            table.add_row(_NAMES[name], f"{c['mse']:.4f}", str(c["epochs"]), f"{c['seconds']:.0f}")
        table.add_row("predict 1 (baseline)", f"{out['baseline']:.4f}", "-", "-")
        console.print(table)
        console.print(f"bar {verdict(metrics['passed'], quick)}")

        write_json(work / "config.json", cfg)
        write_json(work / "history.json", {n: r["history"] for n, r in results.items()})
        write_json(work / "metrics.json", metrics)
        for name, r in results.items():
            save_bundle(work / "models" / name, task="long_range", model=r["model"],
                        config={"task": "adding", "cell": name,
                                "spec": cell_spec(name, lr_config.hidden_size).to_dict(),
                                "long_range": lr_config.to_dict()},
                        preprocessing={"input": "(value, marker) per step", "length": lr_config.length},
                        metrics=cells[name])
        x_test, y_test = lr_config.data(lr_config.test_size, lr_config.seed + 2)  # as scored
        probed = {name: (r["model"], capture_sample(
            r["model"], lambda net=r["model"]: net(x_test[:64]), color=y_test[:64, 0].numpy(),
            color_name="target (the marked sum)")) for name, r in results.items()}
        lab_report(work, probed=probed, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
