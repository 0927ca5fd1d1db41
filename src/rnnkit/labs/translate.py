"""Lab: English-to-Spanish translation of Bible verses (or your own pairs) with an attentional
encoder-decoder, against a translation-memory baseline.

Data: the King James Version and the Reina-Valera 1909 (SpaRV) of the SWORD project, from
Debian's ``sword-text-kjv`` and ``sword-text-sparv`` packages
(:func:`rnnkit.datasets.sword.load_verse_pairs`, fetched once from the Debian mirror): about
31,000 verse pairs aligned by reference. Words and punctuation are split by
:class:`~rnnkit.data.text.WordTokenizer` and lower-cased; pairs longer than
``data.max_tokens`` on either side are left out (as in most tutorials, which train on short
sentences). A seeded random 5% of the verses is held out for the test, 2% of the rest
validates. ``data.units = "bpe"`` feeds the model sub-words instead
(:class:`~rnnkit.data.text.BPETokenizer`, ``model.max_vocab`` pieces per language, learned on
the training verses by the task and saved in its bundle): no Spanish word is then out of the
vocabulary. Scores are always on words.

Your own pairs: ``--set data.path=pairs.tsv`` reads a TSV file of (source, target) sentences,
one pair per line (:mod:`rnnkit.tasks.seq2seq.data`; ``data.source_column`` /
``data.target_column`` name the columns of a file with a header line) instead of the verses;
the same tokenization, length limit and splits apply.

Model: word embeddings (128) -> bidirectional LSTM (128 each way) -> LSTM decoder (256) with
Luong "general" attention (:class:`rnnkit.tasks.seq2seq.Seq2Seq`), vocabularies capped at the
8,000 most frequent words of each language seen twice (the rest map to ``<unk>``), batches of
similar length, teacher forcing, Adam with a cosine decay over 8 epochs, within
``training.max_time`` (15 minutes: the validation loss still falls steeply at 10).
Beam search (width 4) divides a hypothesis' log-probability by its length
(``decoding.length_penalty = 1``): without it the beam prefers short translations (85% of
the reference length); the value was chosen on the validation verses (BLEU 12.7 / 13.2 /
13.8 / 12.2 for 0 / 0.6 / 1 / 1.5 with a model trained 4 epochs).

Baseline: a translation memory: for each test verse, the Spanish of the most similar training
verse (cosine of TF-IDF word 1-2-grams; :class:`rnnkit.tasks.seq2seq.TranslationMemory`,
fitted by the task on the training verses). It needs no model of order; verses
that repeat formulas ("And the LORD spake unto Moses, saying") are where it shines.

Metrics: corpus BLEU-4 (the usual translation score, 0-1 here), token error rate (edits per
reference word) and exact match, for greedy and beam-search decoding; ``attention.png``
shows the attention of a few test verses.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``samples.json``,
``attention.png`` and the model bundle in ``model/``.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from rnnkit._validation import check_choice
from rnnkit.data.text import WordTokenizer
from rnnkit.labs._common import lab_report, lab_run, setup_run, write_json
from rnnkit.tasks.seq2seq import Seq2Seq, TranslationMemory, scores

__all__ = ["DEFAULTS", "QUICK", "TranslationMemory", "load_pairs", "run", "task_config"]

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"source": "kjv", "target": "sparv", "path": None, "source_column": None,
             "target_column": None, "units": "word", "max_tokens": 30, "held_out": 0.05,
             "val_fraction": 0.02, "max_pairs": None},
    "model": {"encoder_hidden": 128, "decoder_hidden": 256, "attention": "general",
              "input_feeding": False, "embedding_dim": 128, "dropout": 0.1,
              "min_freq": 2, "max_vocab": 8000},
    "training": {"epochs": 8, "batch_size": 64, "lr": 2e-3, "schedule": "cosine",
                 "clipnorm": 1.0, "max_time": 900.0, "seed": 0, "num_threads": None},
    "decoding": {"beam_width": 4, "length_penalty": 1.0, "max_test": 500, "samples": 6},
}

#: What ``quick=True`` changes: 600 short pairs, a tiny model, seconds.
QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_pairs": 600, "max_tokens": 12, "held_out": 0.1},
    "model": {"encoder_hidden": 16, "decoder_hidden": 32, "embedding_dim": 16,
              "max_vocab": 500, "min_freq": 1},
    "training": {"epochs": 2, "batch_size": 32, "max_time": 30.0},
    "decoding": {"beam_width": 2, "max_test": 40, "samples": 3},
}

_TOKENIZER = WordTokenizer(lower=True)


def load_pairs(data: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    """Tokenized (source, target) pairs within ``max_tokens`` on both sides: the SWORD verses
    of ``data.source`` and ``data.target``, or the TSV file ``data.path``."""
    if data.get("path"):
        from rnnkit.tasks.seq2seq.data import read_pairs

        sources, targets = read_pairs(data["path"], source_column=data.get("source_column"),
                                      target_column=data.get("target_column"))
        texts = list(zip(sources, targets or []))
    else:
        from rnnkit.datasets.sword import load_verse_pairs

        texts = load_verse_pairs(data["source"], data["target"])
    pairs = [(_TOKENIZER.tokenize(s), _TOKENIZER.tokenize(t)) for s, t in texts]
    limit = int(data["max_tokens"])
    return [(s, t) for s, t in pairs if 0 < len(s) <= limit and 0 < len(t) <= limit]


def _split(pairs: list, held_out: float, val_fraction: float, seed: int):
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    n_test = max(1, int(len(pairs) * held_out))
    n_val = max(1, int((len(pairs) - n_test) * val_fraction))
    pick = lambda idx: [pairs[i] for i in idx]  # noqa: E731
    return (pick(order[n_test + n_val :]), pick(order[n_test : n_test + n_val]),
            pick(order[:n_test]))


def _scores(refs: list[list[str]], hyps: list[list[str]]) -> dict[str, float]:
    return {k: v for k, v in scores(refs, hyps).items()
            if k in ("bleu", "token_error_rate", "exact_match")}


def task_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Seq2Seq` config of the lab's tables (lower-cased words, or sub-words)."""
    model, training, decoding = cfg["model"], cfg["training"], cfg["decoding"]
    return {
        "name": "translate",
        "data": {"units": cfg["data"]["units"], "lower": True},
        "model": {"encoder": {"cell": "lstm", "hidden_size": model["encoder_hidden"],
                              "bidirectional": True},
                  "decoder": {"cell": "lstm", "hidden_size": model["decoder_hidden"]},
                  "attention": model["attention"], "input_feeding": model["input_feeding"],
                  "src_embedding_dim": model["embedding_dim"],
                  "tgt_embedding_dim": model["embedding_dim"], "dropout": model["dropout"],
                  "min_freq": model["min_freq"], "max_src_vocab": model["max_vocab"],
                  "max_tgt_vocab": model["max_vocab"], "bucket": True},
        "decoding": {"length_penalty": decoding["length_penalty"]},
        "evaluation": {"primary": "bleu"},
        "training": {"device": "cpu", **{k: training[k] for k in (
            "epochs", "batch_size", "lr", "schedule", "clipnorm", "max_time", "seed",
            "num_threads")}},
    }


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train the translation model, compare it with the translation memory, write the run
    directory.

    Returns the metrics (also in ``metrics.json``): ``greedy``, ``beam`` and ``baseline``
    scores (``bleu``, ``token_error_rate``, ``exact_match``) on the first
    ``decoding.max_test`` held-out pairs, the data sizes, ``train_seconds`` and ``epochs``.
    """
    from rich.console import Console
    from rich.table import Table

    cfg, run_dir = setup_run(DEFAULTS, QUICK, config, quick=quick, seed=seed, name="translate",
                             out_dir=out_dir)
    with lab_run(run_dir, "translate", overwrite=overwrite) as work:
        data, model, training, decoding = (cfg["data"], cfg["model"], cfg["training"],
                                           cfg["decoding"])
        console = Console()

        units = check_choice("data.units", data["units"], ("word", "bpe"))
        pairs = load_pairs(data)
        if data["max_pairs"] and len(pairs) > data["max_pairs"]:
            pairs = random.Random(training["seed"]).sample(pairs, int(data["max_pairs"]))
        train, val, test = _split(pairs, float(data["held_out"]), float(data["val_fraction"]),
                                  int(training["seed"]))
        test = test[: int(decoding["max_test"])]
        corpus = data["path"] or f"verse pairs ({data['source']} -> {data['target']})"
        console.print(f"{corpus}, at most {data['max_tokens']} words: {len(train):,} training, "
                      f"{len(val):,} validation, {len(test):,} test")

        s2s = Seq2Seq(task_config(cfg))
        t0 = time.perf_counter()
        history = s2s.fit(train, validation=val).history_
        train_seconds = time.perf_counter() - t0

        sources, refs = [s for s, _ in test], [t for _, t in test]
        k = int(decoding["beam_width"])
        greedy_hyp = s2s.predict(sources, beam_width=1)  # words, also with sub-words inside
        beam_hyp = s2s.predict(sources, beam_width=k)
        memory_hyp = s2s.baselines_["translation_memory"].predict(sources)

        metrics: dict[str, Any] = {
            "lab": "translate", "quick": quick, "units": units,
            "n_train": len(train), "n_val": len(val), "n_test": len(test),
            "src_vocab": len(s2s.src_vocab_ or []), "tgt_vocab": len(s2s.tgt_vocab_ or []),
            "greedy": _scores(refs, greedy_hyp),
            "beam_width": k,
            "beam": _scores(refs, beam_hyp),
            "baseline": _scores(refs, memory_hyp),
            "train_seconds": train_seconds,
            "epochs": len(history),
            "final_val_loss": history[-1].get("val_loss") if len(history) else None,
        }
        table = Table(title=f"{corpus}, {len(test):,} held-out pairs")
        for col in ("model", "BLEU", "token error rate", "exact"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for label, key in ((f"{model['attention']} attention seq2seq (greedy)", "greedy"),
                           (f"{model['attention']} attention seq2seq (beam {k})", "beam"),
                           ("translation memory (nearest TF-IDF source)", "baseline")):
            m = metrics[key]
            table.add_row(label, f"{m['bleu'] * 100:.2f}", f"{m['token_error_rate']:.2%}",
                          f"{m['exact_match']:.2%}")
        console.print(table)
        console.print(f"trained {train_seconds:.0f} s, {len(history)} epochs")

        decoded = s2s.decode(sources[: int(decoding["samples"])], beam_width=k)
        samples = [{"source": " ".join(s), "reference": " ".join(r),
                    "predicted": " ".join(s2s.output_tokens(d)),
                    "memory": " ".join(mh), "attention": d.attention.tolist()}
                   for s, r, d, mh in zip(sources, refs, decoded, memory_hyp)]
        for s in samples[:3]:
            console.print(f"{s['source']}\n  -> {s['predicted']}\n  (reference: {s['reference']})")

        write_json(work / "config.json", cfg)
        history.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        write_json(work / "samples.json", samples)
        shown = [(s, d) for s, d in zip(sources, decoded) if d.ids][:4]
        if shown:  # over what the model read and wrote: words, or sub-words
            from rnnkit.analysis.attention import plot_attention

            tv = s2s.tgt_vocab_
            plot_attention([d.attention for _, d in shown], work / "attention.png",
                           sources=[s2s.model_tokens(s) for s, _ in shown],
                           outputs=[tv.decode(d.ids, stop_at_eos=False) for _, d in shown],  # type: ignore[union-attr]
                           titles=[" ".join(s)[:40] for s, _ in shown], cols=2)
        s2s.save(work / "model", metrics={"lab": "translate", "units": units,
                                             "greedy": metrics["greedy"], "beam": metrics["beam"],
                                             "baseline": metrics["baseline"]})
        metrics["samples"] = [{k_: v for k_, v in s.items() if k_ != "attention"} for s in samples]
        lab_report(work, {"model": (s2s, sources)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
