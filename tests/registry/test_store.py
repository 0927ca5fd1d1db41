"""The registry: versions never overwritten, lineage recorded, the current pointer moved
atomically, rollback through its history, two processes registering at once."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from rnnkit._files import lock_path
from rnnkit.errors import ConfigError, DataError
from rnnkit.registry import Registry, VersionInfo, file_sha256, store
from rnnkit.registry.store import LINEAGE, POINTER, parse_version, sha256_files
from rnnkit.tasks import Forecaster, load


def test_register_a_fitted_task_writes_v1_with_its_lineage(tmp_path, fitted, nile):
    reg = Registry(tmp_path / "registry")
    sha = file_sha256(nile[0])
    info = reg.register("nile", fitted, data_sha256={"old.csv": sha},
                        metrics={"test": {"rmse": 1.5}})
    assert isinstance(info, VersionInfo)
    assert (info.version, info.label, info.parent, info.task) == (1, "v1", None, "forecasting")
    assert info.path == tmp_path / "registry" / "nile" / "v1"
    assert info.bundle == info.path / "model"
    lineage = json.loads((info.path / LINEAGE).read_text())
    assert lineage["version"] == 1 and lineage["parent"] is None
    assert lineage["data_sha256"] == {"old.csv": sha}
    assert lineage["config"] == fitted.config.to_dict()
    assert lineage["metrics"] == {"test": {"rmse": 1.5}}
    assert lineage["rnnkit_version"] and lineage["created"].startswith("20")
    # the registered bundle is the task: the same forecast, digit for digit
    series = fitted.read_data()
    pd.testing.assert_frame_equal(load(info.bundle).predict(series), fitted.predict(series))
    assert reg.names() == ["nile"] and not info.current and reg.current("nile") is None


def test_register_a_run_or_a_bundle_copies_it_and_leaves_the_source(tmp_path, run):
    before = {p.name: p.read_bytes() for p in (run / "model").iterdir()}
    reg = Registry(tmp_path / "registry")
    first = reg.register("nile", run)
    second = reg.register("nile", run / "model", parent=1)
    assert (first.version, second.version, second.parent) == (1, 2, 1)
    assert {p.name: p.read_bytes() for p in (run / "model").iterdir()} == before
    assert {p.name: p.read_bytes() for p in second.bundle.iterdir()} == before
    assert isinstance(load(first.bundle), Forecaster)


def test_a_version_is_never_overwritten(tmp_path, fitted):
    reg = Registry(tmp_path)
    v1 = reg.register("nile", fitted)
    kept = {p.name: p.read_bytes() for p in v1.bundle.iterdir()}
    v2 = reg.register("nile", fitted, parent="v1")
    assert v2.version == 2
    assert {p.name: p.read_bytes() for p in v1.bundle.iterdir()} == kept
    assert [v.version for v in reg.versions("nile")] == [1, 2]


def test_register_refuses_what_is_not_a_bundle_and_bad_arguments(tmp_path, fitted):
    reg = Registry(tmp_path / "registry")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    with pytest.raises(ConfigError, match="task_or_bundle_path: expected a bundle or a run"):
        reg.register("nile", folder)
    with pytest.raises(ConfigError, match="task_or_bundle_path: expected a fitted Task"):
        reg.register("nile", 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="name: expected a name without path separators"):
        reg.register("../up", fitted)
    with pytest.raises(ConfigError, match="data_sha256: expected a sha256 hex string"):
        reg.register("nile", fitted, data_sha256="abc")
    with pytest.raises(ConfigError, match=r"parent: expected an existing version of 'nile'"):
        reg.register("nile", fitted, parent=4)
    assert (folder / "mine.txt").read_text() == "keep"
    assert reg.names() == []  # nothing half-registered
    assert not [p for p in (tmp_path / "registry" / "nile").iterdir()]


def test_promote_current_and_rollback_through_the_history(tmp_path, fitted):
    reg = Registry(tmp_path)
    for _ in range(3):
        reg.register("nile", fitted)
    with pytest.raises(ConfigError, match="name: expected a model with a current version"):
        reg.current_path("nile")
    reg.promote("nile", 1)
    reg.promote("nile", "v3")
    reg.promote("nile", "2")
    assert reg.current("nile").version == 2
    assert reg.current_path("nile") == tmp_path / "nile" / "v2" / "model"
    assert [v.current for v in reg.versions("nile")] == [False, True, False]
    assert json.loads((tmp_path / "nile" / POINTER).read_text()) == {"version": 2,
                                                                     "history": [1, 3]}
    assert reg.rollback("nile").version == 3
    assert reg.rollback("nile").version == 1
    with pytest.raises(ConfigError, match="roll back to, got 'nile', whose current version v1 "
                                          "has none before it"):
        reg.rollback("nile")
    assert reg.current("nile").version == 1


def test_register_with_promote_moves_the_pointer(tmp_path, fitted):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    info = reg.register("nile", fitted, parent=1, promote=True)
    assert info.current and reg.current("nile").version == 2
    assert reg.rollback("nile").version == 1


def test_unknown_names_and_versions_are_config_errors(tmp_path, fitted):
    reg = Registry(tmp_path)
    with pytest.raises(ConfigError, match=r"name: expected a registered model \(.* has none\)"):
        reg.versions("nile")
    reg.register("nile", fitted)
    with pytest.raises(ConfigError, match=r"name: expected a registered model \(among "
                                          r"\['nile'\]\), got 'sun'"):
        reg.promote("sun", 1)
    with pytest.raises(ConfigError, match=r"version: expected a version of 'nile' among "
                                          r"\['v1'\], got 'v2'"):
        reg.promote("nile", 2)
    with pytest.raises(ConfigError, match="roll back to, got 'nile', which has no current"):
        reg.rollback("nile")  # never promoted: nothing to go back to
    assert reg.current("nile") is None


@pytest.mark.parametrize("given, number", [(3, 3), ("3", 3), ("v12", 12), (" v1 ", 1)])
def test_parse_version(given, number):
    assert parse_version(given) == number


@pytest.mark.parametrize("given", [0, -1, "v0", "x", True, 1.0, None, "v1.5"])
def test_parse_version_refuses(given):
    with pytest.raises(ConfigError, match="version: expected a version number"):
        parse_version(given)


def test_file_sha256(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x,y\n1,2\n")
    assert file_sha256(path) == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert sha256_files([path]) == {"a.csv": file_sha256(path)}
    with pytest.raises(DataError, match="data: expected a data file to fingerprint"):
        file_sha256(tmp_path / "missing.csv")


def test_a_crash_mid_promote_leaves_the_old_pointer(tmp_path, fitted, monkeypatch):
    reg = Registry(tmp_path)
    reg.register("nile", fitted, promote=True)
    reg.register("nile", fitted)
    pointer = (tmp_path / "nile" / POINTER).read_bytes()

    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        reg.promote("nile", 2)
    monkeypatch.undo()
    assert (tmp_path / "nile" / POINTER).read_bytes() == pointer
    assert reg.current("nile").version == 1
    assert sorted(p.name for p in (tmp_path / "nile").iterdir()) == [POINTER, "v1", "v2"]
    assert not lock_path(tmp_path / "nile").exists()  # the lock is released


def test_a_crash_mid_register_leaves_no_version(tmp_path, fitted, monkeypatch):
    reg = Registry(tmp_path)
    reg.register("nile", fitted)

    def crash(src, dst):
        raise OSError("killed")

    monkeypatch.setattr(store.os, "rename", crash)
    with pytest.raises(OSError, match="killed"):
        reg.register("nile", fitted)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "nile").iterdir()) == ["v1"]
    assert reg.register("nile", fitted).version == 2


def test_a_lock_held_by_another_live_process_times_out(tmp_path, fitted):
    reg = Registry(tmp_path, lock_timeout=0.2)
    reg.register("nile", fitted)
    lock = lock_path(tmp_path / "nile")
    lock.write_text(f"{os.getppid()}\n")  # a live process that is not this one
    try:
        with pytest.raises(ConfigError, match="locked by process"):
            reg.promote("nile", 1)
    finally:
        lock.unlink()
    assert reg.current("nile") is None


def test_two_processes_registering_at_once_get_distinct_versions(tmp_path, run):
    script = textwrap.dedent(f"""
        import sys
        from rnnkit.registry import Registry
        reg = Registry({str(tmp_path / 'registry')!r})
        for _ in range(3):
            print(reg.register("nile", {str(run)!r}).version, flush=True)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    numbers = sorted(int(n) for out, _ in outs for n in out.split())
    assert numbers == [1, 2, 3, 4, 5, 6]
    reg = Registry(tmp_path / "registry")
    assert [v.version for v in reg.versions("nile")] == numbers
    for v in reg.versions("nile"):
        assert json.loads((v.path / LINEAGE).read_text())["version"] == v.version
        load(v.bundle)  # every copy whole


def test_promote_only_if_current_moves_nothing_when_current_changed(tmp_path, fitted):
    reg = Registry(tmp_path)
    for _ in range(3):
        reg.register("nile", fitted)
    reg.promote("nile", 1)
    reg.promote("nile", 2)  # another process moved it
    with pytest.raises(ConfigError, match="only_if_current: expected v1 still current when v3 "
                                          "is promoted, got v2, made current meanwhile"):
        reg.promote("nile", 3, only_if_current=1)
    assert reg.current("nile").version == 2
    assert reg.promote("nile", 3, only_if_current="v2").version == 3
    assert reg.rollback("nile").version == 2
