"""What every lab shares: the verdict line."""

from rnnkit.labs._common import verdict


def test_a_quick_run_is_a_smoke_test_not_a_failed_bar():
    assert verdict(True, quick=False) == "passed"
    assert verdict(False, quick=False) == "NOT passed"
    for passed in (True, False, None):
        assert verdict(passed, quick=True) == (
            "not checked (--quick is a smoke test; the bar is for the full run)")
