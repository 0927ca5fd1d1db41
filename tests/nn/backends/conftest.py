"""Puts this folder on sys.path, for the shared ``kernel_builders``; runs each module on one
thread (tiny tensors gain nothing from intra-op threads, and on a shared machine OpenMP's
barriers make them ten times slower)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
