#!/usr/bin/env python3
"""Check a GGUF file written by `glassbox-cli requantize` against llama.cpp.

  1. Load: llama.cpp (through llama-cpp-python) opens the file, evaluates the
     prompt (the logits must be finite) and generates --n-predict tokens
     greedily; the text must not be empty.
  2. Bytes (with --source SRC): llama.cpp's own quantizer
     (llama_model_quantize, the same target type, no importance matrix) is
     run on SRC, and every tensor both files store in the same type must be
     byte-identical. llama.cpp chooses some types by its mixture rules (for
     example Q8_0 for a tied token embedding); those tensors are listed, not
     compared.
  3. Greedy tokens (with --cli): Glassbox generates from the same prompt ids;
     the two continuations are printed side by side (informational: a near
     tie may legitimately go either way).

--requantize runs `glassbox-cli requantize -m SRC --type TYPE -o MODEL`
first (needs --source, --type and --cli).

Exit status: 0 when every check passes, 1 when one fails, 2 on bad usage.

Usage:
  .venv/bin/python scripts/check_requantized_llamacpp.py OUT.gguf
      [--source SRC.gguf --type q4_0] [--requantize] [--cli build/tools/glassbox-cli]
      [--prompt TEXT] [--n-predict 24] [--threads 2]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, DEFAULT_CLI  # noqa: E402


try:
    import numpy as np
    import gguf
    import llama_cpp
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"check_requantized_llamacpp: {exc}. Run scripts/setup-deps.sh --peers and use .venv/bin/python.")

# target type name -> llama.cpp file type (K-quants: the "_S" mixtures)
FTYPES = {
    "f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7, "q5_0": 8, "q5_1": 9,
    "q4_k": 14, "q5_k": 16, "q6_k": 18, "bf16": 32,
}


@contextmanager
def quiet_stderr():
    """Silence llama.cpp's C-level logging (it writes to fd 2 directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def last_logits(llm) -> "np.ndarray":
    """The logits of the last evaluated token, straight from the context."""
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)


def check_load_and_generate(model: Path, prompt: str, n_predict: int, threads: int) -> tuple[bool, list[int], list[int]]:
    """Load in llama.cpp, check the prompt's logits, generate greedily."""
    with quiet_stderr():
        llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_threads=threads, seed=0, verbose=False)
    try:
        ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        llm.eval(ids)
        logits = last_logits(llm)
        finite = bool(np.isfinite(logits).all())
        out: list[int] = []
        for _ in range(n_predict):
            tok = int(np.argmax(logits))
            if llm.token_eos() == tok:
                break
            out.append(tok)
            llm.eval([tok])
            logits = last_logits(llm)
        text = llm.detokenize(out).decode("utf-8", errors="replace")
    finally:
        llm.close()
    print(f"llama.cpp loads {model.name}: prompt logits {'finite' if finite else 'NOT FINITE'}, "
          f"{len(out)} tokens generated")
    print(f"  {prompt!r} -> {text!r}")
    ok = finite and len(out) > 0 and text.strip() != ""
    if not ok:
        print("FAIL: llama.cpp produced no usable text", file=sys.stderr)
    return ok, ids, out


def tensor_bytes(t) -> bytes:
    return np.asarray(t.data).view(np.uint8).tobytes()


def check_bytes(model: Path, source: Path, type_name: str, threads: int) -> bool:
    """Quantize `source` with llama.cpp and compare tensors of equal type."""
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[type_name]
    params.nthread = threads
    params.allow_requantize = True
    with tempfile.TemporaryDirectory() as tmp:
        theirs = Path(tmp) / "llamacpp.gguf"
        with quiet_stderr():
            rc = llama_cpp.llama_model_quantize(str(source).encode(), str(theirs).encode(), ctypes.byref(params))
        if rc != 0:
            print(f"FAIL: llama_model_quantize returned {rc}", file=sys.stderr)
            return False
        ours_r, theirs_r = gguf.GGUFReader(str(model)), gguf.GGUFReader(str(theirs))
        by_name = {t.name: t for t in theirs_r.tensors}
        same, differ, other_type = 0, [], []
        for t in ours_r.tensors:
            u = by_name.get(t.name)
            if u is None:
                differ.append(f"{t.name} (missing in llama.cpp's file)")
            elif u.tensor_type != t.tensor_type:
                other_type.append(f"{t.name}: ours {t.tensor_type.name}, llama.cpp {u.tensor_type.name}")
            elif tensor_bytes(t) == tensor_bytes(u):
                same += 1
            else:
                differ.append(f"{t.name} ({t.tensor_type.name})")
    print(f"llama.cpp's quantizer on {source.name} ({type_name}): {same} tensors byte-identical, "
          f"{len(differ)} different, {len(other_type)} stored in another type by llama.cpp's mixture")
    for line in other_type[:8]:
        print(f"  other type: {line}")
    for line in differ[:8]:
        print(f"  DIFFERENT: {line}", file=sys.stderr)
    return not differ


def glassbox_greedy(cli: Path, model: Path, prompt: str, ids: list[int], n: int, threads: int) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        pin, out = Path(tmp) / "prompt.ids", Path(tmp) / "out.ids"
        pin.write_text(" ".join(map(str, ids)) + "\n")
        subprocess.run([str(cli), "generate", "-m", str(model), "-p", prompt, "--raw-prompt", "--prompt-ids", str(pin),
                        "-n", str(n), "--temp", "0", "--seed", "0", "-t", str(threads), "--ids-out", str(out),
                        "--quiet"], check=True, capture_output=True)
        return [int(x) for x in out.read_text().split()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("model", type=Path, help="the re-quantized GGUF file to check")
    ap.add_argument("--source", type=Path, help="the model it was made from (enables the byte comparison)")
    ap.add_argument("--type", choices=sorted(FTYPES), help="the target type it was re-quantized to")
    ap.add_argument("--requantize", action="store_true", help="write MODEL first with glassbox-cli requantize")
    ap.add_argument("--cli", type=Path, help=f"glassbox-cli, for --requantize and the greedy comparison "
                                             f"(default for --requantize: {DEFAULT_CLI.relative_to(ROOT)})")
    ap.add_argument("--prompt", default="The capital of France is", help="prompt for the generation check")
    ap.add_argument("--n-predict", type=int, default=24, help="tokens to generate")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if (args.source is None) != (args.type is None):
        ap.error("--source and --type go together")
    if args.requantize:
        if args.source is None:
            ap.error("--requantize needs --source and --type")
        cli = args.cli or DEFAULT_CLI
        subprocess.run([str(cli), "requantize", "-m", str(args.source), "--type", args.type, "-o", str(args.model),
                        "-t", str(args.threads)], check=True)
    if not args.model.is_file():
        ap.error(f"no such file: {args.model}")

    ok, prompt_ids, theirs = check_load_and_generate(args.model, args.prompt, args.n_predict, args.threads)
    if args.source is not None:
        ok = check_bytes(args.model, args.source, args.type, args.threads) and ok
    if args.cli is not None:
        ours = glassbox_greedy(args.cli, args.model, args.prompt, prompt_ids, len(theirs), args.threads)
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        verdict = "identical" if first is None and len(ours) == len(theirs) else f"differ from step {first}"
        print(f"greedy tokens, Glassbox vs llama.cpp: {verdict}")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
