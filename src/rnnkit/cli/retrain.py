"""``rnnkit retrain RUN_OR_NAME --data NEW.csv``: train a challenger on new data against the
registry's champion and promote it only if it is better by ``--margin``
(:func:`rnnkit.registry.retrain`).

RUN_OR_NAME is a registered name (its current version is the champion) or a run directory
(registered first as v1 of ``--name``, default its config's name). The challenger is registered
either way, as the next version with the champion as its parent; the table compares both with
the baselines on the same holdout, and its title says why the challenger was promoted or not.
Exit status 0 either way: keeping the champion is not an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.app import app, console
from rnnkit.cli.rundir import write_json
from rnnkit.cli.tasks import QuietOption, config_overrides

__all__ = ["retrain"]


@app.command("retrain")
def retrain(
    run_or_name: Annotated[str, typer.Argument(
        metavar="RUN_OR_NAME", help="A registered name, or a run directory to register")],
    data: Annotated[Path, typer.Option("--data", help="The new data, in the task's format")],
    registry: Annotated[Path, typer.Option("--registry", help="The registry directory")]
    = Path("registry"),
    name: Annotated[str | None, typer.Option(
        "--name", help="A run's name in the registry (default: its config's name)")] = None,
    warm: Annotated[bool, typer.Option(
        "--warm-start/--scratch", help="Start from the champion's weights, or from scratch")]
    = True,
    margin: Annotated[float, typer.Option(
        "--margin", help="The relative improvement needed to promote (0.01: 1% better)")]
    = 0.01,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write the decision and both reports as JSON here")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Change the challenger's config: section.key=value, e.g. "
        "training.epochs=50 (repeatable; the network's shape must stay for a warm start)")]
    = None,
    quiet: QuietOption = False,
) -> None:
    """Retrain on new data; promote the challenger only if it beats the champion."""
    from rnnkit.registry.challenger import retrain as run_retrain

    result = run_retrain(registry, run_or_name, data, name=name, warm=warm, margin=margin,
                         overrides=config_overrides(set_, quiet))
    if result.registered_run:
        console.print(f"registered {run_or_name} as {result.name} {result.champion.label}",
                      markup=False, highlight=False, soft_wrap=True)
    console.print(result)
    current = "current" if result.promoted else f"current stays {result.champion.label}"
    console.print(f"{result.name}: registered {result.challenger.label} "
                  f"({result.challenger.path}); {current}", markup=False, highlight=False,
                  soft_wrap=True)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json(json_out, result.to_dict())
