"""Shared test setup.

Test helper modules import by bare name: ``textbook`` and ``cell_builders`` (tests/nn/),
``helpers`` (tests/training/helpers.py) and ``sword_builders``
(tests/datasets/sword_builders.py); the conftest.py of a test folder puts its own builders on
the path (classifier_builders, tagger_builders, lm_builders, lab_builders). The whole suite
runs with one torch intra-op thread.
"""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "nn"))
sys.path.insert(0, str(Path(__file__).parent / "training"))
sys.path.insert(0, str(Path(__file__).parent / "datasets"))
sys.path.insert(0, str(Path(__file__).parent / "serving"))


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """One intra-op thread: on a small shared machine two threads spin-wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
