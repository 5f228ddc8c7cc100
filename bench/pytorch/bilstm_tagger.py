#!/usr/bin/python3
"""BiLSTM named-entity tagger, optionally with character-level word representations.

Word embedding 128, BiLSTM hidden 50 per direction, MLP hidden 32 (tanh), softmax
over tags, loss summed over tokens.  With --char 1, a word seen at most 5 times in
training (or not at all) is represented by a character BiLSTM (char embedding 20,
hidden 64 per direction, final states concatenated to 128) instead of its word
embedding.  Data: tags/dev.txt, sentence i (0-based) held out when i % 10 == 9.
dev_metric is token accuracy on the held-out sentences; words_per_s counts tokens.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import collections

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_sequence


WORD_EMBED = 128
HIDDEN = 50
MLP_HIDDEN = 32
CHAR_EMBED = 20
CHAR_HIDDEN = 64
RARE_MAX_COUNT = 5


class Example:
    """A sentence prepared once.  Positions of frequent words index rows of the
    word-embedding batch, rare ones rows of the char-BiLSTM batch (offset by the
    number of frequent words): `order` gathers them back into sentence order."""

    def __init__(self, words, tags, vocab, tag_vocab, chars, rare):
        self.n = len(words)
        self.tags = torch.tensor(tag_vocab.ids(tags), dtype=torch.long)
        if rare is None:
            self.word_ids = torch.tensor(vocab.ids(words), dtype=torch.long)
            self.char_ids = []
            self.order = None
            return
        freq = [k for k, w in enumerate(words) if not rare(w)]
        rares = [k for k, w in enumerate(words) if rare(w)]
        self.word_ids = torch.tensor([vocab[words[k]] for k in freq], dtype=torch.long)
        self.char_ids = [torch.tensor(chars.ids(words[k]), dtype=torch.long) for k in rares]
        row = {}
        for r, k in enumerate(freq + rares):
            row[k] = r
        self.order = torch.tensor([row[k] for k in range(self.n)], dtype=torch.long)


class Tagger(nn.Module):
    def __init__(self, n_words, n_tags, n_chars, sparse):
        super().__init__()
        self.embed = nn.Embedding(n_words, WORD_EMBED, sparse=sparse)
        self.use_chars = n_chars > 0
        if self.use_chars:
            self.char_embed = nn.Embedding(n_chars, CHAR_EMBED, sparse=sparse)
            self.char_lstm = nn.LSTM(CHAR_EMBED, CHAR_HIDDEN, bidirectional=True)
        self.lstm = nn.LSTM(WORD_EMBED, HIDDEN, bidirectional=True)
        self.hidden = nn.Linear(2 * HIDDEN, MLP_HIDDEN)
        self.out = nn.Linear(MLP_HIDDEN, n_tags)

    def word_reps(self, ex):
        if ex.order is None:
            return self.embed(ex.word_ids)
        parts = []
        # An empty lookup would hand SparseAdam an empty sparse gradient, which it rejects.
        if len(ex.word_ids):
            parts.append(self.embed(ex.word_ids))
        if ex.char_ids:
            # All rare words of the sentence go through the char BiLSTM as one packed batch.
            packed = pack_sequence([self.char_embed(c) for c in ex.char_ids], enforce_sorted=False)
            _, (h_n, _) = self.char_lstm(packed)
            parts.append(torch.cat((h_n[0], h_n[1]), dim=1))  # forward, backward final states
        reps = parts[0] if len(parts) == 1 else torch.cat(parts)
        return reps[ex.order]

    def logits(self, ex):
        x = self.word_reps(ex).unsqueeze(1)  # (n, batch 1, 128)
        h, _ = self.lstm(x)
        return self.out(torch.tanh(self.hidden(h.squeeze(1))))

    def loss(self, ex):
        return F.cross_entropy(self.logits(ex), ex.tags, reduction="sum")


def main():
    p = common.make_parser(__doc__.splitlines()[0])
    common.add_sparse_flag(p)
    p.add_argument("--char", type=int, choices=(0, 1), default=0,
                   help="1: char BiLSTM for words seen at most %d times in training"
                   % RARE_MAX_COUNT)
    common.add_device_flag(p)
    args = p.parse_args()
    rng = common.setup(args)
    dev = common.device(args)

    sentences = common.read_tagged(common.data_path(args, "tags", "dev.txt"))
    train_s, held_s = common.split_heldout(sentences)
    counts = collections.Counter(w for words, _ in train_s for w in words)
    tag_vocab = common.Vocab(sorted({t for _, tags in sentences for t in tags}))
    if args.char:
        def rare(w):
            return counts[w] <= RARE_MAX_COUNT
        vocab = common.Vocab((w for words, _ in train_s for w in words if not rare(w)),
                             unk=common.UNK)
        chars = common.Vocab((c for words, _ in train_s for w in words for c in w),
                             unk=common.UNK)
    else:
        rare = None
        vocab = common.Vocab((w for words, _ in train_s for w in words), unk=common.UNK)
        chars = None
    train = [common.move_tensors(Example(w, t, vocab, tag_vocab, chars, rare), dev)
             for w, t in train_s]
    held = [common.move_tensors(Example(w, t, vocab, tag_vocab, chars, rare), dev)
            for w, t in held_s]

    model = Tagger(len(vocab), len(tag_vocab), len(chars) if chars else 0,
                   bool(args.sparse)).to(dev)
    opt = common.make_optimizer(model, args.sparse)

    def step(ex):
        opt.zero_grad()
        model.loss(ex).backward()
        opt.step()
        return 1, ex.n

    model.train()
    tp = common.train_for(args.seconds, train, step, rng, sync=common.synchronizer(dev))

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for ex in held:
            correct += int((model.logits(ex).argmax(dim=1) == ex.tags).sum())
            total += ex.n
    task = "bilstm-tagger-withchar" if args.char else "bilstm-tagger"
    common.emit(common.result(task, args, tp, correct / total, "token_accuracy", len(held),
                              char=args.char, dev_tokens=total))


if __name__ == "__main__":
    main()
