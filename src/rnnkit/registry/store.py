"""The model registry: numbered versions of a model, each with its lineage, and a ``current``
pointer that moves atomically.

A registry is a directory (``registry/`` by default on the command line)::

    registry/
      <name>/
        v1/
          model/          the bundle (rnnkit.tasks.load(path) loads it)
          lineage.json    version, parent, sha256 of the training data, config, metrics, time,
                          rnnkit version
        v2/ ...
        current.json      {"version": 2, "history": [1]}: the current version and the versions
                          that were current before it (what ``rollback`` returns to)
      .<name>.lock        held while a process changes <name> (rnnkit._files.write_lock)

A version is written whole into a hidden sibling and renamed into place, so a reader never sees
half of one, and it is never overwritten: :meth:`Registry.register` takes the next free number.
``current.json`` is written to a temporary sibling and ``os.replace``'d, so a crash leaves the
old pointer or the new one, never a broken one. Every change holds the name's lock file; a
second process waits for it (up to ``lock_timeout`` seconds), so two processes registering at
once get distinct versions.

Example::

    >>> reg = Registry("registry")                              # doctest: +SKIP
    >>> info = reg.register("nile", task, promote=True)         # a fitted task or a bundle path
    >>> reg.current("nile").version, reg.current_path("nile")        # doctest: +SKIP
    (1, PosixPath('registry/nile/v1/model'))
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnkit._files import _umask, check_name, follow_umask, write_lock
from rnnkit._validation import Described, expected
from rnnkit.bundle import BundleError, load_bundle
from rnnkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    from rnnkit.tasks.base import Task

__all__ = ["BUNDLE_DIR", "LINEAGE", "POINTER", "Registry", "VersionInfo", "file_sha256",
           "parse_version", "sha256_files"]

#: The bundle's folder inside a version folder.
BUNDLE_DIR = "model"
#: The lineage file inside a version folder.
LINEAGE = "lineage.json"
#: The ``current`` pointer of a name.
POINTER = "current.json"

_VERSION = re.compile(r"^v([1-9][0-9]*)$")


def parse_version(version: object, option: str = "version") -> int:
    """The version number of ``version``: an int >= 1, or ``"3"`` / ``"v3"``; else a
    ConfigError naming ``option``."""
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        return version
    if isinstance(version, str):
        text = version.strip()
        match = _VERSION.match(text) or _VERSION.match(f"v{text}")
        if match:
            return int(match.group(1))
    raise ConfigError(expected(option, "a version number such as 3 or 'v3'", version))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 (hex) of the file at ``path``; a DataError naming it when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(expected("data", "a data file to fingerprint", str(path)))
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class VersionInfo:
    """One registered version and its lineage.

    Attributes:
        name: the model's name in the registry.
        version: its number (``v3`` is 3).
        path: the version folder (``registry/<name>/v3``).
        task: the task name of the bundle.
        parent: the version it was retrained from (None for a first version).
        data_sha256: ``{file name: sha256}`` of the data it was trained on (empty if unknown).
        config: the task's configuration.
        metrics: its test report (and, for a retrained version, the comparison).
        created: when it was registered (ISO 8601, UTC).
        rnnkit_version: the rnnkit that registered it.
        current: whether it is the name's current version (as read).
    """

    name: str
    version: int
    path: Path
    task: str
    parent: int | None = None
    data_sha256: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    rnnkit_version: str = ""
    current: bool = False

    @property
    def bundle(self) -> Path:
        """The bundle directory of this version (what ``rnnkit.tasks.load`` takes)."""
        return self.path / BUNDLE_DIR

    @property
    def label(self) -> str:
        """``"v3"``."""
        return f"v{self.version}"

    def lineage(self) -> dict[str, Any]:
        """The JSON of ``lineage.json``."""
        return {"name": self.name, "version": self.version, "parent": self.parent,
                "task": self.task, "data_sha256": self.data_sha256, "config": self.config,
                "metrics": self.metrics, "created": self.created,
                "rnnkit_version": self.rnnkit_version}


class Registry:
    """Versions of named models under ``root`` (see the module's docstring for the layout).

    Args:
        root: the registry directory (created on the first :meth:`register`).
        lock_timeout: seconds a change waits for another process's lock before failing.
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 60.0) -> None:
        self.root = Path(root)
        self.lock_timeout = float(lock_timeout)

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # -- reading ----------------------------------------------------------------------
    def names(self) -> list[str]:
        """The registered names, sorted (a name with no version yet is left out)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and self._numbers(p.name))

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, oldest first; a ConfigError when ``name`` has none."""
        numbers = self._numbers(self._known(name))
        current = self._pointer(name).get("version")
        return [self._info(name, n, current=n == current) for n in numbers]

    def version(self, name: str, version: int | str) -> VersionInfo:
        """Version ``version`` (3, ``"3"`` or ``"v3"``) of ``name``."""
        number = parse_version(version)
        numbers = self._numbers(self._known(name))
        if number not in numbers:
            raise ConfigError(expected("version", f"a version of {name!r} among "
                                       f"{[f'v{n}' for n in numbers]}", f"v{number}"))
        return self._info(name, number, current=self._pointer(name).get("version") == number)

    def current(self, name: str) -> VersionInfo | None:
        """The current version of ``name`` (None when none was promoted yet)."""
        self._known(name)
        number = self._pointer(name).get("version")
        return None if number is None else self._info(name, number, current=True)

    def current_path(self, name: str) -> Path:
        """The bundle directory of the current version of ``name``; a ConfigError when none
        is current."""
        info = self.current(name)
        if info is None:
            raise ConfigError(expected("name", f"a model with a current version ({name!r} has "
                                       "none)", name, f"rnnkit registry promote {name} VERSION"))
        return info.bundle

    # -- changing ---------------------------------------------------------------------
    def register(self, name: str, task_or_bundle_path: Task | str | os.PathLike[str], *,
                 parent: int | str | None = None,
                 data_sha256: str | Mapping[str, str] | None = None,
                 metrics: Mapping[str, Any] | None = None,
                 promote: bool = False) -> VersionInfo:
        """Write the next version of ``name``: a fitted task (saved with ``Task.save``) or a
        bundle directory (verified, then copied), with its lineage.

        Args:
            name: the model's name (no path separators).
            task_or_bundle_path: a fitted :class:`~rnnkit.tasks.base.Task`, or the path of a
                bundle (or of a run directory holding one in ``model/``).
            parent: the version this one was retrained from (it must exist).
            data_sha256: the training data's sha256: one hex string, or ``{file: sha256}``.
            metrics: the test report (JSON-able), stored in the lineage.
            promote: make the new version current.

        Returns:
            the new version. An existing version is never overwritten: the number is taken
            under the name's lock, and the folder is renamed into place whole.
        """
        name = check_name(name, "name")
        hashes = _hashes(data_sha256)
        with self._locked(name):
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            numbers = self._numbers(name)
            parent_number = None if parent is None else parse_version(parent, "parent")
            if parent_number is not None and parent_number not in numbers:
                raise ConfigError(expected("parent", f"an existing version of {name!r}",
                                           f"v{parent_number}"))
            number = max(numbers, default=0) + 1
            work = Path(tempfile.mkdtemp(prefix=f".v{number}.partial-", dir=folder))
            try:
                task_name, config = _write_bundle(task_or_bundle_path, work / BUNDLE_DIR)
                info = VersionInfo(
                    name=name, version=number, path=folder / f"v{number}", task=task_name,
                    parent=parent_number, data_sha256=hashes, config=config,
                    metrics=json.loads(json.dumps(dict(metrics or {}), default=str)),
                    created=datetime.now(UTC).isoformat(timespec="seconds"),
                    rnnkit_version=_rnnkit_version())
                _write_json(work / LINEAGE, info.lineage())
                follow_umask(work)
                os.rename(work, info.path)  # fails rather than overwrite a version
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            if promote:
                self._move_pointer(name, number)
        return self._info(name, number, current=promote)

    def promote(self, name: str, version: int | str, *,
                only_if_current: int | str | None = None) -> VersionInfo:
        """Make ``version`` the current version of ``name``; the version current before is
        kept in the pointer's history (what :meth:`rollback` returns to).

        ``only_if_current`` (a version) makes the move conditional, checked under the lock:
        when another version became current meanwhile (another process promoted or rolled
        back), nothing moves and a ConfigError names both."""
        with self._locked(name):
            info = self.version(name, version)
            if only_if_current is not None:
                wanted = parse_version(only_if_current, "only_if_current")
                now = self._pointer(name).get("version")
                if now != wanted:
                    raise ConfigError(expected(
                        "only_if_current", f"v{wanted} still current when v{info.version} is "
                        "promoted", Described("no current version" if now is None
                                              else f"v{now}, made current meanwhile"),
                        f"compare with v{now} first" if now is not None else None))
            self._move_pointer(name, info.version)
        return self._info(name, info.version, current=True)

    def rollback(self, name: str) -> VersionInfo:
        """Return ``name`` to the version that was current before the current one; a
        ConfigError when there is none (nothing was promoted over another version)."""
        with self._locked(name):
            self._known(name)
            pointer = self._pointer(name)
            history = list(pointer.get("history", []))
            if not history:
                now = pointer.get("version")
                raise ConfigError(expected(
                    "name", "a model with an earlier current version to roll back to",
                    Described(f"{name!r}, which has no current version" if now is None
                              else f"{name!r}, whose current version v{now} has none before it"),
                    f"promote a version instead: rnnkit registry promote {name} VERSION"))
            previous = history.pop()
            self._write_pointer(name, {"version": previous, "history": history})
        return self._info(name, previous, current=True)

    # -- internals --------------------------------------------------------------------
    def _known(self, name: str) -> str:
        name = check_name(name, "name")
        if not self._numbers(name):
            known = self.names()
            raise ConfigError(expected("name", f"a registered model (among {known})" if known
                                       else f"a registered model ({self.root} has none)", name,
                                       "rnnkit retrain RUN --data FILE registers a run"))
        return name

    def _numbers(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = (_VERSION.match(p.name) for p in folder.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def _pointer(self, name: str) -> dict[str, Any]:
        path = self.root / name / POINTER
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(expected(str(path), "the JSON of a current pointer",
                                       Described(f"an unreadable file ({err})"))) from None
        ok = (isinstance(data, dict) and isinstance(data.get("version"), int)
              and isinstance(data.get("history", []), list))
        if not ok:
            raise ConfigError(expected(str(path), '{"version": N, "history": [...]}',
                                       Described(f"{str(data)[:80]}")))
        return data

    def _move_pointer(self, name: str, number: int) -> None:
        pointer = self._pointer(name)
        history = list(pointer.get("history", []))
        now = pointer.get("version")
        if now == number:
            return
        if now is not None:
            history.append(now)
        self._write_pointer(name, {"version": number, "history": history})

    def _write_pointer(self, name: str, data: dict[str, Any]) -> None:
        _write_json(self.root / name / POINTER, data)

    def _info(self, name: str, number: int, *, current: bool) -> VersionInfo:
        path = self.root / name / f"v{number}"
        try:
            data = json.loads((path / LINEAGE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(expected(str(path / LINEAGE), "a version's lineage JSON",
                                       Described(f"an unreadable file ({err})"))) from None
        return VersionInfo(name=name, version=number, path=path, task=str(data.get("task", "")),
                           parent=data.get("parent"), data_sha256=dict(data.get("data_sha256")
                                                                       or {}),
                           config=dict(data.get("config") or {}),
                           metrics=dict(data.get("metrics") or {}),
                           created=str(data.get("created", "")),
                           rnnkit_version=str(data.get("rnnkit_version", "")), current=current)

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """Hold ``name``'s lock file, waiting up to :attr:`lock_timeout` for another holder."""
        deadline = time.monotonic() + self.lock_timeout
        with ExitStack() as stack:
            while True:
                try:
                    stack.enter_context(write_lock(self.root / name, option="name"))
                    break
                except ConfigError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.05)
            yield


def _hashes(data_sha256: str | Mapping[str, str] | None) -> dict[str, str]:
    if data_sha256 is None:
        return {}
    if isinstance(data_sha256, str):
        data_sha256 = {"data": data_sha256}
    if not isinstance(data_sha256, Mapping) or not all(
            isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
            for v in data_sha256.values()):
        raise ConfigError(expected("data_sha256", "a sha256 hex string or {file: sha256}",
                                   data_sha256, "rnnkit.registry.file_sha256(path) computes one"))
    return {str(k): str(v) for k, v in data_sha256.items()}


def _write_bundle(source: Any, dest: Path) -> tuple[str, dict[str, Any]]:
    """Put ``source`` (a fitted task, a bundle or a run directory) at ``dest``; its task name
    and config."""
    from rnnkit.tasks.base import Task

    if isinstance(source, Task):
        source.save(dest)
        return source.name, source.config.to_dict()
    if not isinstance(source, (str, os.PathLike)):
        raise ConfigError(expected("task_or_bundle_path", "a fitted Task or a bundle path",
                                   Described(type(source).__name__)))
    path = Path(source)
    if (path / BUNDLE_DIR).is_dir():
        path = path / BUNDLE_DIR
    try:
        bundle = load_bundle(path)  # verified before it is copied
    except BundleError as err:
        raise ConfigError(expected("task_or_bundle_path", "a bundle or a run directory",
                                   str(source), str(err))) from None
    shutil.copytree(path, dest)
    return bundle.task, dict(bundle.config.get("config", bundle.config))


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to a temporary sibling, then ``os.replace`` it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rnnkit_version() -> str:
    from rnnkit import __version__

    return __version__


def sha256_files(paths: Sequence[str | os.PathLike[str]]) -> dict[str, str]:
    """``{file name: sha256}`` of ``paths``."""
    return {Path(p).name: file_sha256(p) for p in paths}
