"""The example configs shipped with rnnkit, and the small real data files they read.

Task configs (a ``task = "..."`` key) train with ``rnnkit train FILE``; the others are
overrides of a lab (``rnnkit lab NAME --config FILE``). ``rnnkit examples NAME --to DIR``
copies one, with the data files it names, into a folder of yours::

    >>> sorted(examples())[:3]
    ['adding', 'airline', 'basicmotions']
    >>> example_path("classification").name
    'classification.toml'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = ["Example", "example_path", "examples"]

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Example:
    """One shipped config: its file, its first comment line, how to run it, its data files."""

    name: str
    path: Path
    description: str
    command: str
    data_files: tuple[Path, ...]


def _example(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    comments = [line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")]
    description = comments[0] if comments else ""
    if re.search(r"^task\s*=", text, flags=re.MULTILINE):
        command = f"rnnkit train {path.name}"
    else:
        lab = re.search(r"rnnkit lab (\w+)", text)
        command = f"rnnkit lab {lab.group(1) if lab else path.stem} --config {path.name}"
    data = tuple(sorted(f for f in (FOLDER / "data").glob("*") if f"data/{f.name}" in text))
    return Example(path.stem, path, description, command, data)


def examples() -> dict[str, Example]:
    """Every shipped example config by name."""
    return {p.stem: _example(p) for p in sorted(FOLDER.glob("*.toml"))}


def example_path(name: str) -> Path:
    """The path of the shipped example ``name`` (e.g. ``"co2"``)."""
    found = examples()
    if name not in found:
        raise ConfigError(expected("example", f"one of {sorted(found)}", name))
    return found[name].path
