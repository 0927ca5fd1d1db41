"""The g2p lab on a user's own TSV (--set data.path=...), read as the seq2seq task reads it."""

import json

from rnnkit.examples import FOLDER
from rnnkit.labs import g2p


def test_g2p_lab_runs_on_the_users_tsv(tmp_path):
    rows = (FOLDER / "data" / "cmudict_sample.tsv").read_text().splitlines()[1:]  # no header
    (tmp_path / "mine.tsv").write_text("\n".join(rows) + "\n")
    metrics = g2p.run({"data": {"path": str(tmp_path / "mine.tsv")}}, out_dir=tmp_path / "run",
                      quick=True)
    assert 0 <= metrics["phoneme_error_rate"] <= 1.5
    samples = json.loads((tmp_path / "run" / "samples.json").read_text())
    words = {row.split("\t")[0] for row in rows}
    assert samples and all(s["word"] in words for s in samples)  # the user's words, not CMUdict's
