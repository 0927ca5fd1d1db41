"""The pieces a report is made of: sections holding text, figures (PNG embedded as data URIs,
so the page needs no other file and no network) and tables (pandas DataFrames as HTML)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Block", "Section", "code", "figure", "note", "png", "table", "text"]


@dataclass(frozen=True)
class Block:
    """One item of a section: ``kind`` is ``"figure"`` (``body`` a data URI), ``"table"``
    (``body`` HTML), ``"text"`` or ``"note"`` (plain text, escaped when rendered), or
    ``"code"`` (preformatted text)."""

    kind: str
    body: str
    caption: str = ""


@dataclass
class Section:
    """A titled part of the report; ``anchor`` is its id in the page's contents."""

    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


def figure(fig: Figure, caption: str = "", *, dpi: int = 72) -> Block:
    """``fig`` as an embedded PNG. The figures come with fixed margins, so no tight bounding
    box is computed (it draws the figure twice: half the report's rendering time)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Block("figure", f"data:image/png;base64,{data}", caption)


def png(raw: bytes, caption: str = "") -> Block:
    """A PNG file's bytes as an embedded figure."""
    return Block("figure", "data:image/png;base64," + base64.b64encode(raw).decode("ascii"),
                 caption)


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isnan(v):
            return "-"
        return f"{v:.4g}"
    return value


def table(frame: pd.DataFrame, caption: str = "", *, index: bool = True) -> Block:
    """``frame`` as an HTML table (numbers to 4 significant digits, values escaped)."""
    shown = frame.map(_cell) if len(frame) else frame
    html = shown.to_html(index=index, escape=True, border=0, classes="data", na_rep="-")
    return Block("table", html, caption)


def text(body: str) -> Block:
    """A paragraph."""
    return Block("text", body)


def note(body: str) -> Block:
    """A remark set apart (what was sampled, what was skipped and why)."""
    return Block("note", body)


def code(body: str, caption: str = "") -> Block:
    """Preformatted text (a config file)."""
    return Block("code", body, caption)
