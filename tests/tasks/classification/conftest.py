"""Shared setup of the classifier tests: their builders (classifier_builders.py: synthetic
texts and series, small configs) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
