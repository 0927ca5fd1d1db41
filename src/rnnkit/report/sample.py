"""A bounded sample of what a trained network saw, kept in its run directory for the report.

The report's model diagnostics (gradient flow, hidden states, sensitivity) need inputs in the
form the network takes: token ids, windows already scaled, lengths. Every task prepares them
differently, so rather than re-reading data the report captures them: :func:`capture_sample`
runs a prediction (any callable) with hooks on the network and on its recurrent layer, and
keeps the first batch they receive, cut to ``max_examples`` sequences:

- ``inputs`` / ``kwargs``: the network's own arguments (tensors, or None), so that its output
  can be recomputed on changed inputs (occlusion, integrated gradients);
- ``layer_input`` (B, T, F) and ``lengths`` (B,): what the recurrent layer received, so that
  the layer can be stepped on its own (gradient flow, hidden states);
- ``color`` (B,): a value per sequence (a class, a target) that projections are coloured by.

A :class:`Sample` is saved as ``report/sample.safetensors`` with ``report/sample.json``
beside it, so that ``rnnkit report RUN`` can redraw the report from the run directory alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.analysis.gradients import find_recurrent
from rnnkit.errors import ConfigError, DataError

__all__ = ["COLOR_FROM", "SAMPLE_FILES", "Sample", "capture_sample", "load_sample"]

#: The files a saved sample occupies inside a folder.
SAMPLE_FILES = ("sample.safetensors", "sample.json")


@dataclass(frozen=True)
class Sample:
    """What a network and its recurrent layer received on a bounded number of sequences.

    Attributes:
        inputs: the network's positional arguments (tensors with the batch axis first, or
            None), the first being its input x.
        kwargs: its keyword arguments, the same way.
        layer_input: (B, T, F) what the first recurrent layer received.
        lengths: (B,) real steps per sequence, or None (all T).
        color: (B,) a value per sequence to colour projections by, or None.
        color_name: what ``color`` is (``"label"``, ``"target"``, ...).
        total: how many sequences the captured batch held before it was cut to B.
    """

    inputs: tuple[torch.Tensor | None, ...]
    kwargs: dict[str, torch.Tensor | None]
    layer_input: torch.Tensor
    lengths: torch.Tensor | None = None
    color: np.ndarray | None = None
    color_name: str = "value"
    total: int = 0

    @property
    def size(self) -> int:
        """B, the number of sequences kept."""
        return int(self.layer_input.shape[0])

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``sample.safetensors`` and ``sample.json`` into ``folder`` (created)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, torch.Tensor] = {"layer_input": self.layer_input.contiguous()}
        layout: dict[str, Any] = {"inputs": [], "kwargs": {}, "color_name": self.color_name,
                                  "total": self.total}
        for i, value in enumerate(self.inputs):
            layout["inputs"].append(value is not None)
            if value is not None:
                tensors[f"input.{i}"] = value.contiguous()
        for key, value in self.kwargs.items():
            layout["kwargs"][key] = value is not None
            if value is not None:
                tensors[f"kwarg.{key}"] = value.contiguous()
        if self.lengths is not None:
            tensors["lengths"] = self.lengths.contiguous()
        if self.color is not None:
            layout["color_kind"] = self.color.dtype.kind
            tensors["color"] = torch.as_tensor(_numeric(self.color))
            if self.color.dtype.kind not in "biuf":
                layout["color_values"] = [str(v) for v in self.color.tolist()]
        save_file(tensors, str(folder / SAMPLE_FILES[0]))
        (folder / SAMPLE_FILES[1]).write_text(json.dumps(layout, indent=1) + "\n",
                                              encoding="utf-8")
        return folder


def _numeric(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    _, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.float64)


def load_sample(folder: str | os.PathLike[str]) -> Sample | None:
    """The sample saved in ``folder`` by :meth:`Sample.save`, or None when there is none.

    Raises:
        DataError: the files are there but unreadable (truncated, edited, another format).
    """
    from safetensors import SafetensorError

    folder = Path(folder)
    if not all((folder / name).is_file() for name in SAMPLE_FILES):
        return None
    try:
        return _read_sample(folder)
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as err:
        raise DataError(expected(str(folder), "a probe sample written by Sample.save",
                                 Described(f"unreadable files ({type(err).__name__}: {err})"),
                                 "rewrite it by running the lab or rnnkit train again")) from err


def _read_sample(folder: Path) -> Sample:
    from safetensors.torch import load_file

    layout = json.loads((folder / SAMPLE_FILES[1]).read_text(encoding="utf-8"))
    tensors = load_file(str(folder / SAMPLE_FILES[0]))
    inputs = tuple(tensors[f"input.{i}"] if present else None
                   for i, present in enumerate(layout["inputs"]))
    kwargs = {k: tensors[f"kwarg.{k}"] if present else None
              for k, present in layout["kwargs"].items()}
    color = None
    if "color" in tensors:
        color = (np.asarray(layout["color_values"]) if "color_values" in layout
                 else tensors["color"].numpy())
    return Sample(inputs=inputs, kwargs=kwargs, layer_input=tensors["layer_input"],
                  lengths=tensors.get("lengths"), color=color,
                  color_name=layout.get("color_name", "value"), total=layout.get("total", 0))


def _cut(value: Any, batch: int, keep: int) -> torch.Tensor | None:
    if torch.is_tensor(value) and value.dim() >= 1 and value.shape[0] == batch:
        return value.detach()[:keep].cpu().clone()
    return None


#: How a colour per sequence can be read off the network's output (B, ...).
COLOR_FROM = ("class", "value")


def _output_color(output: Any, how: str, batch: int, keep: int) -> np.ndarray | None:
    """One value per sequence read off the output: None unless it has the batch axis first
    (and, for a class, exactly one axis of classes after it)."""
    out = output[0] if isinstance(output, (tuple, list)) else output
    if not torch.is_tensor(out) or out.dim() < 1 or out.shape[0] != batch:
        return None
    if how == "class" and out.dim() != 2:
        return None
    flat = out.detach().reshape(out.shape[0], -1)[:keep].double().cpu()  # (B, D)
    if flat.shape[1] == 0:
        return None
    if how == "class":
        return flat.argmax(-1).numpy().astype(np.int64)
    return flat[:, 0].numpy()


def capture_sample(model_or_task: Any, run: Callable[[], Any], *, max_examples: int = 64,
                   color: Any = None, color_name: str = "value",
                   color_from: str | None = None) -> Sample:
    """Run ``run()`` (a prediction) and keep the first batch the network received.

    Args:
        model_or_task: a fitted task (its ``model_``) or a torch module containing an rnnkit
            recurrent layer.
        run: a callable that makes the network run forward at least once, e.g.
            ``lambda: task.predict(test_part)``.
        max_examples: keep at most this many sequences (the first ones of the batch).
        color: a value per sequence of the data ``run`` predicts (labels, targets), in the
            order the network receives them; the first B are kept. None: see ``color_from``.
        color_name: what ``color`` is, for the plot's legend.
        color_from: without ``color``, read it off the network's own output on the captured
            batch (always aligned, whatever order a task batches in): ``"class"`` (the
            argmax, a predicted class index) or ``"value"`` (the first output value, e.g.
            the forecast); None: projections are coloured by time step.

    Returns:
        a :class:`Sample`; arguments that are not tensors with the batch axis first (a state
        passed as a tuple, a flag) are kept as None.

    Raises:
        ConfigError: ``run`` never ran the recurrent layer, or ``max_examples`` < 1.
    """
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise ConfigError(expected("max_examples", "an integer >= 1", max_examples))
    if color_from is not None and color_from not in COLOR_FROM:
        raise ConfigError(expected("color_from", f"None or one of {list(COLOR_FROM)}",
                                   color_from))
    network = getattr(model_or_task, "model_", model_or_task)
    if not isinstance(network, nn.Module):
        raise ConfigError(expected("model_or_task", "a fitted task or a torch module",
                                   Described(type(model_or_task).__name__)))
    layer = find_recurrent(network)
    seen: dict[str, Any] = {}

    def on_network(_m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                   output: Any) -> None:
        seen.setdefault("network", (args, kwargs, output))

    def on_layer(_m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        seen.setdefault("layer", (args, kwargs))

    handles = [network.register_forward_hook(on_network, with_kwargs=True),
               layer.register_forward_pre_hook(on_layer, with_kwargs=True)]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    if "layer" not in seen:
        raise ConfigError(expected("run", "a callable that runs the network's recurrent layer",
                                   Described("a call that never ran it"),
                                   "pass e.g. lambda: task.predict(data)"))
    l_args, l_kwargs = seen["layer"]
    x = l_args[0] if l_args else l_kwargs["x"]
    if x.dim() == 2:  # an unbatched call: one sequence (T, F)
        x = x.unsqueeze(0)
    batch = int(x.shape[0])
    keep = min(batch, max_examples)
    lengths = l_kwargs.get("lengths")
    if lengths is not None:
        lengths = torch.as_tensor(lengths).reshape(-1)[:keep].long().cpu().clone()
    inputs: tuple[torch.Tensor | None, ...] = ()
    kwargs: dict[str, torch.Tensor | None] = {}
    if "network" in seen:
        n_args, n_kwargs, output = seen["network"]
        first = n_args[0] if n_args else None
        n_batch = int(first.shape[0]) if torch.is_tensor(first) and first.dim() > 0 else -1
        inputs = tuple(_cut(a, n_batch, keep) for a in n_args)
        kwargs = {k: _cut(v, n_batch, keep) for k, v in n_kwargs.items()}
    colors = None
    if color is not None:
        colors = np.asarray(color)[:keep]
        if colors.ndim != 1:
            colors = None
    elif color_from is not None and "network" in seen:
        colors = _output_color(seen["network"][2], color_from, batch, keep)
    return Sample(inputs=inputs, kwargs=kwargs, layer_input=x.detach()[:keep].cpu().clone(),
                  lengths=lengths, color=colors, color_name=color_name, total=batch)
