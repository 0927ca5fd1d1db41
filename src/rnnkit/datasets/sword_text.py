"""SWORD Bible modules read from their files: the conf, the zText blocks and the markup.

The SWORD project (CrossWire Bible Society) distributes Bible texts as "modules". A module's
files (as :func:`~rnnkit.datasets.debian.read_deb` returns them from a Debian package) are
``mods.d/<module>.conf`` (key=value settings: ``ModDrv``, ``SourceType``, ``Encoding``,
``CompressType``, ``Versification``, licence; :func:`parse_conf`) and, under the conf's
``DataPath``, for each testament ``ot``/``nt``:

* ``.bzs``: 12-byte entries ``<u32 offset, u32 compressed size, u32 uncompressed size>``
  (little-endian), one per compressed block of ``.bzz``;
* ``.bzv``: 10-byte entries ``<u32 block, u32 offset in the uncompressed block, u16 size>``,
  one per verse slot (``zText4``: a u32 size, 12 bytes);
* ``.bzz``: the blocks themselves (``CompressType=ZIP``: zlib).

:func:`read_ztext` turns the three files into the text of every slot; the slots follow the
versification (:mod:`rnnkit.datasets.kjv`), so :meth:`SwordModule.verses` gives every verse
with its reference. :func:`read_module` reads a whole module.

From markup to text
-------------------
:func:`strip_markup` keeps the words a reader sees: tags go; notes (``<note>``, GBF ``<RF>``)
and non-canonical headings go with their content; canonical psalm titles ("A Psalm of David")
stay, as both translations print them in verse 1; the paragraph sign ``¶`` and a few USFM
codes the KJV's conversion left behind (``\\nd``) go; entities are decoded and white space
collapsed. The RV1909 module leaves no space between a ``<w>`` and an adjacent
``<transChange>`` (about 580 places, "Graciaseaá vosotros"); such element boundaries count as
a space.
"""

from __future__ import annotations

import bz2
import html
import lzma
import re
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from rnnkit._validation import Described, check_choice, expected
from rnnkit.datasets.kjv import KJV_SLOTS, kjv_layout
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "SwordConf",
    "SwordModule",
    "parse_conf",
    "read_module",
    "read_ztext",
    "strip_markup",
]

# -- the module's .conf -------------------------------------------------------------------


@dataclass(frozen=True)
class SwordConf:
    """A SWORD module's settings from ``mods.d/<module>.conf``.

    ``fields`` keeps every ``Key=value`` in file order (a key may repeat, such as
    ``GlobalOptionFilter``); the properties give the settings the reader needs, with SWORD's
    defaults where the file says nothing.
    """

    name: str
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of ``key`` (SWORD's key names, case-sensitive), else ``default``."""
        values = self.fields.get(key)
        return values[0] if values else default

    @property
    def data_path(self) -> str:
        """The module's directory under the SWORD root, without ``./`` or a trailing ``/``."""
        return self.get("DataPath", "").removeprefix("./").strip("/")

    @property
    def mod_drv(self) -> str:
        return self.get("ModDrv", "")

    @property
    def source_type(self) -> str:
        """Markup: ``OSIS``, ``GBF``, ``ThML``, ``TEI`` or ``Plaintext`` (the default)."""
        return self.get("SourceType", "Plaintext")

    @property
    def encoding(self) -> str:
        """``UTF-8`` or ``Latin-1`` (the default)."""
        return self.get("Encoding", "Latin-1")

    @property
    def compress_type(self) -> str:
        """``ZIP`` (zlib), ``BZIP2``, ``XZ`` or ``LZSS`` (the default)."""
        return self.get("CompressType", "LZSS")

    @property
    def versification(self) -> str:
        return self.get("Versification", "KJV")

    @property
    def licence(self) -> str:
        """``DistributionLicense`` (for example ``"Public Domain"``), else ``"unknown"``."""
        return self.get("DistributionLicense", "unknown")


def parse_conf(text: str) -> SwordConf:
    """Parse a SWORD ``.conf``: a ``[ModuleName]`` line, then ``Key=value`` lines.

    Lines starting with ``#`` and blank lines are skipped; a value ending in ``\\`` continues
    on the next line.

    Raises:
        DataError: no ``[ModuleName]`` line before the first field.
    """
    name: str | None = None
    fields: dict[str, list[str]] = {}
    lines = iter(text.lstrip("\ufeff").splitlines())
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if name is None:
            if not (line.startswith("[") and line.endswith("]") and len(line) > 2):
                raise DataError(expected(f"conf line {lineno}", "the module name as [Name]",
                                         line[:80]))
            name = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue  # SWORD ignores lines without "="
        while value.endswith("\\"):
            value = value[:-1] + "\n" + next(lines, "").strip()
        fields.setdefault(key.strip(), []).append(value.strip())
    if name is None:
        raise DataError(expected("conf", "a [ModuleName] line", "none"))
    return SwordConf(name, {k: tuple(v) for k, v in fields.items()})


# -- zText ----------------------------------------------------------------------------------

_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "ZIP": zlib.decompress, "BZIP2": bz2.decompress, "XZ": lzma.decompress,
}
_CODECS = {"UTF-8": "utf-8", "LATIN-1": "latin-1"}
_SLOT_FORMATS = {"zText": "<IIH", "zText4": "<III"}  # block, offset, size


def read_ztext(
    bzs: bytes,
    bzv: bytes,
    bzz: bytes,
    *,
    compress_type: str = "ZIP",
    encoding: str = "UTF-8",
    mod_drv: str = "zText",
) -> list[str]:
    """The text of every verse slot of one testament of a ``zText`` module, by slot index.

    Args:
        bzs: the block index (``ot.bzs`` or ``nt.bzs``): ``<u32 offset, u32 compressed size,
            u32 uncompressed size>`` per block, little-endian.
        bzv: the slot index (``.bzv``): ``<u32 block, u32 offset, u16 size>`` per slot
            (``mod_drv="zText4"``: a u32 size).
        bzz: the compressed blocks (``.bzz``).
        compress_type: the conf's ``CompressType``: ``"ZIP"`` (zlib), ``"BZIP2"`` or
            ``"XZ"``. SWORD's LZSS is not supported.
        encoding: the conf's ``Encoding``, ``"UTF-8"`` or ``"Latin-1"``.
        mod_drv: ``"zText"`` or ``"zText4"``.

    Returns:
        One string per slot, with the module's markup; a slot of size 0 gives ``""``. Strip
        the markup with :func:`strip_markup`.

    Raises:
        ConfigError: an unsupported ``compress_type``, ``encoding`` or ``mod_drv``.
        DataError: an index whose length is not a whole number of entries, a slot pointing
            outside its block, a block that does not decompress to its recorded size, or
            text that does not decode; the message names the slot or block.
    """
    check_choice("mod_drv", mod_drv, _SLOT_FORMATS)
    decompress = _DECOMPRESS.get(compress_type.upper())
    if decompress is None:
        raise ConfigError(expected("compress_type", f"one of {list(_DECOMPRESS)}", compress_type,
                                   "LZSS-compressed modules are not supported"))
    codec = _CODECS.get(encoding.upper())
    if codec is None:
        raise ConfigError(expected("encoding", "'UTF-8' or 'Latin-1'", encoding))
    slot_format = _SLOT_FORMATS[mod_drv]
    slot_size = struct.calcsize(slot_format)
    if len(bzs) % 12:
        raise DataError(expected("length of the .bzs block index", "a multiple of 12 bytes",
                                 len(bzs)))
    if len(bzv) % slot_size:
        raise DataError(expected(f"length of the .bzv slot index ({mod_drv})",
                                 f"a multiple of {slot_size} bytes", len(bzv)))
    blocks = list(struct.iter_unpack("<III", bzs))  # (offset, compressed, uncompressed)
    cache: dict[int, bytes] = {}

    def block(number: int) -> bytes:
        if number not in cache:
            offset, compressed, uncompressed = blocks[number]
            try:
                raw = decompress(bzz[offset : offset + compressed])
            except (zlib.error, OSError, ValueError, lzma.LZMAError) as exc:
                raise DataError(f"cannot decompress block {number} of the .bzz "
                                f"({compress_type}): {exc}") from exc
            if len(raw) != uncompressed:
                raise DataError(expected(f"block {number} of the .bzz",
                                         f"{uncompressed} bytes once decompressed", len(raw)))
            cache[number] = raw
        return cache[number]

    out: list[str] = []
    for slot, (number, offset, size) in enumerate(struct.iter_unpack(slot_format, bzv)):
        if size == 0:
            out.append("")
            continue
        if number >= len(blocks):
            raise DataError(expected(f"block of .bzv slot {slot}", f"< {len(blocks)}", number))
        raw = block(number)
        if offset + size > len(raw):
            raise DataError(expected(f".bzv slot {slot}", f"bytes within block {number} "
                                     f"({len(raw)} bytes)",
                                     Described(f"offset {offset} + size {size}")))
        try:
            out.append(raw[offset : offset + size].decode(codec))
        except UnicodeDecodeError as exc:
            raise DataError(f".bzv slot {slot} is not {encoding}: {exc}") from exc
    return out


# -- markup -------------------------------------------------------------------------------

_OSIS_NOTE = re.compile(r"<note\b[^>]*?(?:/>|>.*?</note\s*>)", re.S)
_OSIS_HEADING = re.compile(r"<title\b(?![^>]*\bcanonical=\"true\")[^>]*?(?:/>|>.*?</title\s*>)",
                           re.S)
_OSIS_WORD_BOUNDARY = re.compile(r"(</(?:w|transChange)\s*>)(?=<(?:w|transChange)\b)")
_SELF_CLOSING = re.compile(r"<[^<>]*/>")
_TAG = re.compile(r"<[^<>]*>")
_USFM_LEFTOVER = re.compile(r"\\\+?[a-z]+\d*\*?")
_GBF_DROPPED = re.compile(r"<RF>.*?<Rf>|<RX>.*?<Rx>|<TS>.*?<Ts>", re.S)  # note, xref, title
_GBF_BREAK = re.compile(r"<C[MLG]>")  # paragraph, line, ...
_GBF_TAG = re.compile(r"<[A-Z][^<>]*>")


def _finish(text: str) -> str:
    text = text.replace("\u00b6", " ")  # the pilcrow is a paragraph mark, not a word
    return " ".join(text.split())


def _strip_osis(text: str) -> str:
    text = _OSIS_NOTE.sub("", text)
    text = _OSIS_HEADING.sub(" ", text)
    text = _OSIS_WORD_BOUNDARY.sub(r"\1 ", text)
    text = _SELF_CLOSING.sub(" ", text)  # milestones, line and paragraph breaks
    text = html.unescape(_TAG.sub("", text))
    return _finish(_USFM_LEFTOVER.sub("", text))


def _strip_gbf(text: str) -> str:
    text = _GBF_DROPPED.sub("", text)
    text = _GBF_BREAK.sub(" ", text)
    return _finish(_GBF_TAG.sub("", text))


_STRIPPERS: dict[str, Callable[[str], str]] = {
    "OSIS": _strip_osis, "GBF": _strip_gbf, "Plaintext": _finish,
}


def strip_markup(text: str, source_type: str = "OSIS") -> str:
    """Plain text of one verse in the markup of its module (the conf's ``SourceType``).

    * ``"OSIS"``: tags go (``<w lemma="strong:H7225">beginning</w>`` -> ``beginning``, the
      Strong's numbers with the attributes), ``<note>`` and non-canonical ``<title>`` go with
      their content (canonical titles, the psalm superscriptions, stay), self-closing tags
      (milestones, breaks) become spaces, entities are decoded, USFM codes left in the text
      (``\\nd``) are removed, and adjacent ``<w>``/``<transChange>`` elements are separate
      words.
    * ``"GBF"``: footnotes ``<RF>...<Rf>``, cross-references ``<RX>...<Rx>`` and titles
      ``<TS>...<Ts>`` go with their content, breaks (``<CM>``, ``<CL>``) become spaces, every
      other token (Strong's ``<WH0430>``, morphology ``<WTH8804>``, fonts ``<FI>...<Fi>``)
      goes.
    * ``"Plaintext"``: as is.

    In every case the paragraph sign ``¶`` is dropped and white space collapsed to single
    spaces, without leading or trailing space.

    Raises:
        ConfigError: another ``source_type`` (ThML, TEI).
    """
    check_choice("source_type", source_type, _STRIPPERS)
    return _STRIPPERS[source_type](text)


# -- modules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwordModule:
    """One SWORD module read from its files: its conf and the raw text of every slot.

    ``ot`` and ``nt`` hold one string per ``.bzv`` slot of each testament, markup included
    (empty for a testament the module lacks).
    """

    conf: SwordConf
    ot: tuple[str, ...]
    nt: tuple[str, ...]

    def verses(self) -> dict[str, str]:
        """Plain text of every non-empty verse by KJV reference (``"Gen.1.1"``), in order.

        Raises:
            DataError: the module's versification is not KJV, or a testament does not have
                the KJV number of slots.
        """
        if self.conf.versification.upper() != "KJV":
            raise DataError(expected(f"Versification of {self.conf.name}", "KJV",
                                     self.conf.versification,
                                     "rnnkit knows the slot layout of the KJV versification "
                                     "only"))
        out: dict[str, str] = {}
        for testament, slots in (("ot", self.ot), ("nt", self.nt)):
            if not slots:
                continue
            if len(slots) != KJV_SLOTS[testament]:
                raise DataError(expected(f"{testament}.bzv slots of {self.conf.name}",
                                         f"{KJV_SLOTS[testament]} (KJV versification)",
                                         len(slots)))
            for slot, ref in kjv_layout()[testament]:
                text = strip_markup(slots[slot], self.conf.source_type)
                if text:
                    out[ref] = text
        return out


def read_module(files: Mapping[str, bytes], name: str | None = None) -> SwordModule:
    """Read a zText module from a SWORD tree given as ``{path: bytes}`` (as :func:`read_deb`
    returns it: ``usr/share/sword/mods.d/x.conf``, ``usr/share/sword/modules/...``).

    Args:
        files: the files; the SWORD root is the folder that holds ``mods.d``.
        name: the module (the conf's ``[Name]``, any case); needed only when there are
            several.

    Raises:
        DataError: no (or no such) module conf, a conf whose ``ModDrv`` is not zText or
            zText4 or that is enciphered, or a module with neither testament.
    """
    confs: dict[str, tuple[str, SwordConf]] = {}
    for path, data in files.items():
        p = PurePosixPath(path)
        if p.suffix == ".conf" and p.parent.name == "mods.d":
            conf = parse_conf(data.decode("utf-8", "replace"))
            root = p.parent.parent.as_posix()
            confs[conf.name.lower()] = ("" if root == "." else root, conf)
    if not confs:
        raise DataError(expected("files", "a SWORD module conf mods.d/<module>.conf", "none"))
    if name is None and len(confs) > 1:
        raise ConfigError(expected("name", f"one of {sorted(confs)}", None))
    key = name.lower() if name is not None else next(iter(confs))
    if key not in confs:
        raise DataError(expected("module", f"one of {sorted(confs)}", name))
    root, conf = confs[key]
    if conf.mod_drv not in _SLOT_FORMATS:
        raise DataError(expected(f"ModDrv of {conf.name}", "zText or zText4", conf.mod_drv))
    if conf.get("CipherKey") is not None:
        raise DataError(f"module {conf.name} is enciphered (CipherKey); rnnkit reads "
                        "unlocked modules only")
    folder = "/".join(part for part in (root, conf.data_path) if part)
    testaments: dict[str, tuple[str, ...]] = {}
    for testament in ("ot", "nt"):
        parts = [files.get(f"{folder}/{testament}.{ext}") for ext in ("bzs", "bzv", "bzz")]
        if all(part is None for part in parts):
            testaments[testament] = ()
            continue
        if any(part is None for part in parts):
            raise DataError(expected(f"{folder}/{testament}.*", ".bzs, .bzv and .bzz",
                                     Described("only some of them")))
        bzs, bzv, bzz = (part or b"" for part in parts)
        testaments[testament] = tuple(read_ztext(
            bzs, bzv, bzz, compress_type=conf.compress_type, encoding=conf.encoding,
            mod_drv=conf.mod_drv))
    if not testaments["ot"] and not testaments["nt"]:
        raise DataError(expected(f"module {conf.name}", f"ot.* or nt.* under {folder}",
                                 "none"))
    return SwordModule(conf, testaments["ot"], testaments["nt"])
