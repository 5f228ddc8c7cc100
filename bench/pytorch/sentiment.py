#!/usr/bin/python3
"""Bi-LSTM sentence classifier.

Embedding 128, a forward and a backward LSTM of hidden 128 each over the whole
sentence, their final states concatenated (256) -> linear to the 5 classes.
Trains on classes/train.txt; dev_metric is accuracy on classes/dev.txt.  The
vocabulary is the training words plus <unk>; words_per_s counts tokens.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn
import torch.nn.functional as F


EMBED = 128
HIDDEN = 128
CLASSES = 5


class Example:
    def __init__(self, label, words, vocab):
        self.label = torch.tensor([label], dtype=torch.long)
        self.word_ids = torch.tensor(vocab.ids(words), dtype=torch.long)
        self.n = len(words)


class Classifier(nn.Module):
    def __init__(self, vocab_size, sparse):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, sparse=sparse)
        self.lstm = nn.LSTM(EMBED, HIDDEN, bidirectional=True)
        self.out = nn.Linear(2 * HIDDEN, CLASSES)

    def logits(self, ex):
        _, (h_n, _) = self.lstm(self.embed(ex.word_ids).unsqueeze(1))
        # h_n is (direction, batch 1, HIDDEN): forward final state, backward final state.
        return self.out(torch.cat((h_n[0], h_n[1]), dim=1))

    def loss(self, ex):
        return F.cross_entropy(self.logits(ex), ex.label, reduction="sum")


def main():
    p = common.make_parser(__doc__.splitlines()[0])
    common.add_sparse_flag(p)
    args = p.parse_args()
    rng = common.setup(args)

    train_d = common.read_classes(common.data_path(args, "classes", "train.txt"))
    dev_d = common.read_classes(common.data_path(args, "classes", "dev.txt"))
    for label, _ in train_d + dev_d:
        if not 0 <= label < CLASSES:
            raise SystemExit("error: label %d outside 0..%d" % (label, CLASSES - 1))
    vocab = common.Vocab((w for _, ws in train_d for w in ws), unk=common.UNK)
    train = [Example(y, ws, vocab) for y, ws in train_d]
    dev = [Example(y, ws, vocab) for y, ws in dev_d]

    model = Classifier(len(vocab), bool(args.sparse))
    opt = common.make_optimizer(model, args.sparse)

    def step(ex):
        opt.zero_grad()
        model.loss(ex).backward()
        opt.step()
        return 1, ex.n

    model.train()
    tp = common.train_for(args.seconds, train, step, rng)

    model.eval()
    with torch.no_grad():
        correct = sum(int(model.logits(ex).argmax()) == int(ex.label) for ex in dev)
    common.emit(common.result("sentiment", args, tp, correct / len(dev), "accuracy", len(dev)))


if __name__ == "__main__":
    main()
