r"""``export_onnx``: a fitted task as an ONNX file and a JSON beside it, written atomically.

The graph takes raw values and returns outputs in original units (the task's module says
exactly what, :mod:`.forecasting`, :mod:`.classification`, :mod:`.tagging`); the JSON beside
it (``model.onnx`` -> ``model.json``) describes the inputs and outputs and holds what stays
outside the graph (columns, classes, vocabulary and tokenizer, tag names, CRF transitions).
The same JSON is embedded in the graph's metadata under the key ``"rnnkit"``.

``quantize="int8"`` stores the weights of the matrix products as int8 with onnxruntime's
dynamic quantization (:func:`onnxruntime.quantization.quantize_dynamic`); the accuracy change
is measured on ``sample`` (a dict of graph inputs; default: a seeded example drawn around the
fitted scaler's statistics, or random token ids) as the maximum absolute and the RMS
difference of the main output against the float32 graph.

Example::

    >>> result = export_onnx(forecaster, "model.onnx", quantize="int8")
    >>> print(result.summary())  # doctest: +SKIP
    wrote model.onnx (61.5 kB, int8) and model.json
      input  history: (batch, time >= 20, 1) float32, raw, columns ['capacity']
      output forecast: (batch, 1, 1) float32, original units, targets ['capacity']
      int8 vs float32 on 8 sample rows of forecast: max abs diff 0.00104, RMSE 0.000646
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit import __version__
from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, MissingDependencyError
from rnnkit.export._graph import OPSET, Graph, onnx_module
from rnnkit.export.classification import classifier_graph
from rnnkit.export.forecasting import forecaster_graph
from rnnkit.export.tagging import tagger_graph
from rnnkit.tasks.base import Task

__all__ = [
    "QUANTIZATIONS",
    "ExportResult",
    "build_graph",
    "example_inputs",
    "export_onnx",
    "ort_module",
]

#: The accepted values of ``quantize`` (None: float32 weights).
QUANTIZATIONS = ("int8",)
_BUILDERS = {"forecasting": forecaster_graph, "classification": classifier_graph,
             "tagging": tagger_graph}
_NOT_EXPORTED = {
    "language_model": "generation samples token by token in Python (temperature, top-k, "
                      "top-p); serve it with the torch runtime",
    "seq2seq": "beam search decodes in Python; serve it with the torch runtime",
}
_EXTRA = "install the export extra: pip install 'rnnkit[export]'"


def ort_module() -> Any:
    """The ``onnxruntime`` package, or a MissingDependencyError naming the extra."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependencyError(expected(
            "onnxruntime", "the optional 'onnxruntime' package", Described("not installed"),
            _EXTRA)) from exc
    return onnxruntime


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote.

    Attributes:
        path: the ONNX file; metadata_path: the JSON beside it.
        task: the task name; step: whether it is the one-step graph.
        inputs, outputs: name -> description (shape, dtype, units).
        quantize: None or ``"int8"``.
        accuracy: with ``quantize``, the change of the main output against float32 on the
            sample: ``{"output", "max_abs_diff", "rmse", "samples"}``; else None.
        size_bytes: the ONNX file's size.
    """

    path: Path
    metadata_path: Path
    task: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    step: bool = False
    quantize: str | None = None
    accuracy: dict[str, Any] | None = None
    size_bytes: int = 0
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """A few lines: the files, the inputs -> outputs and the quantization's effect."""
        kind = f", {self.quantize}" if self.quantize else ""
        lines = [f"wrote {self.path} ({self.size_bytes / 1000:.1f} kB{kind}) and "
                 f"{self.metadata_path}"]
        lines += [f"  input  {k}: {v}" for k, v in self.inputs.items()]
        lines += [f"  output {k}: {v}" for k, v in self.outputs.items()]
        if self.accuracy is not None:
            a = self.accuracy
            lines.append(f"  int8 vs float32 on {a['samples']} sample rows of "
                         f"{a['output']}: max abs diff {a['max_abs_diff']:.3g}, "
                         f"RMSE {a['rmse']:.3g}")
        return "\n".join(lines)


def build_graph(task: Task, *, preprocessing: bool = True, step: bool = False
                ) -> tuple[Graph, dict[str, Any]]:
    """The graph of a fitted ``task`` and its metadata (see the task's module); a
    ConfigError names what cannot be exported."""
    name = getattr(task, "name", None)
    if name in _NOT_EXPORTED:
        raise ConfigError(expected("task", "forecasting, classification or tagging to export "
                                   "to ONNX", name, _NOT_EXPORTED[name]))
    if name not in _BUILDERS or not isinstance(task, Task):
        raise ConfigError(expected("task", "a fitted rnnkit task (forecasting, classification "
                                   "or tagging)", Described(type(task).__name__)))
    return _BUILDERS[name](task, preprocessing=preprocessing, step=step)


def export_onnx(task: Task, path: str | os.PathLike[str], *, quantize: str | None = None,
                step: bool = False, sample: Mapping[str, Any] | None = None) -> ExportResult:
    """Write ``task`` as an ONNX graph to ``path`` and its JSON metadata beside it.

    Args:
        task: a fitted Forecaster, SequenceClassifier or SequenceTagger.
        path: the ONNX file (``.onnx``); the JSON goes to the same name with ``.json``.
        quantize: None (float32) or ``"int8"`` (dynamic quantization of the weights).
        step: write the one-step streaming graph (state in, state out) instead.
        sample: graph inputs (name -> array) on which the quantization's accuracy change is
            measured (default: :func:`example_inputs`).

    Returns:
        an :class:`ExportResult`. Both files are written atomically (a temporary sibling,
        then a rename): an existing file is replaced whole or not at all.
    """
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ConfigError(expected("quantize", f"None or one of {list(QUANTIZATIONS)}",
                                   quantize))
    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ConfigError(expected("path", "an .onnx file name", str(path),
                                   "the metadata JSON is written beside it"))
    meta_path = path.with_suffix(".json")
    graph, meta = build_graph(task, step=step)
    meta.update(format="onnx", opset=OPSET, rnnkit_version=__version__, step=step,
                graph=path.name, quantize=quantize)
    graph.metadata["rnnkit.task"] = meta["task"]
    model = graph.model()
    data = model.SerializeToString()
    accuracy = None
    if quantize is not None:
        feeds = dict(sample) if sample is not None else example_inputs(task, model)
        quantized = _quantize(data)
        accuracy = _compare(data, quantized, feeds, main_output(meta))
        data = quantized
    meta["accuracy"] = accuracy
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    data = _with_metadata(data, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, data)
    _write_atomic(meta_path, text.encode("utf-8"))
    return ExportResult(path, meta_path, meta["task"], meta["inputs"], meta["outputs"],
                        step, quantize, accuracy, len(data), meta)


def main_output(meta: Mapping[str, Any]) -> str:
    """The output the accuracy is measured on: the forecast, probabilities or emissions."""
    for name in ("forecast", "probabilities", "emissions", "y", "logits"):
        if name in meta["outputs"]:
            return name
    return next(iter(meta["outputs"]))


def _with_metadata(data: bytes, text: str) -> bytes:
    model = onnx_module().load_from_string(data)
    entry = model.metadata_props.add()
    entry.key, entry.value = "rnnkit", text
    return model.SerializeToString()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _quantize(data: bytes) -> bytes:
    ort_module()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    quiet = _DropAdvice()
    root.addFilter(quiet)  # its advice to pre-process does not apply to these graphs
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
            src.write_bytes(data)
            quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
            return dst.read_bytes()
    finally:
        root.removeFilter(quiet)


class _DropAdvice(logging.Filter):
    """Drops the quantizer's "consider to run pre-processing" warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _compare(float_data: bytes, int8_data: bytes, feeds: Mapping[str, Any], output: str
             ) -> dict[str, Any]:
    ort = ort_module()
    runs = []
    for data in (float_data, int8_data):
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        wanted = {i.name for i in sess.get_inputs()}
        values = sess.run([output], {k: np.asarray(v) for k, v in feeds.items() if k in wanted})
        runs.append(np.asarray(values[0], np.float64))
    diff = runs[1] - runs[0]
    return {"output": output, "max_abs_diff": float(np.abs(diff).max()),
            "rmse": float(np.sqrt(np.mean(diff**2))), "samples": int(runs[0].shape[0])}


def example_inputs(task: Task, model: Any, *, batch: int = 8, time: int | None = None,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs for the graph ``model`` of ``task``: values drawn around the fitted
    scaler's center and scale (raw units), token ids within the vocabularies, zero states,
    lengths in [1, time] (one row full)."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    steps = time or _default_time(task)
    for inp in model.graph.input:
        name = inp.name
        dims = [d.dim_value if d.dim_value > 0 else None for d in inp.type.tensor_type.shape.dim]
        shape = [batch if i == 0 else (steps if v is None else v) for i, v in enumerate(dims)]
        if name == "lengths":
            lens = rng.integers(1, steps + 1, size=batch)
            lens[0] = steps
            feeds[name] = lens.astype(np.int64)
        elif name in ("h", "c"):
            feeds[name] = np.zeros(shape, np.float32)
        elif inp.type.tensor_type.elem_type == 7:  # int64 ids
            feeds[name] = _ids(task, shape, rng)
        else:
            feeds[name] = _raw(task, name, shape, rng)
    return feeds


def _default_time(task: Task) -> int:
    prep = getattr(task, "preprocessing_", None)
    return prep.look_back if prep is not None else 8


def _raw(task: Task, name: str, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    scaler = None
    prep = getattr(task, "preprocessing_", None)
    if prep is not None:
        scaler = prep.scaler
    elif getattr(task, "inputs_", None) is not None:
        scaler = task.inputs_.scaler  # type: ignore[attr-defined]
    z = rng.normal(size=shape)
    if scaler is None or name == "x":
        return z.astype(np.float32)
    center, scale = np.asarray(scaler.center_), np.asarray(scaler.scale_)
    if name == "future" and prep is not None:
        center, scale = center[prep.future_idx], scale[prep.future_idx]
    return (center + scale * z).astype(np.float32)


def _ids(task: Task, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    features = getattr(task, "features_", None)
    if features is not None:  # the tagger: word, suffix and shape ids
        from rnnkit.tasks.tagging import SHAPES

        highs = [len(features.words), len(features.suffixes) if features.suffixes else 1,
                 len(SHAPES) + 1]
        cols = [rng.integers(1, max(h, 2), size=shape[:-1]) for h in highs]
        if features.suffixes is None:
            cols[1] = np.zeros(shape[:-1], np.int64)
        return np.stack(cols, axis=-1).astype(np.int64)
    vocab = len(task.inputs_.vocab)  # type: ignore[attr-defined]
    return rng.integers(1, max(vocab, 2), size=shape).astype(np.int64)
