"""rnnkit.baselines.seq2seq: the translation memory (the target of the most similar
training source), the identity (copy the source) and the test of shared vocabularies that
decides whether the identity is reported."""

from rnnkit.baselines.seq2seq import CopySource, TranslationMemory, shared_vocabulary


def test_baselines():
    memory = TranslationMemory().fit([["and", "god", "said"], ["the", "earth"]],
                                     [["y", "dijo", "dios"], ["la", "tierra"]])
    assert memory.predict([["god", "said"], ["earth"]]) == [["y", "dijo", "dios"],
                                                            ["la", "tierra"]]
    assert CopySource().fit().predict(["ab", ["c"]]) == [["a", "b"], ["c"]]



def test_the_memory_weighs_word_pairs_and_answers_in_batches():
    sources = [["the", "light"], ["light", "the"], ["the", "earth", "was"]]
    targets = [["la", "luz"], ["luz", "la"], ["la", "tierra", "era"]]
    memory = TranslationMemory().fit(sources, targets)
    # same words, different order: the 2-grams decide
    assert memory.predict([["light", "the", "sky"]]) == [["luz", "la"]]
    queries = [["the", "light"], ["earth"], ["light", "the"]] * 3
    assert memory.predict(queries, batch=2) == memory.predict(queries)  # batches of 2
    assert memory.predict(queries)[:3] == [["la", "luz"], ["la", "tierra", "era"],
                                           ["luz", "la"]]
    assert memory.predict([]) == []


def test_copy_source_ignores_its_training_pairs():
    copy = CopySource().fit([["a"]], [["b"]])
    assert copy.predict([("x", "y"), []]) == [["x", "y"], []]


def test_shared_vocabulary_counts_target_tokens_with_repeats():
    sources = [["a", "b"], ["c"]]
    assert shared_vocabulary(sources, [["a", "a", "x"]])  # 2 of 3 seen
    assert not shared_vocabulary(sources, [["a", "x", "y"]])  # 1 of 3
    assert shared_vocabulary(sources, [["a", "x", "y"]], threshold=1 / 3)
    assert shared_vocabulary(sources, [["a", "x"]])  # exactly the threshold, 1/2
    assert not shared_vocabulary(sources, [[]])  # no target tokens at all
