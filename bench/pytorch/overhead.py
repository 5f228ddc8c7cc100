#!/usr/bin/python3
"""Per-node overhead: build, run forward and backward through a chain of 1,000 small nodes.

--variant tanh:   y <- tanh(y) on a 32-vector; y starts as a leaf that requires grad.
--variant affine: y <- tanh(W y + b) with W a 32x32 and b a 32-vector parameter
                  (written torch.addmv(b, W, y), one fused op, then tanh: for a 1-D y
                  it is 2x faster than F.linear or W @ y + b in torch 1.13); backward
                  accumulates into W.grad and b.grad (and the start vector's grad).
Backward starts from a ones vector (no reduction node).  After a warm-up, chains are
repeated until --seconds have passed; ns_per_node is the elapsed time divided by the
number of chain steps run (1,000 per chain), whatever ops a step is made of.
"""

import common  # first: it pins BLAS/OpenMP threads before torch loads

import time

import torch


CHAIN = 1000
DIM = 32
WARMUP_CHAINS = 20


def main():
    p = common.make_parser(__doc__.splitlines()[0], default_seconds=2.0)
    p.add_argument("--variant", choices=("tanh", "affine"), default="tanh")
    args = p.parse_args()
    common.setup(args)

    y0 = torch.randn(DIM, requires_grad=True)
    seed_grad = torch.ones(DIM)
    params = [y0]
    if args.variant == "affine":
        # Scaled so the chain neither saturates nor dies; the values don't change the cost.
        W = (torch.randn(DIM, DIM) / DIM ** 0.5).requires_grad_()
        b = torch.zeros(DIM, requires_grad=True)
        params += [W, b]

        def chain():
            y = y0
            for _ in range(CHAIN):
                y = torch.tanh(torch.addmv(b, W, y))
            y.backward(seed_grad)
    else:
        def chain():
            y = y0
            for _ in range(CHAIN):
                y = torch.tanh(y)
            y.backward(seed_grad)

    for _ in range(WARMUP_CHAINS):
        chain()
    chains = 0
    start = time.perf_counter()
    while True:
        for prm in params:
            prm.grad = None
        chain()
        chains += 1
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    for prm in params:
        if not torch.isfinite(prm.grad).all():
            raise SystemExit("error: non-finite gradient in the %s chain" % args.variant)

    common.emit({
        "task": "overhead",
        "impl": "pytorch",
        "variant": args.variant,
        "ns_per_node": round(elapsed * 1e9 / (chains * CHAIN), 1),
        "mode": "eager",
        "chains": chains,
        "nodes_per_chain": CHAIN,
        "seconds": round(elapsed, 3),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
        "seed": args.seed,
        "torch_version": torch.__version__,
    })


if __name__ == "__main__":
    main()
