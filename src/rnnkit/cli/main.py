"""The ``rnnkit`` command: labs, training any task from a TOML config, evaluation,
prediction, tuning.

Every rnnkit error is shown as one line (no traceback) and exits with status 2; set
``RNNKIT_DEBUG=1`` (or pass ``--debug``) to see the traceback. The commands live in
:mod:`rnnkit.cli.tasks` (train, evaluate, predict), :mod:`rnnkit.cli.tune` and
:mod:`rnnkit.cli.labs` (lab, datasets, examples); :mod:`rnnkit.cli.app` holds the app.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from rnnkit import __version__
from rnnkit.cli import labs, tasks, tune  # noqa: F401  (they register their commands)
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
    """Entry point: run the app, turning rnnkit errors into one line and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("RNNKIT_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"] or ["--help"]  # bare `rnnkit`: the help
    try:
        app(args, prog_name="rnnkit", standalone_mode=True)
    except SystemExit as stop:  # click ends every command with one; 0 is success
        if stop.code not in (0, None):
            raise
    except RnnkitError as err:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/bold red] {err}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
