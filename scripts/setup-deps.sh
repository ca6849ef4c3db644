#!/usr/bin/env bash
# Installs what Glassbox needs to build, test and validate on Debian 12:
#   1. system packages (compilers, CMake, Qt 6, Dear ImGui, clang's fuzzer runtime, Xvfb),
#   2. the Python environment .venv from scripts/requirements-validation.txt,
#   3. with --peers, llama-cpp-python into .venv (the peer engine that the
#      validation scripts compare against; it compiles for several minutes),
#   4. with --hf, PyTorch, transformers and accelerate into .venv, for
#      scripts/validate_attention_hf.py (an independent reference that reads
#      the same GGUF files; PyPI's Linux torch wheel brings NVIDIA's CUDA
#      wheels along: about 3 GB to download, 5 GB on disk, a few minutes).
# Every step checks first and returns at once when there is nothing to do.
#
# Usage: scripts/setup-deps.sh [--peers] [--hf] [--no-apt] [--no-venv]
# Environment: GLASSBOX_SKIP_APT=1 is the same as --no-apt;
#              PYTHON picks the interpreter for the venv (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/scripts/requirements-validation.txt"
LLAMA_CPP_PYTHON_VERSION="0.3.36"
HF_PACKAGES=(torch==2.15.0 transformers==5.23.0 accelerate==1.15.0)

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  clang libclang-rt-14-dev
  qt6-base-dev qt6-base-dev-tools qt6-qpa-plugins libqt6sql6-sqlite
  libqt6opengl6-dev qt6-svg-dev libxkbcommon-dev
  libgl-dev libqcustomplot-dev libsqlite3-dev libimgui-dev
  xvfb xauth fonts-dejavu-core
  python3 python3-venv python3-pip
)

want_peers=0
want_hf=0
want_apt=1
want_venv=1
[[ "${GLASSBOX_SKIP_APT:-0}" == "1" ]] && want_apt=0
for arg in "$@"; do
  case "$arg" in
    --peers) want_peers=1 ;;
    --hf) want_hf=1 ;;
    --no-apt) want_apt=0 ;;
    --no-venv) want_venv=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup-deps: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[setup-deps] %s\n' "$*"; }
die() { printf '[setup-deps] error: %s\n' "$*" >&2; exit 1; }

# --- 1. system packages ------------------------------------------------------
install_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "no apt/dpkg here: skipping system packages (install the equivalents of: ${APT_PACKAGES[*]})"
    return 0
  fi
  local missing=() pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "installed" ]] || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "system packages: all ${#APT_PACKAGES[@]} present"
    return 0
  fi
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install these packages first: ${missing[*]}"
    sudo=(sudo)
  fi
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" </dev/null
}

# --- 2. Python environment ---------------------------------------------------
venv_ok() { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }

setup_venv() {
  local py="${PYTHON:-python3}"
  if ! venv_ok; then
    command -v "$py" >/dev/null 2>&1 || die "no '$py' found; install python3 and python3-venv"
    [[ -e "$VENV" ]] && { say "removing broken $VENV"; rm -rf "$VENV"; }
    say "creating $VENV with $("$py" --version 2>&1)"
    "$py" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
  fi
  local want stamp="$VENV/.glassbox-requirements.sha256"
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "python environment: up to date ($VENV)"
    return 0
  fi
  say "installing Python packages from ${REQUIREMENTS#"$ROOT"/}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS" </dev/null \
    || die "pip install failed (is PyPI reachable?)"
  echo "$want" > "$stamp"
}

# --- 3. peer engine for validation -------------------------------------------
setup_peers() {
  venv_ok || die "$VENV is missing; run without --no-venv first"
  local have
  have="$("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)' 2>/dev/null || true)"
  if [[ "$have" == "$LLAMA_CPP_PYTHON_VERSION" ]]; then
    say "llama-cpp-python $have: present"
    return 0
  fi
  say "installing llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (compiles llama.cpp for this CPU; several minutes)"
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$VENV/bin/python" -m pip install --disable-pip-version-check \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" </dev/null \
    || die "llama-cpp-python failed to install (it needs build-essential and cmake)"
}

# --- 4. Hugging Face reference for validation --------------------------------
setup_hf() {
  venv_ok || die "$VENV is missing; run without --no-venv first"
  local want have
  want="$(printf '%s ' "${HF_PACKAGES[@]}")"
  have="$("$VENV/bin/python" -c '
import torch, transformers, accelerate
print("torch==%s transformers==%s accelerate==%s " % (
    torch.__version__.split("+")[0], transformers.__version__, accelerate.__version__))
' 2>/dev/null || true)"
  if [[ "$have" == "$want" ]]; then
    say "torch, transformers, accelerate: present (${want% })"
    return 0
  fi
  say "installing ${want% } (PyTorch from PyPI, with its CUDA wheels: a few GB)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check "${HF_PACKAGES[@]}" </dev/null \
    || die "torch/transformers failed to install (is PyPI reachable?)"
}

[[ $want_apt -eq 1 ]] && install_system_packages
[[ $want_venv -eq 1 ]] && setup_venv
[[ $want_peers -eq 1 ]] && setup_peers
[[ $want_hf -eq 1 ]] && setup_hf
exit 0
