"""The typer app, its consoles and what every command shares: ``--set`` overrides and TOML
files of overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import typer
from rich.console import Console

from rnnkit.errors import ConfigError

__all__ = ["app", "console", "err_console", "parse_sets", "read_toml"]

app = typer.Typer(
    name="rnnkit", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Recurrent neural networks for sequential data: train, evaluate, predict, tune.",
)
console = Console()
err_console = Console(stderr=True)


def parse_sets(items: list[str] | None, base: dict | None = None) -> dict:
    """``--set a.b=1`` -> ``{"a": {"b": 1}}`` merged into ``base``; values are parsed as
    TOML scalars (``5``, ``true``, ``"x"``, ``[1, 2]``), anything else is kept as a string."""
    from rnnkit.config import merge_dicts  # pydantic and NumPy: not for --help

    out: dict = dict(base or {})
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set: expected KEY=VALUE (e.g. training.epochs=5), got {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node: dict = {}
        leaf_parent = node
        *parents, leaf = key.strip().split(".")
        for p in parents:
            leaf_parent = leaf_parent.setdefault(p, {})
        leaf_parent[leaf] = value
        out = merge_dicts(out, node)
    return out


def read_toml(path: Path, option: str = "--config") -> dict:
    """A TOML file given by ``option`` as a dict (see :func:`rnnkit.config.read_toml_file`)."""
    from rnnkit.config import read_toml_file

    return read_toml_file(path, option)
