#!/usr/bin/env bash
# Configures (once) and builds Glassbox in Release mode into build/.
# A second run only rebuilds what changed; with nothing changed it returns in
# about a second. Extra arguments are passed to the first CMake configure.
#
# Usage: scripts/build.sh [-DOPTION=VALUE ...]
# Environment: GLASSBOX_BUILD_DIR  build folder (default build/)
#              GLASSBOX_JOBS       parallel jobs (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLASSBOX_BUILD_DIR:-$ROOT/build}"
JOBS="${GLASSBOX_JOBS:-$(nproc)}"

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac

say() { printf '[build] %s\n' "$*"; }

command -v cmake >/dev/null 2>&1 || { echo "[build] error: cmake not found; run scripts/setup-deps.sh" >&2; exit 1; }

if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  generator=() launcher=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  say "configuring ${BUILD#"$ROOT"/} (Release)"
  cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [[ $# -gt 0 ]]; then
  cmake "$BUILD" "$@"
fi

say "building with $JOBS jobs"
cmake --build "$BUILD" -j "$JOBS"
say "done: ${BUILD#"$ROOT"/}"
