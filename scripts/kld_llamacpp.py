#!/usr/bin/env python3
"""Compare Glassbox's model-level quantization statistics with llama.cpp's.

For each quantized file (Q4_1 and Q8_0 by default) against a reference file
(F16 by default), both engines compute what `llama-perplexity
--kl-divergence` reports, on the same token ids:

  - Glassbox: `glassbox-cli kld -m QUANT --reference REF -f TEXT -c CTX
    --json --ids-out IDS --per-token OUT.npy`. The ids it wrote are the ids
    llama.cpp evaluates, so both sides score identical tokens.
  - llama.cpp, through llama-cpp-python: both models evaluate every chunk of
    CTX ids from an empty cache (first id replaced by BOS when the vocabulary
    adds BOS), positions CTX/2 .. CTX-2 are scored, and the statistics are
    computed here in float64 with llama-perplexity's formulas.

Also reported: llama-perplexity's own mean KLD variant (reference log-probs
rounded to 16 bits over 16 nats, terms below -16 skipped) on llama.cpp's
logits, to size the difference from the exact sum both engines use; and the
correlation of the per-position KLD of the two engines.

Bars (exit status 1 when one fails): Glassbox's mean KLD and same-top-p
within 5% (relative) of llama.cpp's, and a KLD comparison of 2,048 tokens
taking at most 2x the time of plain forward passes of both models over the
same tokens (`glassbox-cli kld --timing --chunks N`).

Usage:
  .venv/bin/python scripts/kld_llamacpp.py [--quants q4_1,q8_0] [--reference f16]
      [--text tests/data/fidelity_text.txt] [-c 512] [--threads 2]
      [--cli build/tools/glassbox-cli] [--timing-tokens 2048] [--write-docs]
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
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, DEFAULT_CLI, cpu_model, default_model_path  # noqa: E402

DOCS = ROOT / "docs" / "fidelity.md"
SECTION = "## Quantization: model-level statistics against llama.cpp"
BAR_REL = 0.05
BAR_TIME = 2.0

try:
    import numpy as np
except ImportError:
    sys.exit("kld: numpy is missing. Run scripts/setup-deps.sh and use .venv/bin/python.")


def die(msg: str):
    print(f"kld: error: {msg}", file=sys.stderr)
    sys.exit(2)


def resolve_model(name: str) -> Path:
    tag, path = default_model_path(name)
    if not path.is_file():
        die(f"model file {path} not found (scripts/fetch-models.sh, scripts/make_variants.py)")
    return path


def label(name: str, path: Path) -> str:
    return name.upper() if name.lower() in ("q4_1", "q8_0", "f16") else path.name


# ---- Glassbox ---------------------------------------------------------------

def run_cli(cmd: list[str]) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}")
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.strip().startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in the output of `{' '.join(cmd)}`")


def ours(cli: Path, quant: Path, ref: Path, text_file: Path, n_ctx: int, threads: int, work: Path) -> dict:
    ids_file, npy = work / "ids.txt", work / "per_token.npy"
    cmd = [str(cli), "kld", "-m", str(quant), "--reference", str(ref), "-f", str(text_file), "-c", str(n_ctx),
           "-t", str(threads), "--json", "--ids-out", str(ids_file), "--per-token", str(npy)]
    result = run_cli(cmd)
    result["ids"] = [int(v) for v in ids_file.read_text().split()]
    result["per_token"] = np.load(npy)
    return result


def ours_timing(cli: Path, quant: Path, ref: Path, text_file: Path, n_ctx: int, threads: int, chunks: int,
                repeats: int) -> dict:
    cmd = [str(cli), "kld", "-m", str(quant), "--reference", str(ref), "-f", str(text_file), "-c", str(n_ctx),
           "-t", str(threads), "--chunks", str(chunks), "--json", "--timing", "--repeats", str(repeats)]
    load_before = os.getloadavg()[0]
    timing = run_cli(cmd)["timing"]
    timing["load"] = (load_before, os.getloadavg()[0])
    return timing


# ---- llama.cpp --------------------------------------------------------------

def open_llama(model: Path, n_ctx: int, threads: int):
    try:
        from llama_cpp import Llama
    except ImportError:
        die("llama-cpp-python is not installed: run scripts/setup-deps.sh --peers")
    return Llama(model_path=str(model), n_ctx=n_ctx, n_batch=min(n_ctx, 512), n_ubatch=min(n_ctx, 512),
                 n_threads=threads, n_threads_batch=threads, logits_all=True, verbose=False)


def log_softmax(x: "np.ndarray") -> "np.ndarray":
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def kld_16bit(ref_logits: "np.ndarray", log_q: "np.ndarray") -> "np.ndarray":
    """llama-perplexity's KL: reference log-probs rounded to 16 bits, terms with log p <= -16 skipped."""
    ref = ref_logits.astype(np.float32)
    mx, mn = ref.max(axis=-1, keepdims=True), ref.min(axis=-1, keepdims=True)
    mn = np.maximum(mn, mx - 16)
    lse = np.log(np.exp(ref - mx).astype(np.float64).sum(axis=-1, keepdims=True)).astype(np.float32)
    min_log_prob = mn - mx - lse
    scale = (mx - mn) / 65535.0
    safe = np.where(scale > 0, scale, 1)
    q = np.where(ref > mn, np.rint((ref - mn) / safe), 0)
    log_base = scale * q + min_log_prob
    term = np.where(log_base > -16, np.exp(log_base) * (log_base - log_q), 0.0)
    return term.sum(axis=-1)


def llama_side(ref: Path, quant: Path, ids: list[int], text: str, n_ctx: int, threads: int) -> dict:
    import llama_cpp
    llm_ref, llm_q = open_llama(ref, n_ctx, threads), open_llama(quant, n_ctx, threads)
    # llama.cpp's own ids for the text, reported only: both engines score Glassbox's ids.
    own_ids = [int(t) for t in llm_ref.tokenize(text.encode("utf-8"), add_bos=True, special=False)]
    vocab = llama_cpp.llama_model_get_vocab(llm_ref.model)
    add_bos, bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab)), int(llama_cpp.llama_vocab_bos(vocab))
    n_chunks, first = len(ids) // n_ctx, n_ctx // 2
    cols = {k: [] for k in ("kld", "kld16", "lp_ref", "lp_q", "top_ref", "top_q")}
    seconds = 0.0
    for c in range(n_chunks):
        chunk = list(ids[c * n_ctx:(c + 1) * n_ctx])
        if add_bos:
            chunk[0] = bos
        rows = []
        for llm in (llm_ref, llm_q):
            t0 = time.time()
            llm.reset()
            llm.eval(chunk)
            seconds += time.time() - t0
            rows.append(np.array(llm.scores[first:n_ctx - 1], dtype=np.float64))
        lr, lq = log_softmax(rows[0]), log_softmax(rows[1])
        targets = np.array(ids[c * n_ctx + first + 1:(c + 1) * n_ctx])
        pos = np.arange(len(targets))
        cols["kld"].append((np.exp(lr) * (lr - lq)).sum(axis=-1))
        cols["kld16"].append(kld_16bit(rows[0], lq))
        cols["lp_ref"].append(lr[pos, targets])
        cols["lp_q"].append(lq[pos, targets])
        cols["top_ref"].append(rows[0].argmax(axis=-1))
        cols["top_q"].append(rows[1].argmax(axis=-1))
    llm_ref.close()
    llm_q.close()
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out.update(chunks=n_chunks, seconds=seconds, version=llama_cpp.__version__, own_ids=own_ids)
    return out


# ---- statistics (llama-perplexity's formulas) ---------------------------------

def mean_err(values: "np.ndarray") -> tuple[float, float]:
    n = len(values)
    f = float(values.sum() / n)
    var = float((values * values).sum() / n) - f * f
    return f, (math.sqrt(var / (n - 1)) if var > 0 and n > 10 else 0.0)


def summarize(kld, lp_ref, lp_q, top_ref, top_q) -> dict:
    n = len(kld)
    s = np.sort(kld)
    same = float((top_ref == top_q).sum()) / n
    nll_q, nll_r = mean_err(-lp_q), mean_err(-lp_ref)
    return {"tokens_scored": n, "mean_kld": mean_err(kld)[0], "mean_kld_error": mean_err(kld)[1],
            "median_kld": float(np.median(s)), "p99_kld": float(np.quantile(s, 0.99)), "max_kld": float(s[-1]),
            "same_top_p": same, "same_top_p_error": math.sqrt(same * (1 - same) / (n - 1)),
            "ppl_ref": math.exp(nll_r[0]), "ppl_quant": math.exp(nll_q[0])}


# ---- report -----------------------------------------------------------------

def rel(a: float, b: float) -> float:
    return a / b - 1.0 if b else float("inf")


def compare_pair(args, qname: str, rname: str, text_file: Path) -> dict:
    quant, ref = resolve_model(qname), resolve_model(rname)
    with tempfile.TemporaryDirectory(prefix="kld-") as work:
        mine = ours(Path(args.cli), quant, ref, text_file, args.ctx, args.threads, Path(work))
    peer = llama_side(ref, quant, mine["ids"], text_file.read_text(encoding="utf-8"), args.ctx, args.threads)
    theirs = summarize(peer["kld"], peer["lp_ref"], peer["lp_q"], peer["top_ref"], peer["top_q"])
    pt = mine["per_token"]
    corr = float(np.corrcoef(pt[:, 2], peer["kld"])[0, 1]) if len(pt) == len(peer["kld"]) else float("nan")
    row = {"pair": f"{label(qname, quant)} vs {label(rname, ref)}", "ours": mine, "llama": theirs,
           "chunks": peer["chunks"], "kld16": float(peer["kld16"].mean()), "corr": corr,
           "llama_seconds": peer["seconds"], "version": peer["version"],
           "rel_kld": rel(mine["mean_kld"], theirs["mean_kld"]),
           "rel_top": rel(mine["same_top_p"], theirs["same_top_p"]),
           "same_count": len(pt) == theirs["tokens_scored"] and mine["chunks"] == peer["chunks"],
           "same_tokenization": peer["own_ids"] == mine["ids"]}
    row["ok"] = abs(row["rel_kld"]) <= BAR_REL and abs(row["rel_top"]) <= BAR_REL and row["same_count"]
    if args.timing_tokens > 0:
        chunks = max(1, args.timing_tokens // args.ctx)
        row["timing"] = ours_timing(Path(args.cli), quant, ref, text_file, args.ctx, args.threads, chunks,
                                    args.timing_repeats)
        row["ok_time"] = row["timing"]["ratio"] <= BAR_TIME
    return row


def markdown(rows: list[dict], args, text_file: Path) -> str:
    r0 = rows[0]
    out = [SECTION, "",
           f"Run {dt.date.today().isoformat()}; CPU: {cpu_model()}; threads: {args.threads}; "
           f"llama-cpp-python {r0['version']}; Glassbox {glassbox_version(Path(args.cli))} "
           f"(commit {git_commit()}); text: {text_file.name}, {len(r0['ours']['ids'])} tokens; "
           f"context {args.ctx}, second half of each chunk scored, {r0['ours']['tokens_scored']} positions "
           f"({r0['chunks']} chunks); both engines score Glassbox's ids (llama.cpp's own tokenization of the "
           f"text is {'identical' if r0['same_tokenization'] else 'DIFFERENT'}).",
           "",
           f"Command: `.venv/bin/python scripts/kld_llamacpp.py {command_args()}`".rstrip(),
           "",
           "| pair | mean KLD llama.cpp | mean KLD Glassbox | Δ | same top p llama.cpp | Glassbox | Δ "
           "| PPL(ref) l / G | PPL(Q) l / G | per-position KLD correlation | result |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        m, t = r["ours"], r["llama"]
        out.append(f"| {r['pair']} | {t['mean_kld']:.6f} ± {t['mean_kld_error']:.6f} | "
                   f"{m['mean_kld']:.6f} ± {m['mean_kld_error']:.6f} | {r['rel_kld']:+.2%} | "
                   f"{100 * t['same_top_p']:.3f}% | {100 * m['same_top_p']:.3f}% | {r['rel_top']:+.2%} | "
                   f"{t['ppl_ref']:.4f} / {m['ppl_ref']:.4f} | {t['ppl_quant']:.4f} / {m['ppl_quant']:.4f} | "
                   f"{r['corr']:.4f} | {'pass' if r['ok'] else 'FAIL'} |")
    out += ["", f"Bar: mean KLD and same-top-p within {BAR_REL:.0%} of llama.cpp's, same chunks and positions.", "",
            "Glassbox, the rest of its summary (median / p90 / p95 / p99 / max KLD, ΔPPL):", ""]
    for r in rows:
        m = r["ours"]
        out.append(f"- {r['pair']}: {m['median_kld']:.6f} / {m['p90_kld']:.6f} / {m['p95_kld']:.6f} / "
                   f"{m['p99_kld']:.6f} / {m['max_kld']:.6f}; ΔPPL {m['delta_ppl']:+.4f} ± "
                   f"{m['delta_ppl_error']:.4f}")
    if args.reference.lower() == "f16" and any(q.strip().lower() in ("q4_1", "q8_0") for q in args.quants.split(",")):
        out += ["", "The default F16 and Q8_0 files are written from the Q4_1 file by scripts/make_variants.py, so "
                "these pairs measure rounding and compute-path differences (activation quantization in the "
                "matrix products, F16 against Q8_0 re-encoding of the same values), not the loss of Q4_1 "
                "against the original checkpoint; that is why Q4_1 can sit closer to F16 than Q8_0 does."]
    out += ["", "llama-perplexity stores the reference log-probabilities rounded to 16 bits and skips terms "
            "below -16 nats; on llama.cpp's logits that variant gives a mean KLD of "
            + ", ".join(f"{r['kld16']:.6f} ({rel(r['kld16'], r['llama']['mean_kld']):+.2%} from the exact sum) "
                        f"for {r['pair']}" for r in rows) + "."]
    timed = [r for r in rows if "timing" in r]
    if timed:
        out += ["", "| pair | tokens per model | plain passes (last logits) | plain passes (all logits) "
                "| KLD comparison | ratio | load average before / after | result |",
                "|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in timed:
            t = r["timing"]
            out.append(f"| {r['pair']} | {t['tokens_per_model']} | {t['plain_seconds']:.2f} s | "
                       f"{t['plain_all_logits_seconds']:.2f} s | {t['kld_seconds']:.2f} s | {t['ratio']:.2f}× "
                       f"({t['ratio_all_logits']:.2f}× all logits) | {t['load'][0]:.2f} / {t['load'][1]:.2f} | "
                       f"{'pass' if r['ok_time'] else 'FAIL'} |")
        out += ["", f"Bar: the comparison takes at most {BAR_TIME:.0f}× the plain forward passes of both models "
                f"over the same tokens (`glassbox-cli kld --timing --repeats {args.timing_repeats}`: the fastest "
                "of the rounds of each). The comparison needs logits at the scored half of every chunk, "
                "so it costs more than passes that compute the last token's logits only."]
    return "\n".join(out)


def command_args() -> str:
    """The arguments this run was given, less the ones that only say where the output goes."""
    out, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a == "--docs":
            skip = True
        elif a != "--write-docs" and not a.startswith("--docs="):
            out.append(a)
    return " ".join(out)


def glassbox_version(cli: Path) -> str:
    proc = subprocess.run([str(cli), "--help"], capture_output=True, text=True)
    m = re.search(r"glassbox-cli (\S+)", proc.stdout + proc.stderr)
    return m.group(1) if m else "?"


def git_commit() -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def write_docs(section: str, docs: Path) -> None:
    body = docs.read_text(encoding="utf-8") if docs.exists() else "# Fidelity\n"
    start = body.find(SECTION)
    if start >= 0:
        nxt = body.find("\n## ", start + len(SECTION))
        body = body[:start] + section + "\n" + (body[nxt:] if nxt >= 0 else "")
    else:
        body = body.rstrip() + "\n\n" + section + "\n"
    docs.write_text(body, encoding="utf-8")
    print(f"kld: wrote the section into {docs}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Compare Glassbox's KL-divergence statistics with llama.cpp's.")
    ap.add_argument("--quants", default="q4_1,q8_0", help="quantized models: q4_1, q8_0 or GGUF paths")
    ap.add_argument("--reference", default="f16", help="reference model: f16, q8_0 or a GGUF path")
    ap.add_argument("--text", default=str(ROOT / "tests" / "data" / "fidelity_text.txt"))
    ap.add_argument("-c", "--ctx", type=int, default=512, help="tokens per chunk")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=os.environ.get("GLASSBOX_CLI", str(DEFAULT_CLI)))
    ap.add_argument("--timing-tokens", type=int, default=2048,
                    help="tokens per model for the timing bar (0: skip the timing)")
    ap.add_argument("--timing-repeats", type=int, default=2,
                    help="rounds of plain passes and comparison; the fastest of each counts")
    ap.add_argument("--write-docs", action="store_true", help=f"put the section into {DOCS.relative_to(ROOT)}")
    ap.add_argument("--docs", default=str(DOCS), help="the Markdown file --write-docs updates")
    args = ap.parse_args()

    cli = Path(args.cli)
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        die(f"{cli} not found: build Glassbox first (scripts/build.sh) or pass --cli PATH")
    text_file = Path(args.text)
    rows = []
    for q in [m.strip() for m in args.quants.split(",") if m.strip()]:
        try:
            row = compare_pair(args, q, args.reference, text_file)
        except RuntimeError as exc:
            die(str(exc))
        m, t = row["ours"], row["llama"]
        print(f"kld: {row['pair']}: mean KLD llama.cpp {t['mean_kld']:.6f}, Glassbox {m['mean_kld']:.6f} "
              f"({row['rel_kld']:+.2%}); same top p {100 * t['same_top_p']:.3f}% / {100 * m['same_top_p']:.3f}% "
              f"({row['rel_top']:+.2%}); {m['tokens_scored']} positions")
        if "timing" in row:
            print(f"kld:   timing {row['timing']['kld_seconds']:.2f} s against {row['timing']['plain_seconds']:.2f} s "
                  f"plain: {row['timing']['ratio']:.2f}×")
        rows.append(row)
    if not rows:
        die("no quantized model given")
    section = markdown(rows, args, text_file)
    print()
    print(section)
    if args.write_docs:
        write_docs(section, Path(args.docs))
    ok = all(r["ok"] and r.get("ok_time", True) for r in rows)
    print(f"\nkld: {'bar met' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
