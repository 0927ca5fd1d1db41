"""rnnkit monitor: a run trained on the Nile after the 1898 dam; new data from the same regime
exits 0, the pre-dam years and a sensor change exit 3 with a JSON report; a run saved without
a profile and bad thresholds are one-line errors (exit 2) that leave the run alone."""

import json
import shutil
import textwrap

import pandas as pd
import pytest

import rnnkit.cli.monitor  # noqa: F401  (registers the command until cli/main imports it)
from rnnkit.datasets import load_dataset

SHIFT = 28  # rows of the Nile before the dam

CONFIG = textwrap.dedent("""
    name = "nile"
    [data]
    path = "nile.csv"
    time_col = "year"
    [forecast]
    look_back = 6
    [model]
    hidden_size = 4
    [training]
    epochs = 1
    seed = 0
    device = "cpu"
    progress = "off"
    [split]
    val = 0.15
    test = 0.15
""")


@pytest.fixture(scope="module")
def nile(tmp_path_factory):
    """``(run dir, folder with before.csv, same.csv, sensor.csv)``."""
    from rnnkit.cli.main import main

    folder = tmp_path_factory.mktemp("monitor")
    s = load_dataset("nile").series
    frame = pd.DataFrame(s.values, index=s.time_index, columns=list(s.columns))
    frame.index.name = "year"
    frame.iloc[SHIFT:].to_csv(folder / "nile.csv")
    frame.iloc[:SHIFT].to_csv(folder / "before.csv")
    frame.iloc[40:80].to_csv(folder / "same.csv")
    (frame.iloc[40:80] * 1.5).to_csv(folder / "sensor.csv")
    (folder / "nile.toml").write_text(CONFIG)
    try:
        main(["train", str(folder / "nile.toml"), "--out", str(folder / "run"), "--no-report"])
    except SystemExit as stop:
        assert not stop.code
    return folder / "run", folder


def _files(run):
    return sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*"))


def test_same_regime_exits_0(nile, cli, tmp_path):
    run, data = nile
    code, out, err = cli(["monitor", run, "--data", data / "same.csv",
                          "--json", tmp_path / "r.json"])
    assert code == 0, err
    assert "no drift" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["drift"] is False and report["n_rows"] == 40
    assert {t["name"] for t in report["tests"]} == {"psi", "ks", "window_psi",
                                                   "prediction_psi"}


@pytest.mark.parametrize("name", ["before.csv", "sensor.csv"])
def test_a_regime_change_exits_3(nile, cli, tmp_path, name):
    run, data = nile
    code, out, err = cli(["monitor", run, "--data", data / name,
                          "--json", tmp_path / "sub" / "r.json"])
    assert code == 3, err
    assert "DRIFT" in out
    report = json.loads((tmp_path / "sub" / "r.json").read_text())
    assert report["drift"] is True
    assert any(t["drift"] and t["name"] == "ks" for t in report["tests"])
    assert not list((tmp_path / "sub").glob(".*.tmp"))  # written atomically


def test_thresholds_are_set_on_the_command_line(nile, cli, tmp_path):
    run, data = nile
    code, out, err = cli(["monitor", run, "--data", data / "sensor.csv",
                          "--set", "thresholds.psi=1000", "--set", "thresholds.ks_alpha=1e-300",
                          "--json", tmp_path / "r.json"])
    assert code == 0, out + err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["thresholds"]["psi"] == 1000


@pytest.mark.parametrize(("sets", "message"), [
    (["thresholds.nope=1"], "thresholds.nope: expected one of"),
    (["thresholds.psi=-1"], "thresholds.psi: expected a positive number"),
    (["training.epochs=1"], "--set: expected thresholds.NAME=VALUE"),
    (["thresholds=1"], "--set: expected thresholds.NAME=VALUE"),
])
def test_bad_thresholds_are_one_line_errors(nile, cli, sets, message):
    run, data = nile
    before = _files(run)
    argv = ["monitor", run, "--data", data / "same.csv"]
    for s in sets:
        argv += ["--set", s]
    code, out, err = cli(argv)
    assert code == 2 and message in err and "Traceback" not in err
    assert _files(run) == before


def test_a_json_inside_the_run_is_refused(nile, cli):
    run, data = nile
    before = _files(run)
    code, _, err = cli(["monitor", run, "--data", data / "same.csv",
                        "--json", run / "model" / "metrics.json"])
    assert code == 2 and "--json: expected a path outside the run directory" in err
    assert _files(run) == before


def test_a_run_without_profile_says_how_to_get_one(nile, cli, tmp_path):
    run, data = nile
    old = tmp_path / "old"
    shutil.copytree(run, old)
    bundle = old / "model"
    manifest = json.loads((bundle / "manifest.json").read_text())
    del manifest["files"]["profile.json"]  # as saved before this issue
    (bundle / "profile.json").unlink()
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = cli(["monitor", old, "--data", data / "same.csv"])
    assert code == 2, out
    assert "saved before profiles existed" in err and "retrain it" in err
    assert len(err.strip().splitlines()) == 1
