r"""``use_onnx``: run a fitted task's network under onnxruntime, the rest of the task unchanged.

``rnnkit serve --runtime onnx`` calls :func:`use_onnx` on each loaded task: the task's
``model_`` is replaced by an :class:`OnnxNetwork`, an ``nn.Module`` stand-in whose
``forward`` converts its tensors to NumPy, runs an onnxruntime session of the network-only
graph (``preprocessing=False``: the task keeps doing its own scaling, tokenizing, rollout and
decoding in Python) and converts the result back. So ``predict``, ``predict_frame`` and
``predict_proba`` work as before and agree with torch within 1e-5.

The stand-in holds one dummy float32 parameter, so ``next(model.parameters())`` still tells
the task the device (CPU) and dtype; a tagger's stand-in keeps the CRF (Viterbi decoding runs
in torch). What the stand-in cannot do: train, ``save`` a bundle (load the original bundle
instead), or return attention weights. Language models and seq2seq tasks are refused
(ConfigError): their decoding loops (sampling, beam search) call the network step by step
with a state.

Example::

    >>> task = use_onnx(rnnkit.tasks.load("runs/battery/model"))
    >>> task.predict(frame)    # the same forecast, computed by onnxruntime
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.export.exporter import build_graph, ort_module
from rnnkit.tasks.base import Task
from rnnkit.tasks.tagging import TaggerNet

__all__ = ["OnnxNetwork", "OnnxTagger", "use_onnx"]

# Attributes the tasks read from their network besides calling it (rollout, windows).
_KEPT = ("horizon", "look_back", "n_features", "n_targets", "target_idx", "future_idx",
         "pooling", "n_classes", "n_tags")


class OnnxNetwork(nn.Module):
    """A task network's stand-in running an onnxruntime session of its network-only graph.

    Args:
        session: the ``onnxruntime.InferenceSession``.
        original: the torch network it replaces (its plain attributes such as ``horizon``
            and ``target_idx`` are copied).

    Forward: the original's inputs (``x``, and ``lengths`` for the sequence tasks) ->
    its output, a float32 CPU tensor.
    """

    def __init__(self, session: Any, original: nn.Module) -> None:
        super().__init__()
        # first parameter: the tasks read the device and dtype from it
        self.anchor = nn.Parameter(torch.zeros((), dtype=torch.float32), requires_grad=False)
        self.session = session
        self._inputs = [i.name for i in session.get_inputs()]
        for name in _KEPT:
            if hasattr(original, name):
                setattr(self, name, getattr(original, name))
        self.eval()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        arr = x.detach().cpu().numpy()
        feeds = {"x": arr if arr.dtype == np.int64 else arr.astype(np.float32)}
        if "lengths" in self._inputs:
            if lengths is None:
                lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
            feeds["lengths"] = lengths.detach().cpu().numpy().astype(np.int64)
        (out,) = self.session.run(None, feeds)
        return torch.from_numpy(np.ascontiguousarray(out))

    def train(self, mode: bool = True) -> OnnxNetwork:
        if mode:
            raise ConfigError(expected("model_", "a torch network to train",
                                       Described("an onnxruntime stand-in (use_onnx)"),
                                       "load the bundle again to train"))
        return super().train(False)


class OnnxTagger(OnnxNetwork):
    """The tagger's stand-in: emissions from onnxruntime, decoding (Viterbi with the CRF,
    else argmax) in torch as :meth:`TaggerNet.decode` does."""

    decode = TaggerNet.decode

    def __init__(self, session: Any, original: TaggerNet) -> None:
        super().__init__(session, original)
        self.crf = original.crf

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # as TaggerNet: cut to the longest sentence
        return super().forward(x, lengths)


def use_onnx(task: Task, *, providers: list[str] | None = None) -> Task:
    """Replace ``task.model_`` by an onnxruntime stand-in (see the module docstring) and
    return the task.

    Args:
        task: a fitted Forecaster, SequenceClassifier or SequenceTagger.
        providers: onnxruntime execution providers (default: the CPU's).
    """
    name = getattr(task, "name", None)
    if name in ("language_model", "seq2seq"):
        raise ConfigError(expected(
            "task", "forecasting, classification or tagging for the onnx runtime", name,
            "its decoding calls the network step by step with a state (sampling, beam "
            "search); serve it with the torch runtime"))
    original = task._require_fitted() if isinstance(task, Task) else None
    if isinstance(original, OnnxNetwork):
        return task
    graph, _ = build_graph(task, preprocessing=False)
    ort = ort_module()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # as many threads as torch would use, and no spin-waiting: a server runs one session per
    # model beside its HTTP workers, and spinning threads steal their cores
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(graph.model().SerializeToString(), options,
                                   providers=providers or ["CPUExecutionProvider"])
    cls = OnnxTagger if isinstance(original, TaggerNet) else OnnxNetwork
    task.model_ = cls(session, original)  # type: ignore[arg-type]
    return task
