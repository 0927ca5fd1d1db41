"""English-Spanish Bible verse pairs from the SWORD project's modules, as Debian packages them.

The SWORD project (CrossWire Bible Society) distributes Bible texts as "modules"; Debian ships
them as ordinary architecture-independent packages, so they come from the Debian mirror like
any ``.deb`` (see :mod:`rnnkit.data.cache`; no ``apt``, root or Debian system is needed). Two
are pinned here, both public domain and both built by eBible.org's Haiola from USFM sources:

* :data:`KJV`: ``sword-text-kjv`` 14.3-1, module ``engKJV2006eb``, the King James Version
  (1769 standard text, protocanon, Strong's numbers).
* :data:`SPARV`: ``sword-text-sparv`` 2.60-1, module ``spaRV1909eb``, the Reina-Valera 1909
  (Strong's numbers).

Both are OSIS markup in UTF-8, zlib-compressed ``zText`` modules with the KJV versification.

How a ``.deb`` holds a module
-----------------------------
A ``.deb`` is an ``ar`` archive (:func:`read_ar`) whose ``data.tar.xz`` holds the installed
files (:func:`read_deb`): ``usr/share/sword/mods.d/<module>.conf`` (key=value settings:
``ModDrv``, ``SourceType``, ``Encoding``, ``CompressType``, ``Versification``, licence;
:func:`parse_conf`) and, under the conf's ``DataPath``, for each testament ``ot``/``nt``:

* ``.bzs``: 12-byte entries ``<u32 offset, u32 compressed size, u32 uncompressed size>``
  (little-endian), one per compressed block of ``.bzz``;
* ``.bzv``: 10-byte entries ``<u32 block, u32 offset in the uncompressed block, u16 size>``,
  one per verse slot (``zText4``: a u32 size, 12 bytes);
* ``.bzz``: the blocks themselves (``CompressType=ZIP``: zlib).

:func:`read_ztext` turns the three files into the text of every slot. The slots follow the
versification: 0 and 1 are module and testament headers, then for each book a book intro, and
for each chapter a chapter intro followed by its verses. With the KJV versification the Old
Testament has 24,115 slots (23,145 verses) and the New 8,246 (7,957 verses); rnnkit knows the
KJV layout (:func:`kjv_references`, 31,102 references such as ``"John.3.16"``), so every verse
comes with its reference.

From markup to text
-------------------
:func:`strip_markup` keeps the words a reader sees: tags go; notes (``<note>``, GBF ``<RF>``)
and non-canonical headings go with their content; canonical psalm titles ("A Psalm of David")
stay, as both translations print them in verse 1; the paragraph sign ``¶`` and a few USFM
codes the KJV's conversion left behind (``\\nd``) go; entities are decoded and white space
collapsed. The RV1909 module leaves no space between a ``<w>`` and an adjacent
``<transChange>`` (about 580 places, "Graciaseaá vosotros"); such element boundaries count as
a space.

What the pairs are
------------------
:func:`load_verse_pairs` pairs the verses with the same reference: **30,862 pairs** (KJV,
RV1909), Genesis to Revelation, both sides non-empty. Declaring the same versification does
not make the texts line up everywhere: where the Spanish Bible numbers chapters or verses
differently (Numbers 13 and 30, 1 Samuel 24, Job 39-40, Hosea 12, Jonah 2, ... where it
follows the Hebrew chapter breaks; a few verses whose boundary moved), the module put its
verse *numbers* into the KJV slots, so the slot holds another verse's text, leaves a slot
empty (18 verses) or joins two verses in one. :data:`MISALIGNED` lists those references
(found by scoring every pair and its neighbours with a word-association table learned from
the pairs themselves, then read one by one); they are left out, as are the last verses of 13
epistles, to which the RV1909 adds the traditional subscription ("Fué escrita á los Hebreos
desde Italia ...") that the KJV module omits. Other known differences stay: the RV1909
prints the first word of a chapter (and a few sections) in capitals ("EN el principio"), and
writes the acrostic letters of Psalm 119 ("ALEPH.") inside the verses, where the KJV has a
heading (dropped).

Example::

    >>> pairs = load_verse_pairs()                      # doctest: +SKIP
    >>> len(pairs), pairs[0]                            # doctest: +SKIP
    (30862, ('In the beginning God created the heaven and the earth.',
             'EN el principio crió Dios los cielos y la tierra.'))
    >>> load_verses("kjv")["John.3.16"][:27]            # doctest: +SKIP
    'For God so loved the world,'
"""

from __future__ import annotations

import bz2
import functools
import html
import io
import lzma
import os
import re
import struct
import tarfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rnnkit._validation import Described, check_choice, expected
from rnnkit.data.cache import Archive, fetch
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "KJV",
    "MISALIGNED",
    "SPARV",
    "SWORD_ARCHIVES",
    "SwordConf",
    "SwordModule",
    "kjv_references",
    "load_sword_module",
    "load_verse_pairs",
    "load_verses",
    "parse_conf",
    "read_ar",
    "read_deb",
    "read_module",
    "read_ztext",
    "strip_markup",
]

PathLike = str | os.PathLike[str]

#: The pinned packages (bookworm; sha256 and size as the mirror serves them and as
#: ``apt-cache show`` lists them).
KJV = Archive("debian", "sword-text-kjv", "14.3-1", size=2_800_476,
              sha256="9f463f28ce665f6f528fc723179722bced880a4c5485f7a41bf742838315de57",
              path="pool/main/s/sword-text-kjv/sword-text-kjv_14.3-1_all.deb")
SPARV = Archive("debian", "sword-text-sparv", "2.60-1", size=2_722_332,
                sha256="5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf",
                path="pool/main/s/sword-text-sparv/sword-text-sparv_2.60-1_all.deb")
#: Short name -> pinned package.
SWORD_ARCHIVES: dict[str, Archive] = {"kjv": KJV, "sparv": SPARV}

#: Short name -> KJV references whose slot in that module does not hold the KJV verse of the
#: same reference (see the module docstring). Ranges are ``Book.C.V-V`` or ``Book.C.V-C.V``.
MISALIGNED: dict[str, tuple[str, ...]] = {
    "kjv": (),
    "sparv": (
        # the Spanish chapter starts one verse (Job 39: three) earlier: every slot shifted
        "Num.13.1-33", "Num.30.1-16", "1Sam.24.1-22", "Job.38.39-40.24", "Hos.12.1-14",
        "Jonah.2.1-10",
        # a verse boundary moved, the rest of the chapter shifted
        "Judg.14.18-20", "1Kgs.22.43-53", "1Chr.21.15-30", "2Chr.33.10-25",
        # two verses in one slot, or a boundary moved between two verses
        "1Sam.15.24-25", "2Sam.2.31-32", "2Sam.20.25-26", "1Kgs.16.29-30", "1Kgs.18.33-34",
        "1Chr.1.30-32", "Job.35.15-16", "Luke.1.73-74", "Luke.7.18-19", "Acts.19.40-41",
        "2Cor.13.12-14",
        # the epistles' subscriptions, appended to their last verse
        "Rom.16.27", "1Cor.16.24", "Gal.6.18", "Eph.6.24", "Phil.4.23", "Col.4.18",
        "1Thess.5.28", "2Thess.3.18", "1Tim.6.21", "2Tim.4.22", "Titus.3.15", "Phlm.1.25",
        "Heb.13.25",
    ),
}

# -- the KJV versification ----------------------------------------------------------------

#: Books of the KJV versification, Genesis to Revelation: (OSIS abbreviation, verses of each
#: chapter). 39 + 27 books, 929 + 260 chapters, 23,145 + 7,957 verses; the same table as
#: SWORD's ``canon.h`` (checked against the chapter markers of both pinned modules).
_KJV_BOOKS: tuple[tuple[str, str], ...] = (
    ("Gen",
     "31 25 24 26 32 22 24 22 29 32 32 20 18 24 21 16 27 33 38 18 34 24 20 67 34 35 46 22 35 43 "
     "55 32 20 31 29 43 36 30 23 23 57 38 34 34 28 34 31 22 33 26"),
    ("Exod",
     "22 25 22 31 23 30 25 32 35 29 10 51 22 31 27 36 16 27 25 26 36 31 33 18 40 37 21 43 46 38 "
     "18 35 23 35 35 38 29 31 43 38"),
    ("Lev", "17 16 17 35 19 30 38 36 24 20 47 8 59 57 33 34 16 30 37 27 24 33 44 23 55 46 34"),
    ("Num",
     "54 34 51 49 31 27 89 26 23 36 35 16 33 45 41 50 13 32 22 29 35 41 30 25 18 65 23 31 40 16 "
     "54 42 56 29 34 13"),
    ("Deut",
     "46 37 29 49 33 25 26 20 29 22 32 32 18 29 23 22 20 22 21 20 23 30 25 22 19 19 26 68 29 20 "
     "30 52 29 12"),
    ("Josh", "18 24 17 24 15 27 26 35 27 43 23 24 33 15 63 10 18 28 51 9 45 34 16 33"),
    ("Judg", "36 23 31 24 31 40 25 35 57 18 40 15 25 20 20 31 13 31 30 48 25"),
    ("Ruth", "22 23 18 22"),
    ("1Sam",
     "28 36 21 22 12 21 17 22 27 27 15 25 23 52 35 23 58 30 24 42 15 23 29 22 44 25 12 25 11 31 "
     "13"),
    ("2Sam", "27 32 39 12 25 23 29 18 13 19 27 31 39 33 37 23 29 33 43 26 22 51 39 25"),
    ("1Kgs", "53 46 28 34 18 38 51 66 28 29 43 33 34 31 34 34 24 46 21 43 29 53"),
    ("2Kgs", "18 25 27 44 27 33 20 29 37 36 21 21 25 29 38 20 41 37 37 21 26 20 37 20 30"),
    ("1Chr",
     "54 55 24 43 26 81 40 40 44 14 47 40 14 17 29 43 27 17 19 8 30 19 32 31 31 32 34 21 30"),
    ("2Chr",
     "17 18 17 22 14 42 22 18 31 19 23 16 22 15 19 14 19 34 11 37 20 12 21 27 28 23 9 27 36 27 "
     "21 33 25 33 27 23"),
    ("Ezra", "11 70 13 24 17 22 28 36 15 44"),
    ("Neh", "11 20 32 23 19 19 73 18 38 39 36 47 31"),
    ("Esth", "22 23 15 17 14 14 10 17 32 3"),
    ("Job",
     "22 13 26 21 27 30 21 22 35 22 20 25 28 22 35 22 16 21 29 29 34 30 17 25 6 14 23 28 25 31 "
     "40 22 33 37 16 33 24 41 30 24 34 17"),
    ("Ps",
     "6 12 8 8 12 10 17 9 20 18 7 8 6 7 5 11 15 50 14 9 13 31 6 10 22 12 14 9 11 12 24 11 22 22 "
     "28 12 40 22 13 17 13 11 5 26 17 11 9 14 20 23 19 9 6 7 23 13 11 11 17 12 8 12 11 10 13 20 "
     "7 35 36 5 24 20 28 23 10 12 20 72 13 19 16 8 18 12 13 17 7 18 52 17 16 15 5 23 11 13 12 9 "
     "9 5 8 28 22 35 45 48 43 13 31 7 10 10 9 8 18 19 2 29 176 7 8 9 4 8 5 6 5 6 8 8 3 18 3 3 "
     "21 26 9 8 24 13 10 7 12 15 21 10 20 14 9 6"),
    ("Prov",
     "33 22 35 27 23 35 27 36 18 32 31 28 25 35 33 33 28 24 29 30 31 29 35 34 28 28 27 28 27 33 "
     "31"),
    ("Eccl", "18 26 22 16 20 12 29 17 18 20 10 14"),
    ("Song", "17 17 11 16 16 13 13 14"),
    ("Isa",
     "31 22 26 6 30 13 25 22 21 34 16 6 22 32 9 14 14 7 25 6 17 25 18 23 12 21 13 29 24 33 9 20 "
     "24 17 10 22 38 22 8 31 29 25 28 28 25 13 15 22 26 11 23 15 12 17 13 12 21 14 21 22 11 12 "
     "19 12 25 24"),
    ("Jer",
     "19 37 25 31 31 30 34 22 26 25 23 17 27 22 21 21 27 23 15 18 14 30 40 10 38 24 22 17 32 24 "
     "40 44 26 22 19 32 21 28 18 16 18 22 13 30 5 28 7 47 39 46 64 34"),
    ("Lam", "22 22 66 22 22"),
    ("Ezek",
     "28 10 27 17 17 14 27 18 11 22 25 28 23 23 8 63 24 32 14 49 32 31 49 27 17 21 36 26 21 26 "
     "18 32 33 31 15 38 28 23 29 49 26 20 27 31 25 24 23 35"),
    ("Dan", "21 49 30 37 31 28 28 27 27 21 45 13"),
    ("Hos", "11 23 5 19 15 11 16 14 17 15 12 14 16 9"),
    ("Joel", "20 32 21"),
    ("Amos", "15 16 15 13 27 14 17 14 15"),
    ("Obad", "21"),
    ("Jonah", "17 10 10 11"),
    ("Mic", "16 13 12 13 15 16 20"),
    ("Nah", "15 13 19"),
    ("Hab", "17 20 19"),
    ("Zeph", "18 15 20"),
    ("Hag", "15 23"),
    ("Zech", "21 13 10 14 11 15 14 23 17 12 17 14 9 21"),
    ("Mal", "14 17 18 6"),
    ("Matt", "25 23 17 25 48 34 29 34 38 42 30 50 58 36 39 28 27 35 30 34 46 46 39 51 46 75 66 20"),
    ("Mark", "45 28 35 41 43 56 37 38 50 52 33 44 37 72 47 20"),
    ("Luke", "80 52 38 44 39 49 50 56 62 42 54 59 35 35 32 31 37 43 48 47 38 71 56 53"),
    ("John", "51 25 36 54 47 71 53 59 41 42 57 50 38 31 27 33 26 40 42 31 25"),
    ("Acts", "26 47 26 37 42 15 60 40 43 48 30 25 52 28 41 40 34 28 41 38 40 30 35 27 27 32 44 31"),
    ("Rom", "32 29 31 25 21 23 25 39 33 21 36 21 14 23 33 27"),
    ("1Cor", "31 16 23 21 13 20 40 13 27 33 34 31 13 40 58 24"),
    ("2Cor", "24 17 18 18 21 18 16 24 15 18 33 21 14"),
    ("Gal", "24 21 29 31 26 18"),
    ("Eph", "23 22 21 32 33 24"),
    ("Phil", "30 30 21 23"),
    ("Col", "29 23 25 18"),
    ("1Thess", "10 20 13 18 28"),
    ("2Thess", "12 17 18"),
    ("1Tim", "20 15 16 16 25 21"),
    ("2Tim", "18 26 17 22"),
    ("Titus", "16 15 15"),
    ("Phlm", "25"),
    ("Heb", "14 18 19 16 14 20 28 13 28 39 40 29 25"),
    ("Jas", "27 26 18 17 20"),
    ("1Pet", "25 25 22 19 14"),
    ("2Pet", "21 22 18"),
    ("1John", "10 29 24 21 21"),
    ("2John", "13"),
    ("3John", "14"),
    ("Jude", "25"),
    ("Rev", "20 29 22 11 14 17 17 13 21 11 19 17 18 20 8 21 18 24 21 15 27 21"),
)
_OT_BOOKS = 39  # Genesis ... Malachi; Matthew ... Revelation follow
#: ``.bzv`` slots of each testament with the KJV versification (headers and intros included).
_KJV_SLOTS = {"ot": 24_115, "nt": 8_246}


@functools.cache
def _kjv_layout() -> dict[str, tuple[tuple[int, str], ...]]:
    """Testament -> ``(slot, reference)`` of every verse, in canonical order."""
    layout: dict[str, tuple[tuple[int, str], ...]] = {}
    for testament, books in (("ot", _KJV_BOOKS[:_OT_BOOKS]), ("nt", _KJV_BOOKS[_OT_BOOKS:])):
        slot = 2  # the next free slot; 0: module header, 1: testament header
        verses: list[tuple[int, str]] = []
        for book, counts in books:
            slot += 1  # the book intro
            for chapter, n_verses in enumerate(map(int, counts.split()), start=1):
                slot += 1  # the chapter intro
                verses.extend((slot + v - 1, f"{book}.{chapter}.{v}")
                              for v in range(1, n_verses + 1))
                slot += n_verses
        if slot != _KJV_SLOTS[testament]:  # the table itself is wrong: a bug, not bad input
            raise RuntimeError(f"KJV table of {testament}: {slot} slots")
        layout[testament] = tuple(verses)
    return layout


def kjv_references() -> list[str]:
    """The 31,102 verse references of the KJV versification in canonical order, as OSIS
    writes them: ``["Gen.1.1", ..., "John.3.16", ..., "Rev.22.21"]``."""
    return [ref for testament in ("ot", "nt") for _, ref in _kjv_layout()[testament]]


def _expand(ranges: tuple[str, ...]) -> frozenset[str]:
    """``("Num.13.1-33", "Job.38.39-40.24", "Rom.16.27")`` -> the references they cover."""
    order = {ref: i for i, ref in enumerate(kjv_references())}
    refs = list(order)
    out: set[str] = set()
    for spec in ranges:
        first, _, last = spec.partition("-")
        if last:
            book, chapter, _ = first.split(".")
            last = f"{book}.{last}" if last.count(".") == 1 else f"{book}.{chapter}.{last}"
        else:
            last = first
        if first not in order or last not in order or order[last] < order[first]:
            raise ConfigError(expected("verse range", "Book.C.V, Book.C.V-V or Book.C.V-C.V "
                                       "with KJV references in order", spec))
        out.update(refs[order[first] : order[last] + 1])
    return frozenset(out)


# -- ar and .deb --------------------------------------------------------------------------

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
            if len(slots) != _KJV_SLOTS[testament]:
                raise DataError(expected(f"{testament}.bzv slots of {self.conf.name}",
                                         f"{_KJV_SLOTS[testament]} (KJV versification)",
                                         len(slots)))
            for slot, ref in _kjv_layout()[testament]:
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


def load_sword_module(name: str = "kjv", *, cache_dir: PathLike | None = None) -> SwordModule:
    """A pinned module (``"kjv"`` or ``"sparv"``, :data:`SWORD_ARCHIVES`), fetched once from
    the Debian mirror into rnnkit's cache and read in place from its ``.deb``."""
    check_choice("name", name, SWORD_ARCHIVES)
    return read_module(read_deb(fetch(SWORD_ARCHIVES[name], cache_dir)))


def load_verses(name: str = "kjv", *, cache_dir: PathLike | None = None) -> dict[str, str]:
    """Plain text of every verse of a pinned module by KJV reference, in canonical order.

    Verses the module leaves empty, and the references :data:`MISALIGNED` lists for it (their
    slot holds another verse's text), are left out: 31,102 KJV verses; 30,862 RV1909 verses
    (18 slots are empty, 222 more misaligned).
    """
    return _aligned_verses(name, load_sword_module(name, cache_dir=cache_dir))


def _aligned_verses(name: str, module: SwordModule) -> dict[str, str]:
    skip = _expand(MISALIGNED.get(name, ()))
    return {ref: text for ref, text in module.verses().items() if ref not in skip}


def load_verse_pairs(
    source: str = "kjv",
    target: str = "sparv",
    *,
    cache_dir: PathLike | None = None,
) -> list[tuple[str, str]]:
    """Parallel verses ``(source text, target text)`` with the same reference, in canonical
    order (Genesis 1:1 first), both sides plain text and non-empty.

    The default, King James Version -> Reina-Valera 1909, gives 30,862 pairs (see the module
    docstring for what is left out and why). The modules are fetched once from the Debian
    mirror (about 5.5 MB); parsing both takes about a second.

    Args:
        source: ``"kjv"`` or ``"sparv"``.
        target: ``"kjv"`` or ``"sparv"``.
        cache_dir: cache root (default ``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``).

    Raises:
        DataError: the two modules do not share one versification (so slots cannot be
            paired), or one is not KJV-versified.
    """
    check_choice("source", source, SWORD_ARCHIVES)
    check_choice("target", target, SWORD_ARCHIVES)
    modules = {name: load_sword_module(name, cache_dir=cache_dir) for name in (source, target)}
    schemes = {name: m.conf.versification for name, m in modules.items()}
    if len({v.upper() for v in schemes.values()}) != 1:
        raise DataError(expected(f"Versification of {source} and {target}", "the same one",
                                 Described(str(schemes)),
                                 "slots of modules with different versifications are not "
                                 "the same verses; a versification mapping is needed"))
    left = _aligned_verses(source, modules[source])
    right = _aligned_verses(target, modules[target])
    return [(text, right[ref]) for ref, text in left.items() if ref in right]
