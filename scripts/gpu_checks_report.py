#!/usr/bin/env python3
"""Helpers of scripts/gpu_checks.sh (standard library only).

  tests BUILD_DIR LABEL     one line per CTest test with that label:
                            NAME <TAB> ENV (0x1F-separated) <TAB> COMMAND (0x1F-separated)
  summary STATE_DIR OUT_DIR write OUT_DIR/summary.json and OUT_DIR/summary.md from the
                            records the phases left in STATE_DIR (*.tsv, bench/*.json),
                            judging each check against its target

The records are tab-separated lines appended by each run of a phase; the
latest line for a key wins, so phases may run again or in separate commands.
"""
import json
import sys
from pathlib import Path

# The targets the figures are judged against.
DECODE_FRACTION_MIN = 0.75      # of the memory-bandwidth bound, 8B models
SMOLLM_DECODE_MIN = 2000.0      # tokens/s
PREFILL_OVER_GEMM_MIN = 0.50    # of the cuBLAS GEMM rate, 8B models


def list_tests(build_dir: str, label: str) -> int:
    import subprocess
    proc = subprocess.run(["ctest", "--test-dir", build_dir, "-L", label, "--show-only=json-v1"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return 1
    for test in json.loads(proc.stdout).get("tests", []):
        env = []
        for prop in test.get("properties", []):
            if prop.get("name") == "ENVIRONMENT":
                env = prop.get("value", [])
        print("\t".join([test["name"], "\x1f".join(env), "\x1f".join(test.get("command", []))]))
    return 0


def read_tsv(path: Path, key_fields: int) -> dict:
    """Rows of a record file keyed by their first key_fields fields; the last row wins."""
    rows = {}
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) > key_fields:
                rows[tuple(fields[:key_fields])] = fields
    return rows


def check(name: str, ok, detail: str) -> dict:
    status = "not run" if ok is None else ("pass" if ok else "FAIL")
    return {"check": name, "status": status, "detail": detail}


def bench_checks(benches: dict) -> list:
    checks = []
    big = {k: v for k, v in benches.items() if k.startswith("llama3-8b")}
    small = {k: v for k, v in benches.items() if k.startswith("smollm2")}
    for name in ("llama3-8b-q4_0", "llama3-8b-q8_0", "llama3-8b-f16"):
        b = big.get(name)
        if not b or "decode" not in b:
            checks.append(check(f"(a) decode {name}", None, (b or {}).get("error", "no result")))
            checks.append(check(f"(c) prefill {name}", None, (b or {}).get("error", "no result")))
            continue
        frac = b["decode"]["fraction_of_limit"]
        checks.append(check(f"(a) decode {name}", frac >= DECODE_FRACTION_MIN,
                            f"{b['decode']['tokens_per_s']:.1f} tok/s = {100 * frac:.1f}% of the bound "
                            f"{b['decode']['bandwidth_limit_tokens_per_s']:.1f} (target {100 * DECODE_FRACTION_MIN:.0f}%)"))
        ratio = b["prefill_over_gemm"]
        checks.append(check(f"(c) prefill {name}", ratio >= PREFILL_OVER_GEMM_MIN,
                            f"{b['prefill']['flops_per_second'] / 1e12:.1f} TFLOP/s = {100 * ratio:.1f}% of cuBLAS "
                            f"{b['gemm']['flops_per_second'] / 1e12:.1f} (target {100 * PREFILL_OVER_GEMM_MIN:.0f}%)"))
    if not small:
        checks.append(check("(b) SmolLM2-135M decode", None, "no result"))
    for name, b in sorted(small.items()):
        if "decode" not in b:
            checks.append(check(f"(b) decode {name}", None, b.get("error", "no result")))
            continue
        tps = b["decode"]["tokens_per_s"]
        checks.append(check(f"(b) decode {name}", tps >= SMOLLM_DECODE_MIN,
                            f"{tps:.0f} tok/s (target {SMOLLM_DECODE_MIN:.0f})"))
    return checks


def sanitizer_checks(rows: dict) -> list:
    if not rows:
        return [check("(d) compute-sanitizer", None, "no result")]
    checks = []
    for (test, tool), f in sorted(rows.items()):
        errors, rc, seconds, note = f[2], f[3], f[4], f[6] if len(f) > 6 else ""
        ok = None if errors == "" else (errors == "0" and rc == "0")
        detail = f"{errors or '?'} errors, exit {rc}, {float(seconds):.0f} s" + (f" ({note})" if note else "")
        checks.append(check(f"(d) {tool} {test}", ok, detail))
    return checks


def load_benches(state: Path) -> dict:
    benches = {}
    for (name,), f in read_tsv(state / "bench.tsv", 1).items():
        status, json_path = f[1], Path(f[2]) if len(f) > 2 else None
        if status == "ok" and json_path and json_path.exists():
            benches[name] = json.loads(json_path.read_text())
        else:
            benches[name] = {"error": f[3] if len(f) > 3 else status}
    return benches


def markdown(summary: dict) -> str:
    out = ["# Glassbox GPU checks", ""]
    for k, v in summary["environment"].items():
        out.append(f"- {k}: {v}")
    out += ["", "## Checks", "", "| check | result | detail |", "| --- | --- | --- |"]
    for c in summary["checks"]:
        out.append(f"| {c['check']} | {c['status']} | {c['detail']} |")
    out += ["", "## Phases", "", "| phase | status | seconds | detail |", "| --- | --- | --- | --- |"]
    for p in summary["phases"]:
        out.append(f"| {p['phase']} | {p['status']} | {p['seconds']} | {p['detail']} |")
    if summary["models"]:
        out += ["", "## Generated models", "", "| model | bytes | seconds | status |", "| --- | --- | --- | --- |"]
        for m in summary["models"]:
            out.append(f"| {m['model']} | {m['bytes']} | {m['seconds']} | {m['status']} |")
    out += ["", "## gpu-bench", ""]
    for name, b in sorted(summary["benches"].items()):
        if "decode" not in b:
            out.append(f"- {name}: {b.get('error', 'no result')}")
            continue
        out.append(f"- {name} ({b['weights']}): decode {b['decode']['tokens_per_s']:.1f} tok/s "
                   f"({100 * b['decode']['fraction_of_limit']:.1f}% of {b['decode']['bandwidth_limit_tokens_per_s']:.1f}, "
                   f"copy {b['copy']['bytes_per_second'] / 1e9:.0f} GB/s); prefill pp{b['n_prompt']} "
                   f"{b['prefill']['tokens_per_s']:.0f} tok/s, {b['prefill']['flops_per_second'] / 1e12:.1f} TFLOP/s "
                   f"= {100 * b['prefill_over_gemm']:.1f}% of cuBLAS {b['gemm']['flops_per_second'] / 1e12:.1f}")
    return "\n".join(out) + "\n"


def summarize(state_dir: str, out_dir: str) -> int:
    state, out = Path(state_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = {f[0]: f[1] for (_,), f in read_tsv(state / "env.tsv", 1).items()}
    phases = [{"phase": k[0], "status": f[1], "seconds": f[2], "detail": f[3] if len(f) > 3 else ""}
              for k, f in read_tsv(state / "phases.tsv", 1).items()]
    models = [{"model": k[0], "bytes": f[1], "seconds": f[2], "status": f[3]}
              for k, f in read_tsv(state / "models.tsv", 1).items()]
    sanitize = read_tsv(state / "sanitize.tsv", 2)
    benches = load_benches(state)
    tests = read_tsv(state / "ctest.tsv", 1).get(("gpu",))
    checks = [check("(e) ctest -L gpu", None if not tests else tests[1] == "pass",
                    tests[2] if tests else "no result")]
    checks += sanitizer_checks(sanitize) + bench_checks(benches)
    summary = {"environment": env, "checks": checks, "phases": phases, "models": models, "benches": benches}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    failed = sum(c["status"] == "FAIL" for c in checks)
    not_run = sum(c["status"] == "not run" for c in checks)
    print(f"{len(checks) - failed - not_run} passed, {failed} failed, {not_run} not run")
    return 0


def main(argv: list) -> int:
    if len(argv) == 4 and argv[1] == "tests":
        return list_tests(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "summary":
        return summarize(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
