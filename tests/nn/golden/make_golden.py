#!/usr/bin/python3
"""Reference outputs of flare::nn modules, computed with PyTorch (Debian's python3-torch 1.13).

Run with /usr/bin/python3 from anywhere; writes golden.json next to this script. Weights and
inputs are not stored: both sides compute them from the formula value(t, k) below (t names a
tensor, k is the flat row-major index, batch outermost), so nothing binary is committed.

Each case lists
  config:  the module's sizes and options (read by tests/nn/golden_test.cc),
  params:  flare parameter name -> tensor ids whose formula tensors are summed into it
           (an LSTM's single bias is PyTorch's b_ih + b_hh),
  inputs:  name -> {t, dims, batch} (ids for embeddings),
  outputs: name -> {dims, batch, values} in float64.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)


def formula(t, n):
    return torch.tensor([0.5 * math.sin(0.37 * k + 1.3 * t + 0.2) for k in range(n)])


def tensor_of(t, shape):
    n = 1
    for d in shape:
        n *= d
    return formula(t, n).reshape(shape)


def out(y, dims, batch):
    v = y.detach().reshape(-1).tolist()
    assert len(v) == batch * math.prod(dims)
    return {"dims": dims, "batch": batch, "values": v}


def inp(t, dims, batch):
    return {"t": t, "dims": dims, "batch": batch}


def batch_input(t, dims, batch):
    return tensor_of(t, [batch] + dims)


cases = {}

# ---- Linear ----
with torch.no_grad():
    lin = torch.nn.Linear(4, 3)
    lin.weight.copy_(tensor_of(1, [3, 4]))
    lin.bias.copy_(tensor_of(2, [3]))
    x = batch_input(10, [4], 2)
    cases["linear"] = {
        "config": {"in": 4, "out": 3, "bias": True},
        "params": {"linear/W": [1], "linear/b": [2]},
        "inputs": {"x": inp(10, [4], 2)},
        "outputs": {"y": out(lin(x), [3], 2)},
    }

    lin = torch.nn.Linear(4, 3, bias=False)
    lin.weight.copy_(tensor_of(3, [3, 4]))
    x = batch_input(11, [4], 1)
    cases["linear_nobias"] = {
        "config": {"in": 4, "out": 3, "bias": False},
        "params": {"linear/W": [3]},
        "inputs": {"x": inp(11, [4], 1)},
        "outputs": {"y": out(lin(x), [3], 1)},
    }

# ---- MLP ----
for act, cls in (("tanh", torch.nn.Tanh), ("relu", torch.nn.ReLU)):
    sizes = [4, 5, 3, 2]
    layers, params = [], {}
    with torch.no_grad():
        for i in range(len(sizes) - 1):
            l = torch.nn.Linear(sizes[i], sizes[i + 1])
            l.weight.copy_(tensor_of(20 + 2 * i, [sizes[i + 1], sizes[i]]))
            l.bias.copy_(tensor_of(21 + 2 * i, [sizes[i + 1]]))
            params["mlp/l%d/W" % i] = [20 + 2 * i]
            params["mlp/l%d/b" % i] = [21 + 2 * i]
            layers.append(l)
            if i + 2 < len(sizes):
                layers.append(cls())
        net = torch.nn.Sequential(*layers)
        x = batch_input(12, [4], 3)
        cases["mlp_" + act] = {
            "config": {"sizes": sizes, "activation": act},
            "params": params,
            "inputs": {"x": inp(12, [4], 3)},
            "outputs": {"y": out(net(x), [2], 3)},
        }

# ---- LSTMCell and GRUCell, from a given state and from zeros ----
IN, H, B = 3, 4, 2
with torch.no_grad():
    cell = torch.nn.LSTMCell(IN, H)
    cell.weight_ih.copy_(tensor_of(30, [4 * H, IN]))
    cell.weight_hh.copy_(tensor_of(31, [4 * H, H]))
    cell.bias_ih.copy_(tensor_of(32, [4 * H]))
    cell.bias_hh.copy_(tensor_of(33, [4 * H]))
    x, h0, c0 = batch_input(13, [IN], B), batch_input(14, [H], B), batch_input(15, [H], B)
    h1, c1 = cell(x, (h0, c0))
    hz, cz = cell(x)
    # A second step from (h1, c1) checks that states chain.
    x2 = batch_input(16, [IN], B)
    h2, c2 = cell(x2, (h1, c1))
    cases["lstm_cell"] = {
        "config": {"in": IN, "hidden": H},
        "params": {"lstm/input->gates/W": [30], "lstm/hidden->gates/W": [31], "lstm/gates/b": [32, 33]},
        "inputs": {"x": inp(13, [IN], B), "h": inp(14, [H], B), "c": inp(15, [H], B), "x2": inp(16, [IN], B)},
        "outputs": {"h": out(h1, [H], B), "c": out(c1, [H], B), "h_zero": out(hz, [H], B),
                    "c_zero": out(cz, [H], B), "h2": out(h2, [H], B), "c2": out(c2, [H], B)},
    }

    cell = torch.nn.GRUCell(IN, H)
    cell.weight_ih.copy_(tensor_of(40, [3 * H, IN]))
    cell.weight_hh.copy_(tensor_of(41, [3 * H, H]))
    cell.bias_ih.copy_(tensor_of(42, [3 * H]))
    cell.bias_hh.copy_(tensor_of(43, [3 * H]))
    x, h0 = batch_input(13, [IN], B), batch_input(14, [H], B)
    cases["gru_cell"] = {
        "config": {"in": IN, "hidden": H},
        "params": {"gru/input->gates/W": [40], "gru/hidden->gates/W": [41],
                   "gru/input->gates/b": [42], "gru/hidden->gates/b": [43]},
        "inputs": {"x": inp(13, [IN], B), "h": inp(14, [H], B)},
        "outputs": {"h": out(cell(x, h0), [H], B), "h_zero": out(cell(x), [H], B)},
    }

# ---- Two-layer bidirectional LSTM over a sequence (torch.nn.LSTM) ----
T, LAYERS = 4, 2
with torch.no_grad():
    lstm = torch.nn.LSTM(IN, H, num_layers=LAYERS, bidirectional=True)
    params, t = {}, 50
    for l in range(LAYERS):
        for suffix, d in (("", "fwd"), ("_reverse", "bwd")):
            n_in = IN if l == 0 else 2 * H
            getattr(lstm, "weight_ih_l%d%s" % (l, suffix)).copy_(tensor_of(t, [4 * H, n_in]))
            getattr(lstm, "weight_hh_l%d%s" % (l, suffix)).copy_(tensor_of(t + 1, [4 * H, H]))
            getattr(lstm, "bias_ih_l%d%s" % (l, suffix)).copy_(tensor_of(t + 2, [4 * H]))
            getattr(lstm, "bias_hh_l%d%s" % (l, suffix)).copy_(tensor_of(t + 3, [4 * H]))
            p = "rnn/l%d/%s/" % (l, d)
            params[p + "input->gates/W"] = [t]
            params[p + "hidden->gates/W"] = [t + 1]
            params[p + "gates/b"] = [t + 2, t + 3]
            t += 4
    xs = torch.stack([batch_input(70 + i, [IN], B) for i in range(T)])  # (T, B, IN)
    y, (hn, cn) = lstm(xs)
    outputs = {"y%d" % i: out(y[i], [2 * H], B) for i in range(T)}
    for k in range(2 * LAYERS):
        outputs["h_n%d" % k] = out(hn[k], [H], B)
        outputs["c_n%d" % k] = out(cn[k], [H], B)
    cases["bilstm"] = {
        "config": {"in": IN, "hidden": H, "layers": LAYERS, "length": T},
        "params": params,
        "inputs": {"x%d" % i: inp(70 + i, [IN], B) for i in range(T)},
        "outputs": outputs,
    }

# ---- A reverse-direction GRU: PyTorch's GRU over the flipped sequence ----
with torch.no_grad():
    gru = torch.nn.GRU(IN, H)
    gru.weight_ih_l0.copy_(tensor_of(80, [3 * H, IN]))
    gru.weight_hh_l0.copy_(tensor_of(81, [3 * H, H]))
    gru.bias_ih_l0.copy_(tensor_of(82, [3 * H]))
    gru.bias_hh_l0.copy_(tensor_of(83, [3 * H]))
    xs = torch.stack([batch_input(90 + i, [IN], B) for i in range(T)])
    y, hn = gru(torch.flip(xs, [0]))
    y = torch.flip(y, [0])
    outputs = {"y%d" % i: out(y[i], [H], B) for i in range(T)}
    outputs["h_n"] = out(hn[0], [H], B)
    cases["gru_reverse"] = {
        "config": {"in": IN, "hidden": H, "length": T},
        "params": {"rnn/l0/input->gates/W": [80], "rnn/l0/hidden->gates/W": [81],
                   "rnn/l0/input->gates/b": [82], "rnn/l0/hidden->gates/b": [83]},
        "inputs": {"x%d" % i: inp(90 + i, [IN], B) for i in range(T)},
        "outputs": outputs,
    }

# ---- Embedding ----
with torch.no_grad():
    emb = torch.nn.Embedding(7, 3)
    emb.weight.copy_(tensor_of(100, [7, 3]))
    ids = [4, 0, 6, 4]
    cases["embedding"] = {
        "config": {"vocab": 7, "dim": 3},
        "params": {"embed/E": [100]},
        "inputs": {"ids": ids},
        "outputs": {"y": out(emb(torch.tensor(ids)), [3], len(ids))},
    }

# ---- Binary Tree-LSTM (Tai et al. 2015, N-ary), by hand, on the tree ((w0 w1) w2) ----
with torch.no_grad():
    W_leaf, b_leaf = tensor_of(110, [3 * H, IN]), tensor_of(111, [3 * H])
    U_l, U_r, b = tensor_of(112, [5 * H, H]), tensor_of(113, [5 * H, H]), tensor_of(114, [5 * H])

    def leaf(x):  # x: (B, IN)
        a = x @ W_leaf.T + b_leaf
        i, o, u = a.split(H, dim=1)
        c = torch.sigmoid(i) * torch.tanh(u)
        return torch.sigmoid(o) * torch.tanh(c), c

    def node(l, r):
        a = l[0] @ U_l.T + r[0] @ U_r.T + b
        i, fl, fr, o, u = a.split(H, dim=1)
        c = (torch.sigmoid(i) * torch.tanh(u) + torch.sigmoid(fl) * l[1] + torch.sigmoid(fr) * r[1])
        return torch.sigmoid(o) * torch.tanh(c), c

    xs = [batch_input(120 + i, [IN], B) for i in range(3)]
    left = node(leaf(xs[0]), leaf(xs[1]))
    root = node(left, leaf(xs[2]))
    cases["treelstm"] = {
        "config": {"in": IN, "hidden": H},
        "params": {"treelstm/leaf/input->gates/W": [110], "treelstm/leaf/gates/b": [111],
                   "treelstm/node/left->gates/W": [112], "treelstm/node/right->gates/W": [113],
                   "treelstm/node/gates/b": [114]},
        "inputs": {"x%d" % i: inp(120 + i, [IN], B) for i in range(3)},
        "outputs": {"left_h": out(left[0], [H], B), "left_c": out(left[1], [H], B),
                    "root_h": out(root[0], [H], B), "root_c": out(root[1], [H], B)},
    }

golden = {
    "generator": "tests/nn/golden/make_golden.py (torch %s)" % torch.__version__,
    "formula": "value(t, k) = 0.5 * sin(0.37 * k + 1.3 * t + 0.2)",
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
with open(path, "w") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
print("wrote", path, "with", len(cases), "cases")
