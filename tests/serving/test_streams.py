"""StreamStore: bounded, expiring, thread-safe; a stream keeps only its newest rows."""

import pytest

from rnnkit.serving.streams import StreamLimitError, StreamNotFound, StreamStore


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_stream_keeps_its_newest_rows_and_counts_all():
    store = StreamStore()
    stream = store.open("m", keep=3, horizon=2)
    stream.observe([{"x": i} for i in range(5)])
    assert list(stream.rows) == [{"x": 2}, {"x": 3}, {"x": 4}] and stream.seen == 5
    assert stream.horizon == 2 and stream.model == "m"


def test_ids_are_distinct_and_unguessable():
    store = StreamStore()
    ids = {store.open("m", keep=1, horizon=None).id for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 16 for i in ids)


def test_the_number_of_streams_is_bounded():
    store = StreamStore(max_streams=2)
    store.open("m", keep=1, horizon=None)
    store.open("m", keep=1, horizon=None)
    with pytest.raises(StreamLimitError, match=r"^streams: expected at most 2 open streams"):
        store.open("m", keep=1, horizon=None)


def test_idle_streams_expire_and_use_restarts_the_clock():
    clock = Clock()
    store = StreamStore(ttl=10.0, clock=clock)
    a = store.open("m", keep=1, horizon=None)
    b = store.open("m", keep=1, horizon=None)
    clock.now = 8.0
    store.get(a.id)  # a is used at 8; b is idle since 0
    clock.now = 12.0
    assert store.expire() == 1
    assert store.get(a.id) is a
    with pytest.raises(StreamNotFound, match=r"^stream: expected the id of an open stream, got"):
        store.get(b.id)


def test_close_and_close_model():
    store = StreamStore()
    a = store.open("m", keep=1, horizon=None)
    store.open("m", keep=1, horizon=None)
    c = store.open("other", keep=1, horizon=None)
    store.close(a.id)
    with pytest.raises(StreamNotFound):
        store.close(a.id)
    store.close_model("m")
    assert len(store) == 1 and store.get(c.id) is c
    assert store.summary() == {"open": 1, "max": 1000, "ttl_seconds": 600.0}


def test_get_drops_an_idle_stream_itself_and_open_sweeps_only_when_full():
    clock = Clock()
    store = StreamStore(max_streams=2, ttl=10.0, clock=clock)
    a = store.open("m", keep=1, horizon=None)
    b = store.open("m", keep=1, horizon=None)
    clock.now = 11.0
    with pytest.raises(StreamNotFound):
        store.get(a.id)  # expired: dropped by get itself, without a sweep
    assert len(store) == 1  # b idles on, unswept, until the store is full
    c = store.open("m", keep=1, horizon=None)
    d = store.open("m", keep=1, horizon=None)  # full: the sweep drops b
    assert len(store) == 2 and {c.id, d.id} == {s for s in store._streams}
    with pytest.raises(StreamNotFound):
        store.get(b.id)
