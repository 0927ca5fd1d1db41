"""What a valid bundle is: the manifest's schema and the checks ``load_bundle`` runs before it
reads a single weight.

Every check raises :class:`BundleError` with a message that names the file (and the key or
tensor) at fault. The checks, in the order :func:`rnnkit.bundle.load_bundle` runs them:

1. ``manifest.json`` is a JSON object (:func:`read_json`) of format :data:`BUNDLE_FORMAT`
   whose ``files`` map is non-empty, lists every file of :data:`REQUIRED_FILES`, names each by
   a plain file name inside the bundle (no ``/``, no ``..``, no absolute path) and gives each a
   sha256 (:func:`check_manifest`);
2. the directory holds exactly those files, each a regular file (not a link) matching its
   sha256 (:func:`check_files`);
3. every JSON file parses to an object, and ``config.json`` names its ``task`` as the manifest
   does (:func:`check_config`);
4. the safetensors header is well-formed: its length fits the file, every tensor has a
   floating point or integer dtype, a rank of at most :data:`MAX_RANK`, and data offsets that
   tile the data buffer exactly (:func:`check_safetensors`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import torch

from rnnkit._validation import Described, expected
from rnnkit.errors import RnnkitError

__all__ = [
    "BUNDLE_FORMAT",
    "DTYPES",
    "MANIFEST",
    "MAX_RANK",
    "REQUIRED_FILES",
    "BundleError",
    "check_config",
    "check_files",
    "check_manifest",
    "check_safetensors",
    "check_tensor_dtype",
    "is_bundle",
    "read_json",
    "sha256",
]

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
#: the files every bundle's manifest lists
REQUIRED_FILES = ("config.json", "preprocessing.json", "metrics.json", WEIGHTS)
#: safetensors dtypes a bundle may hold (floating point and integer), with their item sizes
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
          "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1}
#: the highest tensor rank a bundle may hold (rnnkit's weights are of rank 1 or 2)
MAX_RANK = 8
_MAX_HEADER = 100_000_000  # bytes; safetensors' own limit
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BundleError(RnnkitError):
    """A bundle is missing, incomplete, corrupted or of an unknown format."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` (a file of the bundle)."""
    name = f"bundle file {path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(expected(name, "valid UTF-8 JSON", Described(f"unreadable JSON ({err})"),
                                   "the bundle is damaged: save it again")) from None
    if not isinstance(data, dict):
        raise BundleError(expected(name, "a JSON object", Described(f"a JSON {_json_type(data)}")))
    return data


def is_bundle(path: Path) -> bool:
    """Whether ``path`` is a bundle directory rnnkit wrote: its ``manifest.json`` is a JSON
    object with an integer ``format`` and a ``files`` map (its files are not verified)."""
    if path.is_symlink() or not path.is_dir() or not (path / MANIFEST).is_file():
        return False
    try:
        manifest = read_json(path / MANIFEST)
    except (BundleError, OSError):
        return False
    fmt = manifest.get("format")
    return (isinstance(fmt, int) and not isinstance(fmt, bool)
            and isinstance(manifest.get("files"), dict))


def check_manifest(manifest: dict[str, Any]) -> dict[str, str]:
    """Check the manifest's schema and return its ``files`` map (file name -> sha256)."""
    fmt = manifest.get("format")
    if isinstance(fmt, bool) or fmt != BUNDLE_FORMAT:
        raise BundleError(expected("manifest.json format", BUNDLE_FORMAT, fmt,
                                   "this bundle was written by another rnnkit version"))
    task = manifest.get("task")
    if not isinstance(task, str) or not task:
        raise BundleError(expected("manifest.json task", "a task name", task))
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError(expected("manifest.json files", "a non-empty map of file name to sha256",
                                   files))
    for name, digest in files.items():
        if not _PLAIN_NAME.fullmatch(name) or name == MANIFEST:
            raise BundleError(expected(
                "manifest.json files", "plain file names inside the bundle (letters, digits, "
                "'_', '-', '.'; no '/', no '..', no absolute path)", name))
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(expected(f"manifest.json files[{name!r}]",
                                       "a sha256 of 64 hexadecimal digits", digest))
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        raise BundleError(expected("manifest.json files",
                                   f"entries for {', '.join(REQUIRED_FILES)}",
                                   Described(f"no entry for {', '.join(missing)}")))
    signature = manifest.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise BundleError(expected("manifest.json signature", "a string", signature))
    return files


def check_files(root: Path, files: dict[str, str]) -> None:
    """The directory ``root`` holds exactly the manifest and ``files``, each matching its sha256."""
    unlisted = sorted(p.name for p in root.iterdir() if p.name != MANIFEST and p.name not in files)
    if unlisted:
        raise BundleError(expected("bundle directory", "only the files manifest.json lists",
                                   Described(f"unlisted {', '.join(map(repr, unlisted))}"),
                                   "remove them, or save the bundle again"))
    for name, digest in files.items():
        f = root / name
        if f.is_symlink() or (f.exists() and not f.is_file()):
            raise BundleError(expected(f"bundle file {name}", "a regular file",
                                       Described("a link or a directory")))
        if not f.is_file():
            raise BundleError(expected(f"bundle file {name}", "a file matching its sha256",
                                       Described("a missing file")))
        if sha256(f) != digest:
            raise BundleError(expected(f"bundle file {name}", "a file matching its sha256",
                                       Described("a modified file"),
                                       "the bundle is damaged or was edited: save it again"))


def check_config(config: dict[str, Any], manifest: dict[str, Any]) -> str:
    """``config.json`` names the manifest's task; return it."""
    task = config.get("task")
    if not isinstance(task, str) or not task:
        raise BundleError(expected("config.json task", "a task name", task))
    if task != manifest["task"]:
        raise BundleError(expected("config.json task",
                                   f"{manifest['task']!r} as manifest.json says", task))
    return task


def check_safetensors(path: Path) -> None:
    """Check the header of the safetensors file ``path`` without reading its tensors."""
    name = f"bundle file {path.name}"
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise BundleError(expected(name, "a safetensors file (an 8-byte header length first)",
                                       Described(f"a file of {size} bytes")))
        n = int.from_bytes(head, "little")
        if n > min(size - 8, _MAX_HEADER):
            raise BundleError(expected(name, "a header length that fits in the file",
                                       Described(f"{n} header bytes in a file of {size}"),
                                       "the file is truncated or corrupt: save the bundle again"))
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(expected(name, "a JSON header", Described(f"an unreadable one ({err})"),
                                   "the file is corrupt: save the bundle again")) from None
    if not isinstance(header, dict):
        raise BundleError(expected(f"{name} header", "a JSON object",
                                   Described(f"a JSON {_json_type(header)}")))
    spans = []
    for tensor, info in header.items():
        if tensor == "__metadata__":
            continue
        spans.append((*_check_entry(tensor, info, size - 8 - n), tensor))
    end = 0
    for begin, stop, tensor in sorted(spans):
        if begin != end:
            raise BundleError(expected(f"{path.name} tensor {tensor!r}", f"data at offset {end}",
                                       Described(f"offset {begin} (overlapping or gapped data)")))
        end = stop
    if end != size - 8 - n:
        raise BundleError(expected(f"bundle file {path.name}", f"{end} bytes of tensor data",
                                   Described(f"{size - 8 - n} bytes")))


def _check_entry(tensor: str, info: Any, data_size: int) -> tuple[int, int]:
    where = f"{WEIGHTS} tensor {tensor!r}"
    if not tensor or not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise BundleError(expected(where, "a named entry with dtype, shape and data_offsets",
                                   info))
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in DTYPES:
        raise BundleError(expected(f"{where} dtype",
                                   f"a floating point or integer dtype ({', '.join(DTYPES)})",
                                   dtype))
    if (not isinstance(shape, list) or len(shape) > MAX_RANK
            or not all(_is_count(d) for d in shape)):
        raise BundleError(expected(f"{where} shape",
                                   f"a list of at most {MAX_RANK} sizes >= 0", shape))
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets))
            or not offsets[0] <= offsets[1] <= data_size):
        raise BundleError(expected(f"{where} data_offsets",
                                   f"[begin, end] within the {data_size} data bytes", offsets))
    nbytes = math.prod(shape) * DTYPES[dtype]
    if offsets[1] - offsets[0] != nbytes:
        raise BundleError(expected(f"{where} data_offsets", f"{nbytes} bytes for shape {shape}",
                                   Described(f"{offsets[1] - offsets[0]} bytes")))
    return offsets[0], offsets[1]


def check_tensor_dtype(name: str, tensor: torch.Tensor) -> None:
    """A bundle holds floating point and integer tensors only (no bool, no complex)."""
    if not (tensor.is_floating_point() or _is_integer(tensor.dtype)):
        raise BundleError(expected(f"{WEIGHTS} tensor {name!r}", "a floating point or integer "
                                   "tensor", Described(f"dtype {tensor.dtype}")))


def _is_integer(dtype: torch.dtype) -> bool:
    return not dtype.is_floating_point and not dtype.is_complex and dtype != torch.bool


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")
