#!/usr/bin/env python3
"""Layer-by-layer comparison of Glassbox's residual stream with llama.cpp's.

For the same token ids, llama.cpp (through llama-cpp-python's eval callback)
and Glassbox (`glassbox-cli inspect --residual-npy`) record the residual
stream after every layer and the final logits. The script prints, per layer,
how many values differ and by how much, and names the first layer where the
two part. For the Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 formats Glassbox follows llama.cpp's
arithmetic, so every row should read 0 differing values; after a kernel change
this shows where a difference starts.

Two modes: --ubatch 512 (default) evaluates the ids in one step in both
engines (llama.cpp's matrix-product paths); --ubatch 1 feeds them one token
at a time (llama.cpp's single-token paths).

Usage:
  .venv/bin/python scripts/trace_llamacpp.py [--model q4_1|q8_0|f16|PATH]
      [--text TEXT] [--max-tokens 64] [--ubatch 512] [--threads 2]
      [--cli build/tools/glassbox-cli]
Exit status 0 when every layer and the logits are identical, 1 otherwise.
"""
from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import DEFAULT_CLI, default_model_path  # noqa: E402

DEFAULT_TEXT = ("The quick brown fox jumps over the lazy dog. In 1492, Columbus sailed the ocean blue; "
                "def f(x): return x**2 + 1  # code\nMore text, with numbers 3.14159 and names like Alice.")


class GgmlTensor(ctypes.Structure):
    """The leading fields of struct ggml_tensor (ggml.h), up to its name."""
    _fields_ = [("type", ctypes.c_int), ("buffer", ctypes.c_void_p), ("ne", ctypes.c_int64 * 4),
                ("nb", ctypes.c_size_t * 4), ("op", ctypes.c_int), ("op_params", ctypes.c_int32 * 16),
                ("flags", ctypes.c_int32), ("src", ctypes.c_void_p * 10), ("view_src", ctypes.c_void_p),
                ("view_offs", ctypes.c_size_t), ("data", ctypes.c_void_p), ("name", ctypes.c_char * 64)]


def llama_trace(model: Path, ids: list[int], ubatch: int, threads: int) -> tuple[dict, np.ndarray]:
    """llama.cpp's l_out-<layer> rows (one array per layer, positions in order) and logits."""
    import llama_cpp as L
    layers: dict[int, list[np.ndarray]] = {}
    logits: list[np.ndarray] = []

    @ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_bool, ctypes.c_void_p)
    def callback(ptr, ask, _user):
        t = GgmlTensor.from_address(ptr)
        name = t.name.decode(errors="replace")
        wanted = name.startswith("l_out-") or name == "result_output"
        if ask or not wanted:
            return bool(wanted) if ask else True
        if t.type != 0:  # F32 only
            return True
        ne, nb = list(t.ne), list(t.nb)
        span = sum((ne[i] - 1) * nb[i] for i in range(4)) + 4
        raw = np.frombuffer((ctypes.c_char * span).from_address(t.data), dtype=np.float32, count=span // 4)
        rows = np.lib.stride_tricks.as_strided(raw, shape=(ne[1], ne[0]), strides=(nb[1], nb[0])).copy()
        if name == "result_output":
            logits.append(rows)
        else:
            layers.setdefault(int(name.split("-")[1]), []).append(rows)
        return True

    quiet = L.llama_log_callback(lambda level, text, user: None)
    L.llama_log_set(quiet, ctypes.c_void_p())
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    handle = L.llama_model_load_from_file(str(model).encode(), mp)
    if not handle:
        sys.exit(f"trace: llama.cpp could not load {model}")
    cp = L.llama_context_default_params()
    cp.n_ctx = max(512, len(ids))
    cp.n_batch = cp.n_ubatch = max(ubatch, 1)
    cp.n_threads = cp.n_threads_batch = threads
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.cb_eval = callback
    ctx = L.llama_init_from_model(handle, cp)
    for start in range(0, len(ids), ubatch):
        chunk = ids[start:start + ubatch]
        batch = L.llama_batch_init(len(chunk), 0, 1)
        batch.n_tokens = len(chunk)
        for j, tok in enumerate(chunk):
            batch.token[j], batch.pos[j], batch.n_seq_id[j], batch.logits[j] = tok, start + j, 1, 1
            batch.seq_id[j][0] = 0
        if L.llama_decode(ctx, batch) != 0:
            sys.exit("trace: llama_decode failed")
        L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(handle)
    return ({k: np.concatenate(v) for k, v in layers.items()}, np.concatenate(logits))


def glassbox_trace(cli: Path, model: Path, ids: list[int], ubatch: int, threads: int, work: Path) -> np.ndarray:
    ids_file = work / "ids.txt"
    ids_file.write_text(" ".join(map(str, ids)) + "\n")
    out = work / "inspect"
    cmd = [str(cli), "inspect", "-m", str(model), "--prompt-ids", str(ids_file), "--out", str(out),
           "--residual-npy", "-t", str(threads), "--ubatch", str(ubatch), "-c", str(max(512, len(ids)))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"trace: {' '.join(cmd)} failed:\n{proc.stderr}")
    return np.load(out / "residual.npy")  # [layers + 1, positions, embd]


def tokenize(cli: Path, model: Path, text: str, work: Path) -> list[int]:
    src = work / "text.txt"
    src.write_bytes(text.encode())
    proc = subprocess.run([str(cli), "tokenize", "-m", str(model), "-f", str(src), "--ids", "--add-special"],
                          capture_output=True, text=True, check=True)
    return [int(x) for x in proc.stdout.split()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="q4_1")
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--ubatch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=str(DEFAULT_CLI))
    a = ap.parse_args()
    _, model = default_model_path(a.model)
    cli = Path(a.cli)
    with tempfile.TemporaryDirectory(prefix="gb-trace-") as tmp:
        work = Path(tmp)
        ids = tokenize(cli, model, a.text, work)[: a.max_tokens]
        ours = glassbox_trace(cli, model, ids, a.ubatch, a.threads, work)
    theirs, their_logits = llama_trace(model, ids, a.ubatch, a.threads)
    print(f"trace: {model.name}, {len(ids)} tokens, steps of {a.ubatch}")
    first = None
    for layer in sorted(theirs):
        x, y = theirs[layer], ours[layer + 1]
        diff = int(np.count_nonzero(x != y))
        worst = float(np.max(np.abs(x - y))) if diff else 0.0
        print(f"  layer {layer:3d}: {diff:8d} of {x.size} values differ (max |Δ| {worst:.3g})")
        if diff and first is None:
            first = layer
    print(f"  llama.cpp logits recorded for {len(their_logits)} positions")
    if first is None:
        print("trace: every layer's residual stream is identical")
        return 0
    print(f"trace: the residual streams part at layer {first}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
