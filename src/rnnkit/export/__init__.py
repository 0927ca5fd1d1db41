"""Export fitted rnnkit tasks to ONNX, and run their networks under onnxruntime.

* :func:`export_onnx` writes a graph that takes raw values and returns outputs in original
  units (the fitted scaling, per-window normalization and their inverse inside), with a JSON
  beside it for what stays outside (columns, vocabulary, classes, tags, CRF transitions);
  optionally int8-quantized, or as a one-step streaming graph. ``rnnkit export`` is its
  command.
* :func:`use_onnx` swaps a loaded task's network for an onnxruntime session, so the task's
  own ``predict`` runs on it (``rnnkit serve --runtime onnx``).

Forecasting, classification (texts and numeric series) and tagging export; every built-in
cell (SimpleRNN, LSTM, GRU in both forms), stacked, bidirectional, with layer norm, matches
torch within 1e-5 in float32 at any batch size and length. Language models and seq2seq tasks
are refused with the reason. Needs the ``export`` extra (onnx, onnxruntime).

Example::

    >>> from rnnkit.export import export_onnx
    >>> result = export_onnx(forecaster, "model.onnx")
    >>> sorted(result.inputs), sorted(result.outputs)
    (['history'], ['forecast'])
"""

from rnnkit.export.exporter import QUANTIZATIONS, ExportResult, example_inputs, export_onnx
from rnnkit.export.runtime import OnnxNetwork, use_onnx

__all__ = ["QUANTIZATIONS", "ExportResult", "OnnxNetwork", "example_inputs", "export_onnx",
           "use_onnx"]
