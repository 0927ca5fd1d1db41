r"""Language modeling: predict the next token of a text, score held-out text, generate.

The model reads tokens (characters or words) and predicts the next one at every step:

.. math::
    \begin{aligned}
    e_t &= E[x_t] \\
    h_t, s_t &= \mathrm{RNN}(e_t, s_{t-1}) \\
    p(x_{t+1} \mid x_{\le t}) &= \mathrm{softmax}(W h_t + b)
    \end{aligned}

with an embedding E (V, D), a recurrent stack (``model.encoder``: LSTM or GRU by name, or a
:class:`~rnnkit.nn.RecurrentCell` subclass of your own) and a softmax head W (V, H),
optionally tied to E (Press & Wolf 2017; a linear projection H -> D comes first when
H != D). Symbols: V vocabulary size, D embedding size, H hidden size, B parallel streams,
T steps.

Training is teacher forcing on a contiguous stream: the text is cut into B =
``training.batch_size`` parallel streams and run by one :class:`~rnnkit.training.Trainer`
fit in truncated-BPTT mode (``training.tbptt_steps``, the segment length): one optimizer step
per segment, the state carried detached into the next one. A Trainer *epoch* is one
``1/data.epochs_per_pass`` slice of every stream (the state starts from zeros at each), so
with ``epochs_per_pass = 20`` and ``training.epochs = 60`` the run makes 3 passes over the
text, validating, stepping the learning-rate schedule and checking ``training.max_time``
(the time budget) 20 times per pass. The History has one row per epoch, written by the
Trainer; besides its keys, each row has ``bits_per_token`` (and ``val_bits_per_token``),
``tokens`` (seen so far), ``passes`` and ``elapsed`` seconds.

Evaluation is the mean cross-entropy per token in nats (``cross_entropy``; ``loss`` is the
same number), ``perplexity`` = exp(cross-entropy) and ``bits_per_token`` = cross-entropy /
ln 2, which for a character model is ``bits_per_character``; the unigram and bigram models of
:mod:`rnnkit.baselines.language_model` (add-k and Witten-Bell smoothed), counted on the
training tokens, are scored on exactly the same next tokens.

Generation reads the prompt once, then carries the recurrent state from token to token
(``stateful=True``), which equals re-reading the whole prefix at every step (the
``stateful=False`` reference) at a fraction of the cost. :meth:`LanguageModel.predict` is
generation with the ``[generation]`` settings: one continuation per prompt.

The configuration file (``rnnkit train lm.toml``)::

    task = "language_model"

    [data]
    path = "corpus.txt"      # a plain UTF-8 text file
    validation = 0.05        # the last 5% of the fitting text validates (default: none)
    test = 0.1               # the last 10% of the file is the test text (split())
    epochs_per_pass = 20     # Trainer epochs per pass over the text

    [model]
    level = "char"           # or "word"
    embedding_dim = 64
    encoder = { cell = "lstm", hidden_size = 256 }

    [training]               # rnnkit.training.TrainerConfig
    epochs = 60
    tbptt_steps = 100        # the truncated-BPTT segment length
    lr = 3e-3
    max_time = 580.0

    [generation]
    max_new_tokens = 200
    temperature = 0.8

Example:
    >>> lm = LanguageModel({"model": {"embedding_dim": 8, "encoder": {"hidden_size": 16}},
    ...                     "training": {"tbptt_steps": 16, "batch_size": 4}})
    >>> lm.fit("hello world, " * 50)                                # doctest: +SKIP
    >>> lm.generate("hel", max_new_tokens=10, seed=0)               # doctest: +SKIP
    >>> lm.evaluate("hello world, hello")["bits_per_character"]     # doctest: +SKIP
"""


from rnnkit.tasks.language_model.config import (
    LEVELS,
    LM_TRAINING,
    DataSection,
    EncoderSection,
    EvaluationSection,
    GenerationSection,
    LanguageModelConfig,
    ModelSection,
)
from rnnkit.tasks.language_model.network import LMNet, sample_logits
from rnnkit.tasks.language_model.task import LanguageModel

__all__ = [
    "LEVELS",
    "LM_TRAINING",
    "DataSection",
    "EncoderSection",
    "EvaluationSection",
    "GenerationSection",
    "LMNet",
    "LanguageModel",
    "LanguageModelConfig",
    "ModelSection",
    "sample_logits",
]
