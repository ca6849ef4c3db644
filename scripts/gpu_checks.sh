#!/usr/bin/env bash
# The GPU checks in one command, for a machine with an NVIDIA GPU and the
# CUDA toolkit but possibly no Qt, no SQLite headers and no network:
#   build     configure and build (Release, CUDA architecture 90 only, GUI
#             off, all cores): glassbox-cli and the gpu-labelled tests
#   test      ctest -L gpu
#   sanitize  compute-sanitizer memcheck and racecheck on each gpu test
#   models    random-weight Llama-3-8B-shaped models (Q4_0, Q8_0, F16) into
#             --models-dir, timed (glassbox-cli make-model)
#   bench     glassbox-cli gpu-bench on each 8B model and on SmolLM2-135M
#             (models/ when present, else a SmolLM2-shaped random model)
# and writes summary.md, summary.json and logs.tar.gz into --out, judging
# each figure against its target. Every phase runs even when an earlier one
# failed; the exit status is 1 when any phase failed.
#
# Usage: scripts/gpu_checks.sh [--phase build,test,sanitize,models,bench]
#          [--out DIR] [--debs DIR] [--build-dir DIR] [--models-dir DIR] [--shape NAME]
#          [--jobs N] [--keep-models] [--sanitize-tools memcheck,racecheck]
#          [--sanitize-timeout S] [--deadline S] [--cmake-arg ARG]...
#        scripts/gpu_checks.sh --fetch-debs DIR
#   --phase       phases to run (default: all), always in the order above
#   --out         where the summary goes (default: $OUT when set, else
#                 BUILD/gpu-checks/out)
#   --debs DIR    .deb files (from --fetch-debs) unpacked into BUILD/debroot
#                 when Qt6 (Core, Test) or SQLite3 is missing: CMake is
#                 pointed at them, and the libraries the system lacks are
#                 put on LD_LIBRARY_PATH
#   --fetch-debs  on a Debian or Ubuntu machine with a package registry,
#                 download those .debs into DIR and exit
#   --build-dir   build folder (default build-gpu)
#   --models-dir  where the generated models go (default /tmp/glassbox-gpu-models)
#   --shape NAME  the large model's shape (default llama3-8b; make-model --help)
#   --keep-models keep each 8B model after its bench (default: deleted, to spare the disk)
#   --deadline S  start no new step after S seconds (the summary is still written)
#   --cmake-arg A one more argument for the configure step (repeatable; later
#                 -D settings override the ones above)
# Phases can be split over several commands on one machine (e.g. build;
# test,sanitize; models,bench): records are kept in BUILD/gpu-checks/ and each
# summary covers every phase run so far. A phase that needs binaries builds
# them first when the build folder has none.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PHASES="build,test,sanitize,models,bench"
BUILD="$ROOT/build-gpu"
MODELS_DIR="/tmp/glassbox-gpu-models"
SHAPE="llama3-8b"
OUT_DIR="${OUT:-}"
DEBS=""
JOBS="$(nproc)"
KEEP_MODELS=0
SAN_TOOLS="memcheck,racecheck"
SAN_TIMEOUT=300
DEADLINE=0
CMAKE_ARGS=()
T0=$SECONDS
DEB_PACKAGES="qt6-base-dev qt6-base-dev-tools qmake6 libqt6core6 libqt6test6 libqt6dbus6 libicu72
  libdouble-conversion3 libb2-1 libpcre2-16-0 libglib2.0-0 libsqlite3-dev libsqlite3-0"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
say() { printf '[gpu-checks +%4ds] %s\n' "$((SECONDS - T0))" "$*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --phase) PHASES="$2"; shift 2 ;;
    --out) OUT_DIR="$2"; shift 2 ;;
    --debs) DEBS="$(cd "$2" && pwd)"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    --models-dir) MODELS_DIR="$2"; shift 2 ;;
    --shape) SHAPE="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --keep-models) KEEP_MODELS=1; shift ;;
    --sanitize-tools) SAN_TOOLS="$2"; shift 2 ;;
    --sanitize-timeout) SAN_TIMEOUT="$2"; shift 2 ;;
    --deadline) DEADLINE="$2"; shift 2 ;;
    --cmake-arg) CMAKE_ARGS+=("$2"); shift 2 ;;
    --fetch-debs)
      mkdir -p "$2" && cd "$2" && apt-get download $DEB_PACKAGES
      exit $? ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_checks: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
STATE="$BUILD/gpu-checks"
LOGS="$STATE/logs"
OUT_DIR="${OUT_DIR:-$STATE/out}"
CLI="$BUILD/tools/glassbox-cli"
mkdir -p "$STATE" "$LOGS" "$STATE/bench" "$OUT_DIR" "$MODELS_DIR"
FAILED=0

wants() { [[ ",$PHASES," == *",$1,"* ]]; }
out_of_time() { [[ "$DEADLINE" -gt 0 && $((SECONDS - T0)) -ge "$DEADLINE" ]]; }
record() { local file="$1"; shift; (IFS=$'\t'; echo "$*") >>"$STATE/$file"; }
phase_done() {  # name status start detail
  record phases.tsv "$1" "$2" "$((SECONDS - $3))" "$4"
  [[ "$2" == failed ]] && FAILED=1
  say "phase $1: $2${4:+ ($4)}"
  write_summary
}
write_summary() {
  python3 "$ROOT/scripts/gpu_checks_report.py" summary "$STATE" "$OUT_DIR" >"$LOGS/summary.log" 2>&1 ||
    say "summary failed: $(tail -3 "$LOGS/summary.log")"
  tar -czf "$OUT_DIR/logs.tar.gz" -C "$STATE" logs bench 2>/dev/null
}

# --- environment and dependencies --------------------------------------------

# Unpacks the carried .debs into BUILD/debroot and links every shared library
# whose soname the system lacks into BUILD/debroot/missing-libs.
use_debs() {
  local root="$BUILD/debroot" lib name
  [[ -n "$DEBS" ]] || return 1
  if [[ ! -f "$root/.unpacked" ]]; then
    say "unpacking $(ls "$DEBS"/*.deb 2>/dev/null | wc -l) .debs from $DEBS"
    mkdir -p "$root/missing-libs"
    for deb in "$DEBS"/*.deb; do dpkg-deb -x "$deb" "$root" || return 1; done
    local have; have="$(ldconfig -p | awk 'NR > 1 { print $1 }')"
    for lib in "$root"/usr/lib/x86_64-linux-gnu/*.so.* "$root"/lib/x86_64-linux-gnu/*.so.*; do
      name="$(basename "$lib")"
      [[ -e "$lib" && "$name" =~ ^lib.*\.so\.[0-9]+$ ]] || continue  # sonames only
      grep -qxF "$name" <<<"$have" || ln -sf "$lib" "$root/missing-libs/$name"
    done
    touch "$root/.unpacked"
  fi
  export CMAKE_PREFIX_PATH="$root/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export LD_LIBRARY_PATH="$root/missing-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# Sets HAVE_QT and HAVE_SQLITE with a throw-away CMake project.
probe_deps() {
  local probe="$STATE/probe"
  mkdir -p "$probe/src"
  cat >"$probe/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(probe LANGUAGES C CXX)
find_package(Qt6 QUIET COMPONENTS Core Test)
find_package(SQLite3 QUIET)
message(STATUS "probe: qt=${Qt6_FOUND} dir=${Qt6_DIR} sqlite=${SQLite3_FOUND}")
EOF
  local line
  line="$(cmake -S "$probe/src" -B "$probe/build" 2>&1 | grep 'probe: ')"
  rm -rf "$probe/build"
  HAVE_QT=0; HAVE_SQLITE=0
  [[ "$line" =~ qt=(1|TRUE|ON|YES)[[:space:]] ]] && HAVE_QT=1
  [[ "$line" =~ sqlite=(1|TRUE|ON|YES)$ ]] && HAVE_SQLITE=1
  QT_FROM="system"
  [[ "$line" == *"dir=$BUILD/debroot/"* ]] && QT_FROM="carried .debs"
  say "dependencies: ${line#*probe: }"
}

record_environment() {
  local gpu sanitizer
  gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
  sanitizer="$(find_sanitizer)"
  record env.tsv gpu "${gpu:-no GPU visible to nvidia-smi}"
  record env.tsv nvcc "$( (command -v nvcc >/dev/null && nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>/dev/null | tail -1)"
  record env.tsv cmake "$(cmake --version | head -1)"
  record env.tsv cpu "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  record env.tsv compute-sanitizer "${sanitizer:-absent}"
  record env.tsv source "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) changed files)"
}

find_sanitizer() {
  command -v compute-sanitizer 2>/dev/null && return
  [[ -x /usr/local/cuda/bin/compute-sanitizer ]] && echo /usr/local/cuda/bin/compute-sanitizer
}

gpu_test_names() {
  local f
  for f in "$ROOT"/tests/gpu/tst_*.cpp; do [[ -e "$f" ]] && basename "$f" .cpp; done
}

# --- phases --------------------------------------------------------------------

phase_build() {
  local start=$SECONDS tests=OFF projects=ON generator=() targets=(glassbox-cli) detail=""
  probe_deps
  record env.tsv qt "$([[ $HAVE_QT == 1 ]] && echo "found ($QT_FROM)" || echo 'absent: gpu tests not built (carry .debs: --debs DIR)')"
  record env.tsv sqlite "$([[ $HAVE_SQLITE == 1 ]] && echo found || echo 'absent: project store not built')"
  [[ $HAVE_QT == 1 ]] && tests=ON
  [[ $HAVE_SQLITE == 1 ]] || projects=OFF
  [[ $tests == ON ]] && mapfile -t -O "${#targets[@]}" targets < <(gpu_test_names)
  [[ $tests == OFF ]] && detail="Qt6 missing: tests not built"
  command -v ninja >/dev/null && [[ ! -f "$BUILD/CMakeCache.txt" ]] && generator=(-G Ninja)
  say "configuring $BUILD (tests $tests, project store $projects)"
  if ! cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGLASSBOX_BUILD_GUI=OFF \
      -DGLASSBOX_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGLASSBOX_BUILD_TESTS:BOOL=$tests \
      -DGLASSBOX_PROJECTS:BOOL=$projects "${CMAKE_ARGS[@]}" >"$LOGS/configure.log" 2>&1; then
    phase_done build failed "$start" "configure failed: $(grep -m1 -i error "$LOGS/configure.log")"
    return
  fi
  say "building ${targets[*]} with $JOBS jobs"
  if ! cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" >"$LOGS/build.log" 2>&1; then
    phase_done build failed "$start" "build failed: $(grep -m1 -E 'error' "$LOGS/build.log")"
    return
  fi
  phase_done build ok "$start" "$detail"
}

ensure_built() {
  [[ -x "$CLI" ]] && return 0
  say "no glassbox-cli in $BUILD: building first"
  phase_build
  [[ -x "$CLI" ]]
}

phase_test() {
  local start=$SECONDS line
  ensure_built || { phase_done test failed "$start" "nothing built"; return; }
  if ! grep -qE '^GLASSBOX_BUILD_TESTS:[A-Z]+=ON' "$BUILD/CMakeCache.txt"; then
    record ctest.tsv gpu skipped "Qt6 missing: tests not built"
    phase_done test skipped "$start" "Qt6 missing: tests not built (carry .debs: --debs DIR)"
    return
  fi
  if [[ -z "$(gpu_test_names)" ]]; then
    record ctest.tsv gpu skipped "no tests/gpu/tst_*.cpp"
    phase_done test skipped "$start" "no gpu-labelled tests"
    return
  fi
  say "ctest -L gpu"
  ctest --test-dir "$BUILD" -L gpu --verbose --timeout 600 >"$LOGS/ctest-gpu.log" 2>&1
  local rc=$? skips
  skips="$(grep -c 'SKIP   :' "$LOGS/ctest-gpu.log")"
  line="$(grep -E 'tests passed|No tests were found' "$LOGS/ctest-gpu.log" | tail -1)"
  line="${line:+$line, $skips test functions skipped}"
  if [[ $rc == 0 ]]; then
    record ctest.tsv gpu pass "$line"
    phase_done test ok "$start" "$line"
  else
    record ctest.tsv gpu fail "${line:-ctest exit $rc}"
    phase_done test failed "$start" "${line:-ctest exit $rc}"
  fi
}

# One sanitizer tool on one test: NAME ENV CMD TOOL SANITIZER.
sanitize_one() {
  local name="$1" envs="$2" cmd="$3" tool="$4" sanitizer="$5" log="$LOGS/sanitize-$1-$4.log"
  local -a env_args cmd_args extra=()
  IFS=$'\x1f' read -ra env_args <<<"$envs"
  IFS=$'\x1f' read -ra cmd_args <<<"$cmd"
  [[ "$tool" == memcheck ]] && extra=(--leak-check full)
  local start=$SECONDS
  say "compute-sanitizer --tool $tool $name"
  env "${env_args[@]}" timeout "$SAN_TIMEOUT" "$sanitizer" --tool "$tool" "${extra[@]}" --error-exitcode 86 \
    --print-limit 50 "${cmd_args[@]}" >"$log" 2>&1
  local rc=$? errors note=""
  errors="$(grep -oE '(ERROR SUMMARY: [0-9]+ error|\([0-9]+ errors)' "$log" | tail -1 | grep -oE '[0-9]+')"
  [[ $rc == 124 ]] && note="timed out after ${SAN_TIMEOUT}s"
  [[ -z "$errors" && -z "$note" ]] && note="no summary line"
  record sanitize.tsv "$name" "$tool" "$errors" "$rc" "$((SECONDS - start))" "$(basename "$log")" "$note"
  [[ "$errors" == 0 && $rc == 0 ]]
}

phase_sanitize() {
  local start=$SECONDS sanitizer bad=0 runs=0 name envs cmd tool
  ensure_built || { phase_done sanitize failed "$start" "nothing built"; return; }
  sanitizer="$(find_sanitizer)"
  if [[ -z "$sanitizer" ]]; then
    phase_done sanitize failed "$start" "compute-sanitizer not found (PATH, /usr/local/cuda/bin)"
    return
  fi
  if ! grep -qE '^GLASSBOX_BUILD_TESTS:[A-Z]+=ON' "$BUILD/CMakeCache.txt" || [[ -z "$(gpu_test_names)" ]]; then
    phase_done sanitize skipped "$start" "no gpu test binaries (Qt6 missing or no tests/gpu/tst_*.cpp)"
    return
  fi
  while IFS=$'\t' read -r name envs cmd; do
    for tool in ${SAN_TOOLS//,/ }; do
      if out_of_time; then say "deadline reached: $tool $name not run"; bad=1; continue; fi
      runs=$((runs + 1))
      sanitize_one "$name" "$envs" "$cmd" "$tool" "$sanitizer" || bad=1
    done
  done < <(python3 "$ROOT/scripts/gpu_checks_report.py" tests "$BUILD" gpu)
  phase_done sanitize "$([[ $bad == 0 ]] && echo ok || echo failed)" "$start" "$runs runs"
}

# Writes MODELS_DIR/NAME.gguf unless present: NAME SHAPE TYPE.
make_model() {
  local name="$1" shape="$2" type="$3" path="$MODELS_DIR/$1.gguf" bytes avail start=$SECONDS
  [[ -f "$path" ]] && return 0
  bytes="$("$CLI" make-model --shape "$shape" --type "$type" --dry-run 2>"$LOGS/make-model-$name.log")"
  if [[ ! "$bytes" =~ ^[0-9]+$ ]]; then
    record models.tsv "$name" 0 0 "failed: $(tail -1 "$LOGS/make-model-$name.log")"
    return 1
  fi
  avail="$(df --output=avail -B1 "$MODELS_DIR" | tail -1)"
  if [[ "$avail" -lt $((bytes + (2 << 30))) ]]; then
    say "not enough disk for $name: $bytes bytes needed, $avail free"
    record models.tsv "$name" "$bytes" 0 "not written: $avail bytes free"
    return 1
  fi
  say "make-model $name ($((bytes >> 20)) MiB)"
  if "$CLI" make-model -o "$path" --shape "$shape" --type "$type" -t "$JOBS" >"$LOGS/make-model-$name.log" 2>&1; then
    record models.tsv "$name" "$bytes" "$((SECONDS - start))" ok
    say "  $name written in $((SECONDS - start)) s"
  else
    record models.tsv "$name" "$bytes" "$((SECONDS - start))" "failed: $(tail -1 "$LOGS/make-model-$name.log")"
    return 1
  fi
}

phase_models() {
  local start=$SECONDS bad=0 type
  ensure_built || { phase_done models failed "$start" "nothing built"; return; }
  for type in q4_0 q8_0 f16; do
    out_of_time && { say "deadline reached: $SHAPE-$type not written"; bad=1; continue; }
    make_model "$SHAPE-$type" "$SHAPE" "$type" || bad=1
  done
  phase_done models "$([[ $bad == 0 ]] && echo ok || echo failed)" "$start" "into $MODELS_DIR"
}

# gpu-bench on one model: NAME PATH.
bench_one() {
  local name="$1" path="$2" json="$STATE/bench/$1.json" log="$LOGS/gpu-bench-$1.log"
  say "gpu-bench $name"
  rm -f "$json"
  if timeout 540 "$CLI" gpu-bench -m "$path" -p 512 -n 128 -r 5 --json "$json" >"$log" 2>&1; then
    record bench.tsv "$name" ok "$json" ""
    grep -E '^(decode|prefill|gemm) ' "$log" | sed 's/^/    /'
  else
    record bench.tsv "$name" failed "" "$(grep -m1 '^error: ' "$log" | cut -c8- || tail -1 "$log")"
    return 1
  fi
}

phase_bench() {
  local start=$SECONDS bad=0 type f name
  ensure_built || { phase_done bench failed "$start" "nothing built"; return; }
  for type in q4_0 q8_0 f16; do
    name="$SHAPE-$type"
    out_of_time && { say "deadline reached: $name not benchmarked"; bad=1; continue; }
    make_model "$name" "$SHAPE" "$type" && bench_one "$name" "$MODELS_DIR/$name.gguf" || bad=1
    [[ $KEEP_MODELS == 1 ]] || rm -f "$MODELS_DIR/$name.gguf"
  done
  local smol=("$ROOT"/models/SmolLM2-135M-Instruct.*.gguf)
  if [[ -e "${smol[0]}" ]]; then
    for f in "${smol[@]}"; do
      name="smollm2-$(basename "$f" .gguf | sed 's/.*\.//' | tr 'A-Z' 'a-z')"
      out_of_time || bench_one "$name" "$f" || bad=1
    done
  else
    say "no models/SmolLM2-135M-Instruct.*.gguf: using SmolLM2-135M-shaped random models"
    for type in q4_1 q8_0 f16; do
      out_of_time && continue
      make_model "smollm2-random-$type" smollm2-135m "$type" &&
        bench_one "smollm2-random-$type" "$MODELS_DIR/smollm2-random-$type.gguf" || bad=1
    done
  fi
  phase_done bench "$([[ $bad == 0 ]] && echo ok || echo failed)" "$start" ""
}

# --- main ------------------------------------------------------------------------

say "phases $PHASES; build $BUILD; models $MODELS_DIR; summary into $OUT_DIR"
record_environment
[[ -n "$DEBS" ]] && use_debs
for phase in build test sanitize models bench; do
  wants "$phase" || continue
  if out_of_time; then
    record phases.tsv "$phase" "not run" 0 "deadline reached"
    continue
  fi
  say "--- $phase"
  "phase_$phase"
done
write_summary
cat "$OUT_DIR/summary.md"
say "summary: $OUT_DIR/summary.md, $OUT_DIR/summary.json, $OUT_DIR/logs.tar.gz"
exit $FAILED
