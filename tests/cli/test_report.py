from __future__ import annotations

import shutil


def test_rnnkit_report_writes_the_page_and_prints_its_path(cli, battery_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(battery_run, run)
    (run / "report.html").unlink()
    code, out, err = cli(["report", run, "--no-diagnostics"])
    assert code == 0, err
    assert "report:" in out and "report.html" in out
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Metrics against the baselines" in html and "Hidden states" not in html
    code, out, _ = cli(["report", run, "--tsne-points", "20"])
    assert code == 0 and "Hidden states" in (run / "report.html").read_text(encoding="utf-8")


def test_misuse_exits_2_with_the_argument_named(cli, tmp_path):
    code, _, err = cli(["report", tmp_path / "missing"])
    assert code == 2 and "RUN: expected a run directory" in err
    code, _, err = cli(["report", tmp_path, "--tsne-points", "1"])
    assert code == 2 and "--tsne-points: expected an integer >= 2, got 1" in err
