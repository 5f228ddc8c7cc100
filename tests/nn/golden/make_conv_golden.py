#!/usr/bin/python3
"""Golden values for tests/nn/conv1d_golden_test.cc: PyTorch's conv1d (and pooling) on inputs and
weights given by formulas, so the C++ test rebuilds the same tensors without reading any.

  x[b, i, t] = sin(0.3*i + 0.7*t + 0.1*b)
  W[o, i, k] = 0.3*cos(0.5*o + 0.2*i - 0.4*k)
  bias[o]    = 0.1*o - 0.2

Run with Debian's PyTorch: /usr/bin/python3 tests/nn/golden/make_conv_golden.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

CASES = [
    # name, batch, cin, T, cout, K, stride, pad_left, pad_right, dilation, bias
    ("plain", 1, 3, 9, 4, 3, 1, 0, 0, 1, True),
    ("stride2 pad1/2 dil2", 1, 2, 11, 3, 3, 2, 1, 2, 2, True),
    ("same width4", 1, 3, 7, 2, 4, 1, 1, 2, 1, True),
    ("batch2 no bias", 2, 4, 6, 5, 2, 1, 0, 0, 1, False),
]


def make(case):
    name, B, cin, T, cout, K, stride, pl, pr, dil, bias = case
    x = torch.tensor([[[math.sin(0.3 * i + 0.7 * t + 0.1 * b) for t in range(T)] for i in range(cin)]
                      for b in range(B)], dtype=torch.float64)
    W = torch.tensor([[[0.3 * math.cos(0.5 * o + 0.2 * i - 0.4 * k) for k in range(K)] for i in range(cin)]
                      for o in range(cout)], dtype=torch.float64)
    bv = torch.tensor([0.1 * o - 0.2 for o in range(cout)], dtype=torch.float64) if bias else None
    y = F.conv1d(F.pad(x, (pl, pr)), W, bv, stride=stride, dilation=dil)
    return {"name": name, "batch": B, "cin": cin, "T": T, "cout": cout, "K": K, "stride": stride,
            "pad_left": pl, "pad_right": pr, "dilation": dil, "bias": bias,
            "y": y.flatten().tolist(),
            "max_pool_2_2": F.max_pool1d(y, 2, 2).flatten().tolist(),
            "avg_pool_2_1": F.avg_pool1d(y, 2, 1).flatten().tolist(),
            "max_over_time": y.amax(dim=2).flatten().tolist()}


def main():
    out = {"torch": torch.__version__, "cases": [make(c) for c in CASES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
