"""Tests of rnnkit.datasets.debian: ``ar`` archives and ``.deb`` packages, built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.datasets.debian import read_ar, read_deb
from rnnkit.errors import DataError

from sword_builders import _ar, _deb, _tar

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
