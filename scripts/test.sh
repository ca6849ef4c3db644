#!/usr/bin/env bash
# Installs, builds and runs every Glassbox test; exits non-zero on any failure.
#
# Phases:
#   deps      scripts/setup-deps.sh (system packages, .venv)
#   models    scripts/fetch-models.sh (default model into models/)
#   build     scripts/build.sh (Release, build/)
#   ctest     every label (unit, model, fuzz, bench, ui) in build/, under
#             xvfb-run so that GUI tests have a display
#   san-build build-fuzz/: clang, ASan+UBSan everywhere, libFuzzer coverage
#             on every library, GUI off; only the test targets of the unit
#             and fuzz labels and the fuzz_* fuzzers are built
#   san-test  ctest -L 'unit|fuzz' in build-fuzz/ (blocking, like the rest)
#   fuzz      each fuzz_* for GLASSBOX_FUZZ_SECONDS (30) on a copy of its
#             seed corpus tests/fuzz/corpus/<name>/; crash inputs are kept
#             in build-fuzz/crashes/<name>/
#
# Usage: scripts/test.sh [--no-fuzz]
#   --no-fuzz   stop after the ctest phase (no sanitizer build, no fuzzing)
# Environment: GLASSBOX_BUILD_DIR, GLASSBOX_FUZZ_BUILD_DIR (build folders),
#              GLASSBOX_FUZZ_SECONDS, GLASSBOX_JOBS (build), GLASSBOX_CTEST_JOBS (2),
#              GLASSBOX_SKIP_APT=1
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GLASSBOX_BUILD_DIR:-$ROOT/build}"
FUZZ_BUILD="${GLASSBOX_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
FUZZ_SECONDS="${GLASSBOX_FUZZ_SECONDS:-30}"
JOBS="${GLASSBOX_JOBS:-$(nproc)}"
CTEST_JOBS="${GLASSBOX_CTEST_JOBS:-2}"
CRASHES="$FUZZ_BUILD/crashes"
LOGS="$FUZZ_BUILD/logs"

with_fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-fuzz) with_fuzz=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "test: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
export GLASSBOX_BUILD_DIR="$BUILD" GLASSBOX_JOBS="$JOBS"

PHASES=() ; TIMES=() ; CPUS=() ; RESULTS=()
TESTS_PASSED=0 ; TESTS_FAILED=0
failed=0

banner() { printf '\n==== [test] %s (%s) ====\n' "$1" "$(date +%H:%M:%S)"; }
# CPU seconds (user + system) used so far by finished child processes.
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"
child_cpu() {
  awk -v hz="$CLK_TCK" '{ printf "%d", ($16 + $17) / hz }' "/proc/$$/stat" 2>/dev/null || echo 0
}
record() { # name seconds cpu-seconds ok|FAILED|skipped
  PHASES+=("$1"); TIMES+=("$2"); CPUS+=("$3"); RESULTS+=("$4")
  [[ "$4" == "FAILED" ]] && failed=1
  return 0
}
# run_phase NAME COMMAND...: runs it, times it, records the outcome.
run_phase() {
  local name="$1"; shift
  banner "$name"
  local t0=$SECONDS c0 rc=0
  c0="$(child_cpu)"
  "$@" || rc=$?
  local dt=$((SECONDS - t0)) dc=$(( $(child_cpu) - c0 ))
  if [[ $rc -eq 0 ]]; then record "$name" "$dt" "$dc" ok
  else record "$name" "$dt" "$dc" FAILED; echo "[test] phase '$name' failed (exit $rc)"; fi
  return $rc
}
# Adds the "N tests failed out of M" counts of a ctest log to the totals.
count_ctest() {
  local line f n
  line="$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$1" | tail -1 || true)"
  [[ -n "$line" ]] || return 0
  f="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
  n="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
  TESTS_PASSED=$((TESTS_PASSED + n - f)); TESTS_FAILED=$((TESTS_FAILED + f))
}
summary() {
  printf '\n==== [test] summary ====\n'
  printf '%-10s %8s %12s  %s\n' phase seconds cpu-seconds result
  local i
  for i in "${!PHASES[@]}"; do
    printf '%-10s %8s %12s  %s\n' "${PHASES[$i]}" "${TIMES[$i]}" "${CPUS[$i]}" "${RESULTS[$i]}"
  done
  printf '%-10s %8s %12s\n' total "$SECONDS" "$(child_cpu)"
  if [[ -d "$CRASHES" ]] && [[ -n "$(find "$CRASHES" -type f 2>/dev/null | head -1)" ]]; then
    echo "fuzz crash inputs: $CRASHES (replay one with: build-fuzz/<fuzzer> <file>)"
  fi
  [[ $failed -eq 0 ]] && echo "[test] all phases passed" || echo "[test] FAILED"
  echo "summary: $TESTS_PASSED passed, $TESTS_FAILED failed"
}
finish() { summary; exit $(( failed != 0 )); }

# ---- install + build (a failure here stops everything) ----------------------
run_phase deps ./scripts/setup-deps.sh || finish
run_phase models ./scripts/fetch-models.sh || finish
run_phase build ./scripts/build.sh || finish

# ---- the full suite ---------------------------------------------------------
ctest_all() {
  local log="$BUILD/ctest-all.log" runner=()
  if command -v xvfb-run >/dev/null 2>&1; then
    runner=(xvfb-run -a -s "-screen 0 1920x1080x24")
  else
    echo "[test] xvfb-run not found: GUI tests run without a virtual display"
  fi
  "${runner[@]}" ctest --test-dir "$BUILD" --output-on-failure -j "$CTEST_JOBS" </dev/null 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  count_ctest "$log"
  return "$rc"
}
run_phase ctest ctest_all

[[ $with_fuzz -eq 1 ]] || finish

# ---- sanitizer + fuzz build -------------------------------------------------
FUZZERS=()
for src in tests/fuzz/fuzz_*.cpp; do
  [[ -e "$src" ]] && FUZZERS+=("$(basename "$src" .cpp)")
done

san_build() {
  command -v clang++ >/dev/null 2>&1 || { echo "[test] clang++ not found; run scripts/setup-deps.sh"; return 1; }
  if [[ ! -f "$FUZZ_BUILD/CMakeCache.txt" ]]; then
    local generator=() launcher=()
    command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
    command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # -fsanitize=fuzzer-no-link gives every library coverage instrumentation
    # for libFuzzer; GLASSBOX_SANITIZE adds ASan+UBSan to every target.
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_BUILD" "${generator[@]}" "${launcher[@]}" \
      -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
      -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
      -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
      -DGLASSBOX_FUZZ=ON -DGLASSBOX_SANITIZE=ON -DGLASSBOX_BUILD_GUI=OFF \
      -DGLASSBOX_CUDA=OFF || return 1
  else
    cmake "$FUZZ_BUILD" >/dev/null || return 1
  fi
  # The executables behind the unit- and fuzz-labelled tests, plus the fuzzers.
  # Before a build CTest knows no command path, so the test's name (which is
  # its target's name) stands in for it.
  local targets=()
  mapfile -t targets < <(ctest --test-dir "$FUZZ_BUILD" --show-only=json-v1 2>/dev/null |
    python3 -c '
import json, os, sys
seen = set()
for t in json.load(sys.stdin).get("tests", []):
    labels = set()
    for p in t.get("properties", []):
        if p.get("name") == "LABELS":
            labels.update(p.get("value") or [])
    if not labels & {"unit", "fuzz"}:
        continue
    cmd = t.get("command") or []
    name = os.path.basename(cmd[0]) if cmd else t.get("name", "")
    if name and name not in seen:
        seen.add(name); print(name)
')
  targets+=("${FUZZERS[@]}")
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "[test] no unit or fuzz test targets yet"
    return 0
  fi
  echo "[test] building ${#targets[@]} targets: ${targets[*]}"
  cmake --build "$FUZZ_BUILD" -j "$JOBS" --target "${targets[@]}"
}

san_test() {
  local log="$FUZZ_BUILD/ctest-sanitize.log"
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    ctest --test-dir "$FUZZ_BUILD" -L 'unit|fuzz' --output-on-failure -j "$CTEST_JOBS" </dev/null 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  count_ctest "$log"
  return "$rc"
}

fuzz_all() {
  if [[ ${#FUZZERS[@]} -eq 0 ]]; then
    echo "[test] no fuzz targets (tests/fuzz/fuzz_*.cpp)"
    return 0
  fi
  mkdir -p "$LOGS"
  local name bin work rc bad=0
  for name in "${FUZZERS[@]}"; do
    bin="$FUZZ_BUILD/tests/fuzz/$name"
    [[ -x "$bin" ]] || bin="$(find "$FUZZ_BUILD" -type f -name "$name" -perm -u+x | head -1)"
    if [[ -z "$bin" || ! -x "$bin" ]]; then
      echo "[test] $name: binary not built"; bad=1; TESTS_FAILED=$((TESTS_FAILED + 1)); continue
    fi
    work="$(mktemp -d "${TMPDIR:-/tmp}/glassbox-$name.XXXXXX")"
    [[ -d "tests/fuzz/corpus/$name" ]] && cp -R "tests/fuzz/corpus/$name/." "$work/"
    rm -rf "$CRASHES/$name"; mkdir -p "$CRASHES/$name"
    local extra=()
    [[ -f "tests/fuzz/$name.dict" ]] && extra+=("-dict=tests/fuzz/$name.dict")
    echo "[test] fuzzing $name for ${FUZZ_SECONDS}s ($(find "$work" -type f | wc -l) seed inputs)"
    rc=0
    "$bin" "$work" "${extra[@]}" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=30 \
      -print_final_stats=1 -artifact_prefix="$CRASHES/$name/" </dev/null >"$LOGS/$name.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
      echo "[test] $name: ok ($(grep -E 'stat::number_of_executed_units' "$LOGS/$name.log" | awk '{print $2}') runs)"
      TESTS_PASSED=$((TESTS_PASSED + 1))
      rmdir "$CRASHES/$name" 2>/dev/null || true
    else
      echo "[test] $name: FAILED (exit $rc); log: $LOGS/$name.log; inputs: $CRASHES/$name/"
      tail -n 40 "$LOGS/$name.log"
      bad=1; TESTS_FAILED=$((TESTS_FAILED + 1))
    fi
    rm -rf "$work"
  done
  return $bad
}

if run_phase san-build san_build; then
  run_phase san-test san_test
  run_phase fuzz fuzz_all
else
  record san-test 0 0 skipped
  record fuzz 0 0 skipped
fi
finish
