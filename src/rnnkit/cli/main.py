"""The ``rnnkit`` command: labs, training any task from a TOML config, evaluation,
prediction, tuning; serving, export, monitoring, the model registry and retraining.

Every rnnkit error is shown as one line (no traceback) and exits with status 2; set
``RNNKIT_DEBUG=1`` (or pass ``--debug``) to see the traceback. The commands live in
:mod:`rnnkit.cli.tasks` (train, evaluate, predict), :mod:`rnnkit.cli.tune` and
:mod:`rnnkit.cli.labs` (lab, datasets, examples), :mod:`rnnkit.cli.serve`,
:mod:`rnnkit.cli.export`, :mod:`rnnkit.cli.monitor`, :mod:`rnnkit.cli.registry` (list, promote,
rollback) and :mod:`rnnkit.cli.retrain`; :mod:`rnnkit.cli.app` holds the app.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from rnnkit import __version__
from rnnkit.cli import (  # noqa: F401  (they register their commands)
    export,
    labs,
    monitor,
    registry,
    report,
    retrain,
    serve,
    tasks,
    tune,
)
from rnnkit.cli.app import app, err_console
from rnnkit.errors import RnnkitError

__all__ = ["app", "main"]


def _print_version(value: bool) -> None:
    if value:
        print(f"rnnkit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print rnnkit's version and exit")] = False,
) -> None:
    """Recurrent neural networks for sequential data: train, evaluate, predict, tune."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app. An rnnkit error or a usage error (unknown command or option,
    a missing argument, a bad value) is one line on stderr and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("RNNKIT_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"] or ["--help"]  # bare `rnnkit`: the help
    try:
        code = app(args, prog_name="rnnkit", standalone_mode=False)
    except RnnkitError as err:
        if debug:
            raise
        _fail(str(err), 2)
    except typer.TyperException as err:  # typer's own click: usage errors and the like
        if debug:
            raise
        _fail(_usage_line(err), int(getattr(err, "exit_code", 2)))
    except (KeyboardInterrupt, typer.Abort):
        err_console.print("interrupted", highlight=False)
        raise SystemExit(130) from None
    if isinstance(code, int) and code:  # typer.Exit(code) from a command
        raise SystemExit(code)


def _usage_line(err: Exception) -> str:
    """``rnnkit train: Missing argument 'config'. (rnnkit train --help)``: one line."""
    message = err.format_message() if hasattr(err, "format_message") else str(err)
    ctx = getattr(err, "ctx", None)
    where = ctx.command_path if ctx is not None else "rnnkit"
    return f"{where}: {message} (see {where} --help)"


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code) from None


if __name__ == "__main__":
    main()
