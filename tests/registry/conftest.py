"""Fixtures of the registry tests: the Nile files, a fitted tiny forecaster, a run directory."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from registry_builders import nile_files, nile_run, tiny_forecaster


@pytest.fixture(scope="session")
def nile(tmp_path_factory):
    """``(old.csv, new.csv)`` of the Nile series."""
    return nile_files(tmp_path_factory.mktemp("nile"))


@pytest.fixture(scope="session")
def fitted(nile):
    """A tiny forecaster fitted on the old file (do not change it)."""
    task = tiny_forecaster(nile[0])
    return task.fit(task.read_data())


@pytest.fixture(scope="session")
def run(nile, tmp_path_factory):
    """A run directory trained on the old file (copy it before changing it)."""
    return nile_run(tmp_path_factory.mktemp("run"), nile[0])
