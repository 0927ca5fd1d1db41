"""The rnnkit entry point: help, version, one-line errors, exit codes."""

import subprocess
import sys

import pytest

from rnnkit import __version__


def test_bare_rnnkit_prints_the_help_and_succeeds(cli):
    code, stdout, _ = cli([])
    assert code == 0
    for command in ("train", "evaluate", "predict", "tune", "lab", "examples", "datasets"):
        assert command in stdout


def test_version(cli):
    code, stdout, _ = cli(["--version"])
    assert code == 0 and stdout.strip() == f"rnnkit {__version__}"


@pytest.mark.parametrize(("argv", "message"), [
    (["train"], "error: rnnkit train: Missing argument 'config'. (see rnnkit train --help)"),
    (["train", "x.toml", "--epochs", "3"],
     "error: rnnkit train: No such option: --epochs"),
    (["nosuchcommand"], "error: rnnkit: No such command 'nosuchcommand'. (see rnnkit --help)"),
    (["tune", "x.toml", "--trials", "abc"], "error: rnnkit tune: Invalid value for '--trials'"),
])
def test_usage_errors_are_one_line_with_exit_2(argv, message, cli):
    code, stdout, err = cli(argv)
    assert code == 2 and stdout == ""
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


HEAVY = ("torch", "pandas", "scipy", "sklearn", "matplotlib")


@pytest.mark.parametrize("argv", [
    ["--help"], ["--version"], ["train", "--help"], ["serve", "--help"], ["report", "--help"],
    ["train", "x.toml", "--epochs", "3"], ["nosuchcommand"], ["tune", "x.toml", "--trials", "abc"],
    ["lab", "nosuch"], ["report", "/nonexistent-run"], ["report", ".", "--tsne-points", "1"],
])
def test_help_and_usage_errors_import_no_heavy_library(argv):
    """`rnnkit --help`, every command's help and usage errors answer without importing torch,
    pandas, SciPy, scikit-learn or matplotlib (seconds saved on every call)."""
    code = ("import sys; from rnnkit.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
