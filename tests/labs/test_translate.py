"""The translation lab offline: a fake verse loader or the user's TSV file, the quick
configuration."""

from __future__ import annotations

import json
import random

import pytest

from rnnkit.labs import translate
from rnnkit.tasks.seq2seq import Seq2Seq

from lab_builders import assert_report

EN = {"god": "dios", "said": "dijo", "light": "luz", "the": "la", "earth": "tierra",
      "and": "y", "saw": "vio", "good": "buena"}


def _fake_pairs(source="kjv", target="sparv", *, cache_dir=None):
    rng = random.Random(0)
    words = sorted(EN)
    out = []
    for _ in range(300):
        s = [rng.choice(words) for _ in range(rng.randint(2, 6))]
        out.append((" ".join(s).capitalize() + ".", " ".join(EN[w] for w in s) + "."))
    return out


def test_translation_memory_returns_the_nearest_training_target():
    train = [(["and", "god", "said"], ["y", "dijo", "dios"]),
             (["the", "earth"], ["la", "tierra"])]
    memory = translate.TranslationMemory().fit(*zip(*train))
    assert memory.predict([["god", "said"], ["earth"]]) == [["y", "dijo", "dios"],
                                                             ["la", "tierra"]]


def test_translate_lab_quick_offline(tmp_path, monkeypatch):
    import rnnkit.datasets.sword as sword

    monkeypatch.setattr(sword, "load_verse_pairs", _fake_pairs)
    m = translate.run({"training": {"epochs": 3, "lr": 1e-2}}, out_dir=tmp_path / "run",
                      quick=True)
    assert m["n_train"] + m["n_val"] + m["n_test"] <= 300 and m["n_test"] > 0
    for key in ("greedy", "beam", "baseline"):
        assert set(m[key]) == {"bleu", "token_error_rate", "exact_match"}
        assert 0.0 <= m[key]["bleu"] <= 1.0
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert {"config.json", "history.json", "metrics.json", "samples.json", "model"} <= set(names)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["greedy"] == pytest.approx(m["greedy"])
    model = Seq2Seq.load(tmp_path / "run" / "model")
    assert model.predict([["god", "said"]])  # the bundle loads and decodes
    assert_report(tmp_path / "run")


def test_translate_lab_quick_on_the_real_verses(tmp_path):
    from rnnkit.datasets.cache import is_cached, registry_reachable
    from rnnkit.datasets.sword import KJV, SPARV

    for archive in (KJV, SPARV):
        if not is_cached(archive) and not registry_reachable("debian", timeout=3):
            pytest.skip(f"{archive.label} is not cached and the Debian mirror is unreachable")
    m = translate.run(out_dir=tmp_path / "run", quick=True)
    # 600 sampled pairs of at most 12 words: 60 held out (40 decoded), 2% of the rest validate
    assert (m["n_train"], m["n_val"], m["n_test"]) == (530, 10, 40)
    assert 0.0 <= m["greedy"]["bleu"] <= 1.0 and 0.0 <= m["baseline"]["bleu"] <= 1.0


def test_translate_lab_with_subwords_offline(tmp_path, monkeypatch):
    import rnnkit.datasets.sword as sword
    from rnnkit.data.text import BPETokenizer

    monkeypatch.setattr(sword, "load_verse_pairs", _fake_pairs)
    m = translate.run({"data": {"units": "bpe"}, "model": {"max_vocab": 60},
                       "training": {"epochs": 2, "lr": 1e-2}}, out_dir=tmp_path / "run",
                      quick=True)
    assert m["units"] == "bpe" and m["tgt_vocab"] <= 60
    model = Seq2Seq.load(tmp_path / "run" / "model")  # the sub-word models are in the bundle
    tgt = model.tgt_bpe_
    assert isinstance(tgt, BPETokenizer) and isinstance(model.src_bpe_, BPETokenizer)
    assert all(isinstance(w, str) and "▁" not in w for w in model.predict([["god", "said"]])[0])
    # predictions are scored as words: sub-words are joined back before BLEU
    words = tgt.detokenize(tgt.tokenize("dios dijo la luz")).split()
    assert words == ["dios", "dijo", "la", "luz"]
    samples = json.loads((tmp_path / "run" / "samples.json").read_text())
    assert all("▁" not in s["predicted"] for s in samples)
    with pytest.raises(Exception, match="data.units: expected one of"):
        translate.run({"data": {"units": "chars"}}, out_dir=tmp_path / "bad", quick=True)


def test_translate_lab_on_the_users_tsv(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in _fake_pairs()), encoding="utf-8")
    m = translate.run({"data": {"path": str(path)}, "training": {"epochs": 2, "lr": 1e-2}},
                      out_dir=tmp_path / "run", quick=True)
    assert m["n_train"] + m["n_val"] + m["n_test"] <= 300 and m["n_test"] > 0
    assert 0.0 <= m["greedy"]["bleu"] <= 1.0
    samples = json.loads((tmp_path / "run" / "samples.json").read_text())
    assert all(set(s["reference"].split()) <= set(EN.values()) | {"."} for s in samples)
