"""Shared setup of the lab tests: their builders (lab_builders.py: synthetic stand-ins for the
corpora, the run-directory checks) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
