#!/usr/bin/python3
"""LSTM over exactly 20 steps on synthetic data (static-graph benchmark).

Input: 20 steps of x_t in R^64 ~ N(0, I); label = argmax(A mean_t x_t) over 10
classes for a fixed teacher A in R^{10x64} ~ N(0, 1).  Model: one LSTM layer,
hidden 128, zero initial state, over the 20 steps; its final hidden state ->
linear 128 -> 10, softmax cross-entropy.  dev_metric: accuracy.  See
synthetic.py for the data sizes and the training loop.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn

import synthetic

STEPS = 20
INPUT = 64
HIDDEN = 128
CLASSES = 10


def make_data(n, teacher, g):
    x = torch.randn(n, STEPS, INPUT, generator=g)
    return x, (x.mean(dim=1) @ teacher.t()).argmax(dim=1)


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True)
        self.out = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        """x: (B, STEPS, INPUT) -> logits (B, CLASSES)."""
        _, (h_n, _) = self.lstm(x)
        return self.out(h_n[0])


def main():
    args = synthetic.parse(synthetic.make_parser(__doc__.splitlines()[0]))
    rng = common.setup(args)
    g = synthetic.generator()
    teacher = torch.randn(CLASSES, INPUT, generator=g)
    train_x, train_y = make_data(synthetic.TRAIN_EXAMPLES, teacher, g)
    dev_x, dev_y = make_data(synthetic.DEV_EXAMPLES, teacher, g)

    model = LSTMClassifier()
    loss = nn.CrossEntropyLoss(reduction="sum")
    synthetic.run("lstm-fixed", args, rng, model, loss, lambda x: model(x).argmax(dim=1),
                  train_x, train_y, dev_x, dev_y)


if __name__ == "__main__":
    main()
