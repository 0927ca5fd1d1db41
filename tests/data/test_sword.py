"""Tests of rnnkit.data.sword: ``ar``/``.deb`` reading, the zText reader, markup stripping and
the verse-pair loader.

The readers are tested offline on tiny archives and modules built here (``.bzs``/``.bzv``/
``.bzz`` bytes written with struct and zlib, packed into an ``ar`` archive like a ``.deb``).
The real-data tests at the end fetch the two pinned Debian packages once (5.5 MB) and are
skipped, saying why, when they are not cached and the Debian mirror cannot be reached.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import lzma
import struct
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnkit.data import cache as cache_mod
from rnnkit.data import sword
from rnnkit.data.cache import Archive, is_cached, registry_reachable
from rnnkit.data.sword import (
    KJV,
    MISALIGNED,
    SPARV,
    kjv_references,
    load_sword_module,
    load_verse_pairs,
    load_verses,
    parse_conf,
    read_ar,
    read_deb,
    read_module,
    read_ztext,
    strip_markup,
)
from rnnkit.errors import ConfigError, DataError

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


_NT_SLOT = {ref: slot for slot, ref in sword._kjv_layout()["nt"]}


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


# -- ar and .deb --------------------------------------------------------------------------


def test_read_ar_reads_members_with_padding_and_long_names():
    members = {"debian-binary": b"2.0\n", "odd": b"abc", "even": b"abcd"}
    assert read_ar(_ar(members)) == members
    assert read_ar(_ar(members, gnu_names=True)) == members
    bsd = b"!<arch>\n" + f"{'#1/20':<16}{0:<12}{0:<6}{0:<6}{644:<8}{23:<10}`\n".encode()
    bsd += b"a-very-long-name.txt" + b"xyz" + b"\n"
    assert read_ar(bsd) == {"a-very-long-name.txt": b"xyz"}


def test_read_ar_errors_name_the_problem():
    with pytest.raises(DataError, match=r"ar archive: expected the magic !<arch>"):
        read_ar(b"PK\x03\x04 zip, not ar")
    good = _ar({"member": b"0123456789"})
    with pytest.raises(DataError, match=r"ar member 'member': expected 10 bytes.*truncated"):
        read_ar(good[:-4])
    with pytest.raises(DataError, match=r"ar member header at byte 8: expected 60 bytes"):
        read_ar(good[:30])


def test_read_deb_returns_the_installed_files():
    files = {"usr/share/sword/mods.d/x.conf": b"[X]\n", "usr/share/doc/x/copyright": b"pd"}
    for member in ("data.tar.xz", "data.tar.gz", "data.tar"):
        assert read_deb(_deb(files, member)) == files


def test_read_deb_reads_a_path_and_refuses_other_archives(tmp_path: Path):
    path = tmp_path / "x.deb"
    path.write_bytes(_deb({"a.txt": b"A"}))
    assert read_deb(path) == {"a.txt": b"A"}
    with pytest.raises(DataError, match="debian-binary of the .deb: expected format 2.x"):
        read_deb(_ar({"data.tar.xz": _tar({})}))
    with pytest.raises(DataError, match=r"members of the .deb: expected a data.tar"):
        read_deb(_ar({"debian-binary": b"2.0\n", "control.tar.xz": b""}))
    with pytest.raises(DataError, match="zstd"):
        read_deb(_ar({"debian-binary": b"2.0\n", "data.tar.zst": b"\x28\xb5\x2f\xfd"}))
    with pytest.raises(DataError, match=r"cannot read data.tar.xz"):
        read_deb(_ar({"debian-binary": b"2.0\n", "data.tar.xz": b"not xz at all"}))


# -- conf ---------------------------------------------------------------------------------

CONF = """## Sword module configuration file
[engKJV2006eb]
# comment
DataPath=./modules/texts/ztext/engKJV2006eb/
ModDrv=zText
SourceType=OSIS
GlobalOptionFilter=OSISStrongs
GlobalOptionFilter=OSISFootnotes
About=King James Version \\
  of 1769
DistributionLicense=Public Domain
"""


def test_parse_conf_reads_fields_repeats_continuations_and_defaults():
    conf = parse_conf(CONF)
    assert conf.name == "engKJV2006eb"
    assert conf.data_path == "modules/texts/ztext/engKJV2006eb"
    assert conf.mod_drv == "zText" and conf.source_type == "OSIS"
    assert conf.fields["GlobalOptionFilter"] == ("OSISStrongs", "OSISFootnotes")
    assert conf.get("About") == "King James Version \nof 1769"
    assert conf.licence == "Public Domain"
    # SWORD's defaults where the file says nothing
    assert (conf.encoding, conf.compress_type, conf.versification) == ("Latin-1", "LZSS", "KJV")
    assert parse_conf("[X]\n").source_type == "Plaintext"
    assert parse_conf("[X]\n").licence == "unknown"
    with pytest.raises(DataError, match=r"conf line 1: expected the module name as \[Name\]"):
        parse_conf("DataPath=./x\n")
    with pytest.raises(DataError, match=r"a \[ModuleName\] line"):
        parse_conf("# only a comment\n")


# -- zText --------------------------------------------------------------------------------

SLOTS = ["", "<header/>", "Genesis", "", "In the beginning.", "And the earth.", "Día"]


@pytest.mark.parametrize("per_block", [1, 3, 100])
def test_read_ztext_returns_every_slot(per_block: int):
    assert read_ztext(*_ztext(SLOTS, per_block=per_block)) == SLOTS


@pytest.mark.parametrize(
    ("options", "build"),
    [
        ({"encoding": "Latin-1"}, {"encoding": "latin-1"}),
        ({"mod_drv": "zText4"}, {"mod_drv": "zText4"}),
        ({"compress_type": "BZIP2"}, {"compress": bz2.compress}),
        ({"compress_type": "xz"}, {"compress": lzma.compress}),
    ],
)
def test_read_ztext_options(options: dict[str, Any], build: dict[str, Any]):
    assert read_ztext(*_ztext(SLOTS, **build), **options) == SLOTS


def test_read_ztext_refuses_broken_indexes():
    bzs, bzv, bzz = _ztext(SLOTS)
    with pytest.raises(DataError, match="length of the .bzs block index: expected a multiple"):
        read_ztext(bzs[:-1], bzv, bzz)
    with pytest.raises(DataError, match=r"length of the .bzv slot index \(zText\)"):
        read_ztext(bzs, bzv + b"\0", bzz)
    far = bzv[:40] + struct.pack("<IIH", 9, 0, 3) + bzv[50:]
    with pytest.raises(DataError, match=r"block of .bzv slot 4: expected < 3, got 9"):
        read_ztext(bzs, far, bzz)
    long = bzv[:40] + struct.pack("<IIH", 1, 5, 400) + bzv[50:]
    with pytest.raises(DataError, match=r".bzv slot 4: expected bytes within block 1"):
        read_ztext(bzs, long, bzz)
    wrong_size = bzs[:12] + struct.pack("<III", *struct.unpack("<II", bzs[12:20]), 999) + bzs[24:]
    with pytest.raises(DataError, match=r"block 1 of the .bzz: expected 999 bytes"):
        read_ztext(wrong_size, bzv, bzz)
    with pytest.raises(DataError, match=r"cannot decompress block 0"):
        read_ztext(bzs, bzv, b"\0" * len(bzz))
    latin = _ztext(["", "", "D\xeda"], encoding="latin-1")
    with pytest.raises(DataError, match=r".bzv slot 2 is not UTF-8"):
        read_ztext(*latin)


def test_read_ztext_refuses_unsupported_settings():
    parts = _ztext(SLOTS)
    with pytest.raises(ConfigError, match="compress_type: expected one of.*LZSS"):
        read_ztext(*parts, compress_type="LZSS")
    with pytest.raises(ConfigError, match="encoding: expected 'UTF-8' or 'Latin-1'"):
        read_ztext(*parts, encoding="UTF-16")
    with pytest.raises(ConfigError, match="mod_drv"):
        read_ztext(*parts, mod_drv="rawText")


# -- markup -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("osis", "plain"),
    [
        # KJV Genesis 1:4 (shortened): Strong's numbers and a footnote
        ('And <w lemma="strong:H0430">God</w> <w lemma="strong:H7200">saw</w> the light, '
         '<w lemma="strong:H3588">that</w> <transChange type="added">it was</transChange> good.'
         '<note placement="foot"><reference type="annotateRef">1.4 </reference>the light '
         'from…: Heb. between the light</note> ',
         "And God saw the light, that it was good."),
        # a milestone paragraph break, a pilcrow and the divine name
        ('<div type="x-milestone" subType="x-preverse" sID="pv1"/><div sID="gen4" type="x-p"/>'
         ' <div eID="pv1"/>¶ For the <divineName><w lemma="strong:H3068">LORD</w></divineName>'
         ' is good.<chapter eID="Ps.1"/>',
         "For the LORD is good."),
        # a canonical psalm title stays, a heading (Psalm 119's acrostic letter) goes
        ('<title canonical="true" type="psalm">A <w>Psalm</w> of David.</title> <lg/> LORD, '
         'how.', "A Psalm of David. LORD, how."),
        ('<title><foreign>ב BETH.</foreign></title> <lg sID="x"/>Wherewithal shall a young man',
         "Wherewithal shall a young man"),
        # USFM left in the KJV text; entities
        ('by my name \\nd <w lemma="strong:H3068">JEHOVAH</w></divineName> was I not known',
         "by my name JEHOVAH was I not known"),
        ("bread &amp; wine &lt;sic&gt;", "bread & wine <sic>"),
        # RV1909: no space between adjacent word elements, but a suffix stays attached
        ('<w lemma="strong:G5485">Gracia</w><transChange type="added">sea</transChange>'
         '<w lemma="strong:G5213">á vosotros</w>, y repartiéron<transChange>lo</transChange>',
         "Gracia sea á vosotros, y repartiéronlo"),
        ('<w lemma="strong:H7225">EN el principio</w> <w lemma="strong:H1254">crió</w>.',
         "EN el principio crió."),
    ],
)
def test_strip_osis(osis: str, plain: str):
    assert strip_markup(osis, "OSIS") == plain


def test_strip_gbf_and_plaintext():
    gbf = ("<TS>The Creation<Ts><CM>In the beginning<WH7225> God<WH0430> created<WH1254>"
           "<WTH8804> the heaven<WH8064><RF>1) Or, the heavens<Rf> <FI>and<Fi> the earth.<CL>")
    assert strip_markup(gbf, "GBF") == "In the beginning God created the heaven and the earth."
    assert strip_markup("  En el\tprincipio ¶\n", "Plaintext") == "En el principio"
    with pytest.raises(ConfigError, match="source_type: expected one of"):
        strip_markup("<p>x</p>", "ThML")


# -- versification and modules ------------------------------------------------------------


def test_kjv_references():
    refs = kjv_references()
    assert len(refs) == 31_102 and len(set(refs)) == 31_102
    assert refs[0] == "Gen.1.1" and refs[-1] == "Rev.22.21"
    assert refs[23_144:23_146] == ["Mal.4.6", "Matt.1.1"]  # 23,145 OT verses
    assert "Ps.119.176" in refs and "Ps.119.177" not in refs and "3John.1.14" in refs
    assert len(sword._expand(("Job.38.39-40.24",))) == 3 + 30 + 24
    assert sword._expand(("John.3.16",)) == {"John.3.16"}
    for bad in ("John.3.17-16", "Gen.51.1", "Job.38.39-99.1"):
        with pytest.raises(ConfigError, match="verse range"):
            sword._expand((bad,))


def test_misaligned_ranges_are_valid():
    assert MISALIGNED["kjv"] == ()
    assert len(sword._expand(MISALIGNED["sparv"])) == 235


def test_read_module_finds_the_conf_and_reads_verses():
    files = _module_files("TinyKJV", {
        "Matt.1.1": 'The <w lemma="strong:G0976">book</w> of the generation.',
        "John.3.16": "For God so loved the world.<note>a note</note>",
        "Rev.22.21": "The grace be with you all. Amen.",
    })
    module = read_module(files)
    assert module.conf.name == "TinyKJV" and module.ot == () and len(module.nt) == 8_246
    assert module.verses() == {"Matt.1.1": "The book of the generation.",
                               "John.3.16": "For God so loved the world.",
                               "Rev.22.21": "The grace be with you all. Amen."}
    assert read_module(files, name="tinykjv").conf.name == "TinyKJV"
    with pytest.raises(DataError, match="module: expected one of"):
        read_module(files, name="other")


def test_read_module_errors():
    with pytest.raises(DataError, match="files: expected a SWORD module conf"):
        read_module({"usr/share/doc/x/copyright": b""})
    files = _module_files("A", {"John.3.16": "x"})
    both = {**files, **_module_files("B", {"John.3.16": "y"})}
    with pytest.raises(ConfigError, match=r"name: expected one of \['a', 'b'\]"):
        read_module(both)
    raw = _module_files("A", {}, "CipherKey=secret\n")
    with pytest.raises(DataError, match="enciphered"):
        read_module(raw)
    raw = {k: v for k, v in files.items() if not k.endswith("nt.bzz")}
    with pytest.raises(DataError, match=r"expected .bzs, .bzv and .bzz"):
        read_module(raw)
    raw = {k: v for k, v in files.items() if k.endswith(".conf")}
    with pytest.raises(DataError, match=r"module A: expected ot.\* or nt.\*"):
        read_module(raw)
    raw = _module_files("A", {}, "Versification=Vulg\n")
    with pytest.raises(DataError, match="Versification of A: expected KJV, got 'Vulg'"):
        read_module(raw).verses()
    conf = b"[Z]\nDataPath=./z/\nModDrv=RawText\n"
    with pytest.raises(DataError, match="ModDrv of Z: expected zText or zText4"):
        read_module({"mods.d/z.conf": conf})


# -- the loaders on a planted cache (offline) ---------------------------------------------


def _plant_deb(cache: Path, name: str, deb: bytes) -> Archive:
    """Store ``deb`` in ``cache`` as a verified fetch would, pinned by its own sha256."""
    digest = hashlib.sha256(deb).hexdigest()
    archive = Archive("debian", name, "1.0-1", sha256=digest)
    adir = cache / "archives"
    adir.mkdir(parents=True, exist_ok=True)
    file = archive.pool_path.rsplit("/", 1)[-1]
    (adir / file).write_bytes(deb)
    (adir / f"{archive.key}.sha256").write_text(f"{file} {digest}\n")
    return archive


def test_loaders_pair_verses_by_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the loaders must not fetch when the cache is complete")

    monkeypatch.setattr(cache_mod.urllib.request, "urlopen", no_network)
    english = _deb(_module_files("Eng", {
        "Matt.1.1": "The book of the generation of Jesus Christ.",
        "Matt.1.2": "Abraham begat Isaac.",
        "John.3.16": "For God so loved the world.",
        "Acts.19.41": "And he dismissed the assembly.",
    }))
    spanish = _deb(_module_files("Spa", {
        "Matt.1.1": "<w>LIBRO</w> de la generación de Jesucristo.",
        "Matt.1.2": "",  # empty in the target: left out
        "John.3.16": "Porque de tal manera amó Dios al mundo.",
        "Acts.19.41": "Y despidió la concurrencia.",  # listed as misaligned below
    }))
    archives = {"kjv": _plant_deb(tmp_path, "tiny-eng", english),
                "sparv": _plant_deb(tmp_path, "tiny-spa", spanish)}
    monkeypatch.setattr(sword, "SWORD_ARCHIVES", archives)
    monkeypatch.setattr(sword, "MISALIGNED", {"kjv": (), "sparv": ("Acts.19.40-41",)})

    assert load_sword_module("sparv", cache_dir=tmp_path).conf.name == "Spa"
    assert list(load_verses("kjv", cache_dir=tmp_path)) == ["Matt.1.1", "Matt.1.2",
                                                          "John.3.16", "Acts.19.41"]
    assert list(load_verses("sparv", cache_dir=tmp_path)) == ["Matt.1.1", "John.3.16"]
    pairs = load_verse_pairs(cache_dir=tmp_path)
    assert pairs == [("The book of the generation of Jesus Christ.",
                      "LIBRO de la generación de Jesucristo."),
                     ("For God so loved the world.", "Porque de tal manera amó Dios al mundo.")]
    assert load_verse_pairs("sparv", "kjv", cache_dir=tmp_path)[1] == pairs[1][::-1]
    with pytest.raises(ConfigError, match="target: expected one of"):
        load_verse_pairs("kjv", "klingon", cache_dir=tmp_path)


def test_pairs_refuse_different_versifications(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    english = _deb(_module_files("Eng", {"John.3.16": "For God so loved the world."}))
    latin = _deb(_module_files("Lat", {"John.3.16": "Sic enim dilexit Deus mundum."},
                               "Versification=Vulg\n"))
    monkeypatch.setattr(sword, "SWORD_ARCHIVES", {
        "kjv": _plant_deb(tmp_path, "tiny-eng", english),
        "sparv": _plant_deb(tmp_path, "tiny-lat", latin)})
    with pytest.raises(DataError, match=r"Versification of kjv and sparv: expected the same "
                       r"one, got \{'kjv': 'KJV', 'sparv': 'Vulg'\}"):
        load_verse_pairs(cache_dir=tmp_path)


# -- real data (fetched once from the Debian mirror into the default cache) ---------------


def _need(archive: Archive) -> None:
    """Skip unless ``archive`` is cached or the Debian mirror answers quickly."""
    if is_cached(archive):
        return
    if not registry_reachable(archive.registry, timeout=3):
        pytest.skip(f"{archive.label} is not cached and the Debian mirror is unreachable")


def test_real_modules_and_their_licences():
    _need(KJV)
    _need(SPARV)
    kjv, sparv = load_sword_module("kjv"), load_sword_module("sparv")
    assert (kjv.conf.name, sparv.conf.name) == ("engKJV2006eb", "spaRV1909eb")
    for module in (kjv, sparv):
        assert module.conf.versification == "KJV" and module.conf.source_type == "OSIS"
        assert module.conf.licence == "Public Domain"
        assert (len(module.ot), len(module.nt)) == (24_115, 8_246)
    verses = load_verses("kjv")
    assert len(verses) == 31_102 and list(verses) == kjv_references()
    assert verses["John.3.16"][:27] == "For God so loved the world,"
    assert verses["Ps.3.1"].startswith("A Psalm of David, when he fled from Absalom his son. ")
    assert len(load_verses("sparv")) == 30_862


def test_real_verse_pairs():
    _need(KJV)
    _need(SPARV)
    pairs = load_verse_pairs()
    assert len(pairs) == 30_862
    assert pairs[0] == ("In the beginning God created the heaven and the earth.",
                        "EN el principio crió Dios los cielos y la tierra.")
    assert pairs[-1] == ("The grace of our Lord Jesus Christ be with you all. Amen.",
                         "La gracia de nuestro Señor Jesucristo sea con todos vosotros. Amén.")
    assert ("For God so loved the world, that he gave his only begotten Son, that whosoever "
            "believeth in him should not perish, but have everlasting life.",
            "Porque de tal manera amó Dios al mundo, que ha dado á su Hijo unigénito, para que "
            "todo aquel que en él cree, no se pierda, mas tenga vida eterna.") in pairs
    for en, es in pairs:
        assert en and es and en == en.strip() and es == es.strip()
        assert not any(c in en + es for c in "<>\\¶") and "  " not in en + es
    assert not any("Graciaseaá" in es for _, es in pairs)  # adjacent elements are words
