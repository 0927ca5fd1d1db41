import hashlib
import hmac
import json
import re

import pytest
import torch

from rnnkit.bundle import BundleError, load_bundle, save_bundle
from rnnkit.bundle.signing import KEY_ENV, canonical_manifest, sign_manifest, verify_manifest

UNSIGNED = ("manifest.json signature: expected an HMAC-SHA256 signature (RNNKIT_BUNDLE_KEY is "
            "set), got an unsigned bundle. save the bundle with RNNKIT_BUNDLE_KEY set to sign it")
WRONG = ("manifest.json signature: expected a signature made with RNNKIT_BUNDLE_KEY, got one that "
         "does not match (another key, or a manifest modified after signing)")


def _save(path):
    torch.manual_seed(0)
    return save_bundle(path, task="demo", model=torch.nn.Linear(3, 2), config={},
                       preprocessing={"scale": [1.0]})


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def test_without_a_key_bundles_are_unsigned_and_load(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = _save(tmp_path / "b")
    assert "signature" not in _manifest(path)
    assert load_bundle(path).task == "demo"


def test_with_a_key_the_manifest_carries_its_hmac(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "s3cret")
    manifest = _manifest(_save(tmp_path / "b"))
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    assert canonical_manifest(manifest) == canonical
    digest = hmac.new(b"s3cret", canonical, hashlib.sha256).hexdigest()
    assert manifest["signature"] == f"hmac-sha256:{digest}"


def test_a_signed_bundle_loads_with_its_key_and_without_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "s3cret")
    path = _save(tmp_path / "b")
    assert load_bundle(path).preprocessing == {"scale": [1.0]}
    monkeypatch.delenv(KEY_ENV)
    assert load_bundle(path).preprocessing == {"scale": [1.0]}  # not checked without a key


def test_with_a_key_an_unsigned_bundle_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = _save(tmp_path / "b")
    monkeypatch.setenv(KEY_ENV, "s3cret")
    with pytest.raises(BundleError, match="^" + re.escape(UNSIGNED) + "$"):
        load_bundle(path)


def test_a_bundle_signed_with_another_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "other key")
    path = _save(tmp_path / "b")
    monkeypatch.setenv(KEY_ENV, "s3cret")
    with pytest.raises(BundleError, match="^" + re.escape(WRONG) + "$"):
        load_bundle(path)


def test_a_file_edited_after_signing_is_refused_even_with_its_checksum_rewritten(
        tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "s3cret")
    path = _save(tmp_path / "b")
    (path / "preprocessing.json").write_text(json.dumps({"scale": [100.0]}))
    manifest = _manifest(path)
    manifest["files"]["preprocessing.json"] = hashlib.sha256(
        (path / "preprocessing.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))  # the old signature kept
    with pytest.raises(BundleError, match="^" + re.escape(WRONG) + "$"):
        load_bundle(path)


@pytest.mark.parametrize("signature", ["", "hmac-sha256:" + "0" * 64, "garbage", 42, None])
def test_verify_refuses_any_other_signature(signature):
    manifest = {"format": 1, "files": {"a": "0" * 64}, "signature": signature}
    with pytest.raises(BundleError, match="^manifest.json signature: expected "):
        verify_manifest(manifest, b"key")
    verify_manifest(sign_manifest(manifest, b"key"), b"key")  # signed as it is: accepted


def test_an_empty_key_is_refused_rather_than_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "s3cret")
    path = _save(tmp_path / "b")
    monkeypatch.setenv(KEY_ENV, "")
    message = ("RNNKIT_BUNDLE_KEY: expected a non-empty secret key, or the variable unset, got ''. "
               "set RNNKIT_BUNDLE_KEY to the key, or unset it")
    with pytest.raises(BundleError, match="^" + re.escape(message) + "$"):
        load_bundle(path)
    with pytest.raises(BundleError, match="^" + re.escape(message) + "$"):
        _save(tmp_path / "c")
    assert not (tmp_path / "c").exists()
