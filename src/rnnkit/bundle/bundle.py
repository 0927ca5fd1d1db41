"""The bundle: the one on-disk format of every rnnkit task.

A bundle is a directory::

    model.safetensors    the weights (safetensors: no pickled code is ever executed on load)
    config.json          task name, model and task configuration
    preprocessing.json   fitted preprocessing: scalers, look_back, horizon, features, vocab...
    metrics.json         training and evaluation metrics (optional)
    manifest.json        format version, rnnkit version, creation time, sha256 of every file

It is written into a temporary sibling directory and moved into place only when complete, so
an interrupted save never leaves a half-written bundle, and an existing bundle at the same
path is replaced only by a complete one. ``load_bundle`` verifies the checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from rnnkit._files import replace_directory
from rnnkit._validation import Described, expected
from rnnkit.errors import RnnkitError

__all__ = ["BUNDLE_FORMAT", "Bundle", "BundleError", "load_bundle", "save_bundle"]

BUNDLE_FORMAT = 1
_JSON_FILES = ("config", "preprocessing", "metrics")


class BundleError(RnnkitError):
    """A bundle is missing, incomplete, corrupted or of an unknown format."""


@dataclass
class Bundle:
    """The content of a bundle directory, as loaded."""

    task: str
    config: dict[str, Any]
    preprocessing: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True, default=_json_default)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serializable: {type(obj).__name__}")


def _untied(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Copies of tensors that share storage with an earlier one (tied weights: an LM's
    embedding and output layer), since safetensors stores no shared tensors."""
    seen: set[int] = set()
    out = {}
    for name, t in tensors.items():
        ptr = t.untyped_storage().data_ptr() if t.numel() else id(t)
        out[name] = t.clone() if ptr in seen else t
        seen.add(ptr)
    return out


def save_bundle(
    path: str | os.PathLike[str],
    *,
    task: str,
    model: torch.nn.Module | dict[str, torch.Tensor],
    config: dict[str, Any],
    preprocessing: dict[str, Any],
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write a complete bundle at ``path`` atomically and return its path."""
    from rnnkit import __version__

    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    state = model.state_dict() if isinstance(model, torch.nn.Module) else dict(model)
    tensors = _untied({k: v.detach().cpu().contiguous() for k, v in state.items()})
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        save_file(tensors, str(tmp / "model.safetensors"))
        _write_json(tmp / "config.json", {"task": task, **config})
        _write_json(tmp / "preprocessing.json", preprocessing)
        _write_json(tmp / "metrics.json", metrics or {})
        files = sorted(p.name for p in tmp.iterdir())
        manifest = {
            "format": BUNDLE_FORMAT,
            "rnnkit_version": __version__,
            "torch_version": torch.__version__,
            "task": task,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {name: _sha256(tmp / name) for name in files},
        }
        _write_json(tmp / "manifest.json", manifest)  # written last: marks completeness
        replace_directory(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def load_bundle(path: str | os.PathLike[str], *, task: str | None = None) -> Bundle:
    """Read and verify a bundle; ``task`` (optional) must match the saved task name."""
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise BundleError(expected("path", "an rnnkit bundle directory with manifest.json",
                                   str(root), "save one with a task's .save(path)"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(expected("bundle format", BUNDLE_FORMAT, manifest.get("format")))
    for name, digest in manifest["files"].items():
        f = root / name
        if not f.is_file() or _sha256(f) != digest:
            raise BundleError(expected(f"bundle file {name}", "a file matching its sha256",
                                       Described("a missing or modified file")))
    config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    saved_task = config.pop("task")
    if task is not None and saved_task != task:
        raise BundleError(expected("task", f"a bundle of task {task!r}", saved_task))
    return Bundle(
        task=saved_task,
        config=config,
        preprocessing=json.loads((root / "preprocessing.json").read_text(encoding="utf-8")),
        state_dict=load_file(str(root / "model.safetensors")),
        metrics=json.loads((root / "metrics.json").read_text(encoding="utf-8")),
        manifest=manifest,
    )
