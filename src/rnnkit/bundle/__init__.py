"""rnnkit.bundle: one directory that holds everything needed to predict from raw data."""

from rnnkit.bundle.bundle import (
    BUNDLE_FORMAT,
    Bundle,
    BundleError,
    load_bundle,
    load_weights,
    reading,
    save_bundle,
)

__all__ = ["BUNDLE_FORMAT", "Bundle", "BundleError", "load_bundle", "load_weights", "reading",
           "save_bundle"]
