from __future__ import annotations

import json
import re

import pytest

from rnnkit.errors import ConfigError
from rnnkit.report import REPORT_FILE, Limits, load_sample, write_report
from rnnkit.report.blocks import Section, text
from rnnkit.report.run import _comparisons, render

FAST = Limits(tsne_points=40, tsne_iter=250, sensitivity_examples=2, ig_steps=4)


def self_contained(html: str) -> bool:
    """No script, and nothing fetched: every src is a data URI, no stylesheet link."""
    sources = re.findall(r'src="([^"]*)"', html)
    return ("<script" not in html and "<link" not in html
            and all(s.startswith("data:image/png;base64,") for s in sources))


def test_a_lab_writes_a_self_contained_report(battery_run):
    html = (battery_run / REPORT_FILE).read_text(encoding="utf-8")
    assert self_contained(html)
    assert "<title>rnnkit run: battery</title>" in html
    for title in ("Summary", "Training curves", "Metrics against the baselines",
                  "The task&#39;s plots", "Forecast residuals", "Gradient flow through time",
                  "Recurrent weights", "Hidden states", "Sensitivity over time steps"):
        assert f">{title}</h2>" in html, title
    assert "could not be drawn" not in html
    # the metrics table holds the run's numbers, to 4 significant digits
    metrics = json.loads((battery_run / "metrics.json").read_text())
    rmse = metrics["evaluation"]["model"]["rmse"]
    linear = metrics["evaluation"]["baselines"]["linear_ar"]["rmse"]
    assert f"<td>{rmse:.4g}</td>" in html and f"<td>{linear:.4g}</td>" in html
    # the task's own plots are embedded, 3 of them, besides the diagnostics
    assert html.count("<figcaption>plots/") == 3
    assert load_sample(battery_run / "report" / "samples" / "model").size >= 3


def test_rnnkit_report_redraws_the_same_sections(battery_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(battery_run, copy)
    (copy / REPORT_FILE).unlink()
    path = write_report(copy, limits=FAST, diagnostics=False)
    html = path.read_text(encoding="utf-8")
    assert path == copy / REPORT_FILE and "Hidden states" not in html
    assert "<title>rnnkit run: copy</title>" in html
    # without its sample a model's diagnostics say why they are missing
    shutil.rmtree(copy / "report")
    html = write_report(copy, limits=FAST).read_text(encoding="utf-8")
    assert "No probe sample was kept for this model" in html
    assert [p.name for p in copy.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_a_folder_without_run_files_still_gets_a_page(tmp_path):
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert "No history.json in this run." in html
    assert "No metrics.json or report.json in this run." in html
    assert "No model in this run" in html


def test_misuse(tmp_path):
    with pytest.raises(ConfigError, match="RUN: expected a run directory, got"):
        write_report(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="RUN: expected a run directory"):
        write_report(tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


def test_comparison_tables_are_found_wherever_they_sit():
    metrics = {"evaluation": {"model": {"rmse": 1.0, "note": "x"},
                              "baselines": {"naive": {"rmse": 2.0}}},
               "cells": {"lstm": {"mse": 0.1, "epochs": 3}, "gru": {"mse": 0.2, "epochs": 4}},
               "passed": True}
    found = dict(_comparisons(metrics))
    assert list(found) == ["evaluation", "cells"]
    assert found["evaluation"].loc["naive", "rmse"] == 2.0
    assert list(found["evaluation"].columns) == ["rmse"]  # text is left out
    assert found["cells"].loc["gru", "epochs"] == 4


def test_render_escapes_text():
    html = render("<b>t</b>", [Section("S & T", "s", [text("<img src=x onerror=alert(1)>")])])
    assert "<b>t</b>" not in html and "&lt;b&gt;t&lt;/b&gt;" in html
    assert "<img src=x" not in html and "S &amp; T" in html


def test_a_confusion_matrix_in_the_metrics_gets_a_classes_section(tmp_path):
    metrics = {"task": "classification", "model": {"accuracy": 0.75},
               "baselines": {"majority": {"accuracy": 0.5}},
               "details": {"labels": ["neg", "pos"], "confusion_matrix": [[3, 1], [1, 3]]}}
    (tmp_path / "report.json").write_text(json.dumps(metrics))
    html = write_report(tmp_path, diagnostics=False).read_text(encoding="utf-8")
    assert ">Classes</h2>" in html and "accuracy 0.75" in html
    assert "the most frequent mistakes" in html
    assert "<td>majority</td>" in html or "<th>majority</th>" in html


def test_a_broken_probe_sample_is_named_in_the_page(battery_run, tmp_path):
    import shutil

    copy = tmp_path / "broken"
    shutil.copytree(battery_run, copy)
    (copy / "report" / "samples" / "model" / "sample.json").write_text("{")
    html = write_report(copy, limits=FAST).read_text(encoding="utf-8")
    assert "The probe sample could not be read" in html and "Summary" in html
