"""Fuzz the bundle reader: byte flips, truncations and JSON edits of a small saved bundle
(the manifest re-hashed, so the deeper checks are reached) are a clean BundleError; a change
that loads must load exactly what was saved."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import fuzz_helpers
import torch
from fuzz_helpers import TALLY, classify, record, twin
from hypothesis import strategies as st

from rnnkit.bundle import load_bundle, load_weights, save_bundle
from rnnkit.nn import LSTM

AREA = "bundles: corrupted files"
FILES = ["model.safetensors", "config.json", "preprocessing.json", "metrics.json",
         "manifest.json"]
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**20), st.floats(),
                        st.text(max_size=8), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
_ORIGINAL: dict = {}


def original() -> Path:
    if "path" not in _ORIGINAL:
        torch.manual_seed(0)
        root = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-"))
        _ORIGINAL["path"] = save_bundle(root / "b", task="demo", model=LSTM(2, 3),
                                        config={"a": 1}, preprocessing={"scale": [0.5]},
                                        metrics={"rmse": 0.1})
        _ORIGINAL["bundle"] = load_bundle(_ORIGINAL["path"])
    return _ORIGINAL["path"]


@st.composite
def mutations(draw):
    name = draw(st.sampled_from(FILES))
    kind = draw(st.sampled_from(["flip", "truncate", "delete", "json"] if name.endswith(".json")
                                else ["flip", "truncate", "delete", "header"]))
    rehash = name != "manifest.json" and draw(st.booleans())
    size = (original() / name).stat().st_size
    if kind == "flip":
        # with a re-hash, a flip in the tensor bytes is a valid (different) file: flip only
        # the safetensors header then
        hi = size - 1
        if rehash and name == "model.safetensors":
            header = int.from_bytes((original() / name).read_bytes()[:8], "little")
            hi = 7 + header
        return name, kind, rehash, (draw(st.integers(0, hi)), draw(st.integers(1, 255)))
    if kind in ("truncate", "header"):
        return name, kind, rehash, draw(st.integers(0, size - 1))
    if kind == "delete":
        return name, kind, rehash, None
    doc = json.loads((original() / name).read_text())
    edit = draw(st.sampled_from(["whole", "drop", "value"]))
    keys = {"manifest.json": ["format", "task", "files", "signature"],
            "config.json": ["task"]}.get(name)
    if edit == "whole" or keys is None:
        new = draw(st.one_of(JSON_VALUES.filter(lambda v: not isinstance(v, dict)),
                             st.sampled_from(["not json {", "\udcff", ""])))
        return name, kind, rehash, ("whole", new)
    key = draw(st.sampled_from(keys))
    if key == "files" and edit == "value":
        sub = draw(st.sampled_from(["drop entry", "bad digest", "bad name"]))
        return name, kind, rehash, ("files", sub, draw(st.sampled_from(FILES[:4])),
                                    draw(st.sampled_from(["../x", "/etc/passwd", "a/b", "", "x" * 300,
                                                          "manifest.json"])))
    if edit == "drop" and key != "signature":
        return name, kind, rehash, ("drop", key)
    new = draw(JSON_VALUES.filter(lambda v: v != doc.get(key)))
    return name, kind, rehash, ("value", key, new)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply(root: Path, case) -> None:
    name, kind, rehash, arg = case
    path = root / name
    data = path.read_bytes()
    if kind == "flip":
        at, x = arg
        path.write_bytes(data[:at] + bytes([data[at] ^ x]) + data[at + 1 :])
    elif kind in ("truncate", "header"):
        path.write_bytes(data[:arg])
    elif kind == "delete":
        path.unlink()
    else:
        doc = json.loads(data)
        if arg[0] == "whole":
            text = arg[1] if isinstance(arg[1], str) and arg[1] in ("not json {", "") else None
            if arg[1] == "\udcff":
                path.write_bytes(b"\xff\xfe{")
            else:
                path.write_text(text if text is not None else json.dumps(arg[1]))
        elif arg[0] == "drop":
            doc.pop(arg[1], None)
            path.write_text(json.dumps(doc))
        elif arg[0] == "files":
            _, sub, entry, bad = arg
            if sub == "drop entry":
                doc["files"].pop(entry)
            elif sub == "bad digest":
                doc["files"][entry] = doc["files"][entry][:-1]
            else:
                doc["files"][bad] = doc["files"].pop(entry)
            path.write_text(json.dumps(doc))
        else:
            doc[arg[1]] = arg[2]
            path.write_text(json.dumps(doc))
    if rehash and name != "manifest.json" and path.exists():
        manifest = json.loads((root / "manifest.json").read_text())
        manifest["files"][name] = _sha(path)
        (root / "manifest.json").write_text(json.dumps(manifest))


def _written(root: Path, b) -> bool:
    """Whether ``b`` holds exactly what the (possibly edited) files of ``root`` say: a
    re-hashed JSON edit that still parses is a valid, different bundle, not a silent one."""
    ref = _ORIGINAL["bundle"]
    try:
        config = json.loads((root / "config.json").read_text())
        want = {"config": {k: v for k, v in config.items() if k != "task"},
                "preprocessing": json.loads((root / "preprocessing.json").read_text()),
                "metrics": json.loads((root / "metrics.json").read_text())}
    except ValueError:
        return False
    return (b.task == ref.task == config.get("task") and b.config == want["config"]
            and b.preprocessing == want["preprocessing"] and b.metrics == want["metrics"]
            and set(b.state_dict) == set(ref.state_dict)
            and all(torch.equal(b.state_dict[k], ref.state_dict[k]) for k in b.state_dict))


def check_mutation(case):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "b"
        shutil.copytree(original(), root)
        apply(root, case)
        loaded = {}

        def load():
            loaded["b"] = load_bundle(root)
            load_weights(LSTM(2, 3), loaded["b"].state_dict)

        result, err = classify(load)
        if result == "silent" and _written(root, loaded["b"]):
            TALLY[AREA]["valid edit (loads what the files say)"] += 1
            return
        record(AREA, result, case, err)
        if not fuzz_helpers.TALLY_PATH:
            assert result == "clean", f"{result} for {case!r}: {type(err).__name__}: {err}"


test_corrupted_bundles, test_corrupted_bundles_deep = twin(mutations(), check_mutation)
