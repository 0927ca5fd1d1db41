"""The report in a real browser: headless Chromium opens it, nothing errs, every image
decodes, and the screenshot and the printed PDF are not blank."""

from __future__ import annotations

import io

import numpy as np
import pytest
from browser import CHROMIUM, SKIP_REASON, check_page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)


def ink(png: bytes) -> float:
    """The share of pixels that are not background white."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float((pixels < 240).mean())


def test_the_report_of_a_quick_lab_renders_without_errors(battery_run):
    seen = check_page(battery_run / "report.html")
    assert seen.errors == []
    assert len(seen.images) >= 10 and all(seen.images)  # every embedded PNG decodes
    assert seen.sections >= 9 and seen.height > 5000
    assert seen.screenshot.startswith(b"\x89PNG") and ink(seen.screenshot) > 0.03
    assert seen.pdf.startswith(b"%PDF") and len(seen.pdf) > 50_000  # it prints


def test_the_check_sees_errors_and_broken_images(tmp_path):
    """The detector itself: a page that logs an error and shows a missing image fails."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><p>x</p><img src="missing.png">'
                    '<script>console.error("boom")</script></body></html>')
    seen = check_page(page)
    assert any("boom" in e for e in seen.errors)
    assert seen.images == [False]
    assert ink(check_page(tmp_path / "bad.html", width=300, height=200).screenshot) < 0.03
