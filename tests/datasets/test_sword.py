"""Tests of rnnkit.datasets.sword: the misaligned verses and the verse-pair loaders.

The loaders are tested offline on tiny modules packed into ``.deb`` files (see sword_builders)
and planted in a cache. The real-data tests at the end fetch the two pinned Debian packages
once (5.5 MB) and are skipped, saying why, when they are not cached and the Debian mirror
cannot be reached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from rnnkit.datasets import cache as cache_mod
from rnnkit.datasets import sword
from rnnkit.datasets.cache import Archive, is_cached, registry_reachable
from rnnkit.datasets.kjv import kjv_references
from rnnkit.datasets.sword import (
    KJV,
    MISALIGNED,
    SPARV,
    load_sword_module,
    load_verse_pairs,
    load_verses,
)
from rnnkit.errors import ConfigError, DataError

from sword_builders import _deb, _module_files


def test_misaligned_ranges_are_valid():
    assert MISALIGNED["kjv"] == ()
    assert len(sword._expand(MISALIGNED["sparv"])) == 235



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
