"""``rnnkit registry list | promote | rollback``: the versions of the models in a registry
(:class:`rnnkit.registry.Registry`) and its ``current`` pointer.

    rnnkit registry list [NAME] [--root registry]     every name, or every version of NAME
    rnnkit registry promote NAME VERSION              make VERSION (3 or v3) current
    rnnkit registry rollback NAME                     back to the version current before

An error (an unknown name or version, nothing to roll back to) is one line and exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnkit.cli.app import app, console

__all__ = ["list_versions", "promote", "registry_app", "rollback"]

registry_app = typer.Typer(name="registry", no_args_is_help=True, add_completion=False,
                           help="The model registry: list versions, promote, roll back.")
app.add_typer(registry_app, name="registry")

RootOption = Annotated[Path, typer.Option("--root", help="The registry directory")]


def _registry(root: Path) -> Any:
    from rnnkit.registry.store import Registry

    return Registry(root)


def _metric(metrics: dict[str, Any]) -> str:
    """``rmse 134.1`` from a version's test report, if it has one."""
    test = metrics.get("test") or {}
    report = test.get("evaluation", test) if isinstance(test, dict) else {}
    primary, model = report.get("primary"), report.get("model") or {}
    if primary is None and "rmse" in model:
        primary = "rmse"
    value = model.get(primary) if primary else None
    return f"{primary} {value:.4g}" if isinstance(value, (int, float)) else "-"


@registry_app.command("list")
def list_versions(
    name: Annotated[str | None, typer.Argument(help="A model's name (default: every name)")]
    = None,
    root: RootOption = Path("registry"),
) -> None:
    """List the registered models, or the versions of one with their lineage."""
    from rich.table import Table

    reg = _registry(root)
    if name is None:
        table = Table(title=f"{root}: {len(reg.names())} models", title_justify="left")
        for column in ("name", "current", "versions", "task"):
            table.add_column(column)
        for each in reg.names():
            versions = reg.versions(each)
            current = next((v for v in versions if v.current), None)
            table.add_row(each, current.label if current else "-", str(len(versions)),
                          versions[-1].task)
        console.print(table)
        return
    table = Table(title=f"{root}/{name}", title_justify="left")
    for column in ("version", "current", "parent", "metric", "data (sha256)", "created",
                   "retrain"):
        table.add_column(column)
    for v in reg.versions(name):
        decision = v.metrics.get("retrain") or {}
        table.add_row(v.label, "*" if v.current else "",
                      "-" if v.parent is None else f"v{v.parent}", _metric(v.metrics),
                      ", ".join(f"{file} ({sha[:8]})" for file, sha in v.data_sha256.items())
                      or "-", v.created[:16].replace("T", " "),
                      ("promoted" if decision.get("promoted") else "kept champion")
                      if decision else "-")
    console.print(table)


@registry_app.command()
def promote(
    name: Annotated[str, typer.Argument(help="A model's name")],
    version: Annotated[str, typer.Argument(help="The version to make current: 3 or v3")],
    root: RootOption = Path("registry"),
) -> None:
    """Make VERSION the current version of NAME (the previous one is kept for rollback)."""
    info = _registry(root).promote(name, version)
    console.print(f"{name}: current is {info.label} ({info.bundle})", markup=False,
                  highlight=False, soft_wrap=True)


@registry_app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="A model's name")],
    root: RootOption = Path("registry"),
) -> None:
    """Return NAME to the version that was current before the current one."""
    info = _registry(root).rollback(name)
    console.print(f"{name}: rolled back, current is {info.label} ({info.bundle})",
                  markup=False, highlight=False, soft_wrap=True)
