#!/usr/bin/env bash
# Installs what is missing, fetches the default model, builds, and starts
# Glassbox on the default model (SmolLM2-135M-Instruct, Q4_1):
#   - the workbench build/app/glassbox when it has been built and a display
#     is available (the model path is its one positional argument);
#   - otherwise glassbox-cli, which chats one turn with the model.
# Steps that are already done are skipped, so a second run starts at once.
#
# Usage: scripts/run.sh [ARGS...]   ARGS replace the defaults given to the
#        program, e.g. scripts/run.sh generate -m models/X.gguf -p "Hi" --chat
# Environment: GLASSBOX_SKIP_APT=1 (no system packages), GLASSBOX_BUILD_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLASSBOX_BUILD_DIR:-$ROOT/build}"
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT="In three short sentences, explain what a language model does when it writes the next word."

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac

cd "$ROOT"
export GLASSBOX_BUILD_DIR="$BUILD"
./scripts/setup-deps.sh
./scripts/fetch-models.sh
./scripts/build.sh

GUI="$BUILD/app/glassbox"
CLI="$BUILD/tools/glassbox-cli"

if [[ -x "$GUI" ]]; then
  if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
    echo "[run] starting $GUI"
    if [[ $# -gt 0 ]]; then exec "$GUI" "$@"; fi
    exec "$GUI" "$MODEL"
  fi
  echo "[run] no display (DISPLAY/WAYLAND_DISPLAY unset): using the command-line front end instead"
fi

[[ -x "$CLI" ]] || { echo "[run] error: $CLI was not built" >&2; exit 1; }
if [[ $# -gt 0 ]]; then exec "$CLI" "$@"; fi
echo "[run] $CLI generate -m ${MODEL#"$ROOT"/} --chat -p \"$PROMPT\""
exec "$CLI" generate -m "$MODEL" --chat -p "$PROMPT"
