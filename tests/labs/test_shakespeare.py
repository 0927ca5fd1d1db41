"""The shakespeare lab on a user's own text file (--set data.path=...)."""

from rnnkit.examples import FOLDER
from rnnkit.labs import shakespeare


def test_shakespeare_lab_runs_on_the_users_text(tmp_path):
    path = FOLDER / "data" / "sonnets_sample.txt"
    metrics = shakespeare.run({"data": {"path": str(path)}}, out_dir=tmp_path / "run",
                              quick=True)
    assert metrics["corpus"] == str(path)
    assert metrics["bits_per_character"] > 0
