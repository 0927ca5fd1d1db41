"""rnnkit.nn: recurrent cells and layers, the runner and its backends, heads, attention, CRF,
initializers."""

from rnnkit.nn.activations import ACTIVATIONS, resolve_activation
from rnnkit.nn.attention import AdditiveAttention, MultiplicativeAttention, build_attention
from rnnkit.nn.attention_pooling import AttentionPooling
from rnnkit.nn.backends.workspace import set_buffer_pool_limit
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.crf import CRF
from rnnkit.nn.gru import GRU, GRUCell
from rnnkit.nn.heads import OutputHead, pool
from rnnkit.nn.initializers import INITIALIZERS, resolve_initializer
from rnnkit.nn.lstm import LSTM, LSTMCell
from rnnkit.nn.recurrent import BACKENDS, MERGE_MODES, Recurrent
from rnnkit.nn.simple_rnn import SimpleRNN, SimpleRNNCell

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "CRF",
    "GRU",
    "INITIALIZERS",
    "LSTM",
    "MERGE_MODES",
    "AdditiveAttention",
    "AttentionPooling",
    "GRUCell",
    "LSTMCell",
    "MultiplicativeAttention",
    "OutputHead",
    "Recurrent",
    "RecurrentCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "build_attention",
    "pool",
    "resolve_activation",
    "resolve_initializer",
    "set_buffer_pool_limit",
]
