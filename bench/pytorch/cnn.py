#!/usr/bin/python3
"""Kim (2014)-style CNN sentence classifier.

Embedding 128; convolutions of widths 3, 4 and 5 with 100 feature maps each over
the sentence (no padding inside the convolution), ReLU, max-over-time pooling,
the three 100-vectors concatenated (300), dropout 0.5 (training only), linear to
the 5 classes.  Sentences shorter than 5 tokens are padded at the end to 5 with
a <pad> word whose embedding is fixed at zero.  One sentence per update.  Trains
on classes/train.txt; dev_metric is accuracy on classes/dev.txt.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import torch
import torch.nn as nn
import torch.nn.functional as F


EMBED = 128
WIDTHS = (3, 4, 5)
MAPS = 100
DROPOUT = 0.5
CLASSES = 5


class Example:
    def __init__(self, label, words, vocab):
        self.n = len(words)
        ids = vocab.ids(words)
        ids += [vocab[common.PAD]] * (max(WIDTHS) - len(ids))
        self.word_ids = torch.tensor(ids, dtype=torch.long)
        self.label = torch.tensor([label], dtype=torch.long)


class CNN(nn.Module):
    def __init__(self, vocab_size, pad_id, sparse):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, padding_idx=pad_id, sparse=sparse)
        self.convs = nn.ModuleList(nn.Conv1d(EMBED, MAPS, w) for w in WIDTHS)
        self.dropout = nn.Dropout(DROPOUT)
        self.out = nn.Linear(MAPS * len(WIDTHS), CLASSES)

    def logits(self, ex):
        x = self.embed(ex.word_ids).t().unsqueeze(0)  # (1, EMBED, T)
        pooled = [F.relu(conv(x)).amax(dim=2) for conv in self.convs]  # each (1, MAPS)
        return self.out(self.dropout(torch.cat(pooled, dim=1)))

    def loss(self, ex):
        return F.cross_entropy(self.logits(ex), ex.label, reduction="sum")


def main():
    p = common.make_parser(__doc__.splitlines()[0])
    common.add_sparse_flag(p)
    args = p.parse_args()
    rng = common.setup(args)

    train_d = common.read_classes(common.data_path(args, "classes", "train.txt"))
    dev_d = common.read_classes(common.data_path(args, "classes", "dev.txt"))
    vocab = common.Vocab((w for _, ws in train_d for w in ws),
                         specials=(common.PAD,), unk=common.UNK)
    train = [Example(y, ws, vocab) for y, ws in train_d]
    dev = [Example(y, ws, vocab) for y, ws in dev_d]

    model = CNN(len(vocab), vocab[common.PAD], bool(args.sparse))
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
    common.emit(common.result("cnn", args, tp, correct / len(dev), "accuracy", len(dev)))


if __name__ == "__main__":
    main()
