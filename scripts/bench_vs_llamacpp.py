#!/usr/bin/env python3
"""Measure Glassbox and llama.cpp prefill/decode speed in one run.

For each model file (Q4_1 and Q8_0 by default) and thread count (1 and 2):
  llama.cpp  through llama-cpp-python's low-level API, the way llama-bench
             measures: prefill = one llama_decode of a 512-token batch
             (n_batch = n_ubatch = 512) from an empty cache; decode = 128
             single-token llama_decode calls from an empty cache. One warm-up
             of each first, then the median of --reps runs. Python does only a
             few ctypes calls per step, so its overhead is small.
  Glassbox   `glassbox-cli bench -m MODEL -t T -p 512 -n 128 -r REPS --json`.
The table gives tokens/s and Glassbox/llama.cpp ratios. Goals: decode >= 1.0x,
prefill >= 0.8x (reported; --strict turns a missed goal into exit status 1).

Usage:
  .venv/bin/python scripts/bench_vs_llamacpp.py [--models q4_1,q8_0]
      [--threads 1,2] [--reps 5] [--cli build/tools/glassbox-cli]
      [--write-docs] [--peer-only] [--strict] [--flash-attn auto|on|off]
Timings are only meaningful on an otherwise idle machine; the load average at
the start is printed with the results.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, DEFAULT_CLI, cpu_model, default_model_path  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
GOAL_DECODE = 1.0
GOAL_PREFILL = 0.8


def die(msg: str):
    print(f"bench: error: {msg}", file=sys.stderr)
    sys.exit(2)


def resolve_model(name: str) -> Path:
    tag, path = default_model_path(name)
    if path.is_file():
        return path
    if tag == "Q4_1":
        die(f"{path} not found: run scripts/fetch-models.sh")
    if tag:
        print(f"bench: {path.name} missing, writing it with scripts/make_variants.py")
        rc = subprocess.call([sys.executable, str(ROOT / "scripts" / "make_variants.py"),
                              "--types", tag.lower(), "--no-verify"])
        if rc == 0 and path.is_file():
            return path
    die(f"model file {path} not found")


class LlamaBench:
    """llama.cpp's prefill and decode, timed around llama_decode."""

    def __init__(self, model: Path, threads: int, n_prompt: int, n_gen: int, flash_attn: str):
        try:
            import llama_cpp as L
        except ImportError:
            die("llama-cpp-python is not installed: run scripts/setup-deps.sh --peers")
        self.L = L
        try:  # keep llama.cpp's own log to errors
            from llama_cpp import _logger
            _logger.set_verbose(False)
        except ImportError:
            pass
        L.llama_backend_init()
        mparams = L.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(str(model).encode(), mparams)
        if not self.model:
            die(f"llama.cpp could not load {model}")
        cparams = L.llama_context_default_params()
        cparams.n_ctx = max(n_prompt, n_gen) + 16
        cparams.n_batch = n_prompt
        cparams.n_ubatch = n_prompt
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.no_perf = True
        cparams.flash_attn_type = {"auto": L.LLAMA_FLASH_ATTN_TYPE_AUTO,
                                   "on": L.LLAMA_FLASH_ATTN_TYPE_ENABLED,
                                   "off": L.LLAMA_FLASH_ATTN_TYPE_DISABLED}[flash_attn]
        self.ctx = L.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            die("llama.cpp could not create a context")
        self.mem = L.llama_get_memory(self.ctx)
        vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(vocab)
        self.bos = L.llama_vocab_bos(vocab) if L.llama_vocab_get_add_bos(vocab) else None
        self.batch = L.llama_batch_init(n_prompt, 0, 1)
        self.n_prompt, self.n_gen = n_prompt, n_gen
        self.rng = random.Random(1234)

    def _fill(self, tokens: list[int], pos0: int) -> None:
        b = self.batch
        b.n_tokens = len(tokens)
        for i, t in enumerate(tokens):
            b.token[i] = t
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if i == len(tokens) - 1 else 0

    def _decode(self) -> None:
        rc = self.L.llama_decode(self.ctx, self.batch)
        if rc != 0:
            die(f"llama_decode returned {rc}")

    def _tokens(self, n: int) -> list[int]:
        toks = [self.rng.randrange(self.n_vocab) for _ in range(n)]
        if self.bos is not None:
            toks[0] = self.bos
        return toks

    def prefill(self) -> float:
        toks = self._tokens(self.n_prompt)
        self.L.llama_memory_clear(self.mem, True)
        self._fill(toks, 0)
        t0 = time.perf_counter()
        self._decode()
        self.L.llama_synchronize(self.ctx)
        return self.n_prompt / (time.perf_counter() - t0)

    def decode(self) -> float:
        toks = self._tokens(self.n_gen)
        self.L.llama_memory_clear(self.mem, True)
        t0 = time.perf_counter()
        for i, t in enumerate(toks):
            self._fill([t], i)
            self._decode()
            self.L.llama_synchronize(self.ctx)
        return self.n_gen / (time.perf_counter() - t0)

    def close(self) -> None:
        self.L.llama_batch_free(self.batch)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def bench_llama(model: Path, threads: int, args) -> dict:
    b = LlamaBench(model, threads, args.prompt, args.gen, args.flash_attn)
    try:
        b.prefill()
        b.decode()  # warm-up
        pp = [b.prefill() for _ in range(args.reps)]
        tg = [b.decode() for _ in range(args.reps)]
    finally:
        b.close()
    return {"prefill": statistics.median(pp), "decode": statistics.median(tg), "pp_runs": pp, "tg_runs": tg}


def bench_ours(cli: Path, model: Path, threads: int, args) -> dict:
    cmd = [str(cli), "bench", "-m", str(model), "-t", str(threads), "-p", str(args.prompt),
           "-n", str(args.gen), "-r", str(args.reps), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}")
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.strip().startswith("{"):
            try:
                data = json.loads(line)
                break
            except json.JSONDecodeError:
                pass
    else:
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(f"no JSON in the output of `{' '.join(cmd)}`:\n{proc.stdout[-500:]}")
    return {"prefill": float(data["prefill_tokens_per_s"]), "decode": float(data["decode_tokens_per_s"]),
            "simd": data.get("simd", "?")}


def main() -> int:
    ap = argparse.ArgumentParser(description="Glassbox vs llama.cpp prefill/decode tokens per second.")
    ap.add_argument("--models", default="q4_1,q8_0", help="names (q4_1, q8_0, f16) or GGUF paths")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--reps", type=int, default=5, help="measured runs per figure (median is kept)")
    ap.add_argument("-p", "--prompt", type=int, default=512, help="prefill tokens")
    ap.add_argument("-n", "--gen", type=int, default=128, help="decoded tokens")
    ap.add_argument("--cli", default=os.environ.get("GLASSBOX_CLI", str(DEFAULT_CLI)))
    ap.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto",
                    help="llama.cpp's flash attention setting (default: llama.cpp's own default, auto)")
    ap.add_argument("--write-docs", action="store_true", help=f"append the table to {DOCS.relative_to(ROOT)}")
    ap.add_argument("--peer-only", action="store_true", help="measure only llama.cpp")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args()
    if args.reps < 1:
        die("--reps must be at least 1")

    cli = Path(args.cli)
    if not args.peer_only and not (cli.is_file() and os.access(cli, os.X_OK)):
        die(f"{cli} not found: build Glassbox first (scripts/build.sh) or pass --cli PATH")
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    models = [(m.strip(), resolve_model(m.strip())) for m in args.models.split(",") if m.strip()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if load > 0.5:
        print(f"bench: note: load average is {load:.2f}; other work on this machine skews the figures")

    try:
        import llama_cpp
        version = llama_cpp.__version__
        sysinfo = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    except ImportError:
        die("llama-cpp-python is not installed: run scripts/setup-deps.sh --peers")

    rows, goals_met, simd = [], True, "?"
    for name, path in models:
        label = name.upper() if name.lower() in ("q4_1", "q8_0", "f16") else path.name
        for t in threads:
            ref = bench_llama(path, t, args)
            print(f"bench: {label} t={t} llama.cpp prefill {ref['prefill']:.1f} t/s, decode {ref['decode']:.1f} t/s")
            if args.peer_only:
                rows.append(f"| {label} | {t} | {ref['prefill']:.1f} | – | – | {ref['decode']:.1f} | – | – |")
                continue
            try:
                mine = bench_ours(cli, path, t, args)
            except (RuntimeError, KeyError, ValueError) as exc:
                print(f"  error: {exc}")
                rows.append(f"| {label} | {t} | {ref['prefill']:.1f} | ERROR | – | {ref['decode']:.1f} | ERROR | – |")
                goals_met = False
                continue
            simd = mine["simd"]
            rp, rd = mine["prefill"] / ref["prefill"], mine["decode"] / ref["decode"]
            met = rp >= GOAL_PREFILL and rd >= GOAL_DECODE
            goals_met &= met
            print(f"  Glassbox prefill {mine['prefill']:.1f} t/s ({rp:.2f}x), decode {mine['decode']:.1f} t/s ({rd:.2f}x)")
            rows.append(f"| {label} | {t} | {ref['prefill']:.1f} | {mine['prefill']:.1f} | {rp:.2f}x | "
                        f"{ref['decode']:.1f} | {mine['decode']:.1f} | {rd:.2f}x |")

    section = "\n".join([
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, {cpu_model()}",
        "",
        f"- command: `.venv/bin/python scripts/bench_vs_llamacpp.py "
        f"{' '.join(a for a in sys.argv[1:] if a != '--write-docs')}`".rstrip(),
        f"- {os.cpu_count()} logical CPUs, load average {load:.2f} at the start; "
        f"prefill {args.prompt} tokens, decode {args.gen} tokens, median of {args.reps} runs after a warm-up",
        f"- llama.cpp: llama-cpp-python {version}, flash attention {args.flash_attn}; {sysinfo}",
        f"- Glassbox SIMD path: {simd}" if not args.peer_only else "- Glassbox: not measured (--peer-only)",
        "",
        "| model | threads | llama.cpp prefill t/s | Glassbox prefill t/s | ratio | "
        "llama.cpp decode t/s | Glassbox decode t/s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
    print()
    print(section)
    if args.write_docs:
        body = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
        DOCS.write_text(body.rstrip() + "\n\n" + section + "\n", encoding="utf-8")
        print(f"\nbench: appended to {DOCS.relative_to(ROOT)}")
    if not args.peer_only:
        print(f"\nbench: goals (decode >= {GOAL_DECODE}x, prefill >= {GOAL_PREFILL}x): "
              f"{'met' if goals_met else 'not met'}")
        if args.strict and not goals_met:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
