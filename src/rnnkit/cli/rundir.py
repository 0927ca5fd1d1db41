"""Run directories written whole or not at all.

A run is built in a hidden temporary sibling (``.NAME.partial-XXXX``) and renamed into place
only when complete, so an interrupted ``rnnkit train`` never leaves a half-written run. One
process writes a run at a time: the lock file ``.NAME.lock`` beside it is held meanwhile. Every
run directory carries a marker file (:data:`MARKER`): rnnkit replaces (``--overwrite``) only a
directory that has it, never a user's own folder or file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnnkit._files import (
    MARKER,
    is_run,
    writing_run,
)

__all__ = ["MARKER", "is_run", "run_directory", "write_json"]

def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def run_directory(out: Path, *, overwrite: bool = False, task: str = "") -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` when the block completes
    (:func:`rnnkit._files.writing_run`).

    Raises:
        ConfigError: ``out`` is taken and ``overwrite`` is False, or it is not an rnnkit run
            (a user's file or folder is never replaced), or its name is not one (empty, ``.``
            or with ``..``), or another process is writing ``out`` (its lock file
            ``.NAME.lock`` names it).
    """
    with writing_run(Path(out), overwrite=overwrite, task=task,
                     free="a path that does not exist yet (or an empty directory)") as work:
        yield work
