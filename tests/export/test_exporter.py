"""export_onnx: the ONNX file and its JSON written atomically, the JSON embedded, int8
quantization with its accuracy change, refusals that leave existing files alone."""

import json

import numpy as np
import onnx
import pytest
from export_builders import fitted_classifier, fitted_forecaster, fitted_tagger, session

from rnnkit.errors import ConfigError
from rnnkit.export import example_inputs, export_onnx
from rnnkit.tasks.seq2seq import Seq2Seq


def test_forecaster_export_writes_the_graph_and_its_json(tmp_path):
    task, frame = fitted_forecaster("direct_lstm_bi")
    result = export_onnx(task, tmp_path / "out" / "model.onnx")
    assert result.path == tmp_path / "out" / "model.onnx"
    assert result.metadata_path == tmp_path / "out" / "model.json"
    meta = json.loads(result.metadata_path.read_text())
    assert meta["task"] == "forecasting" and meta["columns"] == ["y"] and meta["look_back"] == 6
    assert meta["accuracy"] is None and meta["quantize"] is None
    embedded = {p.key: p.value for p in onnx.load(result.path).metadata_props}
    assert json.loads(embedded["rnnkit"]) == meta
    assert result.size_bytes == result.path.stat().st_size
    (got,) = session(str(result.path)).run(None, {"history": frame[["y"]].to_numpy(np.float32)[None]})
    np.testing.assert_allclose(got[0], task.predict(frame).to_numpy(), atol=1e-5, rtol=0)
    assert "history" in result.summary() and "forecast" in result.summary()
    assert [p.name for p in tmp_path.joinpath("out").iterdir()] != []
    assert not [p for p in tmp_path.joinpath("out").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(("kind", "name"), [
    ("forecaster", "direct_lstm_ln_future"), ("forecaster", "direct_gru_standard"),
    ("classifier", "text_lstm_bi_attention"), ("classifier", "series_rnn_stacked_max"),
    ("tagger", "gru_uni_softmax")])
def test_int8_quantization_reports_its_accuracy_change(tmp_path, kind, name):
    fitted = {"forecaster": fitted_forecaster, "classifier": fitted_classifier,
              "tagger": fitted_tagger}[kind]
    task, _ = fitted(name)
    float_result = export_onnx(task, tmp_path / "f.onnx")
    result = export_onnx(task, tmp_path / "q.onnx", quantize="int8")
    acc = result.accuracy
    assert acc is not None and acc["samples"] == 8
    assert 0 <= acc["rmse"] <= acc["max_abs_diff"] < 1.0
    assert json.loads(result.metadata_path.read_text())["accuracy"] == acc
    assert "int8 vs float32" in result.summary()
    feeds = example_inputs(task, onnx.load(float_result.path), batch=3, seed=5)
    out = session(str(result.path)).run([acc["output"]], feeds)[0]
    ref = session(str(float_result.path)).run([acc["output"]], feeds)[0]
    assert out.shape == ref.shape and np.abs(out - ref).max() < 1.0


def test_quantization_on_the_callers_sample(tmp_path):
    task, frame = fitted_forecaster("recursive_gru")
    history = frame[["y"]].to_numpy(np.float32)[None, -20:]
    result = export_onnx(task, tmp_path / "q.onnx", quantize="int8",
                         sample={"history": np.repeat(history, 2, axis=0)})
    assert result.accuracy["samples"] == 2


def test_step_export_describes_the_state(tmp_path):
    task, _ = fitted_forecaster("recursive_gru")
    result = export_onnx(task, tmp_path / "step.onnx", step=True, quantize="int8")
    assert set(result.inputs) == {"x_t", "h"} and set(result.outputs) == {"h_out", "forecast"}
    assert json.loads(result.metadata_path.read_text())["step"] is True
    assert result.accuracy["output"] == "forecast" and result.accuracy["rmse"] < 1.0


def test_refusals_leave_existing_files_alone(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"keep me")
    task, _ = fitted_forecaster("direct_lstm_bi")
    with pytest.raises(ConfigError, match=r"quantize: expected None or one of \['int8'\], "
                                          "got 'int4'"):
        export_onnx(task, target, quantize="int4")
    with pytest.raises(ConfigError, match="path: expected an .onnx file name"):
        export_onnx(task, tmp_path / "model.json")
    with pytest.raises(ConfigError, match="task: expected forecasting, classification or "
                                          "tagging.*'seq2seq'.*beam search"):
        export_onnx(Seq2Seq(), target)
    with pytest.raises(ConfigError, match="forecast.scaling: expected a global scaler"):
        export_onnx(task, target, step=True)
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_missing_onnxruntime_names_the_extra(monkeypatch):
    import sys

    from rnnkit.errors import MissingDependencyError
    from rnnkit.export.exporter import ort_module

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match=r"onnxruntime: expected the optional "
                                                     r"'onnxruntime' package.*rnnkit\[export\]"):
        ort_module()
