"""Plumbing shared by the labs: configuration tables, run directories, JSON records and the
comparison table every lab prints.

Each lab keeps its configuration as plain tables (``DEFAULTS``, ``QUICK``); :func:`merge_config`
applies overrides table by table, :func:`lab_run` gives the lab a temporary directory that
becomes its run directory only when the lab completes, and :func:`write_json` writes its records.

A lab's run directory is written whole or not at all, as ``rnnkit train`` writes its own: the
lab writes into a hidden sibling (``.NAME.partial-XXXXXXXX``) that is renamed into place when it
finishes; a lab that fails or is interrupted leaves no partial directory, and an earlier run at
the same path is left as it was. One process writes a path at a time: the lock file
``.NAME.lock`` beside it is held for the whole run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit._files import (
    check_name,
    check_run_path,
    writing_run,
)
from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig

__all__ = ["comparison_table", "default_run_path", "lab_report", "lab_run", "merge_config", "run_directory",
           "run_path", "setup_run", "training_config", "write_json"]


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


def run_path(out_dir: str | Path | None, name: str) -> Path:
    """The run directory a lab ``name`` writes: ``out_dir``, or :func:`default_run_path` of
    ``name``. Nothing is created; a path whose last part cannot name a directory (``.``,
    ``..``, a root) is a ConfigError naming ``--out``."""
    path = Path(out_dir) if out_dir is not None else default_run_path(name)
    return check_run_path(path, "--out")


@contextmanager
def lab_run(out_dir: str | Path, name: str, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes the run directory ``out_dir`` of lab ``name``
    when the block completes.

    The lock ``.NAME.lock`` beside ``out_dir`` is held for the whole block (one writer per run
    directory). The block writes into a hidden sibling ``.NAME.partial-XXXXXXXX``; on success
    it gets the marker file and replaces ``out_dir``. If the block raises (or is interrupted),
    the sibling is removed and whatever was at ``out_dir`` is left untouched.

    Example:
        >>> with lab_run(final, "adding") as work:  # doctest: +SKIP
        ...     write_json(work / "metrics.json", metrics)

    Raises:
        ConfigError: ``out_dir`` is taken (a file, or a non-empty directory) and ``overwrite``
            is False, or it is taken by something rnnkit did not write (a user's own folder is
            never replaced), or its name cannot name a directory, or another process is
            writing it (the message names the lock file and its pid).
    """
    with writing_run(Path(out_dir), overwrite=overwrite, task=f"lab {name}") as work:
        yield work


def run_directory(out_dir: str | Path | None, name: str, *, overwrite: bool = False) -> Path:
    """An empty run directory of lab ``name``, made whole through :func:`lab_run`: ``out_dir``,
    or :func:`default_run_path` of ``name``, marked as that lab's run. An existing non-empty
    directory is refused unless ``overwrite``, and then replaced only if it is a run rnnkit
    wrote (it has the marker file), never a user's own. Labs write through :func:`lab_run`."""
    final = run_path(out_dir, name)
    with lab_run(final, name, overwrite=overwrite):
        pass
    return final


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON (anything JSON cannot hold written as ``str``)."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def setup_run(defaults: dict[str, Any], quick_changes: dict[str, Any],
              config: dict[str, Any] | None, *, quick: bool, seed: int | None, name: str,
              out_dir: str | Path | None) -> tuple[dict[str, Any], Path]:
    """A lab's start: its configuration (``defaults``, then ``quick_changes`` if ``quick``,
    then the user's ``config``; ``seed`` replaces ``training.seed``), torch's intra-op thread
    count set from ``training.num_threads`` when given, and the path of its run directory
    (:func:`run_path`; not created: the lab writes it through :func:`lab_run`)."""
    cfg = merge_config(merge_config(defaults, quick_changes) if quick else defaults, config)
    if seed is not None:
        cfg["training"]["seed"] = seed
    if cfg["training"].get("num_threads"):
        torch.set_num_threads(int(cfg["training"]["num_threads"]))
    return cfg, run_path(out_dir, name)


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


def lab_report(run: Path, trained: dict[str, tuple[Any, Any]] | None = None, *,
               probed: dict[str, tuple[Any, Any]] | None = None, final: Path | None = None,
               quick: bool = False) -> Path | None:
    """Write ``report.html`` into ``run`` (:func:`rnnkit.report.write_report`).

    Args:
        run: the lab's (working) run directory.
        trained: model name -> ``(task, held-out data)``: each task is probed on its data
            (:func:`rnnkit.report.probe.probe_task`).
        probed: model name -> ``(network, Sample)`` for networks that are not tasks.
        final: the run directory ``run`` becomes when the lab completes (its name titles the
            page, and its path is printed); default ``run`` itself.
        quick: a ``--quick`` lab: the heavy diagnostics on smaller bounds (t-SNE on 100
            states, 250 iterations; sensitivity on 4 sequences).

    A report that cannot be drawn is logged, never the end of a finished lab.
    """
    import logging

    from rnnkit.errors import RnnkitError
    from rnnkit.report import Limits, write_report
    from rnnkit.report.probe import probe_task

    try:
        samples = {key: probe_task(task, data) for key, (task, data) in (trained or {}).items()}
        models = {key: task.model_ for key, (task, _) in (trained or {}).items()}
        for key, (network, sample) in (probed or {}).items():
            models[key], samples[key] = network, sample
        limits = Limits(tsne_points=100, tsne_iter=250, sensitivity_examples=4,
                        ig_steps=8) if quick else None
        path = write_report(run, samples=samples, models=models, limits=limits,
                            name=None if final is None else Path(final).name)
    except (RnnkitError, OSError, RuntimeError, ValueError) as err:
        logging.getLogger(__name__).warning("report not written: %s (rnnkit report %s "
                                            "retries)", err, run)
        return None
    from rich.console import Console

    # the page lands in the run directory once the lab completes
    Console().print(f"report: {Path(final) / path.name if final is not None else path}")
    return path


def verdict(passed: bool | None, quick: bool) -> str:
    """How a lab reports its bar: a ``--quick`` run is a smoke test (tiny data, a few steps)
    whose numbers say nothing about the bar, so it says so instead of "NOT passed"."""
    if quick:
        return "not checked (--quick is a smoke test; the bar is for the full run)"
    return "passed" if passed else "NOT passed"
