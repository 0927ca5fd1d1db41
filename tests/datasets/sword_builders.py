"""Builders of tiny ``ar`` archives, ``.deb`` packages and zText SWORD modules for the tests
of :mod:`rnnkit.datasets.debian`, :mod:`rnnkit.datasets.sword_text` and
:mod:`rnnkit.datasets.sword` (imported by bare name; tests/conftest.py puts this folder on
sys.path): ``.bzs``/``.bzv``/``.bzz`` bytes written with struct and zlib, packed into an
``ar`` archive like a ``.deb``.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from collections.abc import Callable

from rnnkit.datasets.kjv import kjv_layout

__all__ = ["_ar", "_deb", "_module_files", "_tar", "_ztext"]

# -- builders -----------------------------------------------------------------------------


def _ar(members: dict[str, bytes], *, gnu_names: bool = False) -> bytes:
    """A Unix ``ar`` archive as ``dpkg-deb`` writes one (GNU ``name/`` if asked)."""
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        shown = f"{name}/" if gnu_names else name
        out += f"{shown:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode("ascii")
        out += data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def _tar(files: dict[str, bytes], mode: str = "w:xz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _deb(files: dict[str, bytes], data_member: str = "data.tar.xz") -> bytes:
    """A ``.deb``: ``debian-binary``, ``control.tar.xz`` and ``data.tar.*`` in an ``ar``."""
    mode = {"data.tar.xz": "w:xz", "data.tar.gz": "w:gz", "data.tar": "w"}.get(data_member, "w")
    return _ar({"debian-binary": b"2.0\n",
                "control.tar.xz": _tar({"./control": b"Package: tiny\n"}),
                data_member: _tar({f"./{k}": v for k, v in files.items()}, mode)})


def _ztext(
    slots: list[str],
    *,
    per_block: int = 3,
    encoding: str = "utf-8",
    mod_drv: str = "zText",
    compress: Callable[[bytes], bytes] = zlib.compress,
) -> tuple[bytes, bytes, bytes]:
    """``(bzs, bzv, bzz)`` of a zText testament holding ``slots``, ``per_block`` per block."""
    slot_format = "<IIH" if mod_drv == "zText" else "<III"
    bzs, bzv, bzz = bytearray(), bytearray(), bytearray()
    for first in range(0, len(slots), per_block):
        raw = bytearray()
        block = len(bzs) // 12
        for text in slots[first : first + per_block]:
            data = text.encode(encoding)
            bzv += struct.pack(slot_format, block if data else 0, len(raw) if data else 0,
                               len(data))
            raw += data
        packed = compress(bytes(raw))
        bzs += struct.pack("<III", len(bzz), len(packed), len(raw))
        bzz += packed
    return bytes(bzs), bytes(bzv), bytes(bzz)


_NT_SLOT = {ref: slot for slot, ref in kjv_layout()["nt"]}


def _module_files(name: str, verses: dict[str, str], conf_extra: str = "") -> dict[str, bytes]:
    """A New-Testament-only zText module with the KJV layout, as a ``.deb`` installs it."""
    slots = [""] * 8_246
    slots[1] = '<milestone type="x-importer"/>'  # the testament header
    for ref, text in verses.items():
        slots[_NT_SLOT[ref]] = text
    bzs, bzv, bzz = _ztext(slots, per_block=500)
    folder = f"usr/share/sword/modules/texts/ztext/{name.lower()}"
    conf = (f"[{name}]\nDataPath=./modules/texts/ztext/{name.lower()}/\nModDrv=zText\n"
            f"SourceType=OSIS\nEncoding=UTF-8\nCompressType=ZIP\nBlockType=BOOK\n{conf_extra}")
    return {f"usr/share/sword/mods.d/{name.lower()}.conf": conf.encode("utf-8"),
            f"{folder}/nt.bzs": bzs, f"{folder}/nt.bzv": bzv, f"{folder}/nt.bzz": bzz,
            f"usr/share/doc/{name.lower()}/copyright": b"public domain\n"}


def targz(files: dict[str, bytes]) -> bytes:
    """A .tar.gz archive of ``{name: content}``, as a package registry serves one."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()
