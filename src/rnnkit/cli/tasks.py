"""``rnnkit train``, ``evaluate`` and ``predict``: every task, on the user's own files.

A config names its task (``task = "classification"``; forecasting when absent) and points at
the data (``[data] path = ...``); the task reads it (:meth:`~rnnkit.tasks.base.Task.read_data`),
holds out its test part (:meth:`~rnnkit.tasks.base.Task.split`), fits, evaluates against its
baselines and is saved with its preprocessing into one run directory::

    RUN/
      model/           the bundle (rnnkit.tasks.load(RUN / "model") loads it)
      config.toml      the config as run (with the --set overrides)
      report.json      the test report: the model and every baseline
      history.json     one row per epoch
      rnnkit-run.json  the marker that makes RUN rnnkit's own (see rnnkit.cli.rundir)

Forecasting runs keep their richer directory (checkpoints, resume, plots; see
:func:`rnnkit.tasks.forecasting.experiment.run_experiment`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnkit._files import check_name
from rnnkit._validation import expected
from rnnkit.cli.app import app, console, err_console, parse_sets
from rnnkit.cli.rundir import run_directory, write_json
from rnnkit.errors import ConfigError, RnnkitError

if TYPE_CHECKING:
    from rnnkit.tasks.base import Report, Task

__all__ = ["config_overrides", "evaluate", "load_run", "predict", "print_report", "run_task", "train"]

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a config key: section.key=value (repeatable)")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output")]


def config_overrides(set_: list[str] | None, quiet: bool) -> dict[str, Any]:
    """The ``--set`` overrides, with ``training.progress = \"off\"`` under ``--quiet``."""
    overrides = parse_sets(set_)
    if quiet:
        overrides = parse_sets(["training.progress=\"off\""], overrides)
    return overrides


def print_report(report: Report, title: str | None = None) -> None:
    """The report as a rich table, with the one-line summary as its title."""
    table = report.__rich__()
    if title:
        table.title = f"{title}\n{table.title}"
    console.print(table)


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="A task's TOML config (rnnkit examples lists some)")],
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME-TIME)")] = None,
    resume: Annotated[bool, typer.Option(help="Forecasting: continue the interrupted run of "
                                         "--out from its last checkpoint")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier rnnkit run at --out")] = False,
    set_: SetOption = None,
    quiet: QuietOption = False,
    report: Annotated[bool, typer.Option(
        help="Write RUN/report.html with the model diagnostics (rnnkit report RUN draws it "
             "later)")] = True,
) -> None:
    """Train any task from a TOML config on its data; write a run directory."""
    from rnnkit.tasks.registry import task_from_toml

    task = task_from_toml(config, config_overrides(set_, quiet))
    if out is None:
        if resume:
            raise ConfigError(expected("--out", "the run directory to resume", None,
                                       "pass --out RUN naming the interrupted run"))
        name = task.config.name or config.stem
        check_name(name, "name", "rename the run in the config (name = \"...\" or --set "
                   "name=...), or pass --out RUN")
        out = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if task.name == "forecasting":
        from rnnkit.tasks.forecasting.experiment import run_experiment

        result = run_experiment(task.config, out, resume=resume, overwrite=overwrite)
        console.print(result.table())
        console.print(f"run directory: [bold]{result.run_dir}[/bold]")
        if report:
            _report(result.run_dir, result.forecaster, result.series)
        return
    if resume:
        raise ConfigError(expected("--resume", f"a forecasting run (task {task.name!r} "
                                   "trains in one go)", True))
    result, test_data = run_task(task, out, overwrite=overwrite)
    print_report(result, title=f"{task.config.name or config.stem}: test part")
    console.print(f"run directory: [bold]{out}[/bold]")
    if report:
        _report(out, task, test_data)


def _report(run: Path, task: Task, data: Any) -> None:
    """Probe the trained network on held-out data and write RUN/report.html (the run is
    complete already: a report that fails is a warning, never a lost run)."""
    from rnnkit.report import write_report
    from rnnkit.report.probe import probe_task

    try:
        sample = probe_task(task, data)
        path = write_report(run, samples={"model": sample}, models={"model": task.model_})
    except (RnnkitError, OSError, RuntimeError, ValueError) as err:
        err_console.print(f"[yellow]report not written: {err}[/yellow] "
                          f"(rnnkit report {run} retries)")
        return
    console.print(f"report: [bold]{path}[/bold]")


def run_task(task: Task, out: Path, *, overwrite: bool = False) -> tuple[Report, Any]:
    """Read, split, fit, evaluate and save ``task`` into the run directory ``out``; returns
    the test report and the test part."""
    data = task.read_data()
    fit_data, test_data = task.split(data)
    with run_directory(out, overwrite=overwrite, task=task.name) as work:
        (work / "config.toml").write_text(task.config.to_toml(), encoding="utf-8")
        task.fit(fit_data)
        report = task.evaluate(test_data)
        task.save(work / "model")
        write_json(work / "report.json", report.to_dict())
        task.history_.to_json(work / "history.json")
    return report, test_data


def load_run(run: Path) -> Task:
    """The task saved in a run directory (its ``model/``) or a bundle directory."""
    from rnnkit.tasks.registry import load

    if not run.exists():
        raise ConfigError(expected("RUN", "a run directory or a model bundle", str(run)))
    return load(run / "model" if (run / "model").is_dir() else run)


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    input: Annotated[Path | None, typer.Option(
        "--input", help="Labelled data to score (default: the test part of the run's data)")] = None,
    part: Annotated[str, typer.Option(help="Forecasting: train, val or test")] = "test",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report "
                                                  "as JSON here")] = None,
) -> None:
    """Score a trained model against its baselines on labelled data."""
    task = load_run(run)
    if task.name == "forecasting":
        report = task.evaluate(task.read_data(input), part=part)
    elif input is not None:
        report = task.evaluate(task.read_data(input))
    else:
        report = task.evaluate(task.split(task.read_data())[1])
    print_report(report, title=f"{run}: {input or 'test part'}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json(json_out, report.to_dict())


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    input: Annotated[Path, typer.Option("--input", help="The inputs, in the task's file format")],
    output: Annotated[Path | None, typer.Option(
        help="Write the predictions here: .csv or .parquet, scored in chunks (without it "
             "they are printed)")] = None,
    horizon: Annotated[int | None, typer.Option(help="Forecasting: steps ahead "
                                                "(default: the model's)")] = None,
    chunk_rows: Annotated[int | None, typer.Option(
        "--chunk-rows", min=1, help="With --output: inputs per chunk (texts, series rows, "
        "sentences, prompts, sources; default 10000)")] = None,
    quiet: QuietOption = False,
) -> None:
    """Predict for new inputs: forecast rows, labels, tags, translations or generated text.

    With --output the input is scored in chunks (a file larger than memory), with a progress
    bar on stderr; the file equals what the Python API's predict_frame gives for it.
    """
    from rnnkit.tasks.scoring import DEFAULT_CHUNK_ROWS, output_format, score_file

    if output is not None and output.resolve().is_relative_to(run.resolve()):
        raise ConfigError(expected("--output", "a path outside the run directory", str(output),
                                   "the run's own files are never overwritten"))
    if output is not None:
        output_format(output)
    task = load_run(run)
    if horizon is not None and task.name != "forecasting":
        raise ConfigError(expected("--horizon", f"unset for a {task.name} model", horizon))
    if output is not None:
        summary = score_file(task, input, output, horizon=horizon,
                             chunk_rows=DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows,
                             progress=False if quiet else None)
        if not quiet:
            console.print(f"predictions written to [bold]{output}[/bold] ({summary.rows} rows "
                          f"from {summary.inputs} inputs, {summary.chunks} chunks, "
                          f"{summary.seconds:.1f} s)")
        return
    data = task.read_data(input, labelled=False)
    if task.name == "forecasting":
        frame = task.predict(data, horizon=horizon)
    else:
        frame = task.predict_frame(data)
    console.print(frame.to_string())
