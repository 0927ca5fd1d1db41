"""``rnnkit export RUN --format onnx --out model.onnx [--quantize int8] [--step]``: a trained
run's model as an ONNX graph with its preprocessing inside (:func:`rnnkit.export.export_onnx`),
and a JSON beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit._validation import expected
from rnnkit.cli.app import app, console
from rnnkit.cli.tasks import load_run
from rnnkit.errors import ConfigError

__all__ = ["FORMATS", "export"]

#: The formats ``--format`` accepts.
FORMATS = ("onnx",)


@app.command("export")
def export(
    run: Annotated[Path, typer.Argument(help="A run directory (or a model bundle)")],
    out: Annotated[Path, typer.Option("--out", help="The ONNX file to write (a JSON with "
                                      "the same name goes beside it)")],
    format: Annotated[str, typer.Option("--format", help="The format: onnx")] = "onnx",
    quantize: Annotated[str | None, typer.Option(
        "--quantize", help="int8: dynamic quantization of the weights (the accuracy change "
        "is printed)")] = None,
    step: Annotated[bool, typer.Option("--step", help="Write the one-step streaming graph "
                                       "(state in, state out)")] = False,
) -> None:
    """Export a forecaster, classifier or tagger to ONNX, with its preprocessing inside.

    Raw values in, outputs in original units out (scaling and its inverse in the graph).
    """
    from rnnkit.export import export_onnx

    if format not in FORMATS:
        raise ConfigError(expected("--format", f"one of {list(FORMATS)}", format))
    if out.resolve().is_relative_to(run.resolve()):
        raise ConfigError(expected("--out", "a path outside the run directory", str(out),
                                   "the run's own files are never overwritten"))
    task = load_run(run)
    result = export_onnx(task, out, quantize=quantize, step=step)
    console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
