"""Shared setup of the language-model tests: their builders (lm_builders.py: the toy text and
a tiny config) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
