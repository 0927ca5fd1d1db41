"""rnnkit.nn.bptt, the compatibility module: the same objects as rnnkit.nn.backends (whose
tests are under tests/nn/backends/)."""

from rnnkit.nn import backends, bptt


def test_bptt_re_exports_the_backends_package():
    assert bptt.__all__ == backends.__all__
    for name in backends.__all__:
        assert getattr(bptt, name) is getattr(backends, name)
