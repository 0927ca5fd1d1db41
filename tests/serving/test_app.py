"""The HTTP app in process (starlette's TestClient): each task answers exactly what its Python
API answers, errors are JSON naming the field, limits, the API key, metrics, reload and
streams. tests/cli/test_serve.py drives the same endpoints on a real `rnnkit serve` process."""

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from rnnkit.serving import Limits, ModelSource, ServeSettings, create_app, load_model
from rnnkit.serving.adapters import rows_frame

from serving_builders import hourly_frame


@pytest.fixture(scope="module")
def served(bundles):
    return {name: load_model(ModelSource(path, name)) for name, path in bundles.items()}


@pytest.fixture
def client(served):
    with TestClient(create_app(list(served.values()))) as c:
        yield c


ROWS = hourly_frame().to_dict("records")


def post(client, name, body, **kw):
    return client.post(f"/v1/models/{name}/predict", json=body, **kw)


# -------------------------------------------------------------------- parity per task
def test_forecast_equals_the_python_api(client, tasks):
    r = post(client, "forecasting", {"data": ROWS[-30:]})
    assert r.status_code == 200, r.text
    task = tasks["forecasting"]
    expected = task.predict(task.read_data(pd.DataFrame(ROWS[-30:])))
    got = r.json()["forecast"]
    assert [row["time"] for row in got] == [t.isoformat() for t in expected.index]
    assert [row["load"] for row in got] == expected["load"].tolist()
    assert r.json()["model"] == {"name": "forecasting",
                                 "version": client.get("/v1/models/forecasting").json()["version"]}


def test_forecast_equals_rnnkit_predict_on_the_same_csv(client, tasks, tmp_path):
    path = tmp_path / "history.csv"
    pd.DataFrame(ROWS[:50]).to_csv(path, index=False)
    task = tasks["forecasting"]
    expected = task.predict(task.read_data(path), horizon=2)  # what `rnnkit predict` writes
    rows = pd.read_csv(path).to_dict("records")
    got = post(client, "forecasting", {"data": rows, "horizon": 2}).json()["forecast"]
    assert [r["load"] for r in got] == expected["load"].tolist()


def test_a_batch_of_series_equals_one_request_each(client):
    batch = post(client, "forecasting", {"series": [ROWS[:20], ROWS[40:70]]}).json()
    one = [post(client, "forecasting", {"data": rows}).json()["forecast"]
           for rows in (ROWS[:20], ROWS[40:70])]
    assert batch["forecasts"] == one


def test_classification_equals_predict_and_predict_proba(client, tasks):
    texts = ["what a wonderful film", "terrible, boring and too long", "ok"]
    r = post(client, "classification", {"texts": texts})
    assert r.status_code == 200, r.text
    task = tasks["classification"]
    proba = task.predict_proba(texts)
    got = r.json()["predictions"]
    assert [p["label"] for p in got] == task.predict(texts).tolist()
    for row, p in zip(proba, got):
        assert [p["probabilities"][str(c)] for c in task.classes_] == row.tolist()


def test_series_classification_equals_predict_proba(client, tasks):
    series = [[[3.0, 1.0], [8.0, -2.0], [13.0, 0.5], [18.0, 0.0]], [[3.0, 0.0]] * 6]
    r = post(client, "series_classification", {"series": series})
    assert r.status_code == 200, r.text
    task = tasks["series_classification"]
    proba = task.predict_proba([np.asarray(s) for s in series])
    got = r.json()["predictions"]
    assert [p["label"] for p in got] == task.predict([np.asarray(s) for s in series]).tolist()
    assert [[p["probabilities"][str(c)] for c in task.classes_] for p in got] == proba.tolist()
    univariate = post(client, "series_classification", {"series": [[1.0, 2.0, 3.0]]})
    assert univariate.status_code == 422
    assert univariate.json()["error"].startswith("series[0]: expected a non-empty list of "
                                                 "steps of 2 feature value(s)")
    ragged = post(client, "series_classification", {"series": [[[1.0, 2.0], [1.0]]]})
    assert ragged.status_code == 422 and ragged.json()["error"].startswith("series[0]: ")
    texts = post(client, "series_classification", {"texts": ["a"]})
    assert texts.json()["error"].startswith("texts: expected 'series' for this model")


def test_tagging_equals_predict(client, tasks):
    sentences = [["The", "jury", "said", "it", "did", "."], ["Dogs", "run"]]
    r = post(client, "tagging", {"sentences": sentences})
    assert r.json()["tags"] == tasks["tagging"].predict(sentences)


def test_generation_equals_predict_with_the_model_settings(client, tasks):
    prompts = ["Shall I", "When"]
    r = post(client, "language_model", {"prompts": prompts})
    assert r.json()["texts"] == tasks["language_model"].predict(prompts)


def test_generation_settings_are_the_generate_arguments(client, tasks):
    body = {"prompts": ["Thy"], "max_tokens": 7, "temperature": 0.5, "top_k": 3, "seed": 11}
    got = post(client, "language_model", body).json()["texts"]
    assert got == [tasks["language_model"].generate("Thy", 7, temperature=0.5, top_k=3,
                                                     top_p=0.95, seed=11)]
    assert len(post(client, "language_model", {"prompts": ["a"], "max_tokens": 4,
                                               "greedy": True}).json()["texts"][0]) == 4


def test_seq2seq_equals_predict_frame_with_the_beam_size(client, tasks):
    task = tasks["seq2seq"]
    sources = ["hello", "abandon"]
    for beam in (1, 3):
        r = post(client, "seq2seq", {"sources": sources, "beam_size": beam})
        expected = [task.detokenize(t) for t in task.predict(sources, beam_width=beam)]
        assert r.json()["targets"] == expected
    frame = task.predict_frame(task._sources(sources))
    assert post(client, "seq2seq", {"sources": sources}).json()["targets"] == \
        frame["prediction"].tolist()


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("name", "body", "status", "message"), [
    ("forecasting", {"data": ROWS[:30], "horizon": 0}, 422, r"^horizon: .*greater than or equal to 1"),
    ("forecasting", {"data": ROWS[:30], "horizn": 3}, 422, r"^horizn: Extra inputs"),
    ("forecasting", {"horizon": 3}, 422, "exactly one of 'data'"),
    ("forecasting", {"data": ROWS[:5]}, 422, r"series: expected at least look_back = 12 rows"),
    ("forecasting", {"data": [{"time": "x", "load": 1.0, "temp": 2.0}] * 20}, 422, "time"),
    ("forecasting", {"data": [{"time": r["time"], "load": r["load"]} for r in ROWS[:20]]},
     422, "temp"),
    ("forecasting", {"data": "rows"}, 422, r"^data: "),
    ("classification", {"series": [[1.0, 2.0]]}, 422, r"^series: expected 'texts' for this model"),
    ("classification", {"texts": [1, 2]}, 422, r"texts\[0\]: Input should be a valid string"),
    ("tagging", {"sentences": []}, 422, r"^sentences: "),
    ("language_model", {"prompts": ["a"], "top_p": 2}, 422, r"^top_p: "),
    ("seq2seq", {"sources": ["a"], "beam_size": 0}, 422, r"^beam_size: "),
    ("nope", {"texts": ["a"]}, 404, r"^model: expected one of \[.*\], got 'nope'"),
])
def test_bad_input_is_an_error_naming_the_field(client, name, body, status, message):
    r = post(client, name, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert __import__("re").search(message, r.json()["error"]), r.json()["error"]
    assert "Traceback" not in r.text
    assert client.get("/health/live").status_code == 200  # and the server goes on


def test_invalid_json_is_a_422(client):
    r = client.post("/v1/models/forecasting/predict", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "JSON" in r.json()["error"]


def test_an_unexpected_error_is_a_500_without_a_traceback(client, served, monkeypatch, caplog):
    adapter = served["tagging"].adapter
    monkeypatch.setattr(type(adapter), "predict",
                        lambda *a: (_ for _ in ()).throw(RuntimeError("secret detail")))
    r = post(client, "tagging", {"sentences": [["a"]]})
    assert r.status_code == 500
    assert "secret detail" not in r.text and "Traceback" not in r.text
    assert "server log" in r.json()["error"]
    assert "secret detail" in caplog.text  # the log has it
    monkeypatch.undo()
    assert post(client, "tagging", {"sentences": [["a"]]}).status_code == 200


# ---------------------------------------------------------------------------- limits
@pytest.fixture
def limited(served):
    settings = ServeSettings(max_body_bytes=2000, limits=Limits(max_batch=2, max_length=40))
    with TestClient(create_app(list(served.values()), settings)) as c:
        yield c


@pytest.mark.parametrize(("name", "body", "field"), [
    ("classification", {"texts": ["a", "b", "c"]}, "texts"),
    ("classification", {"texts": ["x" * 41]}, "texts[0]"),
    ("tagging", {"sentences": [["w"] * 41]}, "sentences[0]"),
    ("language_model", {"prompts": ["a"], "max_tokens": 41}, "max_tokens"),
    ("seq2seq", {"sources": ["a", "b", "c"]}, "sources"),
    ("forecasting", {"data": ROWS[:12], "horizon": 41}, "horizon"),
])
def test_limits_are_422s_naming_the_field(limited, name, body, field):
    r = post(limited, name, body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert r.json()["error"].startswith(f"{field}: expected at most")


def test_a_body_over_the_limit_is_a_413(limited):
    r = post(limited, "classification", {"texts": ["x" * 3000]})
    assert r.status_code == 413
    assert r.json()["error"].startswith("body: expected at most 2000 bytes")


def test_a_chunked_body_over_the_limit_is_a_413(limited):
    def chunks():
        yield b'{"texts": ["'
        for _ in range(10):
            yield b"x" * 500
        yield b'"]}'

    r = limited.post("/v1/models/classification/predict", content=chunks(),
                     headers={"content-type": "application/json"})
    assert r.status_code == 413


# --------------------------------------------------------------------------- API key
@pytest.fixture
def keyed(served):
    with TestClient(create_app(list(served.values()), ServeSettings(api_key="s3cret"))) as c:
        yield c


def test_the_api_key_guards_every_v1_route(keyed):
    body = {"sentences": [["a"]]}
    assert post(keyed, "tagging", body).status_code == 401
    assert "X-API-Key: expected the server's API key" in post(keyed, "tagging", body).json()["error"]
    assert post(keyed, "tagging", body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert keyed.get("/v1/models").status_code == 401
    assert keyed.post("/v1/models/tagging/reload").status_code == 401
    assert post(keyed, "tagging", body, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert post(keyed, "tagging", body,
                headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert keyed.get("/health/ready").status_code == 200  # health and metrics stay open
    assert keyed.get("/metrics").status_code == 200


# ---------------------------------------------------------------------- discovery
def test_models_lists_name_version_task_and_io(client, served):
    listed = {m["name"]: m for m in client.get("/v1/models").json()}
    assert set(listed) == set(served)
    fc = listed["forecasting"]
    assert fc["task"] == "forecasting" and fc["version"] == served["forecasting"].version
    assert fc["input"]["look_back"] == 12 and fc["output"]["columns"] == ["time", "load"]
    assert listed["classification"]["output"]["classes"] == ["negative", "positive"]
    ready = client.get("/health/ready").json()
    assert ready["status"] == "ready" and len(ready["models"]) == 6
    assert listed["series_classification"]["input"] == {
        "series": "lists of steps of 2 feature(s)"}


def test_openapi_has_a_request_and_response_schema_per_task(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name, request, response in [
            ("forecasting", "ForecastRequest", "ForecastResponse"),
            ("classification", "ClassifyRequest", "ClassifyResponse"),
            ("tagging", "TagRequest", "TagResponse"),
            ("language_model", "GenerateRequest", "GenerateResponse"),
            ("seq2seq", "TranslateRequest", "TranslateResponse")]:
        op = spec["paths"][f"/v1/models/{name}/predict"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        out = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert body.endswith(request) and out.endswith(response)
        assert request in schemas and response in schemas
    assert client.get("/docs").status_code == 200


# --------------------------------------------------------------------------- metrics
def test_metrics_count_requests_errors_and_latency(client):
    post(client, "tagging", {"sentences": [["a"]]})
    post(client, "tagging", {"sentences": []})
    text = client.get("/metrics").text
    assert 'rnnkit_requests_total{endpoint="predict",model="tagging",status="200"} 1.0' in text
    assert 'rnnkit_requests_total{endpoint="predict",model="tagging",status="422"} 1.0' in text
    assert 'rnnkit_request_errors_total{endpoint="predict",model="tagging"} 1.0' in text
    assert 'rnnkit_request_seconds_count{endpoint="predict",model="tagging"} 1.0' in text
    assert "rnnkit_requests_in_flight 0.0" in text
    assert 'rnnkit_model_load_seconds{model="tagging",version=' in text
    assert "_created" not in text


# ---------------------------------------------------------------------------- reload
def test_reload_swaps_in_the_new_version(tmp_path, tasks):
    from rnnkit.tasks.forecasting import Forecaster

    path = tmp_path / "fc"
    tasks["forecasting"].save(path)
    model = load_model(ModelSource(path, "fc"))
    with TestClient(create_app([model])) as client:
        before = post(client, "fc", {"data": ROWS[:30]}).json()
        again = client.post("/v1/models/fc/reload").json()
        assert again["version"] == again["previous_version"] == model.version  # unchanged
        retrained = Forecaster(tasks["forecasting"].config.with_overrides(
            {"training": {"seed": 1, "epochs": 3}}))
        retrained.fit(retrained.read_data()).save(path)
        r = client.post("/v1/models/fc/reload").json()
        assert r["previous_version"] == model.version and r["version"] != model.version
        after = post(client, "fc", {"data": ROWS[:30]}).json()
        assert after["model"]["version"] == r["version"]
        assert after["forecast"] == forecast_of(retrained, ROWS[:30])
        assert after["forecast"] != before["forecast"]


def test_a_failed_reload_keeps_the_old_version(tmp_path, tasks):
    path = tmp_path / "fc"
    tasks["forecasting"].save(path)
    model = load_model(ModelSource(path, "fc"))
    with TestClient(create_app([model])) as client:
        (path / "config.json").write_text("{broken")
        r = client.post("/v1/models/fc/reload")
        assert r.status_code == 422 and "config.json" in r.json()["error"]
        assert post(client, "fc", {"data": ROWS[:30]}).json()["model"]["version"] == model.version


def forecast_of(task, rows, horizon=None):
    frame = task.predict(task.read_data(rows_frame(rows)), horizon=horizon)
    return [{"time": t.isoformat(), "load": v} for t, v in zip(frame.index, frame["load"])]


# ---------------------------------------------------------------------------- streams
def test_a_stream_answers_what_a_batch_predict_on_its_history_answers(client, tasks):
    r = client.post("/v1/models/forecasting/streams", json={"data": ROWS[:8], "horizon": 2})
    assert r.status_code == 200, r.text
    opened = r.json()
    assert opened["forecast"] is None and opened["needed"] == 4 and opened["rows"] == 8
    sid = opened["stream"]
    seen = 8
    for step in (4, 1, 1, 3, 1, 20, 1):
        r = client.post(f"/v1/streams/{sid}/observe", json={"data": ROWS[seen:seen + step]})
        seen += step
        assert r.status_code == 200, r.text
        assert r.json()["rows"] == seen and r.json()["needed"] == 0
        # the stream keeps a short tail; the batch predict reads the whole history
        assert r.json()["forecast"] == forecast_of(tasks["forecasting"], ROWS[:seen], 2)
    assert client.delete(f"/v1/streams/{sid}").json() == {"closed": sid}
    gone = client.post(f"/v1/streams/{sid}/observe", json={"data": ROWS[:1]})
    assert gone.status_code == 404 and gone.json()["error"].startswith("stream: expected")


def test_a_clean_stream_reads_no_rows_through_pandas(client, tasks, served, monkeypatch):
    task = served["forecasting"].task
    sid = client.post("/v1/models/forecasting/streams", json={"data": ROWS[:12]}).json()["stream"]
    reads = []
    original = type(task).read_data
    monkeypatch.setattr(type(task), "read_data",
                        lambda self, *a, **k: reads.append(1) or original(self, *a, **k))
    for n in range(13, 25):
        got = client.post(f"/v1/streams/{sid}/observe", json={"data": [ROWS[n - 1]]}).json()
        assert got["forecast"] == forecast_of(tasks["forecasting"], ROWS[:n])
    assert reads == [1] * 12  # forecast_of's own reads: the stream read none


@pytest.mark.parametrize("change", ["missing", "string", "late", "extra column"])
def test_an_unclean_row_falls_back_to_the_batch_reading(client, tasks, change):
    rows = [dict(r) for r in ROWS[:30]]
    if change == "missing":
        rows[20]["temp"] = None  # interpolated from the rows after it
    elif change == "string":
        rows[20]["load"] = str(rows[20]["load"])
    elif change == "late":
        rows = rows[:20] + rows[21:]  # a missing hour: the frequency breaks
    else:
        rows[20]["note"] = 1.0
    sid = client.post("/v1/models/forecasting/streams", json={"data": rows[:14]}).json()["stream"]
    for n in range(15, len(rows) + 1):
        r = client.post(f"/v1/streams/{sid}/observe", json={"data": [rows[n - 1]]})
        try:
            expected = forecast_of(tasks["forecasting"], rows[:n])
        except ValueError as err:  # the batch predict refuses it: so does the stream
            assert r.status_code == 422 and r.json()["error"] == str(err)
            return
        assert r.status_code == 200, r.text
        assert r.json()["forecast"] == expected, n


def test_streams_are_bounded_and_expire(served):
    app = create_app([served["forecasting"]], ServeSettings(max_streams=2, stream_ttl=3600.0))
    with TestClient(app) as client:
        open_ = lambda: client.post("/v1/models/forecasting/streams", json={})  # noqa: E731
        first = open_().json()["stream"]
        assert open_().status_code == 200
        full = open_()
        assert full.status_code == 429
        assert full.json()["error"].startswith("streams: expected at most 2 open streams")
        app.state.streams.ttl = 0.0  # every idle stream has now expired
        assert open_().status_code == 200
        assert client.post(f"/v1/streams/{first}/observe",
                           json={"data": ROWS[:1]}).status_code == 404


def test_only_forecasters_stream(client):
    r = client.post("/v1/models/tagging/streams", json={})
    assert r.status_code == 422
    assert r.json()["error"].startswith("model: expected a forecasting model to stream")


def test_requests_in_parallel_all_answer(client):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"text {i}" for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: post(client, "classification", {"texts": [t]}),
                                texts))
    assert all(a.status_code == 200 for a in answers)
    batch = post(client, "classification", {"texts": texts}).json()["predictions"]
    got = [a.json()["predictions"][0] for a in answers]
    assert [g["label"] for g in got] == [b["label"] for b in batch]
    assert np.allclose([g["probabilities"]["positive"] for g in got],
                       [b["probabilities"]["positive"] for b in batch], atol=1e-6)


def test_batch_scoring_gives_what_the_server_gives(client, tasks, tmp_path):
    from rnnkit.tasks.scoring import score_file

    texts = [f"review number {i}: {'great' if i % 3 else 'awful'} film" for i in range(23)]
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "in.csv", index=False)
    score_file(tasks["classification"], tmp_path / "in.csv", tmp_path / "out.parquet",
               chunk_rows=5, progress=False)
    scored = pd.read_parquet(tmp_path / "out.parquet")
    served = post(client, "classification", {"texts": texts}).json()["predictions"]
    assert scored["prediction"].tolist() == [p["label"] for p in served]
    for label in ("negative", "positive"):
        assert scored[f"proba_{label}"].tolist() == [p["probabilities"][label] for p in served]
    pd.DataFrame(ROWS[:50]).to_csv(tmp_path / "history.csv", index=False)
    score_file(tasks["forecasting"], tmp_path / "history.csv", tmp_path / "fc.csv",
               chunk_rows=7, progress=False)
    forecast = pd.read_csv(tmp_path / "fc.csv")
    assert forecast["load"].tolist() == [
        r["load"] for r in post(client, "forecasting", {"data": ROWS[:50]}).json()["forecast"]]
