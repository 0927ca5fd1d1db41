from __future__ import annotations

import base64

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnnkit.report.blocks import Section, code, figure, note, png, table, text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_figure_is_an_embedded_png():
    fig = Figure(figsize=(2, 2))
    FigureCanvasAgg(fig)
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    block = figure(fig, "a line")
    assert block.kind == "figure" and block.caption == "a line"
    prefix = "data:image/png;base64,"
    assert block.body.startswith(prefix)
    assert base64.b64decode(block.body[len(prefix):]).startswith(PNG_SIGNATURE)
    raw = PNG_SIGNATURE + b"rest"
    assert png(raw).body == prefix + base64.b64encode(raw).decode()


def test_tables_round_numbers_and_escape_text():
    frame = pd.DataFrame({"rmse": [0.0123456789, np.nan], "name": ["<script>x</script>", "b"]},
                         index=["model", "persistence"])
    html = table(frame).body
    assert "0.01235" in html and "0.0123456789" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<tr") == 3  # header and two rows
    assert ">-<" in html  # NaN shown as a dash
    assert "<th>model</th>" in html
    assert "model" not in table(frame, index=False).body


def test_sections_collect_blocks_in_order():
    section = Section("T", "t").add(text("a"), note("b")).add(code("c = 1", "config"))
    assert [b.kind for b in section.blocks] == ["text", "note", "code"]
    assert section.blocks[2].caption == "config"
