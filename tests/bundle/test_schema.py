"""The tamper suite: a real bundle, damaged one way at a time, must be refused by load_bundle
with a BundleError that names the file (and key or tensor) at fault, never a raw error and never
a silent load. Tamperings marked ``rehash`` also rewrite the manifest's checksums, as a careless
editor or an attacker would, so that the checks behind the checksums are reached."""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from rnnkit.bundle import BundleError, load_bundle, save_bundle
from rnnkit.bundle.schema import is_bundle, sha256


def _bundle(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return save_bundle(tmp_path / "b", task="demo", model=torch.nn.Linear(3, 2),
                       config={"config": {"hidden": 2}}, preprocessing={"scale": [1.0]},
                       metrics={"rmse": 0.5})


def _manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def _set_manifest(path: Path, manifest: dict) -> None:
    (path / "manifest.json").write_text(json.dumps(manifest))


def _rehash(path: Path) -> None:
    """Rewrite the manifest's checksums for the listed files that exist."""
    manifest = _manifest(path)
    manifest["files"] = {name: sha256(path / name) if (path / name).is_file() else digest
                         for name, digest in manifest["files"].items()}
    _set_manifest(path, manifest)


def _edit_json(name: str, value) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        (path / name).write_text(json.dumps(value))
    return edit


def _edit_manifest(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        manifest = _manifest(path)
        fn(manifest)
        _set_manifest(path, manifest)
    return edit


def _header(path: Path) -> tuple[dict, bytes]:
    raw = (path / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _edit_header(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        header, data = _header(path)
        fn(header)
        text = json.dumps(header).encode()
        (path / "model.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + data)
    return edit


def _truncate(size: int) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        f = path / "model.safetensors"
        f.write_bytes(f.read_bytes()[:size])
    return edit


def _append(extra: bytes) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        f = path / "model.safetensors"
        f.write_bytes(f.read_bytes() + extra)
    return edit


def _flip(offset: int) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        f = path / "model.safetensors"
        raw = bytearray(f.read_bytes())
        raw[offset] ^= 0xFF
        f.write_bytes(bytes(raw))
    return edit


def _weights(tensors: dict[str, torch.Tensor]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        save_file(tensors, str(path / "model.safetensors"))
    return edit


def _delete(name: str) -> Callable[[Path], None]:
    return lambda path: (path / name).unlink()


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda path: (path / name).write_bytes(content)


def _symlink_config(path: Path) -> None:
    outside = path.parent / "outside.json"
    outside.write_text(json.dumps({"task": "demo"}))
    (path / "config.json").unlink()
    os.symlink(outside, path / "config.json")


def _directory_for_weights(path: Path) -> None:
    (path / "model.safetensors").unlink()
    (path / "model.safetensors").mkdir()


def _length(n: int) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        f = path / "model.safetensors"
        f.write_bytes(struct.pack("<Q", n) + f.read_bytes()[8:])
    return edit


MISSING = "expected a file matching its sha256, got a missing file"
FILES = "manifest.json files: expected plain file names inside the bundle"
DTYPE = "model.safetensors tensor 'weight' dtype: expected a floating point or integer dtype"

# (id, tampering, rehash, the start of the message)
CASES = [
    ("delete weights", _delete("model.safetensors"), False,
     f"bundle file model.safetensors: {MISSING}"),
    ("delete config", _delete("config.json"), False, f"bundle file config.json: {MISSING}"),
    ("delete preprocessing", _delete("preprocessing.json"), False,
     f"bundle file preprocessing.json: {MISSING}"),
    ("delete metrics", _delete("metrics.json"), False, f"bundle file metrics.json: {MISSING}"),
    ("delete manifest", _delete("manifest.json"), False,
     "path: expected an rnnkit bundle directory with manifest.json"),
    ("flip a data byte", _flip(-1), False,
     "bundle file model.safetensors: expected a file matching its sha256, got a modified file"),
    ("edit preprocessing", _edit_json("preprocessing.json", {"scale": [2.0]}), False,
     "bundle file preprocessing.json: expected a file matching its sha256, got a modified file"),
    ("truncate to 4 bytes", _truncate(4), True,
     "bundle file model.safetensors: expected a safetensors file (an 8-byte header length "
     "first), got a file of 4 bytes"),
    ("truncate in the header", _truncate(20), True,
     "bundle file model.safetensors: expected a header length that fits in the file"),
    ("truncate in the data", _truncate(-4), True,
     "model.safetensors tensor 'weight' data_offsets: expected [begin, end] within the 28 "
     "data bytes, got [8, 32]"),
    ("bytes after the data", _append(b"junk"), True,
     "bundle file model.safetensors: expected 32 bytes of tensor data, got 36 bytes"),
    ("huge header length", _length(2**63), True,
     "bundle file model.safetensors: expected a header length that fits in the file"),
    ("flip a header byte", _flip(8), True,
     "bundle file model.safetensors: expected a JSON header, got an unreadable one"),
    ("header is an array", _write("model.safetensors", struct.pack("<Q", 2) + b"[]"), True,
     "bundle file model.safetensors header: expected a JSON object, got a JSON array"),
    ("bool tensor", _weights({"weight": torch.ones(2, 3, dtype=torch.bool),
                              "bias": torch.zeros(2)}), True, f"{DTYPE}"),
    ("complex tensor", _weights({"weight": torch.ones(2, 3, dtype=torch.complex64),
                                 "bias": torch.zeros(2)}), True, f"{DTYPE}"),
    ("rank 9 tensor", _edit_header(lambda h: h["bias"].update(shape=[1] * 7 + [2, 1])), True,
     "model.safetensors tensor 'bias' shape: expected a list of at most 8 sizes >= 0"),
    ("negative size", _edit_header(lambda h: h["bias"].update(shape=[-2])), True,
     "model.safetensors tensor 'bias' shape: expected a list of at most 8 sizes >= 0, got [-2]"),
    ("shape disagrees with offsets", _edit_header(lambda h: h["bias"].update(shape=[3])), True,
     "model.safetensors tensor 'bias' data_offsets: expected 12 bytes for shape [3], got 8 bytes"),
    ("offsets out of the data", _edit_header(lambda h: h["bias"].update(data_offsets=[0, 800])),
     True, "model.safetensors tensor 'bias' data_offsets: expected [begin, end] within the 32"),
    ("overlapping tensors", _edit_header(lambda h: h["weight"].update(data_offsets=[0, 24])),
     True, "model.safetensors tensor 'weight': expected data at offset 8, got offset 0"),
    ("entry without dtype", _edit_header(lambda h: h["bias"].pop("dtype")), True,
     "model.safetensors tensor 'bias': expected a named entry with dtype, shape and data_offsets"),
    ("config is an array", _edit_json("config.json", ["demo"]), True,
     "bundle file config.json: expected a JSON object, got a JSON array"),
    ("preprocessing is a string", _edit_json("preprocessing.json", "scale"), True,
     "bundle file preprocessing.json: expected a JSON object, got a JSON string"),
    ("metrics is a number", _edit_json("metrics.json", 0.5), True,
     "bundle file metrics.json: expected a JSON object, got a JSON number"),
    ("config not JSON", _write("config.json", b'{"task": "demo",'), True,
     "bundle file config.json: expected valid UTF-8 JSON, got unreadable JSON"),
    ("config not UTF-8", _write("config.json", b'{"task": "\xff"}'), True,
     "bundle file config.json: expected valid UTF-8 JSON, got unreadable JSON"),
    ("config without task", _edit_json("config.json", {"config": {}}), True,
     "config.json task: expected a task name, got None"),
    ("config task not a string", _edit_json("config.json", {"task": 3}), True,
     "config.json task: expected a task name, got 3"),
    ("config of another task", _edit_json("config.json", {"task": "other"}), True,
     "config.json task: expected 'demo' as manifest.json says, got 'other'"),
    ("manifest entry ../x", _edit_manifest(lambda m: m["files"].update({"../x": "0" * 64})),
     False, f"{FILES} (letters, digits, '_', '-', '.'; no '/', no '..', no absolute path), "
     "got '../x'"),
    ("manifest entry absolute", _edit_manifest(
        lambda m: m["files"].update({"/etc/hosts": "0" * 64})), False, f"{FILES}"),
    ("manifest entry in a folder", _edit_manifest(
        lambda m: m["files"].update({"sub/config.json": "0" * 64})), False, f"{FILES}"),
    ("manifest lists itself", _edit_manifest(
        lambda m: m["files"].update({"manifest.json": "0" * 64})), False, f"{FILES}"),
    ("manifest files empty", _edit_manifest(lambda m: m.update(files={})), False,
     "manifest.json files: expected a non-empty map of file name to sha256, got {}"),
    ("manifest files a list", _edit_manifest(lambda m: m.update(files=list(m["files"]))), False,
     "manifest.json files: expected a non-empty map of file name to sha256, got ["),
    ("manifest without metrics", _edit_manifest(lambda m: m["files"].pop("metrics.json")), False,
     "manifest.json files: expected entries for config.json, preprocessing.json, metrics.json, "
     "model.safetensors, got no entry for metrics.json"),
    ("manifest digest not hex", _edit_manifest(lambda m: m["files"].update(
        {"config.json": "z" * 64})), False,
     "manifest.json files['config.json']: expected a sha256 of 64 hexadecimal digits"),
    ("manifest format 2", _edit_manifest(lambda m: m.update(format=2)), False,
     "manifest.json format: expected 1, got 2"),
    ("manifest format true", _edit_manifest(lambda m: m.update(format=True)), False,
     "manifest.json format: expected 1, got True"),
    ("manifest without task", _edit_manifest(lambda m: m.pop("task")), False,
     "manifest.json task: expected a task name, got None"),
    ("manifest not JSON", _write("manifest.json", b"{"), False,
     "bundle file manifest.json: expected valid UTF-8 JSON"),
    ("manifest an array", _write("manifest.json", b"[]"), False,
     "bundle file manifest.json: expected a JSON object, got a JSON array"),
    ("extra unlisted file", _write("extra.txt", b"hi"), False,
     "bundle directory: expected only the files manifest.json lists, got unlisted 'extra.txt'"),
    ("extra folder", lambda path: (path / "sub").mkdir(), False,
     "bundle directory: expected only the files manifest.json lists, got unlisted 'sub'"),
    ("config a link outside", _symlink_config, False,
     "bundle file config.json: expected a regular file, got a link or a directory"),
    ("weights a folder", _directory_for_weights, False,
     "bundle file model.safetensors: expected a regular file, got a link or a directory"),
]


def test_the_suite_has_enough_distinct_tamperings():
    assert len({name for name, *_ in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize(("tamper", "rehash", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_tampered_bundle_is_refused_naming_the_file(tmp_path, tamper, rehash, message):
    path = _bundle(tmp_path)
    tamper(path)
    if rehash:
        _rehash(path)
    with pytest.raises(BundleError, match="^" + re.escape(message)):
        load_bundle(path)


def test_rehashing_an_untouched_bundle_changes_nothing(tmp_path):
    path = _bundle(tmp_path)
    _rehash(path)
    b = load_bundle(path, task="demo")
    assert b.config == {"config": {"hidden": 2}} and b.preprocessing == {"scale": [1.0]}
    assert set(b.state_dict) == {"weight", "bias"}


def test_is_bundle(tmp_path):
    path = _bundle(tmp_path)
    assert is_bundle(path)
    assert not is_bundle(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    assert not is_bundle(tmp_path / "file")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "manifest.json").write_text('{"files": {}}')  # no format
    assert not is_bundle(tmp_path / "folder")
    (tmp_path / "folder" / "manifest.json").write_text("not json")
    assert not is_bundle(tmp_path / "folder")
