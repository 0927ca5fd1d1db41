"""Loading, naming, versioning and reloading served models."""

import time

import numpy as np
import pandas as pd
import pytest

from rnnkit.bundle import BundleError
from rnnkit.errors import ConfigError
from rnnkit.serving.models import ModelSet, ModelSource, bundle_path, load_model


def test_sources_parse_name_equals_path(tmp_path):
    assert ModelSource.parse("fc=runs/a/model") == ModelSource(__import__("pathlib").Path(
        "runs/a/model"), "fc")
    assert ModelSource.parse("runs/a=b").name is None  # a path with '=' in a folder name
    with pytest.raises(ConfigError, match="model name"):
        ModelSource.parse("..=x")


def test_a_run_directory_serves_its_model_folder(tmp_path):
    (tmp_path / "run" / "model").mkdir(parents=True)
    assert bundle_path(tmp_path / "run") == tmp_path / "run" / "model"
    assert bundle_path(tmp_path / "run" / "model") == tmp_path / "run" / "model"


def test_the_name_is_the_config_name_else_the_folder(bundles, tmp_path):
    assert load_model(ModelSource(bundles["tagging"])).name == "brown-sample"
    assert load_model(ModelSource(bundles["tagging"], "pos")).name == "pos"
    assert load_model(ModelSource(bundles["forecasting"])).name == "forecasting"  # folder


def test_the_version_follows_the_bundle_content(bundles, tasks, tmp_path):
    a = load_model(ModelSource(bundles["tagging"]))
    assert a.version == load_model(ModelSource(bundles["tagging"])).version
    assert len(a.version) == 12
    copy = tmp_path / "copy"
    tasks["tagging"].save(copy, metrics={"note": "another training record"})
    assert load_model(ModelSource(copy)).version != a.version


def test_names_must_be_distinct(bundles):
    m = load_model(ModelSource(bundles["tagging"], "x"))
    with pytest.raises(ConfigError, match=r"^models: expected distinct names, got 'x'"):
        ModelSet([m, m])


def test_reload_refuses_another_task_and_keeps_the_old(bundles, tmp_path, tasks):
    path = tmp_path / "m"
    tasks["tagging"].save(path)
    models = ModelSet([load_model(ModelSource(path, "m"))])
    old = models.get("m")
    import shutil

    shutil.rmtree(path)
    tasks["classification"].save(path)
    with pytest.raises(ConfigError, match=r"^bundle: expected a tagging model to replace 'm'"):
        models.reload("m")
    assert models.get("m") is old


def test_a_broken_bundle_is_a_bundle_error(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(BundleError, match="manifest.json"):
        load_model(ModelSource(tmp_path / "b"))


def test_an_unknown_runtime_is_refused(bundles):
    with pytest.raises(ConfigError, match=r"^--runtime: expected one of \['torch', 'onnx'\]"):
        load_model(ModelSource(bundles["tagging"]), runtime="tf")


def test_summary_describes_inputs_and_outputs(bundles):
    s = load_model(ModelSource(bundles["seq2seq"], "g2p")).summary()
    assert s["task"] == "seq2seq" and s["runtime"] == "torch"
    assert s["input"] == {"sources": "strings, read as char units"}
    assert s["output"]["beam_size"] == 3


@pytest.mark.parametrize("name", ["forecasting", "classification", "series_classification",
                                  "tagging"])
def test_the_onnx_runtime_answers_what_torch_answers(bundles, name):
    from fastapi.testclient import TestClient

    from rnnkit.serving import create_app

    from serving_builders import hourly_frame

    bodies = {"forecasting": {"data": hourly_frame().to_dict("records")[:40]},
              "classification": {"texts": ["a fine film", "bad"]},
              "series_classification": {"series": [[[3.0, 1.0], [9.0, 0.0], [15.0, -1.0]]]},
              "tagging": {"sentences": [["The", "man", "walked", "home", "."]]}}
    answers = {}
    for runtime in ("torch", "onnx"):
        model = load_model(ModelSource(bundles[name], name), runtime=runtime)
        assert model.runtime == runtime
        with TestClient(create_app([model])) as client:
            r = client.post(f"/v1/models/{name}/predict", json=bodies[name])
            assert r.status_code == 200, r.text
            answers[runtime] = r.json()
            assert client.get("/v1/models").json()[0]["runtime"] == runtime
    torch_, onnx = answers["torch"], answers["onnx"]
    assert torch_["model"] == onnx["model"]  # the same bundle: the same version
    if name == "forecasting":
        assert [r["time"] for r in onnx["forecast"]] == [r["time"] for r in torch_["forecast"]]
        assert np.allclose([r["load"] for r in onnx["forecast"]],
                           [r["load"] for r in torch_["forecast"]], rtol=0, atol=1e-5)
    elif name == "tagging":
        assert onnx["tags"] == torch_["tags"]
    else:
        for a, b in zip(onnx["predictions"], torch_["predictions"]):
            assert a["label"] == b["label"]
            assert np.allclose(list(a["probabilities"].values()),
                               list(b["probabilities"].values()), rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["language_model", "seq2seq"])
def test_the_onnx_runtime_refuses_step_by_step_decoders(bundles, name):
    with pytest.raises(ConfigError, match=r"serve it with the torch runtime"):
        load_model(ModelSource(bundles[name]), runtime="onnx")


def test_a_registry_model_serves_its_current_version_and_follows_it(tmp_path, tasks):
    from fastapi.testclient import TestClient

    from rnnkit.registry import Registry
    from rnnkit.serving import ServeSettings, create_app
    from rnnkit.tasks.forecasting import Forecaster

    from serving_builders import hourly_frame

    registry = Registry(tmp_path / "registry")
    first = registry.register("load", tasks["forecasting"], promote=True)
    other = Forecaster(tasks["forecasting"].config.with_overrides({"training": {"seed": 5}}))
    second = registry.register("load", other.fit(other.read_data()), parent=first.version)
    model = load_model(ModelSource(tmp_path / "registry" / "load"))
    assert model.name == "load" and model.bundle == first.bundle.resolve()
    rows = hourly_frame().to_dict("records")[:30]
    settings = ServeSettings(follow_interval=0.05)
    with TestClient(create_app([model], settings)) as client:
        def version_after(change):
            change()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                got = client.post("/v1/models/load/predict", json={"data": rows}).json()
                if got["model"]["version"] != before:
                    return got
                time.sleep(0.05)
            raise AssertionError("the server did not follow the registry")

        before = client.post("/v1/models/load/predict", json={"data": rows}).json()["model"][
            "version"]
        promoted = version_after(lambda: registry.promote("load", second.version))
        expected = other.predict(other.read_data(pd.DataFrame(rows)))["load"].tolist()
        assert [r["load"] for r in promoted["forecast"]] == expected
        before = promoted["model"]["version"]
        back = version_after(lambda: registry.rollback("load"))
        assert back["model"]["version"] == model.version
