"""Shared driver for the static-graph benchmarks (logreg, mlp, lstm-fixed).

Data are synthetic: inputs drawn from N(0, 1) and labels given by a fixed random
"teacher", both from a torch.Generator seeded with DATA_SEED (independent of
--seed, which seeds only the model's initialisation and the shuffling), so every
run sees the same task.  TRAIN_EXAMPLES training and DEV_EXAMPLES dev examples.

Training: --batch examples per update (default 1), loss summed over the batch,
Adam lr 0.001, batches in shuffled order each epoch.  With --mode torchscript the
model together with its loss is compiled by torch.jit.script.  WARMUP_UPDATES
updates run before the clock starts (they are real updates, just not timed), so
TorchScript's profiling runs do not land in the measured time.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn

DATA_SEED = 12345
TRAIN_EXAMPLES = 10000
DEV_EXAMPLES = 2000
WARMUP_UPDATES = 5


def generator():
    g = torch.Generator()
    g.manual_seed(DATA_SEED)
    return g


class WithLoss(nn.Module):
    """model + loss in one module so TorchScript compiles the whole step."""

    def __init__(self, model, loss):
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, x, y):
        return self.loss(self.model(x), y)


def make_parser(description):
    p = common.make_parser(description)
    p.add_argument("--mode", choices=("eager", "torchscript"), default="eager")
    p.add_argument("--batch", type=int, default=1, help="examples per update")
    return p


def parse(p):
    args = p.parse_args()
    if args.batch < 1:
        p.error("--batch must be at least 1")
    return args


def run(task, args, rng, model, loss, predict, train_x, train_y, dev_x, dev_y):
    """Trains `model` (eager or scripted) with `loss`, evaluates accuracy with
    `predict` (eager, same parameters), and prints the result line.  `rng` is
    the shuffling RNG from common.setup, which must run before the model is built."""
    step_module = WithLoss(model, loss)
    if args.mode == "torchscript":
        step_module = torch.jit.script(step_module)
    opt = torch.optim.Adam(model.parameters(), lr=common.LEARNING_RATE)

    # Fixed batches, cut once; the order of the batches is shuffled per epoch.
    batches = [(train_x[k:k + args.batch], train_y[k:k + args.batch])
               for k in range(0, len(train_x), args.batch)]

    def step(b):
        opt.zero_grad()
        step_module(b[0], b[1]).backward()
        opt.step()
        return len(b[1]), 0

    model.train()
    for b in batches[:WARMUP_UPDATES]:
        step(b)
    tp = common.train_for(args.seconds, batches, step, rng)

    model.eval()
    with torch.no_grad():
        correct = int((predict(dev_x) == dev_y).sum())
    common.emit(common.result(task, args, tp, correct / len(dev_y), "accuracy", len(dev_y),
                              words=False, mode=args.mode, batch=args.batch,
                              warmup_updates=WARMUP_UPDATES))
