"""Tiny trained bundles of every task, built once per test session: what the serving tests
serve (``bundles[task]`` is the bundle directory, ``tasks[task]`` the loaded task)."""

import pytest
from serving_builders import build_bundles

from rnnkit.tasks import load


@pytest.fixture(scope="session")
def bundles(tmp_path_factory):
    return build_bundles(tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def tasks(bundles):
    return {name: load(path) for name, path in bundles.items()}
