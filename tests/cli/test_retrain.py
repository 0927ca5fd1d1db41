"""``rnnkit retrain``: a run trained by ``rnnkit train`` registered as v1, a challenger on new
data promoted or kept with the reason, exit status 0 either way; a rollback returns to v1."""

import json
import sys
from pathlib import Path

import pytest

# the commands register themselves on import (until cli/main.py imports these modules)
import rnnkit.cli.registry
import rnnkit.cli.retrain  # noqa: F401
from rnnkit.examples import example_path
from rnnkit.registry import Registry, file_sha256
from rnnkit.tasks import load

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))

from registry_builders import nile_files


@pytest.fixture(scope="module")
def nile(tmp_path_factory):
    return nile_files(tmp_path_factory.mktemp("nile"))


def _train(cli, out: Path, data: Path) -> None:
    code, _, err = cli(["train", example_path("forecasting"), "--out", out, "-q", "--no-report",
                        "--set", f'data.path="{data}"', "--set", "model.hidden_size=8",
                        "--set", "training.epochs=2"])
    assert code == 0, err


def test_the_whole_loop(cli, tmp_path, nile):
    old, new = nile
    _train(cli, tmp_path / "run", old)
    root = tmp_path / "registry"
    code, out, err = cli(["retrain", tmp_path / "run", "--data", new, "--registry", root,
                          "--margin", "0", "--set", "training.epochs=30", "-q",
                          "--json", tmp_path / "retrain.json"])
    assert (code, err) == (0, "")
    assert f"registered {tmp_path / 'run'} as nile-csv v1" in out
    flat = " ".join(out.split())
    assert "promoted: the challenger's rmse" in flat
    assert "challenger v2, warm start: the champion's weights" in flat
    assert f"nile-csv: registered v2 ({root / 'nile-csv' / 'v2'}); current" in flat
    report = json.loads((tmp_path / "retrain.json").read_text())
    assert report["promoted"] is True and report["name"] == "nile-csv"
    assert report["data"] == {"path": str(new), "sha256": file_sha256(new)}
    assert report["warm_start"] == {"applied": True, "reason": None}
    reg = Registry(root)
    assert reg.current("nile-csv").version == 2
    v1 = reg.version("nile-csv", 1)
    assert v1.data_sha256 == {"old.csv": file_sha256(old)}
    assert "evaluation" in v1.metrics["test"]  # the run's metrics.json
    challenger = load(reg.current_path("nile-csv"))
    assert challenger.evaluate(challenger.read_data(new)).score == report["challenger"]["rmse"]

    # by name now: a margin out of reach keeps v2, still exit 0
    code, out, err = cli(["retrain", "nile-csv", "--data", new, "--registry", root,
                          "--margin", "10", "-q"])
    assert (code, err) == (0, "")
    flat = " ".join(out.split())
    assert flat.startswith("kept v2: the challenger's rmse")
    assert "promotion needs 1000.0% better" in flat
    assert "nile-csv: registered v3" in flat and "current stays v2" in flat
    assert reg.current("nile-csv").version == 2 and reg.version("nile-csv", 3).parent == 2

    code, out, _ = cli(["registry", "list", "nile-csv", "--root", root])
    assert code == 0 and "promoted" in out and "kept" in out
    code, out, _ = cli(["registry", "rollback", "nile-csv", "--root", root])
    assert code == 0 and out.startswith("nile-csv: rolled back, current is v1")
    assert reg.current_path("nile-csv") == root / "nile-csv" / "v1" / "model"


def test_scratch_is_said_in_the_table(cli, tmp_path, nile):
    old, new = nile
    _train(cli, tmp_path / "run", old)
    code, out, err = cli(["retrain", tmp_path / "run", "--name", "river", "--data", new,
                          "--registry", tmp_path / "registry", "--scratch", "-q"])
    assert (code, err) == (0, "")
    assert "river v1" in out and "from scratch (--scratch)" in " ".join(out.split())


@pytest.mark.parametrize("argv, message", [
    (["nobody"], "error: name: expected a registered model"),
    (["nobody", "--margin", "-1"], "error: margin: expected a relative improvement >= 0"),
])
def test_errors_are_one_line(cli, tmp_path, nile, argv, message):
    code, out, err = cli(["retrain", *argv, "--data", nile[1], "--registry",
                          tmp_path / "registry"])
    assert code == 2 and out == ""
    assert " ".join(err.split()).startswith(message)


def test_a_missing_data_option_is_a_usage_error(cli, tmp_path):
    code, _, err = cli(["retrain", "nobody"])
    assert code == 2 and "--data" in err
