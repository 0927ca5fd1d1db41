"""``rnnkit tune``: hyperparameter search with Optuna, for any task."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rnnkit.cli.app import app, console, read_toml
from rnnkit.cli.tasks import QuietOption, SetOption, config_overrides

__all__ = ["tune"]


@app.command()
def tune(
    config: Annotated[Path, typer.Argument(help="A task's TOML config")],
    trials: Annotated[int, typer.Option(help="Number of trials")] = 20,
    storage: Annotated[str | None, typer.Option(help="Optuna storage URL (default: SQLite "
                                                "in --out; share it between workers)")] = None,
    study: Annotated[str, typer.Option(help="Study name (share it between workers)")] = "rnnkit",
    timeout: Annotated[float | None, typer.Option(help="Stop after this many seconds")] = None,
    out: Annotated[Path, typer.Option(help="Where the SQLite study and the best config go")] = Path("runs"),
    space: Annotated[Path | None, typer.Option(help="A TOML file with a [space] table of "
                                               "dotted keys (default: the task's own)")] = None,
    set_: SetOption = None,
    quiet: QuietOption = True,
) -> None:
    """Search hyperparameters with Optuna; write the best config as TOML.

    Trials are pruned, resumable and share a study through Optuna's storage.
    """
    from rnnkit.tasks.registry import task_from_toml
    from rnnkit.tasks.tuning import tune as run_tune

    task = task_from_toml(config, config_overrides(set_, quiet))
    table = read_toml(space, "--space").get("space") if space is not None else None
    result = run_tune(task.config, trials, storage=storage, study_name=study,
                      timeout=timeout, out_dir=out, space=table)
    best = Table(title=f"study {study!r} ({result.trials} trials): best validation "
                       f"{result.metric} {result.best_value:.5g}")
    best.add_column("parameter")
    best.add_column("value", justify="right")
    for k, v in result.best_params.items():
        best.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(best)
    console.print(f"best config: [bold]{result.best_config_path}[/bold] "
                  f"(rnnkit train {result.best_config_path})")
