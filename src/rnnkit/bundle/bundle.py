"""The bundle: the one on-disk format of every rnnkit task.

A bundle is a directory::

    model.safetensors    the weights (safetensors: no pickled code is ever executed on load)
    config.json          task name, model and task configuration
    preprocessing.json   fitted preprocessing: scalers, look_back, horizon, features, vocab...
    metrics.json         training and evaluation metrics
    profile.json         (optional) the reference profile of the training data, for drift
                         detection (:mod:`rnnkit.monitoring.profile`); older bundles have none
    manifest.json        format version, rnnkit version, creation time, sha256 of every file,
                         and a signature when ``RNNKIT_BUNDLE_KEY`` is set (:mod:`.signing`)

It is written into a temporary sibling directory and moved into place only when complete, so
an interrupted save never leaves a half-written bundle, and an existing bundle at the same
path is replaced only by a complete one. ``save_bundle`` replaces only a bundle (or an empty
directory): a file or a non-empty directory of the user's at the path is refused.

``load_bundle`` validates the whole bundle before it reads a weight (:mod:`.schema`: the
manifest's schema, no file outside the bundle or unlisted, the checksums, the JSON files, the
safetensors header), and :func:`load_weights` puts the weights into a model, naming the tensor
and both shapes when they do not fit.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from rnnkit._files import replace_directory
from rnnkit._validation import Described, expected
from rnnkit.bundle.schema import (
    BUNDLE_FORMAT,
    MANIFEST,
    WEIGHTS,
    BundleError,
    check_config,
    check_files,
    check_manifest,
    check_safetensors,
    check_tensor_dtype,
    is_bundle,
    read_json,
    sha256,
)
from rnnkit.bundle.signing import bundle_key, sign_manifest, verify_manifest
from rnnkit.errors import RnnkitError

__all__ = ["BUNDLE_FORMAT", "Bundle", "BundleError", "load_bundle", "load_weights", "reading",
           "save_bundle"]


@dataclass
class Bundle:
    """The content of a bundle directory, as loaded."""

    task: str
    config: dict[str, Any]
    preprocessing: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    #: the content of profile.json, None for a bundle without one
    profile: dict[str, Any] | None = None


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


def _check_replaceable(dest: Path) -> None:
    """Refuse to replace anything at ``dest`` but a bundle or an empty directory."""
    if not dest.exists() and not dest.is_symlink():
        return
    if is_bundle(dest) or (dest.is_dir() and not dest.is_symlink() and not any(dest.iterdir())):
        return
    kind = ("a symbolic link" if dest.is_symlink() else
            "a directory that is not an rnnkit bundle" if dest.is_dir() else "a file")
    raise BundleError(expected("path", "a new path or an rnnkit bundle to replace",
                               Described(f"{str(dest)!r}, {kind}"),
                               f"choose another path; rnnkit replaces only a directory with its "
                               f"{MANIFEST}"))


def save_bundle(
    path: str | os.PathLike[str],
    *,
    task: str,
    model: torch.nn.Module | dict[str, torch.Tensor],
    config: dict[str, Any],
    preprocessing: dict[str, Any],
    metrics: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
) -> Path:
    """Write a complete bundle at ``path`` atomically and return its path.

    An earlier bundle (or an empty directory) at ``path`` is replaced; anything else there, a
    user's file or folder, is refused with a :class:`BundleError` and left as it was.
    ``profile`` (optional): the reference profile, written as ``profile.json``."""
    from rnnkit import __version__

    if not isinstance(task, str) or not task:
        raise BundleError(expected("task", "a task name", task))
    dest = Path(path)
    _check_replaceable(dest)
    key = bundle_key()
    state = model.state_dict() if isinstance(model, torch.nn.Module) else dict(model)
    for name, t in state.items():
        check_tensor_dtype(name, t)
    tensors = _untied({k: v.detach().cpu().contiguous() for k, v in state.items()})
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BundleError(expected("path", "a path whose parent is a directory", str(dest),
                                   "a file stands where a parent folder should be")) from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        save_file(tensors, str(tmp / WEIGHTS))
        _write_json(tmp / "config.json", {"task": task, **config})
        _write_json(tmp / "preprocessing.json", preprocessing)
        _write_json(tmp / "metrics.json", metrics or {})
        if profile is not None:
            _write_json(tmp / PROFILE, profile)
        files = sorted(p.name for p in tmp.iterdir())
        manifest = {
            "format": BUNDLE_FORMAT,
            "rnnkit_version": __version__,
            "torch_version": torch.__version__,
            "task": task,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {name: sha256(tmp / name) for name in files},
        }
        if key is not None:
            manifest = sign_manifest(manifest, key)
        _write_json(tmp / MANIFEST, manifest)  # written last: marks completeness
        _check_replaceable(dest)  # again: something may have appeared there meanwhile
        replace_directory(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def load_bundle(path: str | os.PathLike[str], *, task: str | None = None) -> Bundle:
    """Read a bundle, validating all of it first; ``task`` (optional) must match the saved
    task name. With ``RNNKIT_BUNDLE_KEY`` set, only a bundle signed with it loads."""
    root = Path(path)
    if not root.is_dir() or not (root / MANIFEST).is_file():
        raise BundleError(expected("path", f"an rnnkit bundle directory with {MANIFEST}",
                                   str(root), "save one with a task's .save(path)"))
    manifest = read_json(root / MANIFEST)
    key = bundle_key()
    if key is not None:
        verify_manifest(manifest, key)
    files = check_manifest(manifest)
    check_files(root, files)
    config = read_json(root / "config.json")
    saved_task = check_config(config, manifest)
    preprocessing = read_json(root / "preprocessing.json")
    metrics = read_json(root / "metrics.json")
    profile = read_json(root / PROFILE) if PROFILE in files else None
    check_safetensors(root / WEIGHTS)
    if task is not None and saved_task != task:
        raise BundleError(expected("task", f"a bundle of task {task!r}", saved_task))
    try:
        state_dict = load_file(str(root / WEIGHTS))
    except Exception as err:  # safetensors' own error, on what the header check let through
        raise BundleError(expected(f"bundle file {WEIGHTS}", "a readable safetensors file",
                                   Described(f"one safetensors refuses ({err})"))) from None
    for name, t in state_dict.items():
        check_tensor_dtype(name, t)
    config.pop("task")
    return Bundle(task=saved_task, config=config, preprocessing=preprocessing,
                  state_dict=state_dict, metrics=metrics, manifest=manifest,
                  profile=profile)


def load_weights(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Load a bundle's ``state_dict`` into ``model`` (built from the bundle's config), strictly:
    a missing, extra or differently shaped tensor is a :class:`BundleError` that names it."""
    own = model.state_dict()
    where = f"{WEIGHTS} tensor"
    missing = [name for name in own if name not in state_dict]
    if missing:
        raise BundleError(expected(f"{where} {missing[0]!r}", "present, as the model built from "
                                   "config.json has it", Described(
                                       f"no such tensor ({len(missing)} missing)"),
                                   "the weights do not belong to this config"))
    extra = [name for name in state_dict if name not in own]
    if extra:
        raise BundleError(expected(f"{where} {extra[0]!r}", "a tensor of the model built from "
                                   "config.json", Described(
                                       f"one the model does not have ({len(extra)} such)"),
                                   "the weights do not belong to this config"))
    for name, want in own.items():  # in the model's order: its first misfit is named
        tensor = state_dict[name]
        if tuple(tensor.shape) != tuple(want.shape):
            raise BundleError(expected(f"{where} {name!r}", f"shape {tuple(want.shape)}, as the "
                                       "model built from config.json has it",
                                       Described(f"shape {tuple(tensor.shape)}"),
                                       "the weights do not belong to this config"))
        if tensor.is_floating_point() != want.is_floating_point():
            raise BundleError(expected(f"{where} {name!r}", f"dtype like {want.dtype}",
                                       Described(f"dtype {tensor.dtype}")))
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise BundleError(expected(f"bundle file {WEIGHTS}", "weights that fit the model",
                                   Described(str(err)))) from None
    return model


@contextmanager
def reading(file: str) -> Iterator[None]:
    """Report what goes wrong while a task reads ``file`` of a loaded bundle (a key missing from
    preprocessing.json, a value of the wrong type) as a :class:`BundleError` naming the file::

        with reading("preprocessing.json"):
            task._restore(bundle.preprocessing)

    A BundleError passes unchanged; another rnnkit error keeps its message after the file's
    name; a raw KeyError, TypeError, ValueError, IndexError or AttributeError is described."""
    try:
        yield
    except BundleError:
        raise
    except RnnkitError as err:
        raise BundleError(f"bundle file {file}: {err}") from None
    except KeyError as err:
        raise BundleError(expected(f"bundle file {file}", "the content its task wrote",
                                   Described(f"no key {err.args[0]!r}" if err.args else "a "
                                             "missing key"), _RESAVE)) from None
    except (TypeError, ValueError, IndexError, AttributeError) as err:
        raise BundleError(expected(f"bundle file {file}", "the content its task wrote",
                                   Described(f"a value its task cannot read "
                                             f"({type(err).__name__}: {err})"), _RESAVE)) from None


#: the optional file of the reference profile (rnnkit.monitoring.profile.PROFILE_FILE)
PROFILE = "profile.json"

_RESAVE = "the bundle was edited or written by another rnnkit version: save it again"
