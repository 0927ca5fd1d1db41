"""Tests of rnnkit.datasets.ts_archive: the ``.ts`` parser and the loader of the sktime archive.

The parser is tested on hand-written files, the loader on a fake archive (``fetch`` is
replaced). The real-data tests at the end read the pinned sktime sdist; they are skipped,
saying why, when it is not cached and PyPI cannot be reached.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections import Counter

import numpy as np
import pytest

from rnnkit.datasets import ts_archive
from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.ts_archive import (
    SKTIME,
    TS_DATASETS,
    TS_REGRESSION,
    load_ts_classification,
    parse_ts,
    parse_ts_header,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.labs import vowels


def _needs(archive):
    if not is_cached(archive) and not registry_reachable(archive.registry, timeout=3):
        pytest.skip(f"{archive.label} is not cached and its registry is unreachable")


@pytest.fixture(autouse=True)
def _fresh_text_cache():
    ts_archive._ts_texts.cache_clear()
    yield
    ts_archive._ts_texts.cache_clear()


# -- parser -------------------------------------------------------------------------------

TOY = """# A toy problem
% a comment in the style of UnitTest
@problemName Toy
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
1,2,3:4,5,6:a
# a comment between series

0.5:-1:b
"""


def test_parse_ts_reads_multivariate_variable_length_series():
    X, y = parse_ts(TOY)
    assert y == ["a", "b"]
    assert [x.shape for x in X] == [(3, 2), (1, 2)] and X[0].dtype == np.float64
    assert X[0].tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert X[1].tolist() == [[0.5, -1.0]]


def test_parse_ts_header_lowercases_keys_and_stops_at_data():
    header = parse_ts_header(TOY + "@problemName after the data\n")
    assert header == {"problemname": "Toy", "timestamps": "false", "missing": "false",
                      "univariate": "false", "dimensions": "2", "equallength": "false",
                      "classlabel": "true a b"}
    # a repeated key keeps its first value (UnitTest_TEST.ts names two problems)
    assert parse_ts_header("@problemName UnitTest\n@problemName Chinatown\n@data\n") == {
        "problemname": "UnitTest"}


def test_parse_ts_reads_lower_case_headers_and_regression_targets():
    text = ("@problemname Reg\n@univariate true\n@equallength true\n@serieslength 3\n"
            "@targetlabel true\n@data\n1,2,3:0.25\n4,5,6:1e-3\n")
    X, y = parse_ts(text)
    assert y == ["0.25", "1e-3"] and [x.shape for x in X] == [(3, 1), (3, 1)]


def test_parse_ts_without_labels():
    X, y = parse_ts("@univariate true\n@classLabel false\n@data\n1,2\n3,4,5\n")
    assert y == [] and [x.ravel().tolist() for x in X] == [[1.0, 2.0], [3.0, 4.0, 5.0]]


@pytest.mark.parametrize(("text", "message"), [
    ("@data\n1,2:3:a\n", r"line 2: expected dimensions of equal length, got \[2, 1\]"),
    ("@data\n1,?:a\n", r"line 2: expected comma-separated numbers \(no missing values\), "
                       r"got '1,\?:a'"),
    ("@data\n1,x:a\n", r"line 2: expected comma-separated numbers"),
    ("@problemName x\n", r"text: expected a .ts file with series after @data, got 'none'"),
    ("@problemName x\n@data\n", r"text: expected a .ts file with series after @data"),
    ("@dimensions 2\n@data\n1,2:a\n", r"line 3: expected 2 dimensions \(@dimensions\), got 1"),
    ("@univariate true\n@data\n1,2:3,4:a\n",
     r"line 3: expected 1 dimensions \(@dimensions\), got 2"),
    ("@equalLength true\n@seriesLength 3\n@data\n1,2,3:a\n1,2:a\n",
     r"line 5: expected 3 steps \(@seriesLength\), got 2"),
    ("@classLabel true 1 2\n@data\n1,2:1\n1,2:3\n",
     r"line 4 label: expected one of the @classLabel classes \['1', '2'\], got '3'"),
    ("@timeStamps true\n@data\n(0,1),(1,2):a\n",
     r"@timeStamps: expected false \(plain values; time stamps are not supported\), got 'true'"),
    ("@univariate yes\n@data\n1:a\n", r"@univariate: expected true or false, got 'yes'"),
    ("@dimensions two\n@data\n1:a\n", r"@dimensions: expected an integer, got 'two'"),
    ("@data\n:a\n", r"line 2: expected comma-separated numbers"),
])
def test_parse_ts_errors_name_the_line_and_the_expectation(text, message):
    with pytest.raises(DataError, match=message):
        parse_ts(text)


def test_the_vowels_lab_re_exports_the_parser_and_the_archive():
    assert vowels.parse_ts is parse_ts and vowels.SKTIME is SKTIME


# -- loader on a fake archive -------------------------------------------------------------

def _fake_sktime(path, files):
    """A tar.gz holding ``{(name, split): text}`` where the sktime sdist keeps its .ts files."""
    with tarfile.open(path, mode="w:gz") as tf:
        for (name, split), text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"sktime-1.2.0/sktime/datasets/data/{name}/{name}_{split}.ts")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


MOTIONS = ("@problemName BasicMotions\n@univariate false\n@dimensions 2\n@equalLength true\n"
           "@seriesLength 3\n@classLabel true Walking Running\n@data\n")


@pytest.fixture
def fake_archive(tmp_path, monkeypatch):
    path = _fake_sktime(tmp_path / "sktime-1.2.0.tar.gz", {
        ("BasicMotions", "TRAIN"): MOTIONS + "1,2,3:4,5,6:Walking\n7,8,9:1,1,1:Running\n",
        ("BasicMotions", "TEST"): "\ufeff" + MOTIONS + "0,0,0:1,1,1:Running\n",
        ("GunPoint", "TRAIN"): "@data\n1,2:1\n",  # its TEST file is missing
    })
    calls = []

    def fake_fetch(archive, cache=None):
        calls.append((archive, cache))
        return path

    monkeypatch.setattr(ts_archive, "fetch", fake_fetch)
    return calls


def test_load_ts_classification_reads_both_splits_from_the_archive(fake_archive):
    X, y = load_ts_classification("BasicMotions")
    assert y == ["Walking", "Running"] and [x.shape for x in X] == [(3, 2), (3, 2)]
    assert X[1][:, 0].tolist() == [7.0, 8.0, 9.0]
    X, y = load_ts_classification("BasicMotions", "test", cache_dir="/somewhere")
    assert y == ["Running"] and X[0].tolist() == [[0.0, 1.0]] * 3  # the BOM is dropped
    assert fake_archive[0][0] is SKTIME and fake_archive[1][1] == "/somewhere"


def test_load_ts_classification_names_missing_members(fake_archive):
    with pytest.raises(DataError, match=r"sktime-1.2.0.tar.gz: expected members "
                                        r"\['sktime-1.2.0/sktime/datasets/data/GunPoint/"
                                        r"GunPoint_TEST.ts'\], got 'none'"):
        load_ts_classification("GunPoint")


def test_load_ts_classification_refuses_unknown_names_and_splits(fake_archive):
    known = re.escape(str(sorted(TS_DATASETS)))
    with pytest.raises(ConfigError, match=rf"name: expected one of {known}, got 'Nope'"):
        load_ts_classification("Nope")
    with pytest.raises(ConfigError, match=rf"name: expected a classification set, one of "
                                          rf"{known}, got 'Tecator'. Tecator is a regression"):
        load_ts_classification("Tecator")
    with pytest.raises(ConfigError, match=r"split: expected one of \['train', 'test'\], "
                                          r"got 'validation'"):
        load_ts_classification("BasicMotions", "validation")
    assert fake_archive == []  # refused before anything is fetched


def test_load_ts_classification_reports_an_unreadable_archive(tmp_path, monkeypatch):
    bad = tmp_path / "sktime-1.2.0.tar.gz"
    bad.write_bytes(b"not a tar file")
    monkeypatch.setattr(ts_archive, "fetch", lambda archive, cache=None: bad)
    with pytest.raises(DataError, match=r"cannot read the ItalyPowerDemand files from"):
        load_ts_classification("ItalyPowerDemand")


# -- real data ----------------------------------------------------------------------------

def _stats(name):
    """(dims, min length, max length, classes, n train, n test) as loaded."""
    (x_tr, y_tr), (x_te, y_te) = (load_ts_classification(name, s) for s in ("train", "test"))
    lengths = [len(x) for x in x_tr + x_te]
    dims = {x.shape[1] for x in x_tr + x_te}
    assert len(dims) == 1 and all(x.dtype == np.float64 for x in x_tr + x_te)
    return (dims.pop(), min(lengths), max(lengths), len(set(y_tr) | set(y_te)), len(x_tr),
            len(x_te))


def test_basic_motions():
    _needs(SKTIME)
    X, y = load_ts_classification("BasicMotions", "train")
    assert len(X) == 40 and all(x.shape == (100, 6) for x in X)
    assert Counter(y) == {"Standing": 10, "Running": 10, "Walking": 10, "Badminton": 10}
    X, y = load_ts_classification("BasicMotions", "test")
    assert len(X) == 40 and all(x.shape == (100, 6) for x in X) and len(set(y)) == 4


def test_italy_power_demand():
    _needs(SKTIME)
    X, y = load_ts_classification("ItalyPowerDemand", "train")
    assert len(X) == 67 and all(x.shape == (24, 1) for x in X)
    assert Counter(y) == {"1": 34, "2": 33}
    X, y = load_ts_classification("ItalyPowerDemand", "test")
    assert len(X) == 1029 and Counter(y) == {"1": 513, "2": 516}


def test_japanese_vowels():
    _needs(SKTIME)
    assert _stats("JapaneseVowels") == (12, 7, 29, 9, 270, 370)
    X, y = vowels.load_japanese_vowels("test")
    assert Counter(y) == {"1": 31, "2": 35, "3": 88, "4": 44, "5": 29, "6": 24, "7": 40,
                          "8": 50, "9": 29}


@pytest.mark.parametrize("name", sorted(TS_DATASETS))
def test_the_descriptions_state_what_the_files_hold(name):
    _needs(SKTIME)
    m = re.match(r"(\d+) dims?, (\d+)(?:-(\d+))? steps, (\d+) classes, (\d+) train / (\d+) test:",
                 TS_DATASETS[name])
    assert m is not None, TS_DATASETS[name]
    dims, lo, hi, classes, n_train, n_test = m.groups()
    assert _stats(name) == (int(dims), int(lo), int(hi or lo), int(classes), int(n_train),
                            int(n_test))


@pytest.mark.parametrize("name", sorted(TS_REGRESSION))
def test_the_refused_sets_are_regression_sets(name):
    _needs(SKTIME)
    from rnnkit.datasets.cache import fetch

    texts = ts_archive._ts_texts(str(fetch(SKTIME)), name)
    for split, n in zip(("TRAIN", "TEST"), re.findall(r"(\d+) train / (\d+) test",
                                                      TS_REGRESSION[name])[0], strict=True):
        assert parse_ts_header(texts[split])["targetlabel"] == "true"
        X, y = parse_ts(texts[split])
        assert len(X) == int(n) and all(np.isfinite(float(v)) for v in y)
