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


def pytest_generate_tests(metafunc):
    """``name`` and ``extra`` of kernel_builders.KernelContract, from the subclass's NAMES and
    LAYER_EXTRAS."""
    cls = metafunc.cls
    if cls is None or not hasattr(cls, "NAMES"):
        return
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", cls.NAMES)
    if "extra" in metafunc.fixturenames:
        metafunc.parametrize("extra", cls.LAYER_EXTRAS)
