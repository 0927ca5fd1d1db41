"""The five tasks by name: what a config's ``task = "..."`` and a bundle's task name select.

Task modules are imported only when a task is asked for, so ``rnnkit --help`` and a server
that serves one task do not import the others.

Example::

    >>> task_class("classification").__name__
    'SequenceClassifier'
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnkit._validation import Described, expected
from rnnkit.bundle import Bundle, load_bundle
from rnnkit.config import read_toml_file
from rnnkit.errors import ConfigError

if TYPE_CHECKING:
    from rnnkit.tasks.base import Task

__all__ = ["TASK_NAMES", "from_bundle", "load", "task_class", "task_from_toml"]

#: task name -> (module, class)
_TASKS: dict[str, tuple[str, str]] = {
    "forecasting": ("rnnkit.tasks.forecasting.forecaster", "Forecaster"),
    "classification": ("rnnkit.tasks.classification.task", "SequenceClassifier"),
    "tagging": ("rnnkit.tasks.tagging.task", "SequenceTagger"),
    "language_model": ("rnnkit.tasks.language_model", "LanguageModel"),
    "seq2seq": ("rnnkit.tasks.seq2seq", "Seq2Seq"),
}
TASK_NAMES = tuple(_TASKS)
#: the task names of bundles saved before the one task interface
_LEGACY = {"sequence_classification": "classification", "sequence_tagging": "tagging"}


def task_class(name: str) -> type[Task]:
    """The task class registered under ``name``."""
    if name not in _TASKS:
        import difflib

        close = difflib.get_close_matches(str(name), TASK_NAMES, n=1)
        raise ConfigError(expected("task", f"one of {list(TASK_NAMES)}", name,
                                   f"did you mean {close[0]!r}?" if close else None))
    module, cls = _TASKS[name]
    return getattr(importlib.import_module(module), cls)


def task_from_toml(path: str | os.PathLike[str],
                   overrides: Mapping[str, Any] | None = None) -> Task:
    """The task a TOML file describes: its ``task`` key picks the class (default
    ``"forecasting"``, the first task rnnkit had), the rest configures it."""
    p = Path(path)
    data = read_toml_file(p)  # read once: the task key picks the class, the rest configures it
    name = (overrides or {}).get("task", data.get("task", "forecasting"))
    if not isinstance(name, str):
        raise ConfigError(expected("task", f"one of {list(TASK_NAMES)}", Described(repr(name))))
    cls = task_class(name)
    config = cls.config_class.from_dict(data).resolve_paths(p.parent)
    return cls(config.with_overrides(dict(overrides)) if overrides else config)


def load(path: str | os.PathLike[str]) -> Task:
    """Load any task's bundle; the bundle says which task it is."""
    return from_bundle(load_bundle(path))


def from_bundle(bundle: Bundle) -> Task:
    """The task a loaded, verified bundle holds (its ``task`` picks the class)."""
    return task_class(_LEGACY.get(bundle.task, bundle.task))._from_bundle(bundle)
