"""Shared locations and machine facts for the comparison scripts
(bench_vs_llamacpp, fidelity_llamacpp, kld_llamacpp, perplexity_llamacpp,
validate_attention_hf, check_requantized_llamacpp)."""
from __future__ import annotations

import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
MODEL_STEM = "SmolLM2-135M-Instruct"
DEFAULT_CLI = ROOT / "build" / "tools" / "glassbox-cli"
MODEL_TAGS = {"q4_1": "Q4_1", "q8_0": "Q8_0", "f16": "F16"}


def cpu_model() -> str:
    """The CPU's model name, for the record of a measurement."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def default_model_path(name: str) -> tuple[str | None, Path]:
    """("Q4_1", models/SmolLM2-135M-Instruct.Q4_1.gguf) for a short name such
    as "q4_1"; (None, Path(name)) for anything else."""
    tag = MODEL_TAGS.get(name.lower())
    return tag, (MODELS_DIR / f"{MODEL_STEM}.{tag}.gguf" if tag else Path(name))
