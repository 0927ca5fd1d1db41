"""The Prometheus metrics: counts by status, errors, latency, in-flight, per app."""

import pytest

from rnnkit.serving.metrics import Metrics


def sample(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, labels or None)


def test_track_counts_status_latency_and_in_flight():
    m = Metrics()
    with m.track("a", "predict") as outcome:
        assert sample(m, "rnnkit_requests_in_flight") == 1.0
        outcome["status"] = 422
    with m.track("a", "predict"):
        pass
    assert sample(m, "rnnkit_requests_in_flight") == 0.0
    assert sample(m, "rnnkit_requests_total", model="a", endpoint="predict", status="200") == 1
    assert sample(m, "rnnkit_requests_total", model="a", endpoint="predict", status="422") == 1
    assert sample(m, "rnnkit_request_errors_total", model="a", endpoint="predict") == 1
    assert sample(m, "rnnkit_request_seconds_count", model="a", endpoint="predict") == 2


def test_an_exception_counts_as_its_status_else_500():
    m = Metrics()

    class Gone(Exception):
        status_code = 404

    for err, status in ((Gone(), "404"), (RuntimeError(), "500")):
        with pytest.raises(type(err)), m.track("a", "x"):
            raise err
        assert sample(m, "rnnkit_requests_total", model="a", endpoint="x", status=status) == 1
    assert sample(m, "rnnkit_requests_in_flight") == 0.0


def test_two_apps_never_mix_their_counts():
    one, two = Metrics(), Metrics()
    with one.track("a", "predict"):
        pass
    assert b'model="a"' in one.render() and b'model="a"' not in two.render()
    assert b"_created" not in one.render()
