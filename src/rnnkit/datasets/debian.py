"""Debian packages read in place: the ``ar`` container of a ``.deb`` and its installed files.

A ``.deb`` is an ``ar`` archive (:func:`read_ar`) holding ``debian-binary``, ``control.tar.*``
and ``data.tar.*``; :func:`read_deb` returns the files the package would install, as
``{path: bytes}``, without ``apt``, root or a Debian system. The SWORD Bible modules
(:mod:`rnnkit.datasets.sword`) come this way from the Debian mirror (see
:mod:`rnnkit.datasets.cache`).
"""

from __future__ import annotations

import io
import lzma
import os
import tarfile
from pathlib import Path, PurePosixPath

from rnnkit._validation import Described, expected
from rnnkit.errors import DataError

__all__ = ["read_ar", "read_deb"]

PathLike = str | os.PathLike[str]

_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60  # name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n" 2


def read_ar(data: bytes) -> dict[str, bytes]:
    """The members of a Unix ``ar`` archive (the container of a ``.deb``): ``{name: bytes}``.

    Handles the common format (names up to 16 characters, GNU's trailing ``/``) and BSD's
    long names (``#1/<length>``, the name leading the data). Each member's data is padded to
    an even length.

    Raises:
        DataError: no ``!<arch>`` magic, a malformed header or a truncated member.
    """
    if not data.startswith(_AR_MAGIC):
        raise DataError(expected("ar archive", "the magic !<arch>\\n at byte 0",
                                 Described(repr(data[:8]))))
    members: dict[str, bytes] = {}
    pos = len(_AR_MAGIC)
    while pos < len(data):
        header = data[pos : pos + _AR_HEADER]
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            raise DataError(expected(f"ar member header at byte {pos}",
                                     "60 bytes ending in '`\\n'", Described(repr(header[:20]))))
        name = header[:16].decode("ascii", "replace").rstrip()
        size_field = header[48:58].decode("ascii", "replace").strip()
        if not size_field.isdigit():
            raise DataError(expected(f"size of ar member {name!r}", "a decimal number",
                                     size_field))
        start, size = pos + _AR_HEADER, int(size_field)
        if start + size > len(data):
            raise DataError(expected(f"ar member {name!r}", f"{size} bytes",
                                     Described(f"{len(data) - start} (truncated archive)")))
        body = data[start : start + size]
        if name.startswith("#1/") and name[3:].isdigit():  # BSD: the name leads the data
            n = int(name[3:])
            name, body = body[:n].rstrip(b"\0").decode("utf-8", "replace"), body[n:]
        elif name.endswith("/") and name != "/":  # GNU terminates names with "/"
            name = name[:-1]
        members[name] = body
        pos = start + size + (size % 2)
    return members


def read_deb(deb: bytes | PathLike) -> dict[str, bytes]:
    """The installed files of a Debian package: ``{path: bytes}`` for every regular file of
    its ``data.tar`` (``.xz``, ``.gz``, ``.bz2`` or uncompressed), paths without ``./``.

    Args:
        deb: the ``.deb`` file's bytes or path.

    Raises:
        DataError: not a Debian package (no ``debian-binary`` 2.x, no ``data.tar``) or a
            ``data.tar.zst``, which Python's ``tarfile`` cannot read.
    """
    data = deb if isinstance(deb, bytes) else Path(deb).read_bytes()
    members = read_ar(data)
    version = members.get("debian-binary", b"").strip()
    if not version.startswith(b"2."):
        raise DataError(expected("debian-binary of the .deb", "format 2.x",
                                 Described(repr(version) if version else "no such member")))
    names = [n for n in members if n == "data.tar" or n.startswith("data.tar.")]
    if not names:
        raise DataError(expected("members of the .deb", "a data.tar[.xz|.gz|.bz2]",
                                 sorted(members)))
    if names[0].endswith(".zst"):
        raise DataError(expected(f"{names[0]} of the .deb", "xz, gzip or bzip2 compression",
                                 "zstd", "Python's tarfile reads no zstd; repack the "
                                 "package or pin another version"))
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(members[names[0]]), mode="r:*") as tf:
            for member in tf:
                fh = tf.extractfile(member) if member.isfile() else None
                if fh is not None:
                    files[str(PurePosixPath(member.name.removeprefix("./")))] = fh.read()
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read {names[0]} of the .deb: {exc}") from exc
    return files
