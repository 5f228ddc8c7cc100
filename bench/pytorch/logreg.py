#!/usr/bin/python3
"""Logistic regression on synthetic data (static-graph benchmark).

x in R^100 ~ N(0, I); label 1 when w.x > 0 for a fixed teacher w ~ N(0, I), else 0.
Model: one linear unit (100 -> 1, with bias), sigmoid cross-entropy.  dev_metric:
accuracy.  See synthetic.py for the data sizes and the training loop.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn

import synthetic

INPUT = 100


def make_data(n, teacher, g):
    x = torch.randn(n, INPUT, generator=g)
    return x, (x @ teacher > 0).float()


def main():
    args = synthetic.parse(synthetic.make_parser(__doc__.splitlines()[0]))
    rng = common.setup(args)
    g = synthetic.generator()
    teacher = torch.randn(INPUT, generator=g)
    train_x, train_y = make_data(synthetic.TRAIN_EXAMPLES, teacher, g)
    dev_x, dev_y = make_data(synthetic.DEV_EXAMPLES, teacher, g)

    model = nn.Sequential(nn.Linear(INPUT, 1), nn.Flatten(0))  # (B, 100) -> (B,) logits
    loss = nn.BCEWithLogitsLoss(reduction="sum")
    synthetic.run("logreg", args, rng, model, loss, lambda x: (model(x) > 0).float(),
                  train_x, train_y, dev_x, dev_y)


if __name__ == "__main__":
    main()
