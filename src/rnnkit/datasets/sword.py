"""English-Spanish Bible verse pairs from the SWORD project's modules, as Debian packages them.

The SWORD project (CrossWire Bible Society) distributes Bible texts as "modules"; Debian ships
them as ordinary architecture-independent packages, so they come from the Debian mirror like
any ``.deb`` (see :mod:`rnnkit.datasets.cache`; no ``apt``, root or Debian system is needed). Two
are pinned here, both public domain and both built by eBible.org's Haiola from USFM sources:

* :data:`KJV`: ``sword-text-kjv`` 14.3-1, module ``engKJV2006eb``, the King James Version
  (1769 standard text, protocanon, Strong's numbers).
* :data:`SPARV`: ``sword-text-sparv`` 2.60-1, module ``spaRV1909eb``, the Reina-Valera 1909
  (Strong's numbers).

Both are OSIS markup in UTF-8, zlib-compressed ``zText`` modules with the KJV versification:
:mod:`rnnkit.datasets.debian` reads the package, :mod:`rnnkit.datasets.sword_text` the module
and :mod:`rnnkit.datasets.kjv` knows which verse each slot holds.

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

import os

from rnnkit._validation import Described, check_choice, expected
from rnnkit.datasets.cache import Archive, fetch
from rnnkit.datasets.debian import read_deb
from rnnkit.datasets.kjv import kjv_references
from rnnkit.datasets.sword_text import SwordModule, read_module
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "KJV",
    "MISALIGNED",
    "SPARV",
    "SWORD_ARCHIVES",
    "load_sword_module",
    "load_verse_pairs",
    "load_verses",
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
