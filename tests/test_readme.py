"""Every README snippet runs as written, from a folder that is not the repository.

Python blocks run in a fresh temporary working directory (as a user's script would); bash
blocks run each ``rnnkit ...`` line through the command's entry point in that folder (exit 0,
or 3 for ``rnnkit monitor``, whose status says whether it found drift). Not run
here: the two install commands at the top (they are what CI itself runs) and the ``python
bench/...`` lines, which are benchmark scripts of the repository checkout taking minutes (their
results are in BENCHMARKS.md).
"""

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from rnnkit.cli.main import main

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
BASH = [code for lang, code in BLOCKS if lang == "bash"
        and any(line.startswith("rnnkit ") for line in code.splitlines())]


def _first_line(code: str) -> str:
    return next(line for line in code.splitlines() if line and not line.startswith("#"))[:60]


def test_the_readme_has_the_workflow_of_every_task_in_python_and_on_the_command_line():
    for cls in ("Forecaster", "SequenceClassifier", "SequenceTagger", "LanguageModel", "Seq2Seq"):
        assert any(f"from rnnkit.tasks import {cls}\n" in code for code in PYTHON), cls
    for example in ("forecasting", "classification", "tagging", "language_model", "seq2seq"):
        assert any(f"rnnkit examples {example} --to demo" in code for code in BASH), example
    skipped = [code for lang, code in BLOCKS if lang == "bash" and code not in BASH]
    for code in skipped:  # only the install commands and the benchmark scripts are not run
        for line in code.splitlines():
            assert line.startswith(("pip install torch==2.13.0", "python bench/")), line


@pytest.mark.parametrize("code", PYTHON, ids=_first_line)
def test_python_snippet_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("code", BASH, ids=_first_line)
def test_command_line_snippet_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for line in code.splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        assert argv[0] == "rnnkit", line
        try:
            main(argv[1:])
        except SystemExit as stop:
            allowed = (0, None, 3) if argv[1] == "monitor" else (0, None)  # 3: drift found
            assert stop.code in allowed, f"{line}: {capsys.readouterr().err}"
