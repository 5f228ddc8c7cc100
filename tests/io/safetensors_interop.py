#!/usr/bin/python3
"""Checks flare's safetensors files against PyTorch.

Debian has no python3-safetensors package, so this script carries its own small reader and
writer for the format (struct + json + torch only), written from the format's description, not
from flare's code. Usage: safetensors_interop.py DIR

  * reads DIR/flare.safetensors (written by tests/io/safetensors_interop_test.cc) and checks
    every tensor and the metadata against the values that test wrote;
  * writes DIR/torch.safetensors from torch tensors for the C++ test to check.

Exit status: 0 on success, 1 on a mismatch, 77 when torch is not importable (the test skips).
"""
import json
import struct
import sys

try:
    import torch
except ImportError as e:  # pragma: no cover
    print(f"torch not available: {e}")
    sys.exit(77)

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    end_max = 0
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else \
            torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
        end_max = max(end_max, end)
    if end_max != len(data):
        raise ValueError(f"{path}: data section {len(data)} bytes, tensors cover {end_max}")
    return tensors, meta


def write(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs = []
    offset = 0
    for name in sorted(tensors):  # a different order from insertion, on purpose
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def expect(cond, what):
    if not cond:
        print("MISMATCH:", what)
        sys.exit(1)


def main():
    d = sys.argv[1]
    tensors, meta = read(f"{d}/flare.safetensors")
    expect(list(tensors) == ["w", "b", "batched"], f"names/order {list(tensors)}")
    w = (torch.arange(6, dtype=torch.float32) - 3) * 0.5
    expect(torch.equal(tensors["w"], w.reshape(2, 3)), f"w = {tensors['w']}")
    b = torch.tensor([0.1, -1e-300, 1e300, 1.0 / 3.0], dtype=torch.float64)
    expect(torch.equal(tensors["b"], b), f"b = {tensors['b']}")
    expect(torch.equal(tensors["batched"], torch.arange(6, dtype=torch.float32).reshape(2, 3)),
           f"batched = {tensors['batched']}")
    expect(meta == {"producer": "flare", "note": "\u00fcn\u00efcode"}, f"metadata {meta}")

    write(f"{d}/torch.safetensors", {
        "weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8,
        "double": torch.tensor([[1e-300, -2.5]], dtype=torch.float64),
        "half": torch.tensor([0.5, -3.0, 65504.0], dtype=torch.float16),
        "bf": torch.tensor([1.0, -0.5, 3.0], dtype=torch.bfloat16),
        "ids": torch.tensor([[-5, 7]], dtype=torch.int64),
        "five": torch.arange(12, dtype=torch.float32).reshape(2, 1, 2, 1, 3),
    }, {"format": "pt"})
    print("ok")


if __name__ == "__main__":
    main()
