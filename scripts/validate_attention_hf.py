#!/usr/bin/env python3
"""Check Glassbox's captured attention probabilities against Hugging Face transformers.

An independent reference: transformers reads the same GGUF file (dequantized
to float32) and runs its eager Llama attention with output_attentions=True;
every layer x head x query row is compared with the matrices that
`glassbox-cli inspect --attention-npy` writes. Both sides get exactly the same
token ids: each prompt is tokenized by Glassbox and the ids are passed to
Glassbox with --prompt-ids and to transformers as input_ids.

Each model file runs with both KV cache types of Glassbox: F32, which does the
same arithmetic as transformers, and F16 (the default), which rounds keys,
values, the query and the probabilities that meet V to F16 as llama.cpp does.
Per model, cache type and prompt the script reports

  end to end   Glassbox against plain float32 transformers: max |dp|, mean |dp|
               over the causal triangle, how many rows (layers x heads x
               positions) have a |dp| > 1e-3, and where the worst row is;
  roundings in transformers
               transformers with Glassbox's roundings emulated against plain
               transformers: what those roundings alone do to the probabilities;
  nudge        transformers (roundings emulated) against itself with every
               layer's input moved by one float32 step: how far two correct
               computations of the same arithmetic drift apart;
  per layer    each layer of transformers fed Glassbox's own residual stream
               (inspect --residual-npy), roundings emulated, against Glassbox's
               probabilities for that layer, and the same nudge per layer: this
               separates what a layer computes from what it inherits;
  sanity       Glassbox's row sums and its values above the diagonal;
  logits       final position: max |dlogit| and whether the top-1 tokens agree
               (Glassbox's from `glassbox-cli logits --ids`).

Bars, on the F16 file only (exit status 1 when one fails):
  F32 cache    end to end max |dp| <= 1e-3 on every prompt;
  F16 cache    end to end max |dp| <= max(1e-3, 2 x "roundings in transformers").
               The same roundings move transformers' own probabilities by
               2-3e-3, and transformers drifts from itself by as much when
               nudged by one float32 step, so 1e-3 alone cannot be met there.
Quantized files are informative only: transformers computes them dequantized
in float32, Glassbox multiplies the quantized blocks with 8-bit activations;
the emulation then also quantizes each matrix product's input to 8 bits.

Needs torch, transformers and accelerate in .venv (scripts/setup-deps.sh --hf)
and a built glassbox-cli with the `inspect` command (scripts/build.sh).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glassbox_paths import ROOT, MODELS_DIR, MODEL_STEM, DEFAULT_CLI, cpu_model  # noqa: E402

DOCS = ROOT / "docs" / "fidelity.md"
SECTION = "## Attention vs HF transformers"
BAR_F16 = 1e-3           # max |dp| on the F16 file
BAR_F16_CACHE_FACTOR = 2.0
ROW_THRESHOLD = 1e-3
LONG_MIN_TOKENS = 100

try:
    import numpy as np
except ImportError:
    sys.exit("validate_attention_hf: numpy is missing. Run scripts/setup-deps.sh and use .venv/bin/python.")


def die(msg: str) -> "NoReturn":  # type: ignore[name-defined]
    print(f"validate_attention_hf: error: {msg}", file=sys.stderr)
    sys.exit(2)


def say(msg: str) -> None:
    print(f"validate_attention_hf: {msg}", flush=True)


# ---------------------------------------------------------------- prompts ---

def default_prompts() -> list[dict]:
    """Short factual, code, chat template with special tokens, a repeated
    sequence (induction heads give sharp rows) and a long prose passage."""
    long_text = (ROOT / "tests" / "data" / "fidelity_text.txt").read_text(encoding="utf-8")
    long_text = long_text[:1400].rsplit(" ", 1)[0]
    words = ("amber quartz velvet signal harbor lantern cobalt meadow tunnel "
             "orbit pepper glacier violin saddle ember").split()
    return [
        {"id": "fact", "text": "The capital of France is Paris. The capital of Germany is Berlin. "
                               "The capital of Italy is"},
        {"id": "code", "text": "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"
                               "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return"},
        {"id": "chat", "text": "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                               "Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 7 times 8?<|im_end|>\n"
                               "<|im_start|>assistant\n"},
        {"id": "repeat", "text": " ".join(words) + ". " + " ".join(words) + "."},
        {"id": "long", "text": long_text, "min_tokens": LONG_MIN_TOKENS},
    ]


# ------------------------------------------------------------- Glassbox ---

class Glassbox:
    """Glassbox through glassbox-cli: `tokenize`, `inspect`, `logits`."""

    def __init__(self, cli: Path, threads: int, work: Path):
        self.cli, self.threads, self.work = cli, threads, work

    def _run(self, args: list[str]) -> str:
        cmd = [str(self.cli), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}")
        return proc.stdout

    def has_inspect(self) -> bool:
        proc = subprocess.run([str(self.cli), "--help"], capture_output=True, text=True)
        return re.search(r"^\s*inspect\b", proc.stdout + proc.stderr, re.M) is not None

    def tokenize(self, model: Path, text: str) -> list[int]:
        src = self.work / "prompt.txt"
        src.write_bytes(text.encode("utf-8"))
        out = self._run(["tokenize", "-m", str(model), "-f", str(src), "--ids", "--add-special"])
        return [int(x) for x in out.split()]

    def attention(self, model: Path, ids: list[int], kv: str, decode: int,
                  tag: str) -> tuple[list["np.ndarray"], list[int], "np.ndarray"]:
        """Per layer a float32 [heads, n, n] array from `inspect --attention-npy`,
        the n token ids it covers (the prompt, then `decode` greedy tokens) and
        the residual stream [layers + 1, n, width] (`--residual-npy`)."""
        out, inp = self.work / f"inspect-{tag}", self.work / f"inspect-{tag}.ids"
        shutil.rmtree(out, ignore_errors=True)
        inp.write_text(" ".join(map(str, ids)) + "\n")
        self._run(["inspect", "-m", str(model), "--prompt-ids", str(inp), "-n", str(decode),
                   "--kv-type", kv, "--out", str(out), "--attention-npy", "--residual-npy", "-t", str(self.threads)])
        got = json.loads((out / "tokens.json").read_text())
        got = got.get("ids", got.get("tokens", got)) if isinstance(got, dict) else got
        got = [int(t["id"]) if isinstance(t, dict) else int(t) for t in got]
        if got[:len(ids)] != ids:
            raise RuntimeError(f"inspect recorded other token ids than it was given ({out / 'tokens.json'})")
        layers = []
        while (out / f"attention_L{len(layers)}.npy").exists():
            layers.append(np.load(out / f"attention_L{len(layers)}.npy"))
        if not layers:
            raise RuntimeError(f"inspect wrote no attention_L0.npy into {out}")
        return layers, got, np.load(out / "residual.npy")

    def last_logits(self, model: Path, ids: list[int], kv: str) -> "np.ndarray":
        inp, out = self.work / "in.ids", self.work / "logits.npy"
        inp.write_text(" ".join(map(str, ids)) + "\n")
        self._run(["logits", "-m", str(model), "--ids", str(inp), "-o", str(out), "--kv-type", kv,
                   "-t", str(self.threads)])
        return np.array(np.load(out, mmap_mode="r")[-1], dtype=np.float64)


# ------------------------------------------------------------ transformers ---

def import_hf():
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer, AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, eager_mask
        from transformers.models.llama.modeling_llama import repeat_kv
        import accelerate  # noqa: F401  (transformers needs it to read GGUF)
    except ImportError as e:
        die(f"{e}. Install the reference with scripts/setup-deps.sh --hf and use .venv/bin/python.")
    # The emulating attention below gets the same additive causal mask as "eager".
    AttentionMaskInterface.register(Reference.EMULATED, eager_mask)
    return torch, transformers, AutoModelForCausalLM, AutoTokenizer, AttentionInterface, repeat_kv


class Reference:
    """transformers on a GGUF file, eager attention, float32 on the CPU."""

    EMULATED = "glassbox_f16_cache"
    PERTURB_SEED = 1234

    def __init__(self, path: Path, threads: int):
        (self.torch, self.transformers, auto_model, auto_tok,
         attention_interface, self.repeat_kv) = import_hf()
        torch = self.torch
        torch.set_num_threads(threads)
        import logging
        self.transformers.utils.logging.set_verbosity_error()
        self.transformers.utils.logging.disable_progress_bar()
        logging.getLogger("transformers").setLevel(logging.ERROR)
        self.model = auto_model.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32,
                                                attn_implementation="eager").eval()
        self.tokenizer = auto_tok.from_pretrained(str(path.parent), gguf_file=path.name)
        attention_interface.register(self.EMULATED, self._f16_cache_attention)
        self.quantized = self._quantized_linear_types(path)
        self._hooks = []
        self._memo = {}

    # Glassbox stores K and V in F16, rounds the query to F16 before q.K, and
    # rounds the probabilities to F16 before they multiply V (as ggml does).
    # What it reports are the probabilities before that last rounding.
    def _f16_cache_attention(self, module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
        torch = self.torch
        f16 = lambda t: t.to(torch.float16).to(torch.float32)  # noqa: E731
        k = self.repeat_kv(f16(key), module.num_key_value_groups)
        v = self.repeat_kv(f16(value), module.num_key_value_groups)
        scores = torch.matmul(f16(query), k.transpose(2, 3)) * scaling
        if attention_mask is not None:
            scores = scores + attention_mask
        p = torch.nn.functional.softmax(scores, dim=-1, dtype=torch.float32)
        out = torch.matmul(f16(p), v).transpose(1, 2).contiguous()
        return out, p

    @staticmethod
    def _quantized_linear_types(path: Path) -> dict[str, str]:
        """GGUF type per weight for the quantized formats that run with 8-bit
        activations, and for F16 (whose products meet F16-rounded activations
        when the cache is F16)."""
        import gguf
        types = {}
        for t in gguf.GGUFReader(str(path)).tensors:
            name = t.tensor_type.name
            if name.startswith("Q") or name.startswith("IQ") or name == "F16":
                types[t.name] = name
        return types

    def _q8_activations(self, on: bool, f16_inputs: bool = False) -> None:
        """Quantize the input of every matrix product whose weight is quantized
        to 8 bits per block of 32, scale fp16(max|x| / 127), as Glassbox's Q8_1 /
        Q8_0 activation rows do; with f16_inputs, round the input of every
        product with F16 weights to F16, as Glassbox does with an F16 cache."""
        for h in self._hooks:
            h.remove()
        self._hooks = []
        if not (on or f16_inputs) or not self.quantized:
            return
        torch = self.torch

        def f16(module, args):
            return (args[0].to(torch.float16).to(torch.float32),) + tuple(args[1:])

        def q8(module, args):
            x = args[0]
            shape = x.shape
            b = x.reshape(-1, 32)
            d = b.abs().amax(dim=1, keepdim=True) / 127.0
            inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
            q = torch.round(b * inv)
            return (((q * d.to(torch.float16).to(torch.float32)).reshape(shape)),) + tuple(args[1:])

        gguf_of = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
                   "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}
        for name, mod in self.model.named_modules():
            if not isinstance(mod, torch.nn.Linear):
                continue
            leaf = name.rsplit(".", 1)[-1]
            m = re.search(r"layers\.(\d+)\.", name)
            if m and leaf in gguf_of:
                gname = f"blk.{m.group(1)}.{gguf_of[leaf]}.weight"
            elif leaf == "lm_head":
                gname = "output.weight" if "output.weight" in self.quantized else "token_embd.weight"
            else:
                continue
            kind = self.quantized.get(gname)
            if kind == "F16" and f16_inputs:
                self._hooks.append(mod.register_forward_pre_hook(f16))
            elif kind and kind != "F16" and on and mod.in_features % 32 == 0:
                self._hooks.append(mod.register_forward_pre_hook(q8))

    def run(self, ids: list[int], f16_cache: bool = False, q8: bool = False, perturb: bool = False,
            residual: "np.ndarray | None" = None) -> tuple[list["np.ndarray"], "np.ndarray"]:
        """Attention per layer as float64 [heads, n, n] and the last position's logits.
        f16_cache and q8 switch on the emulation of Glassbox's roundings. perturb
        multiplies every layer's input by 1 ± 2^-23 (one float32 step, random
        signs, fixed seed): the same arithmetic as an engine whose float32
        operation order differs, so comparing a run with its perturbed twin
        measures how far two correct computations drift apart. With residual ([layers + 1, n,
        width], Glassbox's residual stream), every layer reads Glassbox's input to
        that layer instead of transformers' own: each layer is then compared on
        its own, without the differences carried in from the layers before."""
        key = (tuple(ids), f16_cache, q8, perturb, residual is not None)
        if key in self._memo:
            return self._memo[key]
        torch = self.torch
        self.model.set_attn_implementation(self.EMULATED if f16_cache else "eager")
        self._q8_activations(q8, f16_inputs=f16_cache)
        hooks = []
        if residual is not None:
            for i, layer in enumerate(self.model.model.layers):
                x = torch.from_numpy(np.ascontiguousarray(residual[i], dtype=np.float32))[None]
                hooks.append(layer.register_forward_pre_hook(lambda m, args, x=x: (x,) + tuple(args[1:])))
        if perturb:
            gen = torch.Generator().manual_seed(self.PERTURB_SEED)
            for layer in self.model.model.layers:
                sign = torch.randint(0, 2, (len(ids), self.model.config.hidden_size), generator=gen) * 2 - 1
                f = (1.0 + sign.to(torch.float32) * 2.0 ** -23)[None]
                hooks.append(layer.register_forward_pre_hook(lambda m, args, f=f: (args[0] * f,) + tuple(args[1:])))
        try:
            with torch.no_grad():
                out = self.model(torch.tensor([ids], dtype=torch.long), output_attentions=True)
        finally:
            for h in hooks:
                h.remove()
            self._q8_activations(False)
            self.model.set_attn_implementation("eager")
        result = ([a[0].to(torch.float64).numpy() for a in out.attentions],
                  out.logits[0, -1].to(torch.float64).numpy())
        if any(k[0] != key[0] for k in self._memo):
            self._memo = {}  # keep only the variants of the current token ids
        self._memo[key] = result
        return result

    def tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])


# ------------------------------------------------------------- comparing ---

@dataclass
class Diff:
    """One set of attention maps against another, over every layer, head and row."""
    max_dp: float = 0.0
    mean_dp: float = 0.0
    rows_over: int = 0
    rows: int = 0
    worst: tuple = (0, 0, 0)       # layer, head, query position
    worst_ref_max: float = 0.0     # the reference's largest probability in that row
    per_layer_max: list = field(default_factory=list)


def diff(ours: list["np.ndarray"], ref: list["np.ndarray"]) -> Diff:
    if len(ours) != len(ref):
        raise RuntimeError(f"{len(ours)} layers against {len(ref)}")
    r = Diff()
    total, count = 0.0, 0
    for layer, (a, b) in enumerate(zip(ours, ref)):
        if a.shape != b.shape:
            raise RuntimeError(f"layer {layer}: shape {a.shape} against {b.shape}")
        n = a.shape[-1]
        d = np.abs(a.astype(np.float64) - b)
        row_max = d.max(axis=2)                         # [heads, n]
        r.rows_over += int((row_max > ROW_THRESHOLD).sum())
        r.rows += row_max.size
        total += float(d.sum())                         # above the diagonal both are 0
        count += a.shape[0] * n * (n + 1) // 2
        lm = float(row_max.max())
        r.per_layer_max.append(lm)
        if lm > r.max_dp or layer == 0:
            r.max_dp = lm
            h, q = np.unravel_index(int(row_max.argmax()), row_max.shape)
            r.worst = (layer, int(h), int(q))
            r.worst_ref_max = float(b[h, q].max())
    r.mean_dp = total / max(count, 1)
    return r


@dataclass
class Case:
    model: str
    kv: str
    prompt: str
    tokens: int
    hf_tokenization_same: bool
    plain: Diff = field(default_factory=Diff)  # Glassbox vs plain float32 transformers
    emulated: Diff | None = None               # Glassbox vs transformers with the roundings emulated
    hf_rounding: Diff | None = None            # transformers emulated vs plain
    nudge: Diff | None = None                  # transformers emulated vs its nudged twin
    local: Diff | None = None                  # per layer from Glassbox's residual stream, emulated
    local_nudge: Diff | None = None            # the same for the nudged twin
    rowsum_err: float = 0.0
    above_diag: float = 0.0
    logit_plain: float = 0.0
    logit_emulated: float = float("nan")
    top1: tuple = (0, 0)
    seconds: float = 0.0

    @property
    def holds_bar(self) -> bool:
        return self.model == "F16"

    @property
    def bar(self) -> float:
        if self.kv == "f16" and self.hf_rounding is not None:
            return max(BAR_F16, BAR_F16_CACHE_FACTOR * self.hf_rounding.max_dp)
        return BAR_F16

    @property
    def ok(self) -> bool:
        return not self.holds_bar or self.plain.max_dp <= self.bar


def sanity(ours: list["np.ndarray"], case: Case) -> None:
    """Row sums and causality of Glassbox's own arrays."""
    for a in ours:
        n = a.shape[-1]
        case.rowsum_err = max(case.rowsum_err, float(np.abs(a.astype(np.float64).sum(axis=2) - 1.0).max()))
        upper = np.triu(np.ones((n, n), dtype=bool), k=1)
        if upper.any():
            case.above_diag = max(case.above_diag, float(np.abs(a[:, upper]).max()))


def run_case(gb: Glassbox, ref: Reference, label: str, path: Path, prompt: dict, prompt_ids: list[int],
             kv: str, decode: int) -> Case:
    t0 = time.time()
    ours, ids, residual = gb.attention(path, prompt_ids, kv, decode, f"{label}-{prompt['id']}-{kv}")
    case = Case(label, kv, prompt["id"], len(ids), ref.tokenize(prompt["text"]) == prompt_ids)
    sanity(ours, case)
    plain, ref_logits = ref.run(ids)
    case.plain = diff(ours, plain)
    our_logits = gb.last_logits(path, ids, kv)
    case.logit_plain = float(np.abs(our_logits - ref_logits).max())
    case.top1 = (int(our_logits.argmax()), int(ref_logits.argmax()))
    emu = {"f16_cache": kv == "f16", "q8": any(t != "F16" for t in ref.quantized.values())}
    emulated, emu_logits = ref.run(ids, **emu)
    if any(emu.values()):
        case.emulated = diff(ours, emulated)
        case.hf_rounding = diff(emulated, plain)
        case.logit_emulated = float(np.abs(our_logits - emu_logits).max())
    case.nudge = diff(ref.run(ids, perturb=True, **emu)[0], emulated)
    local = ref.run(ids, residual=residual, **emu)[0]
    case.local = diff(ours, local)
    case.local_nudge = diff(ref.run(ids, residual=residual, perturb=True, **emu)[0], local)
    case.seconds = time.time() - t0
    return case


# -------------------------------------------------------------- reporting ---

def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.1e}"


def fmt_max(d: Diff | None) -> str:
    return fmt(d.max_dp) if d else "–"


def markdown(cases: list[Case], header: str) -> str:
    lines = [header, "",
             "| model | KV cache | prompt | tokens | max \\|Δp\\| | mean \\|Δp\\| | rows > 1e-3 "
             "| worst (layer, head, row) | roundings in transformers | nudge | per layer | per-layer nudge "
             "| bar |",
             "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for c in cases:
        bar = (f"{'pass' if c.ok else 'FAIL'} (≤ {c.bar:.1e})") if c.holds_bar else "informative"
        lines.append(f"| {c.model} | {c.kv.upper()} | {c.prompt} | {c.tokens} | {fmt(c.plain.max_dp)} | "
                     f"{fmt(c.plain.mean_dp)} | {c.plain.rows_over} / {c.plain.rows} | {c.plain.worst} | "
                     f"{fmt_max(c.hf_rounding)} | {fmt_max(c.nudge)} | {fmt_max(c.local)} | "
                     f"{fmt_max(c.local_nudge)} | {bar} |")
    lines += ["", "| model | KV cache | prompt | max \\|Σp − 1\\| | largest value above the diagonal "
                  "| final logits max \\|Δ\\| | against emulated | top-1 (Glassbox, transformers) |",
              "|---|---|---|---:|---:|---:|---:|---|"]
    for c in cases:
        top1 = f"same ({c.top1[0]})" if c.top1[0] == c.top1[1] else f"differs ({c.top1[0]}, {c.top1[1]})"
        lines.append(f"| {c.model} | {c.kv.upper()} | {c.prompt} | {fmt(c.rowsum_err)} | {c.above_diag:g} | "
                     f"{c.logit_plain:.2e} | {fmt(c.logit_emulated)} | {top1} |")
    lines += ["",
              "Columns, all max |Δp| over every layer × head × query row unless named otherwise:",
              "",
              "- **max / mean |Δp|, rows > 1e-3, worst**: Glassbox against plain float32 transformers, end to "
              "end (the mean is over the causal triangle; a row counts when its largest |Δp| exceeds 1e-3).",
              "- **roundings in transformers**: transformers with Glassbox's roundings emulated (query, K/V "
              "cache and the probabilities that meet V in F16, with an F16 cache also the input of every product "
              "with F16 weights; on quantized files also every quantized matrix "
              "product's input in 8 bits per block of 32) against plain transformers — what those roundings "
              "alone do.",
              "- **nudge**: transformers (roundings emulated) against itself with every layer's input moved by "
              "one float32 step — how far two correct computations of the same arithmetic drift apart.",
              "- **per layer**: each transformers layer fed Glassbox's residual stream (roundings emulated) "
              "against Glassbox's map for that layer, so nothing is inherited from earlier layers; "
              "**per-layer nudge** is the same comparison between transformers and its nudged twin.",
              "- Row sums and the values above the diagonal are Glassbox's own arrays; the final logits are "
              "compared with plain transformers and, under “against emulated”, with transformers computing "
              "the same roundings.",
              "",
              f"Bars, F16 file: F32 cache max |Δp| ≤ {BAR_F16:g}; F16 cache max |Δp| ≤ max({BAR_F16:g}, "
              f"{BAR_F16_CACHE_FACTOR:g} × “roundings in transformers”). Q4_1 is informative: transformers "
              "computes it dequantized in float32."]
    mism = sorted({c.prompt for c in cases if not c.hf_tokenization_same})
    if mism:
        lines += ["", "transformers' own tokenizer gives other ids for: " + ", ".join(mism)
                  + " (both engines were given Glassbox's ids regardless)."]
    return "\n".join(lines)


def summary(cases: list[Case]) -> str:
    """A paragraph with the extremes over all prompts, per file and cache type."""
    parts = []
    for model in dict.fromkeys(c.model for c in cases):
        for kv in ("f32", "f16"):
            cs = [c for c in cases if c.model == model and c.kv == kv]
            if not cs:
                continue
            worst = max(c.plain.max_dp for c in cs)
            text = f"{model} file, {kv.upper()} cache: max |Δp| ≤ {worst:.1e} over all prompts"
            rounding = [c.hf_rounding.max_dp for c in cs if c.hf_rounding]
            if rounding:
                text += (f" (the same roundings inside transformers: {min(rounding):.1e}–{max(rounding):.1e}; "
                         f"per layer ≤ {max(c.local.max_dp for c in cs if c.local):.1e})")
            agree = sum(c.top1[0] == c.top1[1] for c in cs)
            text += (f", final logits max |Δ| ≤ {max(c.logit_plain for c in cs):.1e}, "
                     f"top-1 agrees on {agree}/{len(cs)}")
            parts.append(text)
    return "\n\n" + ".\n".join(f"- {t}" for t in parts) + "."


def write_docs(section: str) -> None:
    """Replace the section (up to the next level-2 heading) or append it."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Fidelity\n"
    block = section.rstrip() + "\n"
    start = text.find("\n" + SECTION + "\n")
    if start >= 0:
        start += 1
        nxt = re.search(r"^## ", text[start + len(SECTION):], re.M)
        end = start + len(SECTION) + nxt.start() if nxt else len(text)
        text = text[:start] + block + ("\n" + text[end:] if end < len(text) else "")
    else:
        text = text.rstrip() + "\n\n" + block
    DOCS.write_text(text, encoding="utf-8")
    say(f"wrote the results into {DOCS.relative_to(ROOT)}")


def resolve_model(name: str) -> tuple[str, Path]:
    if name.lower() in ("f16", "q4_1", "q8_0"):
        return name.upper(), MODELS_DIR / f"{MODEL_STEM}.{name.upper()}.gguf"
    p = Path(name)
    return p.name, p


# ------------------------------------------------------------------- main ---

def main() -> int:
    ap = argparse.ArgumentParser(
        description="Compare Glassbox's captured attention probabilities (glassbox-cli inspect "
                    "--attention-npy) with Hugging Face transformers' eager attention on the same GGUF "
                    "file and the same token ids, for every layer, head and query row, with Glassbox's F32 "
                    "and F16 KV caches. Besides the plain comparison it measures what the F16 cache's "
                    "roundings do inside transformers, how far transformers drifts from itself when "
                    "nudged by one float32 step, and each layer on its own (fed Glassbox's residual "
                    "stream). Exits 1 when a bar on the F16 file fails (F32 cache: max |dp| <= 1e-3; F16 "
                    "cache: max |dp| <= max(1e-3, 2 x the F16 cache's own effect in transformers)), 2 on a "
                    "usage or setup error.",
        epilog="Needs scripts/setup-deps.sh --hf (torch, transformers, accelerate in .venv) and a built "
               "glassbox-cli. Quantized files are reported for information only. The module docstring "
               "describes every column.")
    ap.add_argument("--cli", default=os.environ.get("GLASSBOX_CLI", str(DEFAULT_CLI)),
                    help="glassbox-cli to test (default: build/tools/glassbox-cli)")
    ap.add_argument("--models", default="f16,q4_1",
                    help="comma-separated: f16, q4_1, q8_0 (files in models/) or GGUF paths; the F16 file "
                         "carries the bars (default: f16,q4_1)")
    ap.add_argument("--prompts", help="JSON file with a list of {\"id\", \"text\"} (default: five built-in "
                                      "prompts, one of them longer than 100 tokens)")
    ap.add_argument("--kv-types", default="f32,f16",
                    help="Glassbox KV cache types to run, comma-separated (default: f32,f16; f16 is what "
                         "the workbench uses)")
    ap.add_argument("--decode", type=int, default=0, metavar="N",
                    help="also let Glassbox generate N greedy tokens after each prompt (inspect -n N) and "
                         "compare those decode positions too (default 0)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both engines (default 2)")
    ap.add_argument("--per-layer", action="store_true", help="print max |dp| per layer for every comparison")
    ap.add_argument("--write-docs", action="store_true",
                    help=f"put the tables into the section '{SECTION}' of {DOCS.relative_to(ROOT)}")
    ap.add_argument("--keep", action="store_true", help="keep the folder with Glassbox's outputs")
    args = ap.parse_args()

    cli = Path(args.cli)
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        die(f"{cli} not found: build Glassbox first (scripts/build.sh) or pass --cli PATH")
    prompts = json.loads(Path(args.prompts).read_text(encoding="utf-8")) if args.prompts else default_prompts()
    models = [resolve_model(m.strip()) for m in args.models.split(",") if m.strip()]
    for _, p in models:
        if not p.is_file():
            die(f"{p} not found (scripts/fetch-models.sh, scripts/make_variants.py)")
    kv_types = [k.strip().lower() for k in args.kv_types.split(",") if k.strip()]
    if not kv_types or any(k not in ("f16", "f32") for k in kv_types):
        die("--kv-types takes f16 and/or f32")
    if args.decode < 0:
        die("--decode takes a number >= 0")
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader draws progress bars
    torch, transformers, *_ = import_hf()

    work = Path(tempfile.mkdtemp(prefix="glassbox-attn-hf-"))
    gb = Glassbox(cli, args.threads, work)
    if not gb.has_inspect():
        die(f"{cli} has no `inspect` command; rebuild it")
    cases: list[Case] = []
    try:
        ids_of = {}
        for p in prompts:
            ids_of[p["id"]] = gb.tokenize(models[0][1], p["text"])
            if len(ids_of[p["id"]]) < int(p.get("min_tokens", 1)):
                die(f"prompt '{p['id']}' has {len(ids_of[p['id']])} tokens, fewer than {p['min_tokens']}")
        for label, path in models:
            t0 = time.time()
            say(f"{path.name}: loading into transformers")
            ref = Reference(path, args.threads)
            say(f"{path.name}: loaded in {time.time() - t0:.1f} s")
            for p in prompts:
                for kv in kv_types:
                    case = run_case(gb, ref, label, path, p, ids_of[p["id"]], kv, args.decode)
                    cases.append(case)
                    named = (("plain", case.plain), ("emulated", case.emulated),
                             ("roundings in transformers", case.hf_rounding), ("nudge", case.nudge),
                             ("per layer", case.local), ("per-layer nudge", case.local_nudge))
                    say(f"  {label} {kv} {p['id']:<7} {case.tokens:4d} tokens  " + " | ".join(
                        f"{name} {d.max_dp:.2e}" + (f" (mean {d.mean_dp:.1e}, rows>1e-3 {d.rows_over}, worst "
                                                    f"{d.worst})" if name == "plain" else "")
                        for name, d in named if d)
                        + f" | logits {case.logit_plain:.2e}, top-1 {case.top1}  ({case.seconds:.1f} s)")
                    if args.per_layer:
                        for name, d in named:
                            if d:
                                say(f"    {name:>25}: " + " ".join(f"{x:.1e}" for x in d.per_layer_max))
            del ref
    finally:
        if args.keep:
            say(f"Glassbox outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    cmd = " ".join([".venv/bin/python scripts/validate_attention_hf.py",
                    *(a for a in sys.argv[1:] if a != "--write-docs")])
    header = (f"{SECTION}\n\n"
              f"{dt.date.today().isoformat()}; CPU: {cpu_model()}; threads: {args.threads}; "
              f"torch {torch.__version__}, transformers {transformers.__version__} "
              f"(GGUF dequantized to float32, eager attention, output_attentions=True); "
              f"{len(prompts)} prompts tokenized by Glassbox, the same ids given to both"
              + (f", each followed by {args.decode} greedy tokens from Glassbox" if args.decode else "")
              + ".\n\n"
              "Setup: `scripts/setup-deps.sh --hf` (torch, transformers and accelerate into .venv). "
              f"Command: `{cmd}`")
    table = markdown(cases, header + summary(cases))
    print()
    print(table)
    if args.write_docs:
        write_docs(table)
    if not any(c.holds_bar for c in cases):
        say("no F16 file among --models: nothing held to a bar")
    ok = all(c.ok for c in cases)
    print(f"\nvalidate_attention_hf: {'F16 bars met' if ok else 'F16 bar FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
