"""Helpers of the fuzz tests (issue 9): the outcome classifier, the tally and the two profiles.

Every property runs twice: a few examples by default (CI, the whole folder in seconds) and many
more under ``-m fuzz``. ``RNNKIT_FUZZ_EXAMPLES`` sets the deep count (default 400).
With ``RNNKIT_FUZZ_TALLY=path.json`` the properties only count outcomes (no assertion fails)
and the counts, with the first raw/silent/unclear cases of each area, are written to that file.
"""

from __future__ import annotations

import os
import re
import signal
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from rnnkit.bundle import BundleError
from rnnkit.errors import RnnkitError

CI_EXAMPLES = 12
DEEP_EXAMPLES = int(os.environ.get("RNNKIT_FUZZ_EXAMPLES", "400"))
TIME_LIMIT_S = 10.0  # one example past this is a "hang"
TALLY_PATH = os.environ.get("RNNKIT_FUZZ_TALLY")
OUTCOMES = ("clean", "unclear", "raw", "silent", "hang")

#: "name: expected ..." on one line, where name is an argument, a key or a file
_CLEAN = re.compile(r"^[^\n]{1,200}?: expected [^\n]*$")

TALLY: dict[str, Counter] = defaultdict(Counter)
CASES: dict[str, list[str]] = defaultdict(list)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


def classify(fn: Callable[[], Any]) -> tuple[str, BaseException | None]:
    """Run ``fn`` (which should refuse its input) -> (outcome, the exception)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        fn()
    except Hang as err:
        return "hang", err
    except (RnnkitError, BundleError) as err:
        return ("clean" if _CLEAN.match(str(err)) else "unclear"), err
    except Exception as err:
        return "raw", err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return "silent", None


def outcome(fn: Callable[[], Any]) -> str:
    """"clean", "unclear", "raw", "silent" or "hang" for ``fn`` run on an invalid input."""
    return classify(fn)[0]


def record(area: str, result: str, case: Any, err: BaseException | None = None) -> None:
    TALLY[area][result] += 1
    TALLY[area]["tried"] += 1
    if result != "clean" and len(CASES[area]) < 20:
        CASES[area].append(f"{result}: {case!r} -> {type(err).__name__}: {err}"[:600])


def expect_clean(area: str, fn: Callable[[], Any], case: Any) -> None:
    """``fn`` must refuse ``case`` with a clean rnnkit error (counted; asserted unless tallying)."""
    result, err = classify(fn)
    record(area, result, case, err)
    if not TALLY_PATH:
        assert result == "clean", f"{result} for {case!r}: {type(err).__name__}: {err}"


def expect_valid(area: str, fn: Callable[[], Any], case: Any) -> None:
    """``fn`` checks a valid input against its reference (an AssertionError is a "silent")."""
    try:
        fn()
    except AssertionError as err:
        record(area, "silent", case, err)
        if not TALLY_PATH:
            raise
        return
    except Exception as err:
        record(area, "raw", case, err)
        if not TALLY_PATH:
            raise
        return
    TALLY[area]["valid ok"] += 1
    TALLY[area]["tried"] += 1


def twin(strategy, body: Callable[[Any], None]):
    """(CI test, deep test marked ``fuzz``) of one property ``body(case)``."""

    def make(n: int):
        @settings(max_examples=n, deadline=None, database=None, derandomize=n == CI_EXAMPLES,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def test(case):
            body(case)

        return test

    return make(CI_EXAMPLES), pytest.mark.fuzz(make(DEEP_EXAMPLES))

