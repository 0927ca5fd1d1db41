"""Optional signing of bundles, so that a server loads only bundles its own key signed.

When the environment variable ``RNNKIT_BUNDLE_KEY`` is set (a non-empty secret; its UTF-8
bytes are the key), :func:`rnnkit.bundle.save_bundle` adds to ``manifest.json``::

    "signature": "hmac-sha256:<64 hex digits>"

the HMAC-SHA256 of the canonical manifest (the manifest without ``signature``, as JSON with
sorted keys, no spaces and ASCII escapes). The manifest holds the sha256 of every other file,
so the signature covers the whole bundle. :func:`rnnkit.bundle.load_bundle` then refuses an
unsigned bundle and one signed with another key or modified after signing, comparing in
constant time (``hmac.compare_digest``), before it reads anything else.

Without the variable, bundles are saved unsigned and every bundle loads as before: a signed
one too, its signature not checked. An empty ``RNNKIT_BUNDLE_KEY`` is refused rather than
taken for "no key", so a deployment that meant to verify never silently does not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from rnnkit._validation import Described, expected
from rnnkit.bundle.schema import BundleError

__all__ = ["KEY_ENV", "bundle_key", "canonical_manifest", "sign_manifest", "verify_manifest"]

#: the environment variable holding the signing key
KEY_ENV = "RNNKIT_BUNDLE_KEY"
_PREFIX = "hmac-sha256:"


def bundle_key() -> bytes | None:
    """The signing key from :data:`KEY_ENV`, or None when the variable is unset."""
    value = os.environ.get(KEY_ENV)
    if value is None:
        return None
    if not value:
        raise BundleError(expected(KEY_ENV, "a non-empty secret key, or the variable unset",
                                   value, f"set {KEY_ENV} to the key, or unset it"))
    return value.encode("utf-8")


def canonical_manifest(manifest: dict[str, Any]) -> bytes:
    """The bytes that are signed: the manifest without its signature, in one fixed form."""
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


def _signature(manifest: dict[str, Any], key: bytes) -> str:
    return _PREFIX + hmac.new(key, canonical_manifest(manifest), hashlib.sha256).hexdigest()


def sign_manifest(manifest: dict[str, Any], key: bytes) -> dict[str, Any]:
    """A copy of ``manifest`` with its ``signature``."""
    return {**manifest, "signature": _signature(manifest, key)}


def verify_manifest(manifest: dict[str, Any], key: bytes) -> None:
    """Refuse ``manifest`` unless ``key`` signed it as it is."""
    signature = manifest.get("signature")
    if signature is None:
        raise BundleError(expected("manifest.json signature",
                                   f"an HMAC-SHA256 signature ({KEY_ENV} is set)",
                                   Described("an unsigned bundle"),
                                   f"save the bundle with {KEY_ENV} set to sign it"))
    if not isinstance(signature, str) or not hmac.compare_digest(
            signature.encode("utf-8"), _signature(manifest, key).encode("ascii")):
        raise BundleError(expected("manifest.json signature", f"a signature made with {KEY_ENV}",
                                   Described("one that does not match (another key, or a "
                                             "manifest modified after signing)")))
