"""Live monitoring: errors of feedback, alerts (log and a real local webhook receiver), the
rolling error against the validation error, live drift on the recent inputs."""

import logging
import time

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import DataError
from rnnkit.serving.monitor import Alerter, forecast_errors, label_errors

from serving_builders import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_forecast_errors_match_actuals_by_time_stamp():
    output = {"forecast": [{"t": "2024-01-01T01:00:00", "y": 2.0, "z": 1.0},
                           {"t": "2024-01-01T02:00:00", "y": 3.0, "z": 1.0}]}
    actual = [{"t": "2024-01-01T02:00:00", "y": 2.5, "z": None},
              {"t": "2024-01-01T01:00:00", "y": 2.0, "z": 0.0}]
    assert forecast_errors(output, actual, "t", ["y", "z"]) == [0.5, 0.0, 1.0]
    with pytest.raises(DataError, match=r"^actual\[0\]\.t: expected a time stamp of the "):
        forecast_errors(output, [{"t": "2030-01-01", "y": 1.0}], "t", ["y"])
    with pytest.raises(DataError, match=r"^actual\[0\]\.y: expected a finite number"):
        forecast_errors(output, [{"t": "2024-01-01T01:00:00", "y": "high"}], "t", ["y"])


def test_label_errors_count_the_wrong_ones():
    assert label_errors(["a", "b", 1], ["a", "c", "1"]) == [0.0, 1.0, 0.0]
    with pytest.raises(DataError, match=r"^actual: expected a list of 2 labels"):
        label_errors(["a", "b"], ["a"])


def test_an_alert_is_logged_and_posted(receiver, caplog):
    alerter = Alerter(receiver.url)
    with caplog.at_level(logging.WARNING, logger="rnnkit.serving"):
        alerter.fire("drift", "battery", "abc", {"failed": ["capacity psi"]})
    got = receiver.wait()
    assert got[0]["alert"] == "drift" and got[0]["model"] == "battery"
    assert got[0]["detail"] == {"failed": ["capacity psi"]} and got[0]["version"] == "abc"
    assert "ALERT drift: model battery (version abc)" in caplog.text
    assert list(alerter.sent) == got


def test_a_failing_webhook_is_logged_never_raised(caplog):
    alerter = Alerter("http://127.0.0.1:9/nowhere")  # nothing listens on port 9
    with caplog.at_level(logging.ERROR, logger="rnnkit.serving"):
        alerter.fire("degraded", "m", "v", {})
        deadline = time.monotonic() + 10
        while "webhook" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "alert webhook http://127.0.0.1:9/nowhere failed" in caplog.text


# --------------------------------------------------------------------- in the server
@pytest.fixture
def monitored(served_models, tmp_path, receiver):
    from fastapi.testclient import TestClient

    from rnnkit.serving import ServeSettings, create_app
    from rnnkit.serving.monitor import MonitorSettings

    settings = ServeSettings(log_db=f"sqlite:///{tmp_path / 'log.db'}", monitor=MonitorSettings(
        window=300, drift_every=10_000, min_inputs=30, min_feedback=8, webhook=receiver.url))
    app = create_app(list(served_models.values()), settings)
    with TestClient(app) as client:
        yield client, app


@pytest.fixture(scope="module")
def served_models(bundles):
    from rnnkit.serving import ModelSource, load_model

    return {name: load_model(ModelSource(bundles[name], name))
            for name in ("forecasting", "classification", "tagging")}


def test_predictions_are_logged_and_feedback_is_scored(monitored, receiver, tasks):
    client, app = monitored
    texts = ["a wonderful film", "dull", "I loved it", "too long", "great", "bad", "ok", "meh"]
    r = client.post("/v1/models/classification/predict", json={"texts": texts}).json()
    pid = r["prediction_id"]
    logged = app.state.logbook.prediction(pid)
    assert logged["output"]["predictions"] == r["predictions"]
    assert logged["input"] == {"n": 8, "lengths": [len(t) for t in texts]}
    assert logged["version"] == r["model"]["version"] and logged["latency_ms"] > 0
    wrong = ["negative" if p["label"] == "positive" else "positive" for p in r["predictions"]]
    fb = client.post("/v1/models/classification/feedback",
                     json={"prediction_id": pid, "actual": wrong}).json()
    assert fb["error"] == {"n": 8, "error_rate": 1.0}
    validation = 1 - tasks["classification"].profile_.validation_metrics["accuracy"]
    assert fb["rolling"]["validation"] == pytest.approx(validation)
    assert fb["rolling"]["degraded"] is (1.5 * validation < 1.0)
    state = client.get("/v1/models/classification/monitoring").json()
    assert state["logged"] == {"predictions": 1, "feedback": 1}
    assert state["error"]["rolling"] == 1.0 and state["error"]["n"] == 8
    if fb["rolling"]["degraded"]:
        alert = receiver.wait()[0]
        assert alert["alert"] == "degraded" and alert["model"] == "classification"
        assert 'rnnkit_error_degraded{model="classification"} 1.0' in client.get("/metrics").text
    text = client.get("/metrics").text
    assert 'rnnkit_rolling_error{metric="error_rate",model="classification"} 1.0' in text


def test_feedback_errors_name_the_field(monitored):
    client, _ = monitored
    pid = client.post("/v1/models/tagging/predict",
                      json={"sentences": [["The", "dog"]]}).json()["prediction_id"]
    bad = client.post("/v1/models/tagging/feedback", json={"prediction_id": pid,
                                                           "actual": [["DET"]]})
    assert bad.status_code == 422 and bad.json()["error"].startswith("actual: expected a list of 2")
    other = client.post("/v1/models/classification/feedback",
                        json={"prediction_id": pid, "actual": ["x"]})
    assert other.status_code == 404
    assert other.json()["error"].startswith("prediction_id: expected the id of a prediction of")
    good = client.post("/v1/models/tagging/feedback",
                       json={"prediction_id": pid, "actual": [["DET", "NOUN"]]})
    assert good.status_code == 200 and good.json()["error"]["n"] == 2


def test_forecast_feedback_is_matched_by_time(monitored, tasks):
    from serving_builders import hourly_frame

    client, _ = monitored
    rows = hourly_frame().to_dict("records")
    r = client.post("/v1/models/forecasting/predict", json={"data": rows[:40]}).json()
    actual = rows[40:43]  # the three hours forecast
    fb = client.post("/v1/models/forecasting/feedback",
                     json={"prediction_id": r["prediction_id"],
                           "actual": [{"time": pd.Timestamp(a["time"]).isoformat(),
                                       "load": a["load"]} for a in actual]}).json()
    errors = [f["load"] - a["load"] for f, a in zip(r["forecast"], actual)]
    assert fb["error"]["rmse"] == pytest.approx(float(np.sqrt(np.mean(np.square(errors)))))
    assert fb["rolling"]["validation"] == pytest.approx(
        tasks["forecasting"].profile_.validation_metrics["rmse"])


@pytest.fixture(scope="module")
def long_forecaster(tmp_path_factory):
    """A forecaster whose validation part spans many cycles of its series (the reference of
    prediction drift), served with a prediction log and live monitoring."""
    from rnnkit.serving import ModelSource, load_model
    from rnnkit.tasks.forecasting import Forecaster

    from serving_builders import hourly_frame

    folder = tmp_path_factory.mktemp("long")
    hourly_frame(n=600).to_csv(folder / "hourly.csv", index=False)
    task = Forecaster({"data": {"path": str(folder / "hourly.csv"), "time_col": "time",
                                "targets": ["load"], "covariates": ["temp"]},
                       "forecast": {"look_back": 12, "horizon": 3},
                       "model": {"hidden_size": 8, "num_layers": 1},
                       "split": {"val": 0.25, "test": 0.1},
                       "training": {"epochs": 5, "progress": "off", "seed": 0}})
    task.fit(task.read_data()).save(folder / "model")
    return load_model(ModelSource(folder / "model", "forecasting"))


def test_live_drift_of_a_shifted_regime_is_flagged_and_alerted(long_forecaster, tmp_path,
                                                              receiver):
    from fastapi.testclient import TestClient

    from rnnkit.serving import ServeSettings, create_app
    from rnnkit.serving.monitor import MonitorSettings

    from serving_builders import hourly_frame

    settings = ServeSettings(monitor=MonitorSettings(window=300, drift_every=10_000,
                                                     min_inputs=30, webhook=receiver.url))
    with TestClient(create_app([long_forecaster], settings)) as client:
        same = hourly_frame(n=900, seed=3).iloc[600:].to_dict("records")
        for start in range(0, 280, 20):
            client.post("/v1/models/forecasting/predict", json={"data": same[start:start + 20]})
        state = client.get("/v1/models/forecasting/monitoring?refresh=true").json()
        assert state["drift"]["inputs"] == 280
        assert state["drift"]["drift"] is False, [
            t for t in state["drift"]["report"]["tests"] if t["drift"]]
        shifted = hourly_frame(n=1200, seed=4).iloc[900:]
        shifted["load"] += 3.0  # a level shift
        shifted = shifted.to_dict("records")
        for start in range(0, 300, 20):
            client.post("/v1/models/forecasting/predict",
                        json={"data": shifted[start:start + 20]})
        state = client.get("/v1/models/forecasting/monitoring?refresh=true").json()
        assert state["drift"]["drift"] is True
        failed = [t for t in state["drift"]["report"]["tests"] if t["drift"]]
        assert any(t["feature"] == "load" for t in failed)
        alert = receiver.wait()[0]
        assert alert["alert"] == "drift" and alert["model"] == "forecasting"
        assert 'rnnkit_drift{model="forecasting"} 1.0' in client.get("/metrics").text
