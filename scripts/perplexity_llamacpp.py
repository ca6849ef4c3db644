#!/usr/bin/env python3
"""Compare Glassbox's perplexity with llama.cpp's on the same text.

llama.cpp's method (its `llama-perplexity` tool), reproduced here with logits
from llama-cpp-python: the text is tokenized once (BOS only when the model's
metadata asks for it), cut into non-overlapping chunks of CTX tokens, the
first token of each chunk is replaced by BOS when the model adds BOS, each
chunk is evaluated from an empty cache, and only the second half of each
chunk is scored (positions CTX/2 .. CTX-2 predicting the next token).

Glassbox's figure comes from `glassbox-cli perplexity -m MODEL -f TEXT -c CTX
--json`. Bar (exit status 1 when it fails): within 1% of llama.cpp's, with the
same number of chunks and scored tokens.

Usage:
  .venv/bin/python scripts/perplexity_llamacpp.py [--models q4_1,q8_0,f16]
      [--text tests/data/fidelity_text.txt] [-c 512] [--threads 2]
      [--cli build/tools/glassbox-cli] [--write-docs] [--peer-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, DEFAULT_CLI, cpu_model, default_model_path  # noqa: E402

DOCS = ROOT / "docs" / "fidelity.md"
BEGIN, END = "<!-- perplexity:begin -->", "<!-- perplexity:end -->"
BAR_REL = 0.01

try:
    import numpy as np
except ImportError:
    sys.exit("perplexity: numpy is missing. Run scripts/setup-deps.sh and use .venv/bin/python.")


def die(msg: str):
    print(f"perplexity: error: {msg}", file=sys.stderr)
    sys.exit(2)


def resolve_model(name: str) -> Path:
    tag, path = default_model_path(name)
    if path.is_file():
        return path
    if tag == "Q4_1":
        die(f"{path} not found: run scripts/fetch-models.sh")
    if tag:
        print(f"perplexity: {path.name} missing, writing it with scripts/make_variants.py")
        rc = subprocess.call([sys.executable, str(ROOT / "scripts" / "make_variants.py"),
                              "--types", tag.lower(), "--no-verify"])
        if rc == 0 and path.is_file():
            return path
    die(f"model file {path} not found")


def llama_perplexity(model: Path, text: str, n_ctx: int, threads: int) -> dict:
    try:
        import llama_cpp
        from llama_cpp import Llama
    except ImportError:
        die("llama-cpp-python is not installed: run scripts/setup-deps.sh --peers")
    llm = Llama(model_path=str(model), n_ctx=n_ctx, n_batch=min(n_ctx, 512), n_ubatch=min(n_ctx, 512),
                n_threads=threads, n_threads_batch=threads, logits_all=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    bos = int(llama_cpp.llama_vocab_bos(vocab))
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    n_chunks = len(tokens) // n_ctx
    if n_chunks < 1:
        die(f"the text has {len(tokens)} tokens; at least {n_ctx} are needed for -c {n_ctx}")
    first = n_ctx // 2
    nll, count = 0.0, 0
    t0 = time.time()
    for c in range(n_chunks):
        start = c * n_ctx
        chunk = list(tokens[start:start + n_ctx])
        if add_bos:
            chunk[0] = bos
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[first:n_ctx - 1], dtype=np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        targets = np.array(tokens[start + first + 1:start + n_ctx])
        nll -= float(logp[np.arange(len(targets)), targets].sum())
        count += len(targets)
    seconds = time.time() - t0
    llm.close()
    return {"perplexity": math.exp(nll / count), "chunks": n_chunks, "tokens_scored": count,
            "tokens": len(tokens), "add_bos": add_bos, "seconds": seconds,
            "version": llama_cpp.__version__}


def ours_perplexity(cli: Path, model: Path, text_file: Path, n_ctx: int, threads: int) -> dict:
    cmd = [str(cli), "perplexity", "-m", str(model), "-f", str(text_file), "-c", str(n_ctx),
           "-t", str(threads), "--json"]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}")
    out = proc.stdout.strip()
    result = None
    for line in reversed(out.splitlines()):  # the JSON object is the last {...} line
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
                break
            except json.JSONDecodeError:
                pass
    if result is None:
        try:
            result = json.loads(out)
        except json.JSONDecodeError:
            m = re.search(r"perplexity:\s*([0-9.eE+-]+)", out)
            if not m:
                raise RuntimeError(f"no perplexity in the output of `{' '.join(cmd)}`:\n{out[-500:]}")
            result = {"perplexity": float(m.group(1))}
    result["seconds"] = seconds
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description="Compare Glassbox's perplexity with llama.cpp's.")
    ap.add_argument("--models", default="q4_1,q8_0,f16", help="names (q4_1, q8_0, f16) or GGUF paths")
    ap.add_argument("--text", default=str(ROOT / "tests" / "data" / "fidelity_text.txt"))
    ap.add_argument("-c", "--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=os.environ.get("GLASSBOX_CLI", str(DEFAULT_CLI)))
    ap.add_argument("--write-docs", action="store_true", help=f"put the table into {DOCS.relative_to(ROOT)}")
    ap.add_argument("--peer-only", action="store_true", help="compute only llama.cpp's perplexity")
    args = ap.parse_args()

    text_file = Path(args.text)
    text = text_file.read_text(encoding="utf-8")
    cli = Path(args.cli)
    if not args.peer_only and not (cli.is_file() and os.access(cli, os.X_OK)):
        die(f"{cli} not found: build Glassbox first (scripts/build.sh) or pass --cli PATH")

    rows, ok = [], True
    version = "?"
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        model = resolve_model(name)
        label = name.upper() if name.lower() in ("q4_1", "q8_0", "f16") else model.name
        ref = llama_perplexity(model, text, args.ctx, args.threads)
        version = ref["version"]
        print(f"perplexity: {model.name}: llama.cpp {ref['perplexity']:.4f} "
              f"({ref['chunks']} chunks, {ref['tokens_scored']} tokens scored, {ref['seconds']:.1f} s)")
        if args.peer_only:
            rows.append(f"| {label} | {ref['chunks']} | {ref['tokens_scored']} | {ref['perplexity']:.4f} | – | – | – |")
            continue
        try:
            mine = ours_perplexity(cli, model, text_file, args.ctx, args.threads)
        except RuntimeError as exc:
            print(f"  error: {exc}")
            rows.append(f"| {label} | {ref['chunks']} | {ref['tokens_scored']} | {ref['perplexity']:.4f} | – | – | ERROR |")
            ok = False
            continue
        rel = mine["perplexity"] / ref["perplexity"] - 1.0
        same_method = (mine.get("chunks", ref["chunks"]) == ref["chunks"]
                       and mine.get("tokens_scored", ref["tokens_scored"]) == ref["tokens_scored"])
        good = abs(rel) <= BAR_REL and same_method and math.isfinite(mine["perplexity"])
        ok &= good
        note = "" if same_method else (f" (Glassbox scored {mine.get('chunks')} chunks / "
                                       f"{mine.get('tokens_scored')} tokens)")
        print(f"  Glassbox {mine['perplexity']:.4f} ({rel:+.3%}, {mine['seconds']:.1f} s){note}")
        rows.append(f"| {label} | {ref['chunks']} | {ref['tokens_scored']} | {ref['perplexity']:.4f} | "
                    f"{mine['perplexity']:.4f} | {rel:+.3%} | {'pass' if good else 'FAIL'}{note} |")

    table = "\n".join([
        f"### Perplexity, {dt.date.today().isoformat()}",
        "",
        f"CPU: {cpu_model()}; threads: {args.threads}; llama-cpp-python {version}; "
        f"text: {text_file.name}; context {args.ctx} (second half of each chunk scored).",
        "",
        f"Command: `.venv/bin/python scripts/perplexity_llamacpp.py "
        f"{' '.join(a for a in sys.argv[1:] if a != '--write-docs')}`".rstrip(),
        "",
        "| model | chunks | tokens scored | llama.cpp | Glassbox | difference | result |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"Bar: within {BAR_REL:.0%} of llama.cpp, same chunks and scored tokens.",
    ])
    print()
    print(table)
    if args.write_docs and not args.peer_only:
        body = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Fidelity\n"
        if BEGIN in body and END in body:
            head, rest = body.split(BEGIN, 1)
            body = f"{head}{BEGIN}\n{table}\n{END}{rest.split(END, 1)[1]}"
        else:
            body = body.rstrip() + f"\n\n{BEGIN}\n{table}\n{END}\n"
        DOCS.write_text(body, encoding="utf-8")
        print(f"perplexity: wrote the table into {DOCS.relative_to(ROOT)}")
    if args.peer_only:
        return 0
    print(f"\nperplexity: {'bar met' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
