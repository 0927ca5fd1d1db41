"""Writing directories whole: the one place where rnnkit moves a finished directory into place.

Bundles, run directories and lab outputs are built under a temporary sibling name and moved to
their final path only when complete (:func:`replace_directory`), so a reader never sees a
half-written one. One process writes an output path at a time (:func:`write_lock`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError

__all__ = ["MARKER", "check_name", "check_replaceable", "check_run_path",
           "follow_umask", "is_run", "lock_path", "replace_directory", "write_lock", "write_marker",
           "writing_run"]

logger = logging.getLogger(__name__)

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


def _umask() -> int:
    """This process's umask (read from /proc where it can be, without changing it)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(tree: Path) -> None:
    """Give ``tree`` and everything in it the modes a plain ``mkdir`` and ``open`` would:
    ``0o777 & ~umask`` for directories and ``0o666 & ~umask`` for files (``tempfile`` makes
    0700 directories and 0600 files, which a teammate could not read). Links are left alone."""
    mask = _umask()
    dirs, files = 0o777 & ~mask, 0o666 & ~mask
    os.chmod(tree, dirs)
    for root, subdirs, names in os.walk(tree):
        for name in subdirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, dirs)
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, files)


def replace_directory(work: Path, final: Path) -> None:
    """Move the finished directory ``work`` to ``final``, replacing what is there.

    ``work`` first gets the umask's modes (:func:`follow_umask`), as if made by ``mkdir``
    rather than ``tempfile``. An existing ``final`` is first moved aside into a hidden sibling, then ``work`` takes its
    place, then the old one is deleted; if the second move fails, the old one is put back.
    ``work`` and ``final`` must be on the same file system (siblings are).
    """
    follow_umask(work)
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


def lock_path(final: Path) -> Path:
    """The lock file of output ``final``: ``.NAME.lock`` beside it."""
    return final.parent / f".{final.name}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


def _read_pid(lock: Path) -> int | None:
    """The pid a lock file holds; None when it is empty or not a pid (being written)."""
    try:
        text = lock.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


@contextmanager
def write_lock(final: Path, option: str = "--out") -> Iterator[Path]:
    """Hold the lock file of ``final`` (:func:`lock_path`) for the block: one writer per output.

    The lock is created with ``O_CREAT | O_EXCL`` and holds this process's pid; it is removed
    when the block ends, however it ends. A lock whose pid is no longer alive (its writer was
    killed) is taken over.

    Raises:
        ConfigError: another live process (or this one, in another block) holds the lock; the
            message names the lock file and that process's pid.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(final)
    mine = str(os.getpid())
    for _ in range(100):  # a few rounds at most: each one ends, or removes a stale lock
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            try:
                pid = _read_pid(lock)
            except FileNotFoundError:
                continue  # its writer just finished: try again
            if pid is None or _pid_alive(pid):
                holder = f"process {pid}" if pid is not None else "another process"
                raise ConfigError(expected(
                    option, "an output no other rnnkit process is writing",
                    Described(f"{str(final)!r}, locked by {holder} ({lock})"),
                    "wait for it to finish or choose another path; if no such process is "
                    f"running, delete {lock}")) from None
            _take_over(lock, pid)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(mine + "\n")
        break
    else:  # pragma: no cover - only a storm of writers starting and dying gets here
        raise ConfigError(expected(option, "an output whose lock can be taken", str(lock)))
    try:
        yield lock
    finally:
        try:
            if _read_pid(lock) == int(mine):
                lock.unlink()
        except FileNotFoundError:
            pass


def _take_over(lock: Path, dead: int) -> None:
    """Remove the stale ``lock`` of the dead process ``dead``, unless another process took it
    over meanwhile (the lock is renamed aside first, so only one remover wins)."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
    try:
        os.replace(lock, aside)
    except FileNotFoundError:
        return
    try:
        if _read_pid(aside) != dead:  # another writer's fresh lock: put it back
            with suppress(FileExistsError):
                os.link(aside, lock)
            aside.unlink(missing_ok=True)
            return
    except FileNotFoundError:
        return
    aside.unlink(missing_ok=True)
    logger.info("took over the stale lock %s of process %d, which is not running", lock, dead)


@contextmanager
def writing_run(final: Path, *, overwrite: bool, task: str,
                free: str = "a new or empty directory", option: str = "--out"
                ) -> Iterator[Path]:
    """Yield a temporary sibling directory that becomes the run directory ``final`` when the
    block completes: the one way rnnkit writes a run (``rnnkit train`` and the labs).

    The write lock on ``final`` is held for the whole block (:func:`write_lock`); a taken
    ``final`` (anything but a new path or an empty directory) needs ``overwrite`` and must be a
    run rnnkit wrote (:func:`check_replaceable`; ``free`` says what a free path is in the
    message). On success the block's directory gets the marker and replaces ``final``
    (:func:`replace_directory`); if the block raises or is interrupted, it is removed and
    whatever was at ``final`` is left untouched.
    """
    final = check_run_path(Path(final), option)
    with write_lock(final, option):
        taken = final.is_symlink() or (final.exists()
                                       and (not final.is_dir() or any(final.iterdir())))
        if taken:
            check_replaceable(final, overwrite=overwrite, expected_what=free, option=option)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
        try:
            yield work
            write_marker(work, task)
            replace_directory(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
