#!/usr/bin/python3
"""Mini-batched word-level LSTM language model.

Embedding 128, one LSTM layer of hidden 256, softmax over the vocabulary.  Data:
text/dev.txt, sentence i (0-based) held out when i % 10 == 9.  The vocabulary is
every word of the training split plus <unk>, <s> and </s>; the input of a
sentence is <s> w1 .. wn and its targets are w1 .. wn </s>.  Training sentences
are sorted by length and cut into mini-batches of --minibatch consecutive
sentences (the order of the batches is shuffled each epoch); padding is masked
out of the loss, which is summed over the real targets of the batch; one update
per batch.  dev_metric is held-out perplexity; words_per_s counts real targets
(including </s>).
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


EMBED = 128
HIDDEN = 256
IGNORE = -100  # target id of padding, skipped by cross_entropy
EVAL_BATCH = 64


class Batch:
    """Time-major (T, B) input and target ids; padded targets are IGNORE."""

    def __init__(self, sents, vocab):
        bos, eos = vocab[common.BOS], vocab[common.EOS]
        longest = max(len(s) for s in sents) + 1
        inputs, targets = [], []
        for s in sents:
            ids = vocab.ids(s)
            pad = longest - len(ids) - 1
            # Padded inputs can be any valid id: the LSTM runs forward, so they
            # only affect outputs at padded positions, which the loss ignores.
            inputs.append([bos] + ids + [eos] * pad)
            targets.append(ids + [eos] + [IGNORE] * pad)
        self.inputs = torch.tensor(inputs, dtype=torch.long).t().contiguous()
        self.targets = torch.tensor(targets, dtype=torch.long).t().contiguous()
        self.sentences = len(sents)
        self.words = sum(len(s) + 1 for s in sents)


def make_batches(sents, size, vocab):
    by_length = sorted(sents, key=len)  # stable: ties keep file order
    return [Batch(by_length[k:k + size], vocab) for k in range(0, len(by_length), size)]


class LM(nn.Module):
    def __init__(self, vocab_size, sparse):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, sparse=sparse)
        self.lstm = nn.LSTM(EMBED, HIDDEN)
        self.out = nn.Linear(HIDDEN, vocab_size)

    def loss(self, batch):
        """Summed negative log-likelihood of the batch's real targets."""
        h, _ = self.lstm(self.embed(batch.inputs))
        logits = self.out(h.view(-1, HIDDEN))
        return F.cross_entropy(logits, batch.targets.view(-1), ignore_index=IGNORE,
                               reduction="sum")


def main():
    p = common.make_parser(__doc__.splitlines()[0])
    common.add_sparse_flag(p)
    p.add_argument("--minibatch", type=int, default=16, help="sentences per update")
    common.add_device_flag(p)
    args = p.parse_args()
    if args.minibatch < 1:
        p.error("--minibatch must be at least 1")
    rng = common.setup(args)
    dev = common.device(args)

    path = common.data_path(args, "text", "dev.txt")
    sents = [common.split_words(line) for line in common.read_lines(path)]
    train_s, held_s = common.split_heldout(sents)
    vocab = common.Vocab((w for s in train_s for w in s),
                         specials=(common.BOS, common.EOS), unk=common.UNK)
    train = [common.move_tensors(b, dev) for b in make_batches(train_s, args.minibatch, vocab)]
    held = [common.move_tensors(b, dev) for b in make_batches(held_s, EVAL_BATCH, vocab)]

    model = LM(len(vocab), bool(args.sparse)).to(dev)
    opt = common.make_optimizer(model, args.sparse)

    def step(batch):
        opt.zero_grad()
        model.loss(batch).backward()
        opt.step()
        return batch.sentences, batch.words

    model.train()
    tp = common.train_for(args.seconds, train, step, rng, sync=common.synchronizer(dev))

    model.eval()
    nll = 0.0
    words = 0
    with torch.no_grad():
        for batch in held:
            nll += float(model.loss(batch))
            words += batch.words
    common.emit(common.result("rnnlm-batch", args, tp, math.exp(nll / words), "perplexity",
                              len(held_s), minibatch=args.minibatch, dev_words=words,
                              vocab_size=len(vocab)))


if __name__ == "__main__":
    main()
