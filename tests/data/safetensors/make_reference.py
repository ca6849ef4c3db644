# Regenerates reference.safetensors with the reference safetensors writer.
# tst_safetensors checks that the engine reads it back to these values.
# Usage: python make_reference.py (needs numpy and safetensors).
import os
import struct

import numpy as np
from safetensors import serialize, TensorSpec

def bf16_bits(x):
    a = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((a + 0x7FFF + ((a >> 16) & 1)) >> 16).astype(np.uint16)

emb = (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1.0)
norm = np.array([1.0, -2.0, 0.5, 65504.0, 6.1035156e-05, -0.0], dtype=np.float16)
head = bf16_bits([[1.0, -1.5, 3.140625], [0.0, 256.0, -0.0078125]])
ids = np.array([0, -1, 2**40, 7], dtype=np.int64)
mask = np.array([True, False, True], dtype=bool)
scalar = np.array(42.0, dtype=np.float32)
keep = []
def spec(arr, dtype=None):
    keep.append(arr)
    return TensorSpec(dtype=dtype or arr.dtype.name, shape=arr.shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes)
specs = {
  "model.embed_tokens.weight": spec(emb),
  "model.norm.weight": spec(norm),
  "lm_head.weight": spec(head, "bfloat16"),
  "token_ids": spec(ids),
  "mask": spec(mask),
  "scale": spec(scalar),
  "empty": spec(np.zeros((0, 3), dtype=np.float32)),
}
data = bytes(serialize(specs, metadata={"format": "np", "note": "reference \u00e9\u4e2d"}))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.safetensors"), "wb").write(data)
n = struct.unpack("<Q", data[:8])[0]
print(len(data), "bytes, header", n, "bytes")
