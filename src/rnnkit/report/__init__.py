"""rnnkit.report: one self-contained HTML page per run (``rnnkit report RUN``).

:func:`write_report` reads a run directory and writes ``report.html`` into it: configuration,
training curves, metrics against the baselines, the task's plots, forecast residuals and the
model diagnostics of :mod:`rnnkit.analysis` drawn on a probe :class:`Sample` of the inputs the
network saw (:func:`capture_sample`), which the run keeps so that the page can be redrawn.

Example::

    >>> from rnnkit.report import capture_sample, write_report
    >>> sample = capture_sample(task, lambda: task.predict(test_part))  # doctest: +SKIP
    >>> write_report("runs/my-run", samples={"model": sample})  # doctest: +SKIP
"""

from __future__ import annotations

from rnnkit.report.diagnostics import Limits, model_sections
from rnnkit.report.run import REPORT_FILE, SAMPLES_DIR, load_network, save_samples, write_report
from rnnkit.report.sample import Sample, capture_sample, load_sample

__all__ = ["REPORT_FILE", "SAMPLES_DIR", "Limits", "Sample", "capture_sample", "load_network",
           "load_sample", "model_sections", "save_samples", "write_report"]
