"""`rnnkit serve` as a real process on a free port of 127.0.0.1, driven over HTTP: every
task's answer equals its Python API, streams, the API key, limits, 422s, metrics, reload
without a dropped request, graceful shutdown; and the command's own errors."""

import shutil
import threading
import time

import httpx
import numpy as np
import pytest

from rnnkit.tasks import load

from serving_builders import STOPPED, hourly_frame, start, stop

KEY = {"X-API-Key": "test-key"}
ROWS = hourly_frame().to_dict("records")




@pytest.fixture(scope="module")
def server(bundles, tmp_path_factory):
    live = tmp_path_factory.mktemp("live") / "fc"  # a copy the reload test re-saves
    shutil.copytree(bundles["forecasting"], live)
    models = [f"{name}={path}" for name, path in bundles.items() if name != "forecasting"]
    proc, url = start([*models, f"forecasting={live}"], env={"RNNKIT_API_KEY": "test-key"})
    client = httpx.Client(base_url=url, headers=KEY, timeout=60)
    yield client, live
    client.close()
    assert stop(proc) in STOPPED


def predict(client, name, body):
    r = client.post(f"/v1/models/{name}/predict", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_task_answers_what_its_python_api_answers(server, bundles):
    client, _ = server
    tasks = {name: load(path) for name, path in bundles.items()}
    fc = tasks["forecasting"]
    frame = fc.predict(fc.read_data(hourly_frame().iloc[:40]))
    got = predict(client, "forecasting", {"data": ROWS[:40]})["forecast"]
    assert [r["load"] for r in got] == frame["load"].tolist()
    texts = ["a fine day", "the worst"]
    got = predict(client, "classification", {"texts": texts})["predictions"]
    assert [p["label"] for p in got] == tasks["classification"].predict(texts).tolist()
    assert [p["probabilities"]["positive"] for p in got] == \
        tasks["classification"].predict_proba(texts)[:, 1].tolist()
    series = [[[3.0, 1.0], [9.0, 0.0], [15.0, -1.0]]]
    got = predict(client, "series_classification", {"series": series})["predictions"]
    assert [p["probabilities"]["2"] for p in got] == \
        tasks["series_classification"].predict_proba([np.asarray(s) for s in series])[:, 2].tolist()
    sentences = [["The", "man", "walked", "home", "."]]
    assert predict(client, "tagging", {"sentences": sentences})["tags"] == \
        tasks["tagging"].predict(sentences)
    assert predict(client, "language_model", {"prompts": ["From", "Thou"]})["texts"] == \
        tasks["language_model"].predict(["From", "Thou"])
    s2s = tasks["seq2seq"]
    assert predict(client, "seq2seq", {"sources": ["water"], "beam_size": 2})["targets"] == \
        [s2s.detokenize(t) for t in s2s.predict(["water"], beam_width=2)]


def test_a_stream_equals_batch_predicts(server):
    client, _ = server
    sid = client.post("/v1/models/forecasting/streams", json={"data": ROWS[:12]}).json()["stream"]
    for n in range(13, 20):
        streamed = client.post(f"/v1/streams/{sid}/observe", json={"data": [ROWS[n - 1]]}).json()
        assert streamed["forecast"] == predict(client, "forecasting",
                                               {"data": ROWS[:n]})["forecast"]
    assert client.delete(f"/v1/streams/{sid}").status_code == 200


def test_key_limits_and_errors_over_http(server):
    client, _ = server
    url = str(client.base_url)
    assert httpx.get(f"{url}/v1/models").status_code == 401
    assert httpx.get(f"{url}/v1/models", headers={"X-API-Key": "nope"}).status_code == 401
    r = client.post("/v1/models/forecasting/predict", json={"data": ROWS[:30], "horizon": "x"})
    assert r.status_code == 422 and r.json()["error"].startswith("horizon: ")
    r = client.post("/v1/models/tagging/predict", json={"sentences": [["w"]] * 65})
    assert r.status_code == 422 and r.json()["field"] == "sentences"
    r = client.post("/v1/models/classification/predict", json={"texts": ["x" * 1_100_000]})
    assert r.status_code == 413
    assert predict(client, "tagging", {"sentences": [["ok"]]})  # and it goes on


def test_metrics_over_http(server):
    client, _ = server
    predict(client, "seq2seq", {"sources": ["ab"]})
    text = httpx.get(f"{client.base_url}/metrics").text  # no key needed to scrape
    assert 'rnnkit_requests_total{endpoint="predict",model="seq2seq",status="200"}' in text
    assert "rnnkit_request_seconds_bucket" in text and "rnnkit_model_load_seconds" in text


def test_reload_drops_no_request(server, bundles):
    from rnnkit.tasks.forecasting import Forecaster

    client, live = server
    old = client.get("/v1/models/forecasting").json()["version"]
    results, stop_flag = [], threading.Event()

    def hammer():
        with httpx.Client(base_url=client.base_url, headers=KEY, timeout=60) as c:
            while not stop_flag.is_set():
                r = c.post("/v1/models/forecasting/predict", json={"data": ROWS[:30]})
                results.append((r.status_code, r.json()["model"]["version"]))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    fc = load(bundles["forecasting"])
    retrained = Forecaster(fc.config.with_overrides({"training": {"seed": 7}}))
    retrained.fit(retrained.read_data()).save(live)
    r = client.post("/v1/models/forecasting/reload")
    time.sleep(0.5)
    stop_flag.set()
    for t in threads:
        t.join()
    assert r.status_code == 200 and r.json()["previous_version"] == old
    new = r.json()["version"]
    assert new != old
    assert results and all(status == 200 for status, _ in results)
    assert {v for _, v in results} <= {old, new} and results[-1][1] == new


def test_shutdown_lets_the_request_in_flight_finish(bundles):
    proc, url = start([f"lm={bundles['language_model']}"])
    answer = {}

    def long_request():
        answer["r"] = httpx.post(f"{url}/v1/models/lm/predict", timeout=120,
                                 json={"prompts": ["Then"], "max_tokens": 400})

    thread = threading.Thread(target=long_request)
    thread.start()
    deadline = time.monotonic() + 30
    while "rnnkit_requests_in_flight 1.0" not in httpx.get(f"{url}/metrics").text:
        assert time.monotonic() < deadline, "the request never started"
        time.sleep(0.02)
    assert stop(proc) in STOPPED
    thread.join()
    assert answer["r"].status_code == 200
    assert len(answer["r"].json()["texts"][0]) >= 400  # a character each (<unk>: five)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health/live", timeout=2)


# ------------------------------------------------------------------ the command's errors
def test_a_missing_model_is_a_one_line_error(cli, tmp_path):
    code, _, err = cli(["serve", tmp_path / "nothing"])
    assert code == 2
    assert err.strip().count("\n") == 0 and "MODELS: expected run directories or bundles" in err


def test_require_signed_needs_the_key(cli, bundles, monkeypatch):
    monkeypatch.delenv("RNNKIT_BUNDLE_KEY", raising=False)
    code, _, err = cli(["serve", bundles["tagging"], "--require-signed"])
    assert code == 2 and "--require-signed: expected RNNKIT_BUNDLE_KEY set" in err


def test_an_unsigned_bundle_is_refused_when_signing_is_required(cli, bundles, monkeypatch):
    monkeypatch.setenv("RNNKIT_BUNDLE_KEY", "k")
    code, _, err = cli(["serve", bundles["tagging"], "--require-signed"])
    assert code == 2 and "signature" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--runtime", "tf"], "--runtime: expected one of ['torch', 'onnx']"),
    (["--max-batch", "0"], "--max-batch: expected an integer >= 1"),
    (["--port", "70000"], "--port: expected a TCP port"),
])
def test_bad_options_are_one_line_errors(cli, bundles, args, message):
    code, _, err = cli(["serve", bundles["tagging"], *args])
    assert code == 2 and message in err


def test_an_empty_api_key_is_refused(cli, bundles, monkeypatch):
    monkeypatch.setenv("RNNKIT_API_KEY", " ")
    code, _, err = cli(["serve", bundles["tagging"]])
    assert code == 2 and "RNNKIT_API_KEY: expected a non-empty API key" in err
