"""rnnkit.nn: recurrent cells and layers, the runner and its backends, heads, initializers."""

from rnnkit.nn.activations import ACTIVATIONS, resolve_activation
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.gru import GRU, GRUCell
from rnnkit.nn.initializers import INITIALIZERS, resolve_initializer
from rnnkit.nn.lstm import LSTM, LSTMCell
from rnnkit.nn.recurrent import BACKENDS, MERGE_MODES, Recurrent
from rnnkit.nn.simple_rnn import SimpleRNN, SimpleRNNCell

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "GRU",
    "INITIALIZERS",
    "LSTM",
    "MERGE_MODES",
    "GRUCell",
    "LSTMCell",
    "Recurrent",
    "RecurrentCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "resolve_activation",
    "resolve_initializer",
]
