"""Fuzz the command line: unknown commands and options, bad numbers and missing arguments exit
with status 2 and one line on stderr, never a traceback. (Every argv here fails while parsing,
so no command runs.)"""

from __future__ import annotations

from fuzz_helpers import TALLY_PATH, record, twin
from hypothesis import strategies as st

from rnnkit.cli.main import main

COMMANDS = ["lab", "datasets", "examples", "train", "evaluate", "predict", "tune"]
NEEDS_ARGUMENT = ["lab", "train", "evaluate", "predict", "tune"]
INT_OPTIONS = {"predict": "--horizon", "tune": "--trials", "lab": "--seed"}
FLOAT_OPTIONS = {"tune": "--timeout"}
WORD = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
               max_size=10)
NOT_A_NUMBER = st.sampled_from(["abc", "1.5.2", "", "one", "--", "0x", "1e", "nan?", "١٢"])


@st.composite
def bad_argv(draw):
    kind = draw(st.sampled_from(["unknown command", "unknown option", "missing argument",
                                 "bad int", "bad float", "option without value"]))
    if kind == "unknown command":
        word = draw(WORD.filter(lambda w: w not in COMMANDS and not w.startswith("-")))
        return [word, *draw(st.lists(WORD, max_size=3))]
    if kind == "unknown option":
        cmd = draw(st.sampled_from(["", *COMMANDS]))
        opt = "--" + draw(st.text("abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=10)
                          .filter(lambda s: s not in {"help", "version", "debug"}))
        opt = opt if not opt.startswith("---") else "--zz" + opt
        return [a for a in [cmd, "x", opt] if a] if cmd in NEEDS_ARGUMENT else (
            [a for a in [cmd, opt] if a])
    if kind == "missing argument":
        return [draw(st.sampled_from(NEEDS_ARGUMENT))]
    if kind == "bad int":
        cmd = draw(st.sampled_from(list(INT_OPTIONS)))
        args = ["run", "in.csv"] if cmd == "predict" else ["cfg.toml"] if cmd == "tune" else ["x"]
        return [cmd, *args, INT_OPTIONS[cmd], draw(NOT_A_NUMBER)]
    if kind == "bad float":
        return ["tune", "cfg.toml", "--timeout", draw(NOT_A_NUMBER)]
    cmd = draw(st.sampled_from(list(INT_OPTIONS)))
    return [*[cmd, "x", "y"][: 3 if cmd == "predict" else 2], INT_OPTIONS[cmd]]


def check_argv(argv, capsys=None):
    import contextlib
    import io

    err = io.StringIO()
    code, exc = None, None
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(list(argv))
            code = 0
        except SystemExit as stop:
            code = stop.code
        except Exception as e:
            exc = e
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    if exc is not None or "Traceback" in err.getvalue():
        result = "raw"
    elif code == 0:
        result = "silent"
    elif code == 2 and len(lines) == 1:
        result = "clean"
    else:
        result = "unclear"
    record("cli: bad argv", result, argv, exc or RuntimeError(f"exit {code}, stderr {lines!r}"))
    if not TALLY_PATH:
        assert result == "clean", (argv, code, lines, exc)


test_bad_argv, test_bad_argv_deep = twin(bad_argv(), check_argv)
