"""``rnnkit monitor RUN --data NEW.csv [--json REPORT.json] [--set thresholds.psi=0.3]``: new
data against the reference profile of a trained run (:func:`rnnkit.monitoring.drift.
detect_drift`). Prints the table, writes the JSON report atomically, and exits 0 (no drift) or
3 (drift), so a scheduler can act on it; 2 stays for errors (a run without a profile, a bad
threshold)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit._validation import Described, expected
from rnnkit.cli.app import app, console, parse_sets
from rnnkit.cli.rundir import write_json
from rnnkit.cli.tasks import load_run
from rnnkit.errors import ConfigError

__all__ = ["DRIFT_EXIT", "monitor"]

#: the exit status of ``rnnkit monitor`` when drift is found
DRIFT_EXIT = 3


@app.command("monitor")
def monitor(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    data: Annotated[Path, typer.Option("--data", help="New inputs, in the task's file format")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON "
                                                  "here (top-level \"drift\": true/false)")
                        ] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="A threshold: thresholds.psi=0.3, thresholds.ks_alpha=0.001, ...")] = None,
) -> None:
    """Test new data for drift against the training profile (exit 0: none; 3: drift).

    Per-feature PSI and KS, window statistics, prediction drift, text length and OOV rate.
    """
    overrides = parse_sets(set_)
    unknown = sorted(set(overrides) - {"thresholds"})
    if unknown:
        raise ConfigError(expected("--set", "thresholds.NAME=VALUE", Described(unknown[0]),
                                   "e.g. --set thresholds.psi=0.3"))
    if not isinstance(overrides.get("thresholds", {}), dict):
        raise ConfigError(expected("--set", "thresholds.NAME=VALUE", Described("thresholds"),
                                   "e.g. --set thresholds.psi=0.3"))
    if json_out is not None and json_out.resolve().is_relative_to(run.resolve()):
        raise ConfigError(expected("--json", "a path outside the run directory", str(json_out),
                                   "the run's own files are never overwritten"))
    task = load_run(run)
    from rnnkit.monitoring.drift import detect_drift
    from rnnkit.monitoring.profile import profile_of

    if profile_of(task) is None:
        raise ConfigError(expected("RUN", "a model saved with a reference profile",
                                   Described(f"{str(run)!r}, saved before profiles existed"),
                                   "retrain it (rnnkit train) or fit and save it again"))
    report = detect_drift(task, task.read_data(data, labelled=False),
                          thresholds=overrides.get("thresholds"))
    console.print(report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json(json_out, report.to_dict())
    if report.drift:
        raise typer.Exit(DRIFT_EXIT)
