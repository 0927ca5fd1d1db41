"""Writing directories whole: the one place where rnnkit moves a finished directory into place.

Bundles, run directories and lab outputs are built under a temporary sibling name and moved to
their final path only when complete (:func:`replace_directory`), so a reader never sees a
half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError

__all__ = ["MARKER", "check_name", "check_replaceable", "check_run_path", "is_run",
           "replace_directory", "write_marker"]

#: The file that marks a directory as a run rnnkit wrote: rnnkit replaces only such a one.
MARKER = "rnnkit-run.json"


def is_run(path: Path) -> bool:
    """Whether ``path`` is a run directory rnnkit wrote (it has the marker file)."""
    return path.is_dir() and (path / MARKER).is_file()


def check_name(name: object, option: str, fix: str | None = None) -> str:
    """``name`` if it can name one directory entry: a non-empty string without path separators
    or ``..`` (so ``runs/NAME-TIME`` stays inside ``runs/``); else a ConfigError naming
    ``option``."""
    seps = {"/", "\\", os.sep, os.altsep or "/"}
    if (not isinstance(name, str) or not name.strip() or name == "." or ".." in name
            or "\0" in name or any(sep in name for sep in seps)):
        raise ConfigError(expected(option, "a name without path separators or '..' (not empty)",
                                   name, fix))
    return name


def check_run_path(path: Path, option: str) -> Path:
    """``path`` if its last part can name a run directory (:func:`check_name`): not ``.``,
    ``..``, a root or a name with ``..``; else a ConfigError naming ``option``."""
    path = Path(path)
    name = path.name
    if not name or name == "." or ".." in name or "\0" in name:
        raise ConfigError(expected(option, "a directory path ending in a name without '..'",
                                   str(path), "name the run directory itself, e.g. runs/NAME"))
    return path


def check_replaceable(path: Path, *, overwrite: bool, expected_what: str,
                      option: str = "--out") -> None:
    """Refuse a run's output ``path`` that is taken: without ``overwrite`` always, and with it
    unless it is a run rnnkit wrote (it has :data:`MARKER`), so a user's own file or folder is
    never replaced. ``expected_what`` says what a free ``path`` is ("a path that does not
    exist yet")."""
    if not overwrite:
        raise ConfigError(expected(option, expected_what, str(path),
                                   "choose another, or pass --overwrite (overwrite=True in "
                                   "Python) to replace an earlier run"))
    if not is_run(path):
        raise ConfigError(expected(option, "an rnnkit run directory to overwrite",
                                   Described(f"{str(path)!r}, which rnnkit did not write"),
                                   f"it has no {MARKER}; choose another path"))


def write_marker(folder: Path, task: str) -> None:
    """Mark ``folder`` as a run of ``task`` written by rnnkit."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    (folder / MARKER).write_text(json.dumps({"task": task, "created": stamp}) + "\n",
                                 encoding="utf-8")


def replace_directory(work: Path, final: Path) -> None:
    """Move the finished directory ``work`` to ``final``, replacing what is there.

    An existing ``final`` is first moved aside into a hidden sibling, then ``work`` takes its
    place, then the old one is deleted; if the second move fails, the old one is put back.
    ``work`` and ``final`` must be on the same file system (siblings are).
    """
    if not final.exists():
        os.replace(work, final)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
    os.replace(final, aside / final.name)
    try:
        os.replace(work, final)
    except BaseException:
        os.replace(aside / final.name, final)  # put the previous one back
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
