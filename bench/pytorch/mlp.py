#!/usr/bin/python3
"""Two-hidden-layer MLP classifier on synthetic data (static-graph benchmark).

x in R^100 ~ N(0, I); label = argmax(A x) over 10 classes for a fixed teacher
A in R^{10x100} ~ N(0, 1).  Model: 100 -> 128 (ReLU) -> 128 (ReLU) -> 10,
softmax cross-entropy.  dev_metric: accuracy.  See synthetic.py for the data
sizes and the training loop.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn

import synthetic

INPUT = 100
HIDDEN = 128
CLASSES = 10


def make_data(n, teacher, g):
    x = torch.randn(n, INPUT, generator=g)
    return x, (x @ teacher.t()).argmax(dim=1)


def main():
    args = synthetic.parse(synthetic.make_parser(__doc__.splitlines()[0]))
    rng = common.setup(args)
    g = synthetic.generator()
    teacher = torch.randn(CLASSES, INPUT, generator=g)
    train_x, train_y = make_data(synthetic.TRAIN_EXAMPLES, teacher, g)
    dev_x, dev_y = make_data(synthetic.DEV_EXAMPLES, teacher, g)

    model = nn.Sequential(nn.Linear(INPUT, HIDDEN), nn.ReLU(),
                          nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                          nn.Linear(HIDDEN, CLASSES))
    loss = nn.CrossEntropyLoss(reduction="sum")
    synthetic.run("mlp", args, rng, model, loss, lambda x: model(x).argmax(dim=1),
                  train_x, train_y, dev_x, dev_y)


if __name__ == "__main__":
    main()
