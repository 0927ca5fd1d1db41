"""``rnnkit registry list | promote | rollback``: tables of the versions, the pointer moved,
one-line errors with exit status 2."""

import sys
from pathlib import Path

import pytest

import rnnkit.cli.registry  # noqa: F401  (registers the sub-app until cli/main.py imports it)
from rnnkit.registry import Registry

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))

from registry_builders import nile_files, tiny_forecaster


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry with nile v1 (current), v2 and v3 (v2 retrained from v1)."""
    root = tmp_path_factory.mktemp("cli-registry") / "registry"
    old, _ = nile_files(root.parent / "data")
    task = tiny_forecaster(old)
    task.fit(task.read_data())
    reg = Registry(root)
    reg.register("nile", task, data_sha256={"old.csv": "0" * 64}, promote=True,
                 metrics={"test": task.evaluate(task.read_data()).to_dict()})
    reg.register("nile", task, parent=1)
    reg.register("nile", task, parent=1)
    return root


def test_list_names_and_versions(cli, registry):
    code, out, err = cli(["registry", "list", "--root", registry])
    assert (code, err) == (0, "")
    assert "1 models" in " ".join(out.split()) and "nile" in out and "forecasting" in out
    code, out, _ = cli(["registry", "list", "nile", "--root", registry])
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("│ v")]
    assert [line.split()[1] for line in lines] == ["v1", "v2", "v3"]
    assert "*" in lines[0] and "rmse" in lines[0] and "old.csv" in lines[0]


def test_promote_and_rollback(cli, registry):
    code, out, err = cli(["registry", "promote", "nile", "v3", "--root", registry])
    assert (code, err) == (0, "")
    assert out.strip() == f"nile: current is v3 ({registry / 'nile' / 'v3' / 'model'})"
    assert Registry(registry).current("nile").version == 3
    code, out, _ = cli(["registry", "rollback", "nile", "--root", registry])
    assert code == 0 and out.startswith("nile: rolled back, current is v1")
    code, out, err = cli(["registry", "rollback", "nile", "--root", registry])
    assert code == 2 and out == ""
    assert err.startswith("error: name: expected a model with an earlier current version")
    assert len(err.strip().splitlines()) == 1
    assert Registry(registry).current("nile").version == 1


@pytest.mark.parametrize("argv, message", [
    (["promote", "nile", "v9"], "error: version: expected a version of 'nile' among"),
    (["promote", "nile", "latest"], "error: version: expected a version number"),
    (["promote", "sun", "1"], "error: name: expected a registered model (among ['nile'])"),
    (["list", "sun"], "error: name: expected a registered model"),
])
def test_errors_are_one_line(cli, registry, argv, message):
    code, out, err = cli(["registry", *argv, "--root", registry])
    assert code == 2 and out == ""
    assert " ".join(err.split()).startswith(message)
    assert Registry(registry).current("nile").version == 1


def test_an_empty_registry_lists_nothing(cli, tmp_path):
    code, out, _ = cli(["registry", "list", "--root", tmp_path / "none"])
    assert code == 0 and "0 models" in " ".join(out.split())
