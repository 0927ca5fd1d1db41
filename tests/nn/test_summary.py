import torch
from torch import nn

from rnnkit.nn import LSTM
from rnnkit.nn.heads import OutputHead
from rnnkit.nn.summary import summary


class Battery(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = LSTM(1, 50, num_layers=2, dropout=0.2, return_sequences=False)
        self.drop = nn.Dropout(0.2)
        self.head = OutputHead(50, 1)

    def forward(self, x):
        return self.head(self.drop(self.rnn(x)[0]))


def test_summary_rows_and_totals():
    model = Battery()
    s = summary(model, torch.randn(2, 20, 1))
    assert [(r[0], r[1], r[2], r[3]) for r in s.rows] == [
        ("rnn", "LSTM", "(None, 50)", 30_600),
        ("drop", "Dropout", "(None, 50)", 0),
        ("head", "OutputHead", "(None, 1)", 51),
    ]
    assert s.total_params == 30_651 == s.trainable_params
    text = str(s)
    assert "Total params: 30,651" in text and "LSTM" in text
    assert model.training  # the summary restores the mode
