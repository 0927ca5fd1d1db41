import rnnkit


def test_version_is_exposed():
    assert rnnkit.__version__.count(".") == 2
