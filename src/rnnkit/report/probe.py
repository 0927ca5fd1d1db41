"""A probe sample for every task: which prediction to run, and on how much data.

:func:`probe_task` cuts the task's held-out data to a few sequences, runs the prediction
that feeds the network those sequences, and captures what the network saw
(:func:`~rnnkit.report.sample.capture_sample`):

=================  ===========================================  ==========================
task               prediction run                               projections coloured by
=================  ===========================================  ==========================
forecasting        ``predict_windows(series, part)``            the forecast (first step)
classification     ``predict(first examples)``                  the predicted class
tagging            ``predict(first sentences)``                 time step
language_model     ``evaluate(first characters of the text)``   time step
seq2seq            ``predict(first sources)``                   time step
=================  ===========================================  ==========================
"""

from __future__ import annotations

from typing import Any

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.report.sample import Sample, capture_sample

__all__ = ["probe_task"]


def _head(data: Any, n: int) -> Any:
    inputs = getattr(data, "inputs", None)
    if inputs is not None and hasattr(data, "take"):  # Examples
        return data.take(range(min(n, len(inputs))))
    if isinstance(data, (list, tuple)):
        return list(data[:n])
    return data


def probe_task(task: Any, data: Any, *, max_examples: int = 64, part: str = "test") -> Sample:
    """What ``task``'s network receives on at most ``max_examples`` sequences of ``data``.

    Args:
        task: a fitted rnnkit task.
        data: held-out data in the form the task's ``evaluate`` takes (a series for a
            forecaster, which uses its own split's ``part``; Examples or inputs for the
            sequence tasks; a text for a language model).
        max_examples: the sample's bound.
        part: forecasting: which part of the split the windows come from.

    Returns:
        the captured :class:`~rnnkit.report.sample.Sample`.
    """
    name = getattr(task, "name", None)
    if name == "forecasting":
        return capture_sample(task, lambda: task.predict_windows(data, part),
                              max_examples=max_examples, color_from="value",
                              color_name="forecast")
    if name == "classification":
        head = _head(data, max_examples)
        return capture_sample(task, lambda: task.predict(head), max_examples=max_examples,
                              color_from="class", color_name="predicted class")
    if name in ("tagging", "seq2seq"):
        head = _head(data, max_examples)
        inputs = getattr(head, "inputs", head)
        return capture_sample(task, lambda: task.predict(inputs), max_examples=max_examples)
    if name == "language_model":
        text = data if isinstance(data, str) else str(data)
        return capture_sample(task, lambda: task.evaluate(text[:20_000]),
                              max_examples=max_examples)
    raise ConfigError(expected("task", "a fitted rnnkit task (forecasting, classification, "
                               "tagging, language_model, seq2seq)", Described(str(name))))
