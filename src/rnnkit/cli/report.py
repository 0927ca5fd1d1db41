"""``rnnkit report RUN``: write (or redraw) the run's self-contained ``report.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit._validation import expected
from rnnkit.cli.app import app, console
from rnnkit.errors import ConfigError

__all__ = ["report"]


@app.command("report")
def report(
    run: Annotated[Path, typer.Argument(help="A run directory (rnnkit train or rnnkit lab)")],
    diagnostics: Annotated[bool, typer.Option(
        help="Draw the model diagnostics (gradient flow, weights, hidden states, "
             "sensitivity) on the run's probe sample")] = True,
    tsne_points: Annotated[int, typer.Option(
        help="t-SNE projects at most this many hidden states (a random sample)")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of t-SNE and of the fresh "
                                           "initialization compared with")] = 0,
) -> None:
    """Write RUN/report.html: config, curves, metrics against baselines, plots, diagnostics."""
    if tsne_points < 2:
        raise ConfigError(expected("--tsne-points", "an integer >= 2", tsne_points))
    if not run.is_dir():
        raise ConfigError(expected("RUN", "a run directory", str(run),
                                   "pass the folder rnnkit train or rnnkit lab wrote"))
    from rnnkit.report import Limits, write_report  # torch: only once the arguments are good

    path = write_report(run, diagnostics=diagnostics, seed=seed,
                        limits=Limits(tsne_points=tsne_points))
    console.print(f"report: [bold]{path}[/bold]")
