"""The rnnkit entry point: help, version, one-line errors, exit codes."""

import subprocess
import sys

from rnnkit import __version__


def test_bare_rnnkit_prints_the_help_and_succeeds(cli):
    code, stdout, _ = cli([])
    assert code == 0
    for command in ("train", "evaluate", "predict", "tune", "lab", "examples", "datasets"):
        assert command in stdout


def test_version(cli):
    code, stdout, _ = cli(["--version"])
    assert code == 0 and stdout.strip() == f"rnnkit {__version__}"


def test_usage_errors_exit_2_without_a_traceback(cli):
    code, _, err = cli(["train"])
    assert code == 2 and "Missing argument" in err and "Traceback" not in err
    code, _, err = cli(["nosuchcommand"])
    assert code == 2 and "Traceback" not in err


def test_help_does_not_import_torch():
    """`rnnkit --help` answers without importing torch (seconds saved on every call)."""
    code = ("import sys; from rnnkit.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
