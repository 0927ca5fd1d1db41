"""Training checkpoints: atomic writes and safe loading.

A checkpoint is one ``torch.save`` file holding only plain containers (dict, list, tuple, str,
int, float, bool, None) and tensors, so it loads with ``torch.load(weights_only=True)`` and
no pickled code ever runs. Its keys:

=============  ===================================================================
format         ``"rnnkit.training.checkpoint"``
version        format version (1)
epoch          number of completed epochs
stop_training  whether a callback had asked to stop when it was written
model          ``model.state_dict()``
optimizer      ``optimizer.state_dict()``
scheduler      the learning-rate scheduler's ``state_dict()`` or None
scaler         the fp16 GradScaler's ``state_dict()`` or None
callbacks      ``{key: callback.state_dict()}`` (e.g. EarlyStopping's wait / best)
history        the History rows
rng            torch / CUDA / NumPy / Python RNG states and the shuffle generator's state
config         ``TrainerConfig.to_dict()`` (None when it holds a callable loss)
=============  ===================================================================

Writes are atomic: the bytes go to a temporary file in the same directory, which is flushed,
``fsync``-ed and then ``os.replace``-d over the target. A crash mid-write leaves the previous
checkpoint untouched (and at worst a stray ``.tmp`` file, which is removed on error).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from rnnkit._validation import expected
from rnnkit.errors import RnnkitError

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "atomic_save",
    "atomic_write_bytes",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "rnnkit.training.checkpoint"
CHECKPOINT_VERSION = 1

PathLike = str | os.PathLike[str]


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, fsync,
    ``os.replace``). Returns the path."""
    return _atomic_write(Path(path), lambda fh: fh.write(data))


def atomic_save(obj: Any, path: PathLike) -> Path:
    """``torch.save(obj, path)``, atomically: readers see the old file or the new one, never a
    half-written one."""
    return _atomic_write(Path(path), lambda fh: torch.save(obj, fh))


def _atomic_write(path: Path, write: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save_checkpoint(state: dict[str, Any], path: PathLike) -> Path:
    """Write a checkpoint dict (see the module docstring) atomically, stamping its format."""
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    return atomic_save(payload, path)


def load_checkpoint(path: PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (no code runs) and check its format."""
    p = Path(path)
    if not p.is_file():
        raise RnnkitError(expected("resume_from", "an existing checkpoint file", str(p)))
    data = p.read_bytes()
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise RnnkitError(expected("checkpoint", "a file written by rnnkit's save_checkpoint",
                                   str(p), f"torch.load failed: {exc}")) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise RnnkitError(expected("checkpoint", f"format {CHECKPOINT_FORMAT!r}",
                                   state.get("format") if isinstance(state, dict) else type(state)))
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise RnnkitError(expected("checkpoint version", f"<= {CHECKPOINT_VERSION}",
                                   state.get("version"), "upgrade rnnkit to read it"))
    return state
