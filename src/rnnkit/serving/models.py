"""The models a server holds: each loaded from a bundle under a name, with a version, warmed
up, and replaceable by a newer version without dropping a request.

A :class:`ServedModel` is immutable once loaded: the task, its adapter, the version (the first
12 hex digits of the SHA-256 of the bundle's manifest, which lists every file's own digest,
so any change of weights, config or preprocessing is a new version), the load time. A request
takes the current ServedModel of its name once and finishes on it, so :meth:`ModelSet.reload`
only has to swap the entry: requests in flight finish on the old version, new ones get the
new one. A model served from a registry (``registry/<name>``, :mod:`rnnkit.registry`) follows
its ``current`` pointer: :meth:`ModelSet.follow`, called every few seconds by the server,
reloads it when a promote or a rollback moved the pointer. A lock per ServedModel runs one prediction at a time on it (the networks are not
thread-safe while they switch modes).

Example::

    >>> ModelSource.parse("battery=runs/battery/model").name
    'battery'
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rnnkit._files import check_name
from rnnkit._validation import expected
from rnnkit.bundle import load_bundle
from rnnkit.errors import ConfigError
from rnnkit.registry.store import POINTER, Registry
from rnnkit.serving.adapters import Adapter, adapter_for
from rnnkit.tasks.base import Task
from rnnkit.tasks.registry import from_bundle

__all__ = ["RUNTIMES", "ModelSet", "ModelSource", "ServedModel", "bundle_path",
           "is_registry_model", "load_model"]

RUNTIMES = ("torch", "onnx")

logger = logging.getLogger("rnnkit.serving")


def bundle_path(path: Path) -> Path:
    """The bundle of a run directory (its ``model/``), of a registry's model folder
    (``registry/<name>``: its current version's bundle) or a bundle directory itself."""
    path = Path(path)
    if is_registry_model(path):
        return Registry(path.parent).current_path(path.name)
    return path / "model" if (path / "model").is_dir() else path


def is_registry_model(path: Path) -> bool:
    """Whether ``path`` is a model folder of a registry (it holds the ``current`` pointer)."""
    return (Path(path) / POINTER).is_file()


@dataclass(frozen=True)
class ModelSource:
    """Where a served model comes from: ``NAME=PATH`` or a bare ``PATH`` (the name is the
    config's ``name``, else the run directory's)."""

    path: Path
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelSource:
        name, sep, path = text.partition("=")
        if sep and name and "/" not in name:
            return cls(Path(path), check_name(name, "model name"))
        return cls(Path(text))


@dataclass(frozen=True)
class ServedModel:
    """One loaded, warmed-up version of a model (see the module docstring)."""

    name: str
    version: str
    task: Task
    adapter: Adapter
    source: ModelSource
    runtime: str
    loaded_at: str
    load_seconds: float
    bundle: Path
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def info(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}

    def summary(self) -> dict[str, Any]:
        inputs, outputs = self.adapter.describe(self.task)
        return {"name": self.name, "version": self.version, "task": self.task.name,
                "runtime": self.runtime, "path": str(self.source.path),
                "loaded_at": self.loaded_at, "load_seconds": self.load_seconds,
                "input": inputs, "output": outputs}


def _default_name(source: ModelSource, task: Task) -> str:
    if source.name:
        return source.name
    if is_registry_model(source.path):
        return check_name(source.path.resolve().name, "model name", "serve it as NAME=PATH")
    if task.config.name:
        return check_name(task.config.name, "model name", "serve it as NAME=PATH")
    path = source.path.resolve()
    base = path.parent if path.name == "model" else path
    return check_name(base.name, "model name", "serve it as NAME=PATH")


def load_model(source: ModelSource, *, runtime: str = "torch", name: str | None = None
               ) -> ServedModel:
    """Load, version and warm up the bundle of ``source``."""
    if runtime not in RUNTIMES:
        raise ConfigError(expected("--runtime", f"one of {list(RUNTIMES)}", runtime))
    start = time.perf_counter()
    root = bundle_path(source.path)
    bundle = load_bundle(root)
    version = hashlib.sha256(json.dumps(bundle.manifest, sort_keys=True).encode()).hexdigest()
    task = from_bundle(bundle)
    if runtime == "onnx":
        from rnnkit.export import use_onnx

        task = use_onnx(task)
    adapter = adapter_for(task.name)
    adapter.warmup(task)
    return ServedModel(name or _default_name(source, task), version[:12], task, adapter,
                       source, runtime, datetime.now(UTC).isoformat(timespec="seconds"),
                       round(time.perf_counter() - start, 4), root.resolve())


class ModelSet:
    """The served models by name; :meth:`reload` swaps one for its bundle's new version."""

    def __init__(self, models: list[ServedModel]) -> None:
        self._models: dict[str, ServedModel] = {}
        for m in models:
            if m.name in self._models:
                raise ConfigError(expected("models", "distinct names", m.name,
                                           "serve them as NAME=PATH with different names"))
            self._models[m.name] = m
        self._reload_lock = threading.Lock()

    def __iter__(self):
        return iter(list(self._models.values()))

    def __len__(self) -> int:
        return len(self._models)

    def names(self) -> list[str]:
        return list(self._models)

    def get(self, name: str) -> ServedModel | None:
        return self._models.get(name)

    def follow(self) -> list[tuple[ServedModel, ServedModel]]:
        """Reload every model served from a registry whose ``current`` pointer moved since
        it was loaded; returns the ``(old, new)`` pairs. A version that fails to load is
        logged and the old one kept (the next call tries again)."""
        swapped = []
        for model in self:
            if not is_registry_model(model.source.path):
                continue
            try:
                moved = bundle_path(model.source.path).resolve() != model.bundle
                if moved:
                    swapped.append(self.reload(model.name))
            except Exception:  # the registry is being changed, or a bad version: try again
                logger.exception("following the registry of %s failed", model.name)
        return swapped

    def reload(self, name: str) -> tuple[ServedModel, ServedModel]:
        """Load ``name``'s bundle again (a new version if it changed) and swap it in;
        returns ``(old, new)``. A bundle of another task is refused, the old one kept."""
        with self._reload_lock:
            old = self._models[name]
            new = load_model(old.source, runtime=old.runtime, name=name)
            if new.task.name != old.task.name:
                raise ConfigError(expected("bundle", f"a {old.task.name} model to replace "
                                           f"{name!r}", new.task.name,
                                           "serve the other task under its own name"))
            self._models[name] = new
            return old, new
