"""rnnkit export: a trained run to ONNX and its JSON, the forecast of the graph equal to
rnnkit predict's; --quantize prints the accuracy change; misuse is a one-line error that
leaves the run alone."""

import json
import textwrap

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

import rnnkit.cli.export  # noqa: F401  (registers the command until cli/main imports it)
from rnnkit.datasets import load_dataset

# a global scaler (the step graph needs one), a small GRU, one epoch
TINY = textwrap.dedent("""
    name = "tiny"
    [data]
    dataset = "battery"
    dataset_args = { n_cycles = 120, seed = 0 }
    [forecast]
    look_back = 10
    horizon = 3
    scaling = "window"
    [model]
    cell = "gru"
    hidden_size = 6
    [training]
    epochs = 1
    device = "cpu"
    progress = "off"
    [split]
    val = 0.1
    test = 0.2
""")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from rnnkit.cli.main import main

    folder = tmp_path_factory.mktemp("export")
    config = folder / "tiny.toml"
    config.write_text(TINY)
    try:
        main(["train", str(config), "--out", str(folder / "run"), "--no-report"])
    except SystemExit as stop:
        assert not stop.code
    return folder / "run"


def _files(run):
    return sorted(p.relative_to(run) for p in run.rglob("*"))


def test_export_writes_a_graph_equal_to_predict(run, tmp_path, cli):
    before = _files(run)
    code, out, err = cli(["export", run, "--format", "onnx", "--out", tmp_path / "m.onnx"])
    assert code == 0, err
    assert "m.onnx" in out and "history" in out and "forecast" in out
    meta = json.loads((tmp_path / "m.json").read_text())
    code, _, err = cli(["predict", run, "--input", meta_input(run), "--output",
                        tmp_path / "pred.csv"])
    assert code == 0, err
    want = pd.read_csv(tmp_path / "pred.csv", index_col=0)[meta["targets"]].to_numpy()
    history = pd.read_csv(meta_input(run))[meta["columns"]].to_numpy(np.float32)[None]
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"history": history})
    np.testing.assert_allclose(got[0], want, atol=1e-5, rtol=0)
    assert _files(run) == before


def meta_input(run):
    """A CSV of the battery history to predict from (written once beside the run)."""
    path = run.parent / "input.csv"
    if not path.exists():
        load_dataset("battery", n_cycles=120, seed=0).series.frame.iloc[:60].to_csv(path)
    return path


def test_quantize_prints_the_accuracy_change(run, tmp_path, cli):
    code, out, err = cli(["export", run, "--out", tmp_path / "q.onnx", "--quantize", "int8"])
    assert code == 0, err
    assert "int8 vs float32" in out and "RMSE" in out
    assert json.loads((tmp_path / "q.json").read_text())["accuracy"]["rmse"] >= 0


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "tflite"], "--format: expected one of ['onnx'], got 'tflite'"),
    (["--quantize", "int4"], "quantize: expected None or one of ['int8'], got 'int4'"),
    (["--step"], "forecast.scaling: expected a global scaler for a one-step graph"),
])
def test_misuse_is_one_line(run, tmp_path, cli, args, message):
    code, _, err = cli(["export", run, "--out", tmp_path / "m.onnx", *args])
    assert code == 2 and message in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_refuses_out_inside_the_run(run, cli):
    before = _files(run)
    code, _, err = cli(["export", run, "--out", run / "model.onnx"])
    assert code == 2 and "--out: expected a path outside the run directory" in err
    assert _files(run) == before
