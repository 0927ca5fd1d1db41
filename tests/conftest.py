"""Shared test setup.

Test helper modules import by bare name: ``textbook`` and ``cell_builders`` (tests/nn/),
``helpers`` (tests/training/helpers.py), ``sword_builders``
(tests/datasets/sword_builders.py) and ``serving_builders`` (tests/serving/); the conftest.py of a test folder puts its own builders on
the path (classifier_builders, tagger_builders, lm_builders, lab_builders). The whole suite
runs with one torch intra-op thread. ``bundles`` (task -> a tiny trained bundle of it) and
``tasks`` (task -> that bundle loaded) are built once per session, for the serving, scoring
and export tests that need them.
"""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "nn"))
sys.path.insert(0, str(Path(__file__).parent / "training"))
sys.path.insert(0, str(Path(__file__).parent / "datasets"))
sys.path.insert(0, str(Path(__file__).parent / "serving"))

from serving_builders import build_bundles


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """One intra-op thread: on a small shared machine two threads spin-wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def bundles(tmp_path_factory):
    """A tiny trained bundle of every task: task name -> bundle directory."""
    return build_bundles(tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def tasks(bundles):
    """Every bundle of ``bundles``, loaded."""
    from rnnkit.tasks import load

    return {name: load(path) for name, path in bundles.items()}


@pytest.fixture(scope="session")
def battery_run(tmp_path_factory):
    """A quick battery lab: a run directory with its report.html and probe sample."""
    from rnnkit.labs import battery

    out = tmp_path_factory.mktemp("lab") / "battery"
    battery.run({"training": {"progress": "off"}}, out_dir=out, quick=True, verbose=False)
    return out
