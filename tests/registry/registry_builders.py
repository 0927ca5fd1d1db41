"""Shared by the registry and retrain tests: the Nile volumes (a real series shipped with
rnnkit) cut into an "old" file (1871-1940) and a "new" one (1871-1970), and tiny forecasters
and run directories trained on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rnnkit.examples import example_path
from rnnkit.tasks import Forecaster

NILE = example_path("forecasting").parent / "data" / "nile.csv"


def nile_files(folder: Path) -> tuple[Path, Path]:
    """``(old.csv, new.csv)``: the first 70 years, and all 100."""
    frame = pd.read_csv(NILE)
    folder.mkdir(parents=True, exist_ok=True)
    old, new = folder / "old.csv", folder / "new.csv"
    frame.iloc[:70].to_csv(old, index=False)
    frame.to_csv(new, index=False)
    return old, new


def tiny_forecaster(data: Path, epochs: int = 2) -> Forecaster:
    """An unfitted tiny Nile forecaster (hidden 8, ``epochs`` epochs) reading ``data``."""
    return Forecaster.from_toml(example_path("forecasting"), {
        "data": {"path": str(data)}, "model": {"hidden_size": 8},
        "training": {"epochs": epochs, "progress": "off"}})


def nile_run(folder: Path, data: Path) -> Path:
    """A run directory (``rnnkit.cli.tasks.run_task``: model/, report.json, the marker) of a
    tiny forecaster trained on ``data``; its config's name is ``nile-csv``."""
    from rnnkit.cli.tasks import run_task

    out = folder / "run"
    run_task(tiny_forecaster(data), out)
    return out
