"""Shared by the command-line tests: a tiny forecasting config and a runner that returns
the exit code, stdout and stderr."""

import textwrap

import pytest

from rnnkit.cli.main import main

TINY = textwrap.dedent("""
    name = "tiny"
    [data]
    dataset = "battery"
    dataset_args = { n_cycles = 200, seed = 0 }
    [forecast]
    look_back = 10
    scaling = "window"
    [model]
    cell = "gru"
    hidden_size = 8
    num_layers = 1
    [training]
    epochs = 2
    device = "cpu"
    [split]
    val = 0.1
    test = 0.2
""")



@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def cli(capsys):
    """``cli(argv) -> (exit code, stdout, stderr)`` of the rnnkit command."""

    def run(argv):
        code = 0
        try:
            main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
