"""tests/ mirrors src/rnnkit/: every module ``src/rnnkit/<pkg>/<name>.py`` has its test file
``tests/<pkg>/test_<name>.py`` (a leading underscore dropped: ``_batching.py`` ->
``test_batching.py``; ``__init__.py`` and ``__main__.py`` excepted)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC, TESTS = ROOT / "src" / "rnnkit", ROOT / "tests"


def mirror(module: Path) -> Path:
    """The test file of ``module`` (a path under src/rnnkit)."""
    relative = module.relative_to(SRC)
    return TESTS / relative.parent / f"test_{relative.stem.lstrip('_')}.py"


def modules_without_tests() -> list[str]:
    return sorted(str(module.relative_to(SRC)) for module in SRC.rglob("*.py")
                  if module.name not in ("__init__.py", "__main__.py")
                  and "__pycache__" not in module.parts and not mirror(module).is_file())


def test_the_mirror_of_a_module():
    assert mirror(SRC / "nn" / "lstm.py") == TESTS / "nn" / "test_lstm.py"
    assert mirror(SRC / "tasks" / "_batching.py") == TESTS / "tasks" / "test_batching.py"
    assert mirror(SRC / "errors.py") == TESTS / "test_errors.py"
    assert mirror(SRC / "tasks" / "seq2seq" / "config.py") == (
        TESTS / "tasks" / "seq2seq" / "test_config.py")


def test_every_module_has_a_mirroring_test_file():
    missing = modules_without_tests()
    assert not missing, "modules under src/rnnkit without their test file: " + ", ".join(
        f"{m} (-> {mirror(SRC / m).relative_to(ROOT)})" for m in missing)
