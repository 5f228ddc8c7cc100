#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (committed; rerun
after changing it). Each seed is a small valid input or one with a single defect."""
import json, os, struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')

def st(entries, meta=None, pad=True):
    # entries: list of (name, dtype, shape, bytes)
    h = {}
    if meta is not None: h['__metadata__'] = meta
    off = 0; data = b''
    for name, dt, shape, b in entries:
        h[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(b)]}
        off += len(b); data += b
    hs = json.dumps(h, separators=(',', ':')).encode()
    if pad: hs += b' ' * ((8 - len(hs) % 8) % 8)
    return struct.pack('<Q', len(hs)) + hs + data
def f32(*v): return struct.pack('<%df' % len(v), *v)
def f64(*v): return struct.pack('<%dd' % len(v), *v)
def w(target, name, content):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(content if isinstance(content, bytes) else content.encode())

S = 'fuzz_safetensors'
w(S, 'f32_matrix', st([('W', 'F32', [2, 3], f32(1, 2, 3, 4, 5, 6))], {'epoch': '3'}))
w(S, 'f64_scalar_and_vector', st([('s', 'F64', [], f64(2.5)), ('v', 'F64', [2], f64(-1, 1e300))]))
w(S, 'half_types', st([('h', 'F16', [2], struct.pack('<2H', 0x3c00, 0x8001)), ('bf', 'BF16', [2], struct.pack('<2H', 0x3f80, 0x7f80))]))
w(S, 'int_types', st([('i', 'I64', [2], struct.pack('<2q', -1, 7)), ('u', 'U8', [3], bytes([0, 1, 255])), ('m', 'BOOL', [1], b'\x01'), ('e', 'I32', [0], b'')]))
w(S, 'batched_5d', st([('x', 'F32', [2, 1, 1, 1, 2], f32(1, 2, 3, 4))]))
w(S, 'unpadded_unicode', st([('caf\u00e9', 'F32', [1], f32(0.5))], {'k\u00fc': 'v'}, pad=False))
w(S, 'bad_header_length', struct.pack('<Q', 1 << 40) + b'{}')
w(S, 'bad_overlap', st([('a', 'F32', [1], f32(1)), ('b', 'F32', [1], f32(2))])[:-8].replace(b'[4,8]', b'[0,4]') + f32(1))
w(S, 'empty_header', st([]))

C = 'fuzz_checkpoint'
z6, z2 = f32(*[0.0] * 6), f32(0, 0)
meta = {'flare.checkpoint': '1', 'flare.optimizer': 'adam', 'flare.optimizer.step': '3', 'flare.optimizer.lr': '0.01', 'epoch': '2'}
w(C, 'model_and_adam', st([('W', 'F32', [2, 3], f32(1, 2, 3, 4, 5, 6)), ('b', 'F32', [2], f32(-1, 1)),
                          ('optimizer/W/adam/m', 'F32', [2, 3], z6), ('optimizer/W/adam/v', 'F32', [2, 3], z6),
                          ('optimizer/b/adam/m', 'F32', [2], z2), ('optimizer/b/adam/v', 'F32', [2], z2)], meta))
w(C, 'model_only', st([('W', 'F32', [2, 3], f32(1, 2, 3, 4, 5, 6)), ('b', 'F32', [2], f32(-1, 1))], {'flare.checkpoint': '1'}))
w(C, 'wrong_shape', st([('W', 'F32', [3, 2], f32(1, 2, 3, 4, 5, 6)), ('b', 'F64', [2], f64(-1, 1))], {'flare.checkpoint': '1'}))

E = 'fuzz_embeddings'
w(E, 'glove', 'the 0.1 -0.2 0.3\na 1e-3 2.5 -7\n<unk> 0 0 1\nthe 9 9 9\n')
w(E, 'word2vec', '3 2\nthe 0.5 0.25\n| 1 2\n1 -1 -2\n')
w(E, 'crlf_blank', '\r\nx 1.5\r\n\r\ny -2\r\n')
w(E, 'bad_count', '5 2\nthe 1 2\n')
w(E, 'bad_value', 'the 1 nan\n')
w(E, 'ragged', 'a 1 2\nb 3\n')

L = 'fuzz_labelled'
w(L, 'sst', '3 ||| a gorgeous , witty film\n0 ||| dull\n\n4 ||| 8\u00a01\\/2 stars\n')
w(L, 'bars_in_words', '1 ||| a|||b c||| |||\n')
w(L, 'bad_label', '-1 ||| x\n')
w(L, 'no_sep', 'just words\n')

T = 'fuzz_tagged'
w(T, 'wikiner', 'John|B-PER lives|O in|O New|B-LOC York|I-LOC .|O\n\nA|O|B x||O\n')
w(T, 'empty_tag', 'word|\n')
w(T, 'no_bar', 'word\n')

X = 'fuzz_text'
w(X, 'ptb', ' the cat sat on the mat \n\n<unk> N years\r\n\ttabs\vand\fform feeds\n')
w(X, 'binary', bytes([0, 1, 2, 255, 10, 200, 32, 65]))

R = 'fuzz_trees'
w(R, 'sst', '(3 (2 It) (4 (2 \'s) (3 fun)))\n(1 (1 unary))\n\n(0 x)\n')
w(R, 'deep', '(1 ' * 50 + '(2 w)' + ')' * 50 + '\n')
w(R, 'unbalanced', '(3 (2 a) (2 b)\n')
w(R, 'three_children', '(1 (1 a) (1 b) (1 c))\n')
w(R, 'junk', '(1 a) junk\n')
