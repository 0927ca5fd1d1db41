"""Live monitoring: errors of feedback, alerts (log and a real local webhook receiver), the
rolling error against the validation error, live drift on the recent inputs."""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from rnnkit.errors import DataError
from rnnkit.serving.monitor import Alerter, forecast_errors, label_errors


class Receiver:
    """A local HTTP server that keeps the JSON bodies POSTed to it."""

    def __init__(self, status=200):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def close(self):
        self.server.shutdown()


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
