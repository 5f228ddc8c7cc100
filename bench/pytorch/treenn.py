#!/usr/bin/python3
"""Binary Tree-LSTM sentiment classifier (Tai et al. 2015, constituency N-ary form, N=2).

Word embedding 128, hidden 128, softmax over the 5 labels at every node with the
loss summed over nodes.  Trains on trees/train.txt; dev_metric is root accuracy
on trees/dev.txt.  words_per_s counts leaves.

Per tree, the leaf embeddings and leaf gates are computed in one batched call
(leaves have no children, so nothing is lost); internal nodes are composed by
plain Python recursion, one node at a time, and the output layer runs once over
the stacked states of all nodes.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


EMBED = 128
HIDDEN = 128
LABELS = 5

# Words split on ASCII whitespace only (see common.split_words).
_TOKEN = re.compile(r"\(|\)|[^ \t\n\r\f\v()]+")


class Node:
    __slots__ = ("label", "word", "left", "right")

    def __init__(self, label, word=None, left=None, right=None):
        self.label, self.word, self.left, self.right = label, word, left, right


def parse_tree(line, where):
    """PTB-style `(label (label word) ...)` with binary internal nodes."""
    stack = []
    root = None
    toks = _TOKEN.findall(line)
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "(":
            if i + 1 >= len(toks):
                raise ValueError("%s: '(' at end of line" % where)
            stack.append([int(toks[i + 1]), []])
            i += 2
            continue
        if t == ")":
            if not stack:
                raise ValueError("%s: unbalanced ')'" % where)
            label, kids = stack.pop()
            if len(kids) == 1 and isinstance(kids[0], str):
                node = Node(label, word=kids[0])
            elif len(kids) == 2 and all(isinstance(k, Node) for k in kids):
                node = Node(label, left=kids[0], right=kids[1])
            else:
                raise ValueError("%s: node with %d children (want a word or 2 subtrees)"
                                 % (where, len(kids)))
            if stack:
                stack[-1][1].append(node)
            else:
                root = node
        else:
            if not stack:
                raise ValueError("%s: word %r outside a node" % (where, t))
            stack[-1][1].append(t)
        i += 1
    if root is None or stack:
        raise ValueError("%s: incomplete tree" % where)
    return root


def read_trees(path):
    out = []
    for n, line in enumerate(common.read_lines(path), 1):
        try:
            out.append(parse_tree(line, "%s:%d" % (path, n)))
        except ValueError as e:
            sys.exit("error: %s" % e)
    return out


def leaves(tree, acc):
    if tree.word is not None:
        acc.append(tree.word)
    else:
        leaves(tree.left, acc)
        leaves(tree.right, acc)
    return acc


def postorder_labels(tree, acc):
    if tree.word is None:
        postorder_labels(tree.left, acc)
        postorder_labels(tree.right, acc)
    acc.append(tree.label)
    return acc


class Example:
    """A tree prepared once: word ids (leaf order), labels (post-order), shape."""

    def __init__(self, tree, vocab):
        words = leaves(tree, [])
        self.n_leaves = len(words)
        self.word_ids = torch.tensor(vocab.ids(words), dtype=torch.long)
        self.labels = torch.tensor(postorder_labels(tree, []), dtype=torch.long)
        self.root_label = tree.label
        counter = [0]
        self.shape = self._shape(tree, counter)

    def _shape(self, tree, counter):
        # A leaf becomes its index into the leaf batch; an internal node a pair.
        if tree.word is not None:
            counter[0] += 1
            return counter[0] - 1
        return (self._shape(tree.left, counter), self._shape(tree.right, counter))


class TreeLSTM(nn.Module):
    def __init__(self, vocab_size, sparse):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, sparse=sparse)
        self.leaf = nn.Linear(EMBED, 3 * HIDDEN)       # rows: i, o, u
        self.node = nn.Linear(2 * HIDDEN, 5 * HIDDEN)  # rows: i, f_left, f_right, o, u
        self.out = nn.Linear(HIDDEN, LABELS)

    def leaf_states(self, word_ids):
        g = self.leaf(self.embed(word_ids))
        i, o = torch.sigmoid(g[:, :2 * HIDDEN]).chunk(2, dim=-1)
        c = i * torch.tanh(g[:, 2 * HIDDEN:])
        h = o * torch.tanh(c)
        return h, c

    def compose(self, shape, hs, cs, outs):
        """Returns (h, c) of the subtree; appends every node's h to `outs` in post-order."""
        if isinstance(shape, int):
            h, c = hs[shape], cs[shape]
        else:
            hl, cl = self.compose(shape[0], hs, cs, outs)
            hr, cr = self.compose(shape[1], hs, cs, outs)
            g = self.node(torch.cat((hl, hr)))
            # One sigmoid over the four gates, one tanh for the candidate.
            i, fl, fr, o = torch.sigmoid(g[:4 * HIDDEN]).chunk(4)
            c = i * torch.tanh(g[4 * HIDDEN:]) + fl * cl + fr * cr
            h = o * torch.tanh(c)
        if outs is not None:
            outs.append(h)
        return h, c

    def loss(self, ex):
        hs, cs = self.leaf_states(ex.word_ids)
        outs = []
        self.compose(ex.shape, hs, cs, outs)
        logits = self.out(torch.stack(outs))
        return F.cross_entropy(logits, ex.labels, reduction="sum")

    def predict_root(self, ex):
        hs, cs = self.leaf_states(ex.word_ids)
        h, _ = self.compose(ex.shape, hs, cs, None)
        return int(self.out(h).argmax())


def main():
    p = common.make_parser(__doc__.splitlines()[0])
    common.add_sparse_flag(p)
    common.add_dev_limit_flag(p, 0)
    common.add_device_flag(p)
    args = p.parse_args()
    rng = common.setup(args)
    dev = common.device(args)

    train_trees = read_trees(common.data_path(args, "trees", "train.txt"))
    dev_trees = common.bounded(read_trees(common.data_path(args, "trees", "dev.txt")),
                               args.dev_limit)
    words = [w for t in train_trees for w in leaves(t, [])]
    vocab = common.Vocab(words, unk=common.UNK)
    train = [common.move_tensors(Example(t, vocab), dev) for t in train_trees]
    dev_set = [common.move_tensors(Example(t, vocab), dev) for t in dev_trees]

    model = TreeLSTM(len(vocab), bool(args.sparse)).to(dev)
    opt = common.make_optimizer(model, args.sparse)

    def step(ex):
        opt.zero_grad()
        model.loss(ex).backward()
        opt.step()
        return 1, ex.n_leaves

    model.train()
    tp = common.train_for(args.seconds, train, step, rng, sync=common.synchronizer(dev))

    model.eval()
    with torch.no_grad():
        correct = sum(model.predict_root(ex) == ex.root_label for ex in dev_set)
    common.emit(common.result("treenn", args, tp, correct / len(dev_set), "root_accuracy",
                              len(dev_set)))


if __name__ == "__main__":
    main()
