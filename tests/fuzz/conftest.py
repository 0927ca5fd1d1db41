"""The fuzz tests' folder on sys.path (for ``fuzz_helpers``) and, with ``RNNKIT_FUZZ_TALLY``,
the outcome counts written at the end of the session."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import fuzz_helpers


def pytest_sessionfinish(session, exitstatus):
    if fuzz_helpers.TALLY_PATH and fuzz_helpers.TALLY:
        with open(fuzz_helpers.TALLY_PATH, "w") as f:
            json.dump({"tally": fuzz_helpers.TALLY, "cases": fuzz_helpers.CASES}, f, indent=1,
                      default=str)
