from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.report.diagnostics import Limits, model_sections
from rnnkit.report.probe import probe_task

FAST = Limits(tsne_points=30, tsne_iter=250, sensitivity_examples=2, ig_steps=3)
# the tagging, language-model and seq2seq labs' tests check their reports' diagnostics too
# (tests/labs, assert_report): here they run with the slow tests
TASKS = ["forecasting", "classification", "series_classification",
         pytest.param("tagging", marks=pytest.mark.slow),
         pytest.param("language_model", marks=pytest.mark.slow),
         pytest.param("seq2seq", marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def held_out(tasks, tmp_path_factory):
    """Data each task can be probed on: the test part of its example's data, an hourly
    series for the forecaster, numeric series for the series classifier."""
    from rnnkit.examples import example_path
    from rnnkit.tasks.registry import task_from_toml

    from serving_builders import FAST as FAST_TRAINING
    from serving_builders import OVERRIDES, hourly_frame

    out = {}
    for name in OVERRIDES:
        fresh = task_from_toml(example_path(name), FAST_TRAINING)
        out[name] = fresh.split(fresh.read_data())[1]
    path = tmp_path_factory.mktemp("probe") / "hourly.csv"
    hourly_frame().to_csv(path, index=False)
    out["forecasting"] = tasks["forecasting"].read_data(path)
    rng = np.random.default_rng(1)
    out["series_classification"] = [rng.normal(size=(int(n), 2)) for n in (5, 9, 4, 12)]
    return out


@pytest.mark.parametrize("name", TASKS)
def test_every_task_is_probed_and_diagnosed(tasks, held_out, name):
    task = tasks[name]
    sample = probe_task(task, held_out[name], max_examples=5)
    layer = next(m for m in task.model_.modules() if hasattr(m, "cells"))
    assert 1 <= sample.size <= 5
    assert sample.layer_input.shape[-1] == layer.input_size
    if name in ("classification", "series_classification"):
        # the colour is each probed sequence's predicted class, recomputed here
        with torch.no_grad():
            logits = task.model_(*sample.inputs, **sample.kwargs)
        np.testing.assert_array_equal(sample.color, logits.argmax(-1).numpy())
    if name == "forecasting":
        assert sample.color is not None and sample.color_name == "forecast"
    sections = model_sections(task.model_, sample, limits=FAST)
    failed = [b.body for s in sections for b in s.blocks
              if b.kind == "note" and "could not be drawn" in b.body]
    assert failed == []
    if name in ("classification", "series_classification", "forecasting"):
        # one output row per sequence: sensitivity is drawn (through the embedding for texts)
        assert [b.kind for b in sections[3].blocks].count("figure") >= 1


def test_an_unknown_task_is_refused():
    with pytest.raises(ConfigError, match="task: expected a fitted rnnkit task"):
        probe_task(object(), [])
