#!/usr/bin/env python3
"""Write Q8_0 and F16 copies of the default model next to it.

From models/SmolLM2-135M-Instruct.Q4_1.gguf this writes
  models/SmolLM2-135M-Instruct.Q8_0.gguf  (2-D weights Q8_0)
  models/SmolLM2-135M-Instruct.F16.gguf   (2-D weights F16)
Every metadata key is copied unchanged except general.file_type. Every
quantized tensor is dequantized to F32 and the 2-D weights are re-encoded in
the target type; 1-D tensors (the norms) stay F32. The variants therefore
carry the same weights as the Q4_1 file up to the target format's rounding,
which lets the engine's formats be compared on one model.

When llama-cpp-python is installed, each written file is loaded by it and
checked against the F16 file on a short text (finite logits, small KL).

Usage: .venv/bin/python scripts/make_variants.py [--source GGUF] [--force]
                                                  [--types q8_0,f16] [--no-verify]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT
    from gguf import GGUFValueType as VT
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"make_variants: {exc}. Run scripts/setup-deps.sh and use .venv/bin/python.")

# name in the file name -> (tensor type for 2-D weights, general.file_type)
VARIANTS = {
    "q8_0": ("Q8_0", QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "f16": ("F16", QT.F16, gguf.LlamaFileType.MOSTLY_F16),
}

VERIFY_TEXT = (
    "The harbour was quiet in the early morning. Fishing boats rocked gently "
    "against the pier while gulls circled overhead, waiting for the first catch "
    "of the day. An old man sat on a wooden crate, mending a net with slow, "
    "careful hands, and he told anyone who passed that the weather would turn "
    "before noon."
)


def variant_path(source: Path, suffix: str) -> Path:
    stem = source.name
    for q in (".Q4_1.gguf", ".gguf"):
        if stem.endswith(q):
            stem = stem[: -len(q)]
            break
    return source.with_name(f"{stem}.{suffix}.gguf")


def copy_metadata(reader: "gguf.GGUFReader", writer: "gguf.GGUFWriter", file_type: int) -> None:
    for field in reader.fields.values():
        # GGUF.* are the reader's virtual fields; the writer adds the architecture itself.
        if field.name.startswith("GGUF.") or field.name == gguf.Keys.General.ARCHITECTURE:
            continue
        if field.name == gguf.Keys.General.FILE_TYPE:
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == VT.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub_type)
    writer.add_file_type(int(file_type))


def convert(source: Path, target: Path, weight_type: "QT", file_type: int) -> None:
    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    part = target.with_name(target.name + ".part")
    writer = gguf.GGUFWriter(part, arch)
    copy_metadata(reader, writer, file_type)
    alignment = reader.fields.get(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = int(alignment.contents())

    counts: dict[str, int] = {}
    for t in reader.tensors:
        ttype = QT(t.tensor_type)
        if ttype == QT.F32:
            values = np.asarray(t.data, dtype=np.float32)
        else:
            values = gguf.quants.dequantize(np.asarray(t.data), ttype).astype(np.float32, copy=False)
        n_dims = len(t.shape)
        if n_dims < 2:
            out, out_type = values.astype(np.float32), QT.F32
            writer.add_tensor(t.name, out)
        else:
            out = gguf.quants.quantize(values, weight_type)
            out_type = weight_type
            writer.add_tensor(t.name, out, raw_dtype=None if weight_type == QT.F16 else weight_type)
        counts[out_type.name] = counts.get(out_type.name, 0) + 1

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(part, target)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"  wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} "
          f"({target.stat().st_size / 1e6:.1f} MB; tensors: {summary})")


def verify(paths: list[Path], reference: Path) -> bool:
    """Loads every file with llama-cpp-python and compares it with `reference`."""
    try:
        from llama_cpp import Llama
    except ImportError:
        print("  llama-cpp-python is not installed: skipping the load check "
              "(scripts/setup-deps.sh --peers installs it)")
        return True

    def run(path: Path):
        llm = Llama(model_path=str(path), n_ctx=256, n_batch=256, n_threads=2,
                    logits_all=True, verbose=False)
        ids = llm.tokenize(VERIFY_TEXT.encode(), add_bos=True, special=False)
        llm.eval(ids)
        logits = np.array(llm.scores[: len(ids)], dtype=np.float64)
        llm.close()
        return ids, logits

    def log_softmax(x):
        x = x - x.max(axis=-1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))

    ids, ref = run(reference)
    ref_lp = log_softmax(ref)
    ok = True
    for path in paths:
        _, logits = run(path)
        lp = log_softmax(logits)
        finite = bool(np.isfinite(logits).all())
        kl = float((np.exp(ref_lp) * (ref_lp - lp)).sum(axis=-1).mean())
        top1 = float((ref.argmax(-1) == logits.argmax(-1)).mean())
        nll = float(-lp[np.arange(len(ids) - 1), ids[1:]].mean())
        good = finite and kl < 0.05 and top1 >= 0.9
        ok &= good
        print(f"  llama.cpp loads {path.name}: {len(ids)} tokens, ppl {np.exp(nll):.3f}, "
              f"KL vs {reference.name} {kl:.2e}, top-1 agreement {top1:.1%} "
              f"{'ok' if good else 'FAILED'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="source GGUF (default: %(default)s)")
    ap.add_argument("--types", default="q8_0,f16", help="comma-separated: q8_0, f16 (default: %(default)s)")
    ap.add_argument("--force", action="store_true", help="rewrite files that already exist")
    ap.add_argument("--no-verify", action="store_true", help="skip the llama-cpp-python load check")
    args = ap.parse_args()

    source = args.source.resolve()
    if not source.is_file():
        print(f"make_variants: {source} not found; run scripts/fetch-models.sh first", file=sys.stderr)
        return 1
    wanted = [t.strip().lower() for t in args.types.split(",") if t.strip()]
    for t in wanted:
        if t not in VARIANTS:
            print(f"make_variants: unknown type '{t}' (choose from {', '.join(VARIANTS)})", file=sys.stderr)
            return 2

    written: list[Path] = []
    targets: list[Path] = []
    for t in wanted:
        suffix, weight_type, file_type = VARIANTS[t]
        target = variant_path(source, suffix)
        targets.append(target)
        if target.is_file() and not args.force and target.stat().st_mtime >= source.stat().st_mtime:
            print(f"make_variants: {target.name}: present (use --force to rewrite)")
            continue
        print(f"make_variants: {source.name} -> {target.name}")
        t0 = time.time()
        convert(source, target, weight_type, file_type)
        print(f"  took {time.time() - t0:.1f} s")
        written.append(target)

    if args.no_verify or not written:
        return 0
    reference = variant_path(source, "F16")
    if not reference.is_file():
        reference = source
    return 0 if verify([source] + targets, reference) else 1


if __name__ == "__main__":
    sys.exit(main())
