"""``rnnkit tune``: hyperparameter search with Optuna."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rnnkit.cli.app import app, console

__all__ = ["tune"]


@app.command()
def tune(
    config: Annotated[Path, typer.Argument(help="A TOML config (see examples/)")],
    trials: Annotated[int, typer.Option(help="Number of trials")] = 20,
    storage: Annotated[str | None, typer.Option(help="Optuna storage URL (default SQLite)")] = None,
    study: Annotated[str, typer.Option(help="Study name (share it between workers)")] = "rnnkit",
    timeout: Annotated[float | None, typer.Option(help="Stop after this many seconds")] = None,
    out: Annotated[Path, typer.Option(help="Where the SQLite study goes")] = Path("runs"),
) -> None:
    """Search hyperparameters with Optuna (pruning, resumable, shareable storage)."""
    from rnnkit.tasks.forecasting import ForecastConfig
    from rnnkit.training.tuning import tune as run_tune

    cfg = ForecastConfig.from_toml(config)
    result = run_tune(cfg, trials, storage=storage, study_name=study, timeout=timeout,
                      out_dir=out)
    table = Table(title=f"study {study!r}: best value {result.best_value:.5g}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for k, v in result.best_params.items():
        table.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(table)


