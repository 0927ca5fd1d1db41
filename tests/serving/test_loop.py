"""The whole production loop on a real series (Mauna Loa CO2, statsmodels): train, register,
serve the registry as a real `rnnkit serve` process, send traffic from a later regime, see the
drift gauge and the alert, send feedback, retrain on the new data, promote, and the server
answers from the new version; a rollback returns to the old one."""

import time

import httpx
import numpy as np
import pandas as pd
from test_monitor import Receiver

from rnnkit.datasets.registry import load_dataset
from rnnkit.registry import Registry, retrain
from rnnkit.tasks.forecasting import Forecaster

from serving_builders import STOPPED, start, stop


def co2_frame():
    series = load_dataset("co2").series
    return pd.DataFrame({"month": series.time_index.strftime("%Y-%m-%d"),
                         "co2": series.values[:, 0]})


def until(condition, timeout=60.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_train_serve_drift_feedback_retrain_promote_rollback(tmp_path):
    frame = co2_frame()
    old, new = frame.iloc[:240], frame  # 1958-1978, then 1958-2001
    old.to_csv(tmp_path / "old.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    task = Forecaster({"data": {"path": str(tmp_path / "old.csv"), "time_col": "month"},
                       "forecast": {"look_back": 24, "horizon": 1, "scaling": "standard"},
                       "model": {"hidden_size": 8, "num_layers": 1},
                       "training": {"epochs": 5, "progress": "off", "seed": 0}})
    task.fit(task.read_data())
    registry = Registry(tmp_path / "registry")
    v1 = registry.register("co2", task, promote=True)

    receiver = Receiver()
    proc, url = start([tmp_path / "registry" / "co2"], "--follow-interval", "0.2",
                      "--drift-every", "60", "--drift-window", "120", "--alert-webhook",
                      receiver.url, "--log-db", f"sqlite:///{tmp_path / 'log.db'}")
    client = httpx.Client(base_url=url, timeout=60)
    try:
        rows = new.to_dict("records")
        answers = []
        for end in range(400, 520, 10):  # 1991-2001: far above the training levels
            r = client.post("/v1/models/co2/predict", json={"data": rows[end - 30:end]})
            assert r.status_code == 200, r.text
            answers.append((end, r.json()))
        state = until(lambda: (s := client.get("/v1/models/co2/monitoring").json())["drift"][
            "drift"] and s, what="the drift report")
        assert any(t["drift"] for t in state["drift"]["report"]["tests"])
        assert 'rnnkit_drift{model="co2"} 1.0' in client.get("/metrics").text
        alert = receiver.wait()[0]
        assert alert["alert"] == "drift" and alert["model"] == "co2"

        for end, answer in answers:  # the actual values arrive
            actual = [{"month": pd.Timestamp(rows[end]["month"]).isoformat(),
                       "co2": rows[end]["co2"]}]
            fb = client.post("/v1/models/co2/feedback",
                             json={"prediction_id": answer["prediction_id"], "actual": actual})
            assert fb.status_code == 200, fb.text
        error = client.get("/v1/models/co2/monitoring").json()["error"]
        assert error["n"] == len(answers) and error["rolling"] > 0

        result = retrain(registry, "co2", tmp_path / "new.csv", margin=0.01)
        assert result.promoted, result.reason
        challenger = Forecaster.load(registry.current_path("co2"))
        probe = rows[500:530]
        expected = challenger.predict(challenger.read_data(pd.DataFrame(probe)))
        got = until(lambda: (a := client.post("/v1/models/co2/predict",
                                              json={"data": probe}).json())["model"]["version"]
                    != answers[0][1]["model"]["version"] and a, what="the new version")
        assert [r["co2"] for r in got["forecast"]] == expected["co2"].tolist()

        registry.rollback("co2")
        back = until(lambda: (a := client.post("/v1/models/co2/predict",
                                               json={"data": probe}).json())["model"]["version"]
                     == answers[0][1]["model"]["version"] and a, what="the rollback")
        first = task.predict(task.read_data(pd.DataFrame(probe)))
        assert np.allclose([r["co2"] for r in back["forecast"]], first["co2"], rtol=0, atol=0)
        assert registry.current("co2").version == v1.version
    finally:
        client.close()
        receiver.close()
        assert stop(proc) in STOPPED
