#!/usr/bin/env python3
"""Compare Glassbox's outputs with llama.cpp's on the same token ids.

For each model file (Q4_1, Q8_0, F16 by default):
  1. Teacher-forced logits. tests/data/fidelity_text.txt is tokenized by
     llama.cpp; both engines score the same ids in one context. Per position
     we compute KL(llama.cpp || Glassbox) over the full softmax, and whether
     the two top-1 tokens agree. Glassbox's own tokenization of the text is
     compared with llama.cpp's as well.
  2. Greedy continuations. Each prompt in tests/data/fidelity_prompts.json is
     completed for n_predict tokens at temperature 0 by both engines (raw
     completion, no chat template). The result is "identical" or the first
     step where the tokens differ, with llama.cpp's own gap between its top
     two logits at that step (a small gap means the choice was a near tie).

Bars (exit status 1 when one fails): mean KL <= 1e-3, top-1 agreement >= 99%,
identical tokenization, and every continuation identical or diverging only
where llama.cpp's top-2 gap <= 0.05.

llama.cpp is driven through llama-cpp-python (scripts/setup-deps.sh --peers);
Glassbox through `glassbox-cli logits` and `glassbox-cli generate`.

Usage:
  .venv/bin/python scripts/fidelity_llamacpp.py [--models q4_1,q8_0,f16]
      [--threads 2] [--cli build/tools/glassbox-cli] [--write-docs]
  --peer-only   run and summarize only the llama.cpp half (no Glassbox needed)
  --self-test   use llama.cpp in place of Glassbox too: checks this harness,
                every figure should come out perfect
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, DEFAULT_CLI, cpu_model, default_model_path  # noqa: E402

DOCS = ROOT / "docs" / "fidelity.md"
BEGIN, END = "<!-- fidelity:begin -->", "<!-- fidelity:end -->"

BAR_MEAN_KL = 1e-3
BAR_TOP1 = 0.99
BAR_GAP = 0.05

try:
    import numpy as np
except ImportError:
    sys.exit("fidelity: numpy is missing. Run scripts/setup-deps.sh and use .venv/bin/python.")


def die(msg: str) -> "NoReturn":  # type: ignore[name-defined]
    print(f"fidelity: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- helpers ---

def resolve_model(name: str) -> Path:
    """'q4_1' / 'Q8_0' / 'f16' name a file in models/; anything else is a path."""
    tag, path = default_model_path(name)
    if path.is_file():
        return path
    if tag == "Q4_1":
        die(f"{path} not found: run scripts/fetch-models.sh")
    if tag:
        print(f"fidelity: {path.name} missing, writing it with scripts/make_variants.py")
        rc = subprocess.call([sys.executable, str(ROOT / "scripts" / "make_variants.py"),
                              "--types", tag.lower(), "--no-verify"])
        if rc != 0 or not path.is_file():
            die(f"could not make {path}")
        return path
    die(f"model file {path} not found")


def log_softmax(x: "np.ndarray") -> "np.ndarray":
    x = x.astype(np.float64, copy=False)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def top2_gap(row: "np.ndarray") -> float:
    two = np.partition(row, -2)[-2:]
    return float(two[1] - two[0])


# ------------------------------------------------------------- the peer -----

class Peer:
    """llama.cpp through llama-cpp-python's high-level Llama object."""

    def __init__(self, model: Path, n_ctx: int, threads: int):
        try:
            from llama_cpp import Llama
            import llama_cpp
        except ImportError:
            die("llama-cpp-python is not installed: run scripts/setup-deps.sh --peers")
        self.version = llama_cpp.__version__
        self._lib = llama_cpp
        self.llm = Llama(model_path=str(model), n_ctx=n_ctx, n_batch=512, n_ubatch=512,
                         n_threads=threads, n_threads_batch=threads, logits_all=True,
                         verbose=False)
        self.n_vocab = self.llm.n_vocab()
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    _vocab_only: dict = {}

    @classmethod
    def tokenize_only(cls, model: Path, text: str, special: bool) -> list[int]:
        """Tokenizes with a vocabulary-only instance (cached per model file)."""
        if model not in cls._vocab_only:
            from llama_cpp import Llama
            cls._vocab_only[model] = Llama(model_path=str(model), vocab_only=True, verbose=False)
        return cls._vocab_only[model].tokenize(text.encode("utf-8"), add_bos=True, special=special)

    def tokenize(self, text: str, special: bool) -> list[int]:
        # add_bos=True means "add the model's special tokens", i.e. BOS only
        # when the model's metadata asks for it (as llama.cpp's tools do).
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=special)

    def is_eog(self, tok: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self._vocab, tok))

    def logits(self, ids: list[int]) -> "np.ndarray":
        self.llm.reset()
        self.llm.eval(ids)
        return np.array(self.llm.scores[: len(ids)], dtype=np.float32)

    def greedy(self, prompt: list[int], n: int) -> tuple[list[int], list[float]]:
        """Greedy tokens and llama.cpp's top-2 logit gap at each step."""
        self.llm.reset()
        self.llm.eval(prompt)
        out, gaps = [], []
        for _ in range(n):
            row = self.llm.scores[self.llm.n_tokens - 1]
            tok = int(np.argmax(row))
            out.append(tok)
            gaps.append(top2_gap(row))
            if self.is_eog(tok):
                break
            self.llm.eval([tok])
        return out, gaps

    def close(self) -> None:
        self.llm.close()


# ------------------------------------------------------------ Glassbox ------

class Ours:
    """Glassbox through glassbox-cli (see README, 'Command line')."""

    def __init__(self, cli: Path, model: Path, threads: int, work: Path):
        self.cli, self.model, self.threads, self.work = cli, model, threads, work

    def _run(self, args: list[str]) -> str:
        cmd = [str(self.cli), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}")
        return proc.stdout

    @staticmethod
    def _read_ids(path: Path) -> list[int]:
        return [int(x) for x in path.read_text().split()]

    def logits_text(self, text_file: Path, n_ctx: int) -> tuple[list[int], "np.ndarray"]:
        out, ids = self.work / "ours_text.npy", self.work / "ours_text.ids"
        self._run(["logits", "-m", str(self.model), "-f", str(text_file), "-o", str(out),
                   "--ids-out", str(ids), "-c", str(n_ctx), "-t", str(self.threads)])
        return self._read_ids(ids), np.load(out, mmap_mode="r")

    def logits_ids(self, ids: list[int], n_ctx: int) -> "np.ndarray":
        inp, out = self.work / "in.ids", self.work / "ours_ids.npy"
        inp.write_text(" ".join(map(str, ids)) + "\n")
        self._run(["logits", "-m", str(self.model), "--ids", str(inp), "-o", str(out),
                   "-c", str(n_ctx), "-t", str(self.threads)])
        return np.load(out, mmap_mode="r")

    def tokenize_file(self, text: str) -> list[int]:
        """Glassbox's tokenization of a prompt: special-token strings parsed and
        BOS/EOS added as the vocabulary asks, like llama.cpp's tools."""
        src = self.work / "prompt.txt"
        src.write_bytes(text.encode("utf-8"))
        out = self._run(["tokenize", "-m", str(self.model), "-f", str(src), "--ids", "--add-special"])
        return [int(x) for x in out.split()]

    def greedy(self, prompt: str, prompt_ids: list[int], n: int) -> list[int]:
        """Greedy continuation of exactly `prompt_ids` (passed with --prompt-ids)."""
        ids, pin = self.work / "gen.ids", self.work / "gen_prompt.ids"
        ids.unlink(missing_ok=True)
        pin.write_text(" ".join(map(str, prompt_ids)) + "\n")
        self._run(["generate", "-m", str(self.model), "-p", prompt, "--raw-prompt",
                   "--prompt-ids", str(pin), "-n", str(n), "--temp", "0", "--seed", "0",
                   "-t", str(self.threads), "--ids-out", str(ids), "--quiet"])
        return self._read_ids(ids)


class PeerAsOurs:
    """--self-test: a second llama.cpp instance plays Glassbox's part."""

    def __init__(self, peer: Peer):
        self.peer = peer

    def logits_text(self, text_file: Path, n_ctx: int):
        ids = self.peer.tokenize(text_file.read_text(encoding="utf-8"), special=False)
        ids = ids[: self.peer.llm.n_ctx()]
        return ids, self.peer.logits(ids)

    def logits_ids(self, ids, n_ctx):
        return self.peer.logits(ids)

    def tokenize_file(self, text: str) -> list[int]:
        return self.peer.tokenize(text, special=True)

    def greedy(self, prompt: str, prompt_ids: list[int], n: int) -> list[int]:
        return self.peer.greedy(prompt_ids, n)[0]


# ------------------------------------------------------------ comparison ----

@dataclass
class Continuation:
    prompt_id: str
    identical: bool
    step: int | None = None          # first differing step
    gap: float | None = None         # llama.cpp's top-2 gap there
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.identical or (self.gap is not None and self.gap <= BAR_GAP)

    def cell(self) -> str:
        if self.note and not self.identical and self.step is None:
            return f"FAIL: {self.note}"
        if self.identical:
            return "identical"
        mark = "" if self.ok else " FAIL"
        return f"step {self.step}, gap {self.gap:.3f}{mark}"


@dataclass
class ModelResult:
    name: str
    tokens: int = 0
    mean_kl: float = float("nan")
    max_kl: float = float("nan")
    max_kl_pos: int = -1
    top1: float = float("nan")
    tokenization_ok: bool = True
    tokenization_note: str = ""
    continuations: list[Continuation] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.error and self.tokenization_ok and self.mean_kl <= BAR_MEAN_KL
                and self.top1 >= BAR_TOP1 and all(c.ok for c in self.continuations))


def compare_logits(ref: "np.ndarray", ours: "np.ndarray", chunk: int = 256):
    """Per-position KL(ref || ours), top-1 agreement; rows processed in chunks."""
    n = ref.shape[0]
    kls = np.empty(n)
    agree = 0
    for s in range(0, n, chunk):
        a = log_softmax(np.asarray(ref[s:s + chunk]))
        b = log_softmax(np.asarray(ours[s:s + chunk]))
        kls[s:s + chunk] = (np.exp(a) * (a - b)).sum(axis=-1)
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
    return kls, agree / n


def first_difference(ref: list[int], ours: list[int]) -> str:
    k = next((i for i, (a, b) in enumerate(zip(ref, ours)) if a != b), min(len(ref), len(ours)))
    return (f"differs at token {k} (llama.cpp {ref[k:k + 4]}, Glassbox {ours[k:k + 4]}; "
            f"{len(ref)} vs {len(ours)} tokens)")


def strip_eog(seq: list[int], peer: Peer) -> tuple[list[int], bool]:
    ended = False
    while seq and peer.is_eog(seq[-1]):
        seq = seq[:-1]
        ended = True
    return seq, ended


def compare_continuation(pid: str, ref: list[int], gaps: list[float], ours: list[int],
                         peer: Peer) -> Continuation:
    ref_s, _ = strip_eog(ref, peer)
    ours_s, _ = strip_eog(list(ours), peer)
    if ref_s == ours_s:
        return Continuation(pid, True)
    k = 0
    while k < min(len(ref_s), len(ours_s)) and ref_s[k] == ours_s[k]:
        k += 1
    if k >= len(gaps):  # Glassbox went on after llama.cpp's last step
        return Continuation(pid, False, k, None, note="longer than llama.cpp's continuation")
    return Continuation(pid, False, k, gaps[k])


# ------------------------------------------------------------------ main ----

def run_model(name: str, path: Path, args, text: str, prompts: list[dict], n_predict: int,
              work: Path) -> ModelResult:
    res = ModelResult(name)
    t0 = time.time()
    text_file = Path(args.text)
    ids = Peer.tokenize_only(path, text, special=False)
    full_ctx = ((len(ids) + 255) // 256) * 256  # what Glassbox needs for the whole text
    if args.max_tokens and len(ids) > args.max_tokens:
        ids = ids[: args.max_tokens]
    prompt_ids = {p["id"]: Peer.tokenize_only(path, p["text"], special=p.get("special", True))
                  for p in prompts}
    longest = max([len(ids)] + [len(v) + n_predict for v in prompt_ids.values()])
    n_ctx = ((max(longest, 256) + 255) // 256) * 256
    peer = Peer(path, n_ctx, args.threads)
    res.tokens = len(ids)

    t_peer = time.time()
    ref = peer.logits(ids)
    t_peer = time.time() - t_peer
    print(f"  llama.cpp: {len(ids)} tokens scored in {t_peer:.1f} s "
          f"(llama-cpp-python {peer.version}, {args.threads} threads)")

    if args.peer_only:
        gaps_all = np.partition(ref, -2, axis=-1)[:, -2:]
        gaps_all = gaps_all[:, 1] - gaps_all[:, 0]
        res.top1 = 1.0
        res.mean_kl = res.max_kl = 0.0
        print(f"  llama.cpp top-2 gap: median {np.median(gaps_all):.3f}, "
              f"{(gaps_all <= BAR_GAP).mean():.1%} of positions <= {BAR_GAP}")
        for p in prompts:
            seq, gaps = peer.greedy(prompt_ids[p["id"]], n_predict)
            text_out = peer.llm.detokenize(seq).decode("utf-8", "replace")
            print(f"  [{p['id']}] {len(seq)} tokens, min gap {min(gaps):.3f}: {text_out[:70]!r}")
            res.continuations.append(Continuation(p["id"], True))
        peer.close()
        res.seconds = time.time() - t0
        return res

    ours = PeerAsOurs(Peer(path, peer.llm.n_ctx(), args.threads)) if args.self_test else \
        Ours(Path(args.cli), path, args.threads, work)
    try:
        # Logits on the text; Glassbox tokenizes the text itself, and the ids are compared.
        our_ids, our_logits = ours.logits_text(text_file, max(n_ctx, full_ctx))
        if args.max_tokens:
            our_ids = our_ids[: args.max_tokens]
        if our_ids != ids:
            res.tokenization_ok = False
            res.tokenization_note = f"text tokenization: {first_difference(ids, our_ids)}"
            print(f"  {res.tokenization_note}; scoring llama.cpp's ids instead")
            our_logits = ours.logits_ids(ids, n_ctx)
        our_logits = our_logits[: len(ids)]
        if tuple(our_logits.shape) != tuple(ref.shape):
            raise RuntimeError(f"Glassbox logits have shape {tuple(our_logits.shape)}, "
                               f"expected {tuple(ref.shape)}")
        kls, top1 = compare_logits(ref, our_logits)
        res.mean_kl, res.max_kl, res.max_kl_pos, res.top1 = (
            float(kls.mean()), float(kls.max()), int(kls.argmax()), top1)
        print(f"  KL mean {res.mean_kl:.3e}, max {res.max_kl:.3e} (position {res.max_kl_pos}), "
              f"top-1 agreement {res.top1:.2%}")
        del our_logits

        for p in prompts:
            pid = p["id"]
            if name == args.tokenize_model:
                theirs = prompt_ids[pid]
                mine = ours.tokenize_file(p["text"])
                if mine != theirs:
                    res.tokenization_ok = False
                    res.tokenization_note += f" prompt '{pid}': {first_difference(theirs, mine)}."
            seq, gaps = peer.greedy(prompt_ids[pid], n_predict)
            mine = ours.greedy(p["text"], prompt_ids[pid], n_predict)
            c = compare_continuation(pid, seq, gaps, mine, peer)
            res.continuations.append(c)
            print(f"  [{pid}] {c.cell()}")
    except (RuntimeError, OSError, ValueError) as exc:
        res.error = str(exc)
        print(f"  error: {exc}")
    finally:
        if isinstance(ours, PeerAsOurs):
            ours.peer.close()
        peer.close()
    res.seconds = time.time() - t0
    return res


def markdown(results: list[ModelResult], prompts: list[dict], header: str) -> str:
    lines = [header, "",
             "| model | tokens | mean KL | max KL | top-1 agreement | tokenization | continuations identical | result |",
             "|---|---:|---:|---:|---:|---|---:|---|"]
    for r in results:
        if r.error:
            lines.append(f"| {r.name} | {r.tokens} | – | – | – | – | – | ERROR: {r.error.splitlines()[0][:80]} |")
            continue
        ident = sum(c.identical for c in r.continuations)
        lines.append(f"| {r.name} | {r.tokens} | {r.mean_kl:.2e} | {r.max_kl:.2e} | {r.top1:.2%} | "
                     f"{'same' if r.tokenization_ok else 'DIFFERS'} | {ident}/{len(r.continuations)} | "
                     f"{'pass' if r.ok else 'FAIL'} |")
    lines += ["", "Greedy continuations (first differing step and llama.cpp's top-2 logit gap there):", "",
              "| prompt | " + " | ".join(r.name for r in results) + " |",
              "|---|" + "---|" * len(results)]
    for p in prompts:
        cells = []
        for r in results:
            c = next((c for c in r.continuations if c.prompt_id == p["id"]), None)
            cells.append(c.cell() if c else "–")
        lines.append(f"| {p['id']} | " + " | ".join(cells) + " |")
    notes = [r for r in results if r.tokenization_note]
    if notes:
        lines += [""] + [f"- {r.name}: {r.tokenization_note.strip()}" for r in notes]
    lines += ["", f"Bars: mean KL ≤ {BAR_MEAN_KL:g}, top-1 ≥ {BAR_TOP1:.0%}, same tokenization, "
              f"continuations identical or diverging only where llama.cpp's top-2 gap ≤ {BAR_GAP}."]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else f"# Fidelity\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{section}\n{END}{tail}"
    else:
        text = text.rstrip() + f"\n\n{BEGIN}\n{section}\n{END}\n"
    DOCS.write_text(text, encoding="utf-8")
    print(f"fidelity: wrote the results into {DOCS.relative_to(ROOT)}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Compare Glassbox with llama.cpp on the same token ids.")
    ap.add_argument("--models", default="q4_1,q8_0,f16", help="names (q4_1, q8_0, f16) or GGUF paths")
    ap.add_argument("--text", default=str(ROOT / "tests" / "data" / "fidelity_text.txt"))
    ap.add_argument("--prompts", default=str(ROOT / "tests" / "data" / "fidelity_prompts.json"))
    ap.add_argument("--cli", default=os.environ.get("GLASSBOX_CLI", str(DEFAULT_CLI)))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-predict", type=int, default=0, help="override the prompts file's n_predict")
    ap.add_argument("--max-tokens", type=int, default=0, help="score only the first N tokens of the text")
    ap.add_argument("--write-docs", action="store_true", help=f"put the tables into {DOCS.relative_to(ROOT)}")
    ap.add_argument("--peer-only", action="store_true", help="run only the llama.cpp half")
    ap.add_argument("--self-test", action="store_true", help="llama.cpp in place of Glassbox (harness check)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder with the engines' outputs")
    args = ap.parse_args()

    text = Path(args.text).read_text(encoding="utf-8")
    spec = json.loads(Path(args.prompts).read_text(encoding="utf-8"))
    prompts = spec["prompts"]
    n_predict = args.n_predict or int(spec.get("n_predict", 64))
    if not args.peer_only and not args.self_test:
        cli = Path(args.cli)
        if not (cli.is_file() and os.access(cli, os.X_OK)):
            die(f"{cli} not found: build Glassbox first (scripts/build.sh) or pass --cli PATH")

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    models = []
    for n in names:
        path = resolve_model(n)
        models.append((n.upper() if n.lower() in ("q4_1", "q8_0", "f16") else path.name, path))
    args.tokenize_model = models[0][0]  # prompts are tokenized once: the files share a vocabulary
    work = Path(tempfile.mkdtemp(prefix="glassbox-fidelity-"))
    results = []
    try:
        for label, path in models:
            print(f"fidelity: {path.name}")
            results.append(run_model(label, path, args, text, prompts, n_predict, work))
    finally:
        if args.keep:
            print(f"fidelity: outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    if args.peer_only:
        print("fidelity: llama.cpp half done (--peer-only); nothing compared")
        return 0
    try:
        import llama_cpp
        peer_version = llama_cpp.__version__
    except ImportError:
        peer_version = "?"
    who = "llama.cpp vs llama.cpp (--self-test)" if args.self_test else "Glassbox vs llama.cpp"
    header = (f"### {who}, {dt.date.today().isoformat()}\n\n"
              f"CPU: {cpu_model()}; threads: {args.threads}; llama-cpp-python {peer_version}; "
              f"text: {Path(args.text).name}; {n_predict} greedy tokens per prompt.\n\n"
              f"Command: `.venv/bin/python scripts/fidelity_llamacpp.py "
              f"{' '.join(a for a in sys.argv[1:] if a != '--write-docs')}`".rstrip() + "")
    table = markdown(results, prompts, header)
    print()
    print(table)
    if args.write_docs:
        write_docs(table)
    ok = all(r.ok for r in results)
    print(f"\nfidelity: {'all bars met' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
