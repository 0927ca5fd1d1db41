"""Shared test setup: test helper modules (e.g. tests/nn/textbook.py) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "nn"))
