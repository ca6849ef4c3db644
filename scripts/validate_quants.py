#!/usr/bin/env python3
"""Reference data for Glassbox's quantization kernels.

Writes, into an output directory:
  gen_<TYPE>_input.npy    float32 [rows, k] test input (random, mixed scales,
                          zero / constant / outlier blocks)
  gen_<TYPE>_ref.npy      uint8 [rows, row_bytes] reference quantization
  gen_<TYPE>_dequant.npy  float32 [rows, k] reference dequantization of it
  tensor_<name>.npy       float32 dequantization of the first rows of a few
                          tensors of a real GGUF model (gguf package)

References come from the gguf package (gguf.quants) and, when the shared
libraries of llama-cpp-python are importable, from ggml's own reference
functions (quantize_row_*_ref / dequantize_row_*) through ctypes; where both
exist they must agree byte for byte. The C++ model test compares Glassbox
against the directory bit-exactly:

  scripts/validate_quants.py --out /tmp/qref
  GLASSBOX_QUANT_REF_DIR=/tmp/qref ctest --test-dir build -R kernels_real_weights

--golden prints FNV-1a hashes of the reference output for the deterministic
input generator that tests/unit/tst_quant_kernels.cpp embeds.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import sys
import tempfile

import numpy as np

try:
    import gguf
    from gguf import GGMLQuantizationType as QT
    from gguf import quants as gq
except ImportError:  # pragma: no cover
    sys.exit("the gguf package is required (pip install gguf)")

QK_K = 256
# type name -> (block elements, block bytes)
TYPES = {
    "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22),
    "Q5_1": (32, 24), "Q8_0": (32, 34), "Q8_1": (32, 36), "Q4_K": (256, 144),
    "Q5_K": (256, 176), "Q6_K": (256, 210), "Q8_K": (256, 292),
}
GGUF_QUANTIZE = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}
GGUF_DEQUANTIZE = GGUF_QUANTIZE | {"Q4_K", "Q5_K", "Q6_K"}
REAL_TENSORS = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight",
                "blk.5.ffn_gate.weight", "output_norm.weight"]
REAL_ROWS = 256


class Ggml:
    """ggml's reference (de)quantizers from a libggml-base shared library."""

    def __init__(self, path: str):
        self.lib = ctypes.CDLL(path)

    def _fn(self, name):
        f = getattr(self.lib, name, None)
        if f is not None:
            f.restype = None
        return f

    def quantize(self, tname: str, x: np.ndarray) -> np.ndarray | None:
        if tname == "F16":
            fn = self._fn("ggml_fp32_to_fp16_row")
        elif tname == "BF16":
            fn = self._fn("ggml_fp32_to_bf16_row_ref")
        else:
            fn = self._fn(f"quantize_row_{tname.lower().replace('_k', '_K')}_ref")
        if fn is None:
            return None
        block, size = TYPES[tname]
        rows, k = x.shape
        out = np.zeros((rows, k // block * size), dtype=np.uint8)
        for r in range(rows):
            src = np.ascontiguousarray(x[r], dtype=np.float32)
            fn(src.ctypes.data_as(ctypes.c_void_p), out[r].ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(k))
        return out

    def dequantize(self, tname: str, q: np.ndarray, k: int) -> np.ndarray | None:
        names = {"F16": "ggml_fp16_to_fp32_row", "BF16": "ggml_bf16_to_fp32_row"}
        fn = self._fn(names.get(tname, f"dequantize_row_{tname.lower().replace('_k', '_K')}"))
        if fn is None:
            return None
        out = np.zeros((q.shape[0], k), dtype=np.float32)
        for r in range(q.shape[0]):
            src = np.ascontiguousarray(q[r])
            fn(src.ctypes.data_as(ctypes.c_void_p), out[r].ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(k))
        return out


def find_ggml(explicit: str | None) -> Ggml | None:
    candidates = [explicit] if explicit else []
    try:
        import importlib.util
        spec = importlib.util.find_spec("llama_cpp")
        if spec and spec.origin:
            candidates += glob.glob(os.path.join(os.path.dirname(spec.origin), "lib", "libggml-base.*"))
    except Exception:
        pass
    for c in candidates:
        if c and os.path.exists(c):
            try:
                return Ggml(c)
            except OSError:
                continue
    return None


def gguf_quantize(tname: str, x: np.ndarray) -> np.ndarray:
    q = gq.quantize(x, getattr(QT, tname))
    return np.ascontiguousarray(q).view(np.uint8).reshape(x.shape[0], -1)


def gguf_dequantize(tname: str, q: np.ndarray) -> np.ndarray:
    return gq.dequantize(q, getattr(QT, tname)).astype(np.float32).reshape(q.shape[0], -1)


def random_input(rows: int, k: int, seed: int) -> np.ndarray:
    """Normal data with per-32 scale changes, outliers, zero and constant blocks."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)).astype(np.float32)
    blocks = x.reshape(rows, -1, 32)
    blocks *= np.float32(2.0) ** rng.integers(-6, 4, size=(rows, blocks.shape[1], 1)).astype(np.float32)
    blocks[:, ::11, :] = 0
    blocks[:, 5::13, :] = np.float32(0.375)
    blocks[:, 3::7, 5] *= np.float32(40)
    return x


def det_input(n: int, seed: int = 12345) -> np.ndarray:
    """The deterministic generator shared with tst_quant_kernels.cpp."""
    state = np.uint32(seed)
    u = np.empty(n, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i in range(n):
            state = np.uint32(state * np.uint32(1664525) + np.uint32(1013904223))
            u[i] = state
    x = (u >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -23) - np.float32(1.0)
    b = np.arange(n) // 32
    scale = (np.float32(2.0) ** ((b % 7) - 3).astype(np.float32)).astype(np.float32)
    x = (x * scale).astype(np.float32)
    cube = (b % 5) == 4
    x[cube] = x[cube] * x[cube] * x[cube]
    x[(b % 11) == 10] = np.float32(0)
    x[(b % 13) == 12] = np.float32(0.3)
    return x.astype(np.float32)


def fnv1a(data: bytes) -> int:
    h = 0xcbf29ce484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def references(tname: str, x: np.ndarray, ggml: Ggml | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reference bytes and dequantization; returns also the sources used."""
    sources, q = [], None
    if ggml is not None:
        q = ggml.quantize(tname, x)
        if q is not None:
            sources.append("ggml")
    if tname in GGUF_QUANTIZE:
        qg = gguf_quantize(tname, x)
        if q is not None and not np.array_equal(q, qg):
            bad = np.argwhere(q != qg)[:3]
            raise SystemExit(f"{tname}: ggml and gguf.quants disagree at {bad.tolist()}")
        q = qg if q is None else q
        sources.append("gguf")
    if q is None:
        raise SystemExit(f"{tname}: no reference quantizer available (install llama-cpp-python)")
    k = x.shape[1]
    d = ggml.dequantize(tname, q, k) if ggml is not None else None
    if tname in GGUF_DEQUANTIZE:
        dg = gguf_dequantize(tname, q)
        if d is not None and not np.array_equal(d.view(np.uint32), dg.view(np.uint32)):
            raise SystemExit(f"{tname}: ggml and gguf.quants dequantization disagree")
        d = dg if d is None else d
    if d is None and tname == "Q8_1":  # ggml has no to_float for Q8_1: d * qs
        blocks = q.reshape(-1, 36)
        dd = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        d = (dd * blocks[:, 4:].view(np.int8).astype(np.float32)).reshape(q.shape[0], -1)
    if d is None:
        raise SystemExit(f"{tname}: no reference dequantizer available")
    return q, d, sources


def write_generated(out: str, ggml: Ggml | None) -> None:
    for i, tname in enumerate(TYPES):
        rows, k = 24, 1024
        x = random_input(rows, k, seed=100 + i)
        q, d, sources = references(tname, x, ggml)
        np.save(os.path.join(out, f"gen_{tname}_input.npy"), x)
        np.save(os.path.join(out, f"gen_{tname}_ref.npy"), q)
        np.save(os.path.join(out, f"gen_{tname}_dequant.npy"), d)
        print(f"  {tname:5s} {rows}x{k}: reference from {' + '.join(sources)}")


def write_real(out: str, model: str) -> None:
    reader = gguf.GGUFReader(model)
    for t in reader.tensors:
        if t.name not in REAL_TENSORS:
            continue
        tname = t.tensor_type.name
        data = np.asarray(t.data)
        rows = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data.reshape(1, -1)
        rows = rows[:REAL_ROWS]
        if tname == "F32":
            deq = rows.astype(np.float32)
        else:
            deq = gq.dequantize(rows, t.tensor_type).astype(np.float32).reshape(rows.shape[0], -1)
        np.save(os.path.join(out, f"tensor_{t.name}.npy"), deq)
        print(f"  {t.name} ({tname}): {deq.shape[0]} rows of {deq.shape[1]}")


def print_golden(ggml: Ggml | None) -> None:
    x = det_input(2048).reshape(1, -1)
    print("// type, FNV-1a of the quantized bytes, FNV-1a of their dequantization")
    for tname in TYPES:
        q, d, _ = references(tname, x, ggml)
        print(f'    {{"{tname}", 0x{fnv1a(q.tobytes()):016x}ull, 0x{fnv1a(d.astype("<f4").tobytes()):016x}ull}},')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output directory (default: a new temporary directory)")
    ap.add_argument("--model", help="GGUF model for the real-tensor references "
                    "(default: $GLASSBOX_MODELS_DIR or models/ SmolLM2-135M-Instruct.Q4_1.gguf)")
    ap.add_argument("--ggml-lib", help="path of libggml-base to use as the ggml reference")
    ap.add_argument("--golden", action="store_true", help="print the hashes embedded in the unit test")
    args = ap.parse_args()

    ggml = find_ggml(args.ggml_lib)
    print(f"ggml reference: {'found' if ggml else 'not found (gguf.quants only)'}")
    if args.golden:
        print_golden(ggml)
        return 0

    out = args.out or tempfile.mkdtemp(prefix="glassbox-qref-")
    os.makedirs(out, exist_ok=True)
    print(f"writing references to {out}")
    write_generated(out, ggml)
    model = args.model
    if not model:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        models_dir = os.environ.get("GLASSBOX_MODELS_DIR", os.path.join(here, "models"))
        model = os.path.join(models_dir, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(model):
        write_real(out, model)
    else:
        print(f"  (no model at {model}; real-tensor references skipped)")
    print(f"\nnow run: GLASSBOX_QUANT_REF_DIR={out} ctest -R kernels_real_weights --output-on-failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
