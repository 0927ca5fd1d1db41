"""Tests of rnnkit.datasets.sword_text: the conf parser, the zText reader, markup stripping
and the module reader, on tiny modules built here (see sword_builders)."""

from __future__ import annotations

import bz2
import lzma
import struct
from typing import Any

import pytest

from rnnkit.datasets.sword_text import parse_conf, read_module, read_ztext, strip_markup
from rnnkit.errors import ConfigError, DataError

from sword_builders import _module_files, _ztext

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
