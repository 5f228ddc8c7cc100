"""Shared plumbing for the PyTorch baselines of flare's benchmarks.

Every benchmark program parses the same core flags, reads the shared data the
same way, trains for a wall-clock budget, then evaluates and prints exactly one
JSON line on stdout.  Keeping that here means the programs differ only in their
models, which is what the comparison with flare is about.
"""

import argparse
import json
import os
import random
import re
import resource
import sys
import time

# Debian's torch calls OpenBLAS through the generic BLAS interface, so
# torch.set_num_threads does not reach it, and OpenBLAS sizes its thread pool
# from the environment when it is loaded: pin everything to one thread before
# torch is imported.  Benchmark programs therefore import this module first.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import torch  # noqa: E402  (must follow the thread pinning above)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

UNK = "<unk>"
PAD = "<pad>"
BOS = "<s>"
EOS = "</s>"


# ---- Arguments ---------------------------------------------------------------------------


def default_data_dir():
    env = os.environ.get("FLARE_DATA")
    if env:
        return env
    return os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))


def make_parser(description, default_seconds=10.0):
    """Parser with the flags every benchmark program accepts."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=default_data_dir(),
                   help="data directory (default: $FLARE_DATA, else ../shared/data from the "
                   "repo root)")
    p.add_argument("--seconds", type=float, default=default_seconds,
                   help="training time budget in seconds; training stops once it is exceeded")
    p.add_argument("--seed", type=int, default=1)
    return p


def add_sparse_flag(p):
    p.add_argument("--sparse", type=int, choices=(0, 1), default=0,
                   help="1: sparse embedding gradients with SparseAdam; 0: one dense Adam")


def add_dev_limit_flag(p, default):
    p.add_argument("--dev-limit", type=int, default=default,
                   help="evaluate on at most this many dev examples (0: all; default %d)" % default)


def add_device_flag(p):
    p.add_argument("--device", default="cpu",
                   help="cpu or cuda[:N] (timings then wait for the GPU: torch.cuda.synchronize)")


def device(args):
    """The torch.device of --device; exits with a clear message when CUDA is not usable."""
    dev = torch.device(getattr(args, "device", "cpu"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device %s: this torch (%s) has no usable CUDA (pytorch unavailable on "
                 "the GPU)" % (args.device, torch.__version__))
    return dev


def move_tensors(obj, dev):
    """Moves the tensors held in obj's attributes (and in lists of them) to dev, in place."""
    for name, v in vars(obj).items():
        if isinstance(v, torch.Tensor):
            setattr(obj, name, v.to(dev))
        elif isinstance(v, list) and v and isinstance(v[0], torch.Tensor):
            setattr(obj, name, [t.to(dev) for t in v])
    return obj


def synchronizer(dev):
    """What train_for calls before reading the clock: the GPU's queue must be empty, or the
    time would not include the work launched."""
    if dev.type == "cuda":
        return lambda: torch.cuda.synchronize(dev)
    return None


def setup(args):
    """One thread and seeded RNGs; returns a Python RNG for data shuffling."""
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    return random.Random(args.seed)


def data_path(args, *parts):
    path = os.path.join(args.data, *parts)
    if not os.path.exists(path):
        sys.exit("error: data file %s not found (set --data or $FLARE_DATA)" % path)
    return path


# ---- Data --------------------------------------------------------------------------------


# ASCII whitespace only, as flare's readers split: SST has a word "8\u00a01\/2" with a
# no-break space inside, which str.split() would cut in two.
_ASCII_TOKEN = re.compile(r"[^ \t\n\r\f\v]+")


def split_words(text):
    return _ASCII_TOKEN.findall(text)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def split_heldout(items):
    """The fixed train/held-out split for single-file corpora: index i % 10 == 9 is held out."""
    train = [x for i, x in enumerate(items) if i % 10 != 9]
    held = [x for i, x in enumerate(items) if i % 10 == 9]
    return train, held


def read_classes(path):
    """`label ||| tokens` lines -> list of (int label, [token])."""
    out = []
    for n, line in enumerate(read_lines(path), 1):
        label, sep, text = line.partition("|||")
        if not sep:
            sys.exit("error: %s:%d: expected 'label ||| tokens'" % (path, n))
        out.append((int(label), split_words(text)))
    return out


def read_tagged(path):
    """`word|TAG ...` lines -> list of ([word], [tag]); the tag follows the last '|'."""
    out = []
    for n, line in enumerate(read_lines(path), 1):
        words, tags = [], []
        for tok in split_words(line):
            w, sep, t = tok.rpartition("|")
            if not sep:
                sys.exit("error: %s:%d: token %r has no '|TAG'" % (path, n, tok))
            words.append(w)
            tags.append(t)
        out.append((words, tags))
    return out


class Vocab:
    """String <-> id map; unknown strings map to `unk` when one is given."""

    def __init__(self, items=(), specials=(), unk=None):
        self.itos = []
        self.stoi = {}
        for s in specials:
            self.add(s)
        if unk is not None:
            self.add(unk)
        for s in items:
            self.add(s)
        self.unk_id = self.stoi[unk] if unk is not None else None

    def add(self, s):
        if s not in self.stoi:
            self.stoi[s] = len(self.itos)
            self.itos.append(s)
        return self.stoi[s]

    def __len__(self):
        return len(self.itos)

    def __getitem__(self, s):
        i = self.stoi.get(s)
        if i is None:
            if self.unk_id is None:
                raise KeyError("%r not in vocabulary" % (s,))
            return self.unk_id
        return i

    def ids(self, seq):
        return [self[s] for s in seq]


# ---- Optimisation ------------------------------------------------------------------------


LEARNING_RATE = 0.001


def make_optimizer(model, sparse):
    """Adam (lr 0.001) over all parameters, or, when sparse, SparseAdam for the
    weights of sparse nn.Embedding modules and Adam for the rest.

    Returns an object with zero_grad() and step() that drives both."""
    if not sparse:
        return torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    sparse_params = []
    for m in model.modules():
        if isinstance(m, torch.nn.Embedding) and m.sparse:
            sparse_params.append(m.weight)
    ids = {id(p) for p in sparse_params}
    dense_params = [p for p in model.parameters() if id(p) not in ids]
    if not sparse_params:
        raise ValueError("--sparse 1 but the model has no sparse embeddings")
    return _Both([torch.optim.SparseAdam(sparse_params, lr=LEARNING_RATE),
                  torch.optim.Adam(dense_params, lr=LEARNING_RATE)])


class _Both:
    def __init__(self, opts):
        self.opts = opts

    def zero_grad(self, set_to_none=True):
        for o in self.opts:
            o.zero_grad(set_to_none=set_to_none)

    def step(self):
        for o in self.opts:
            o.step()


# ---- Training loop and results -----------------------------------------------------------


class Throughput:
    """Counts what the training loop processed and for how long."""

    def __init__(self):
        self.examples = 0
        self.words = 0
        self.seconds = 0.0
        self.updates = 0
        self.epochs = 0.0

    def examples_per_s(self):
        return self.examples / self.seconds if self.seconds > 0 else 0.0

    def words_per_s(self):
        return self.words / self.seconds if self.seconds > 0 else 0.0


def train_for(seconds, items, step, rng, shuffle=True, sync=None):
    """Calls step(item) over shuffled epochs of `items` until `seconds` of
    training have passed (checked after each update, so the last update
    finishes).  step returns (examples, words) processed by that update.
    sync (see synchronizer()) waits for queued device work before the clock is read."""
    if not items:
        sys.exit("error: no training items")
    tp = Throughput()
    order = list(items)
    start = time.perf_counter()
    done = False
    while not done:
        if shuffle:
            rng.shuffle(order)
        for k, item in enumerate(order, 1):
            ex, words = step(item)
            tp.examples += ex
            tp.words += words
            tp.updates += 1
            if time.perf_counter() - start >= seconds:
                tp.epochs += k / len(order)
                done = True
                break
        else:
            tp.epochs += 1.0
    if sync is not None:
        sync()
    tp.seconds = time.perf_counter() - start
    return tp


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result):
    """Prints the one JSON result line (and flushes: the runner reads it live)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def result(task, args, tp, dev_metric, dev_metric_name, dev_examples, words=True,
           mode="eager", **extra):
    """The standard result record; `extra` keys are appended."""
    r = {
        "task": task,
        "impl": "pytorch",
        "mode": mode,
        "sparse": getattr(args, "sparse", 0),
        "examples_per_s": round(tp.examples_per_s(), 3),
        "words_per_s": round(tp.words_per_s(), 3) if words else None,
        "dev_metric": round(float(dev_metric), 6),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "dev_metric_name": dev_metric_name,
        "dev_examples": dev_examples,
        "seed": args.seed,
        "train_seconds": round(tp.seconds, 3),
        "train_examples": tp.examples,
        "updates": tp.updates,
        "epochs": round(tp.epochs, 3),
        "torch_version": torch.__version__,
        "device": str(getattr(args, "device", "cpu")),
    }
    r.update(extra)
    return r


def bounded(items, limit):
    return items if limit <= 0 else items[:limit]
