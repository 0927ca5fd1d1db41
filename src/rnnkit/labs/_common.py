"""Plumbing shared by the labs: configuration tables, run directories, JSON records and the
comparison table every lab prints.

Each lab keeps its configuration as plain tables (``DEFAULTS``, ``QUICK``); :func:`merge_config`
applies overrides table by table, :func:`run_directory` makes the run directory and
:func:`write_json` writes its records.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit._files import check_name, check_replaceable, write_marker
from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig

__all__ = ["comparison_table", "default_run_path", "merge_config", "run_directory",
           "training_config", "write_json"]


def merge_config(defaults: dict[str, Any], overrides: dict[str, Any] | None,
                 path: str = "config") -> dict[str, Any]:
    """``defaults`` updated table by table with ``overrides``; unknown keys raise a
    ConfigError naming the key and the known ones."""
    out = copy.deepcopy(defaults)
    for key, value in (overrides or {}).items():
        if key not in out:
            raise ConfigError(expected(f"{path} key", f"one of {sorted(out)}", key))
        if isinstance(out[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(expected(f"{path}.{key}", "a table (section)", value))
            out[key] = merge_config(out[key], value, f"{path}.{key}")
        else:
            out[key] = value
    return out


def default_run_path(name: str) -> Path:
    """``runs/NAME-YYYYmmdd-HHMMSS`` in the working directory (not created); ``name`` must be
    one directory name (no separators, no ``..``)."""
    check_name(name, "name")
    return Path("runs") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_directory(out_dir: str | Path | None, name: str, *, overwrite: bool = False) -> Path:
    """``out_dir``, or :func:`default_run_path` of ``name``: created and marked as the run of
    lab ``name``. An existing non-empty directory is refused unless ``overwrite``, and then
    replaced only if it is a run rnnkit wrote (it has the marker file), never a user's own."""
    path = Path(out_dir) if out_dir is not None else default_run_path(name)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        check_replaceable(path, overwrite=overwrite, expected_what="a new or empty directory")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    write_marker(path, f"lab {name}")
    return path


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON (anything JSON cannot hold written as ``str``)."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def setup_run(defaults: dict[str, Any], quick_changes: dict[str, Any],
              config: dict[str, Any] | None, *, quick: bool, seed: int | None, name: str,
              out_dir: str | Path | None, overwrite: bool = False
              ) -> tuple[dict[str, Any], Path]:
    """A lab's start: its configuration (``defaults``, then ``quick_changes`` if ``quick``,
    then the user's ``config``; ``seed`` replaces ``training.seed``), torch's intra-op thread
    count set from ``training.num_threads`` when given, and its new run directory."""
    cfg = merge_config(merge_config(defaults, quick_changes) if quick else defaults, config)
    if seed is not None:
        cfg["training"]["seed"] = seed
    if cfg["training"].get("num_threads"):
        torch.set_num_threads(int(cfg["training"]["num_threads"]))
    return cfg, run_directory(out_dir, name, overwrite=overwrite)


def training_config(section: dict[str, Any]) -> TrainerConfig:
    """The ``training`` table as a TrainerConfig (``num_threads`` is applied, not stored)."""
    fields = {k: v for k, v in section.items() if k != "num_threads"}
    if section.get("num_threads"):
        torch.set_num_threads(int(section["num_threads"]))
    return TrainerConfig.from_dict(fields)


def comparison_table(title: str, rows: dict[str, dict[str, Any]],
                     columns: Sequence[tuple[str, str, str]]) -> Any:
    """A rich Table: one row per model, one column per ``(header, key, format)``."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("model")
    for header, _, _ in columns:
        table.add_column(header, justify="right")
    for name, m in rows.items():
        cells = []
        for _, key, fmt in columns:
            v = m.get(key)
            ok = isinstance(v, (int, float)) and not (isinstance(v, float) and np.isnan(v))
            cells.append(format(v, fmt) if ok else "-")
        table.add_row(name, *cells)
    return table


def verdict(passed: bool | None, quick: bool) -> str:
    """How a lab reports its bar: a ``--quick`` run is a smoke test (tiny data, a few steps)
    whose numbers say nothing about the bar, so it says so instead of "NOT passed"."""
    if quick:
        return "not checked (--quick is a smoke test; the bar is for the full run)"
    return "passed" if passed else "NOT passed"
