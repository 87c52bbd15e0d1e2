#!/usr/bin/env bash
# Builds ctr and runs the whole test suite, rootless.
#
#   scripts/test.sh [extra ctest arguments, e.g. -R podman]
#
# As root (a fresh Debian 12 machine, CI): installs the dependencies, creates
# the unprivileged test user (CTR_TEST_USER, default ctrtest) with subordinate
# IDs, builds, installs into PREFIX, builds the fixtures, and runs every test
# as that user with fresh HOME and XDG directories:
#   1. unit tests                  ctest -L unit
#   2. integration tests           ctest -L integration -LE needs-systemd
#   3. tests that need systemd     ctest -L needs-systemd, inside a systemd user
#                                  manager started for the test user
#   4. tests that need root        ctest -L needs-root, as root (`sudo ctr run`)
# As an ordinary user: the same, as yourself, without apt-get and with your
# own systemd user bus (if any) for step 3; step 4 is reported as not run
# (NOT-ROOT), which CI=true counts as a failure (CI runs as root).
#
# Tests get CTR_FIXTURES, CTR_RUNTIME_BIN, CTR_BIN, CTR_SHIM_BIN, CTR_BUILD_DIR,
# CTR_SOURCE_DIR and CI in their environment.
#
# Tests that cannot run say why with a reason ID ("NO-FOO: text", see
# README.md). With CI=true, a test that did not run fails the suite unless
# its reason ID is listed in tests/accepted-skips.txt.
#
# Exits non-zero if anything failed. Results (JUnit XML) are copied to
# BUILD_DIR/test-results/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACCEPTED_SKIPS_FILE=$CTR_SRC_DIR/tests/accepted-skips.txt
# Per test (unless the test sets TIMEOUT), and per phase: a hanging runtime
# must not eat CI's 90 minutes.
CTEST_TIMEOUT=${CTEST_TIMEOUT:-120}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-1500}
PHASES=()         # "name|junit file|ctest exit status"
SUMMARY_PARTS=()

# Prints the reason IDs of tests/accepted-skips.txt; dies on a line that is
# not "ID  # why".
read_accepted_skips() {
  local n=0 line
  [ -f "$ACCEPTED_SKIPS_FILE" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ $line =~ ^[[:space:]]*([A-Z0-9][A-Z0-9_-]*)[[:space:]]+#[[:space:]]*[^[:space:]] ]]; then
      echo "${BASH_REMATCH[1]}"
    else
      die "$ACCEPTED_SKIPS_FILE:$n: expected 'REASON-ID  # why this is an accepted environment limit', got: $line"
    fi
  done <"$ACCEPTED_SKIPS_FILE"
}

# For every test that did not run, prints "status<TAB>test<TAB>reason ID<TAB>message".
# The reason is the line after gtest's "file:line: Skipped" (scripts print
# the same two lines); "?" when there is none.
junit_not_run() {
  awk '
    function unxml(s) {
      gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s)
      gsub(/&apos;/, "\047", s); gsub(/&amp;/, "\\&", s); return s
    }
    /<testcase / {
      name = $0; sub(/.*<testcase name="/, "", name); sub(/".*/, "", name)
      status = ""
      if ($0 ~ /status="notrun"/) status = "not-run"
      else if ($0 ~ /status="disabled"/) status = "disabled"
      want = 0; id = ""; msg = ""
      next
    }
    status != "" && want && id == "" {
      line = $0; sub(/<\/system-out>.*/, "", line)
      if (match(line, /^[A-Z0-9][A-Z0-9_-]*: /)) {
        id = substr(line, 1, RLENGTH - 2); msg = substr(line, RLENGTH + 1)
      } else { id = "?"; msg = line }
      want = 0
      next
    }
    status != "" && /: Skipped$/ { want = 1; next }
    /<\/testcase>/ {
      if (status != "") print status "\t" name "\t" (id == "" ? "?" : id) "\t" unxml(msg)
      status = ""
    }
  ' "$@"
}

# Prints "tests failures skipped disabled" from a JUnit file's header.
junit_counts() {
  local attr out=""
  for attr in tests failures skipped disabled; do
    out+="$(grep -m1 -o "^[[:space:]]*$attr=\"[0-9]*\"" "$1" | grep -o '[0-9]*' || echo 0) "
  done
  echo "$out"
}

# Runs ctest for one phase as the run user. Arguments: phase name, runner
# function (in_session or in_user_manager), ctest arguments.
run_phase() {
  local name=$1 runner=$2
  shift 2
  local junit=$CTR_SESSION/results/$name.xml rc=0
  log "Tests: $name"
  "$runner" timeout --kill-after=30 "$PHASE_TIMEOUT" ctest --test-dir "$BUILD_DIR" --output-on-failure \
    --timeout "$CTEST_TIMEOUT" --output-junit "$junit" "$@" "${EXTRA_CTEST_ARGS[@]}" </dev/null || rc=$?
  [ "$rc" -ne 124 ] || warn "the $name tests took longer than PHASE_TIMEOUT=${PHASE_TIMEOUT}s and were stopped"
  PHASES+=("$name|$junit|$rc")
}

# Root only: runs a command as root with the session environment (the
# needs-root tests choose their own store and state directories).
as_root_in_session() {
  (cd / && env -i "${CTR_ENV[@]}" "$@")
}

# A phase that cannot run here: a JUnit file listing its tests as not run,
# with the reason where check_not_run looks for it.
# Arguments: phase name, REASON-ID, text, ctest arguments selecting the tests.
phase_not_run() {
  local name=$1 id=$2 text=$3
  shift 3
  local junit=$CTR_SESSION/results/$name.xml tests=() test
  mapfile -t tests < <(in_session ctest --test-dir "$BUILD_DIR" -N "$@" "${EXTRA_CTEST_ARGS[@]}" 2>/dev/null |
    sed -n 's/^ *Test *#[0-9]*: \(.*\)$/\1/p')
  log "Tests: $name (not run: $id)"
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="%s"\n\ttests="%d"\n\tfailures="0"\n' \
      "$name" "${#tests[@]}"
    printf '\tdisabled="0"\n\tskipped="%d"\n\t>\n' "${#tests[@]}"
    for test in "${tests[@]}"; do
      printf '\t<testcase name="%s" classname="%s" time="0" status="notrun">\n' "$test" "$test"
      printf '\t\t<system-out>%s: Skipped\n%s: %s\n</system-out>\n\t</testcase>\n' "${BASH_SOURCE[0]}" "$id" "$text"
    done
    printf '</testsuite>\n'
  } >"$junit"
  PHASES+=("$name|$junit|0")
}

count_tests() { # ctest label arguments...
  in_session ctest --test-dir "$BUILD_DIR" -N "$@" "${EXTRA_CTEST_ARGS[@]}" 2>/dev/null |
    sed -n 's/^Total Tests: \([0-9]*\)$/\1/p'
}

# Reports tests that did not run; with CI=true, returns non-zero if one of
# them has a reason ID that tests/accepted-skips.txt does not list.
check_not_run() {
  local accepted unaccepted=0 phase name junit rc status test id msg mark
  accepted=$(read_accepted_skips)
  local report=""
  for phase in "${PHASES[@]}"; do
    IFS='|' read -r name junit rc <<<"$phase"
    [ -f "$junit" ] || continue
    while IFS=$'\t' read -r status test id msg; do
      if [ "$status" = disabled ]; then
        mark="disabled in the code"
      elif [ "$id" != "?" ] && grep -qxF "$id" <<<"$accepted"; then
        mark="accepted (tests/accepted-skips.txt)"
      else
        mark="NOT ACCEPTED"
        unaccepted=$((unaccepted + 1))
      fi
      [ "$id" = "?" ] && msg="(no reason ID: start the skip message with 'REASON-ID: ') $msg"
      report+=$(printf '    %-40s %-14s %s\n      %s' "$test" "$id" "$mark" "$msg")$'\n'
    done < <(junit_not_run "$junit")
  done
  UNACCEPTED_SKIPS=$unaccepted
  [ -n "$report" ] || return 0
  log "Tests that did not run"
  printf '%s' "$report"
  if [ "$unaccepted" -gt 0 ]; then
    if [ "${CI:-}" = true ]; then
      note "CI=true: $unaccepted test(s) did not run for a reason that is not an accepted environment limit."
      note "Fix the environment (scripts/lib.sh), or list the reason ID in tests/accepted-skips.txt with why."
      return 1
    fi
    note "(CI=true would fail on the $unaccepted marked NOT ACCEPTED.)"
  fi
  return 0
}

cleanup() {
  local rc=$?
  stop_user_manager
  reap_session_processes
  if [ -n "${CTR_SESSION:-}" ] && [ -d "$CTR_SESSION/results" ]; then
    if mkdir -p "$BUILD_DIR/test-results" 2>/dev/null; then
      cp "$CTR_SESSION"/results/*.xml "$BUILD_DIR/test-results/" 2>/dev/null || true
    fi
  fi
  remove_session
  if [ -z "${SUMMARY_PRINTED:-}" ]; then
    printf '\n==> SUMMARY: stopped before the tests completed (exit status %s) => FAILED\n' "$rc"
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}

main() {
  EXTRA_CTEST_ARGS=("$@")
  trap cleanup EXIT
  install_deps
  ensure_test_user
  prepare_build_location
  build_ctr
  install_ctr
  build_fixtures
  make_session
  if uses_test_user; then
    # ctest writes its logs under BUILD_DIR/Testing as the test user.
    mkdir -p "$BUILD_DIR/Testing"
    chown -R "$CTR_TEST_USER" "$BUILD_DIR/Testing"
  fi
  rm -rf "$BUILD_DIR/test-results"
  log "Running as $(run_user); HOME and XDG directories under $CTR_SESSION"
  note "CTR_RUNTIME_BIN=$(built_binary ctr-runtime)  CTR_FIXTURES=$CTR_FIXTURES"

  run_phase unit in_session -L '^unit$' --no-tests=error -j "$JOBS"
  run_phase integration in_session_with_user_devices -L '^integration$' -LE '^(needs-systemd|needs-root)$' -j "$JOBS"

  local n
  n=$(count_tests -L '^needs-systemd$')
  if [ "${n:-0}" -gt 0 ]; then
    if uses_test_user; then
      log "Starting a systemd user manager for $CTR_TEST_USER (tests labelled needs-systemd)"
      if start_user_manager; then
        run_phase needs-systemd in_user_manager -L '^needs-systemd$' -j "$JOBS"
        stop_user_manager
      else
        run_phase needs-systemd in_session -L '^needs-systemd$' -j "$JOBS"
      fi
    else
      run_phase needs-systemd in_session -L '^needs-systemd$' -j "$JOBS"
    fi
  fi

  # ctr as root: one at a time, they are few and short.
  n=$(count_tests -L '^needs-root$')
  if [ "${n:-0}" -gt 0 ]; then
    if is_root; then
      run_phase needs-root as_root_in_session -L '^needs-root$'
    else
      phase_not_run needs-root NOT-ROOT "the tests of ctr as root need scripts/test.sh to run as root" -L '^needs-root$'
    fi
  fi

  local failed=0 phase name junit rc t f s d
  for phase in "${PHASES[@]}"; do
    IFS='|' read -r name junit rc <<<"$phase"
    if [ ! -f "$junit" ]; then
      SUMMARY_PARTS+=("$name: no results (ctest exit $rc)")
      failed=1
      continue
    fi
    read -r t f s d <<<"$(junit_counts "$junit")"
    SUMMARY_PARTS+=("$name: $((t - f - s - d))/$t passed, $f failed, $((s + d)) not run")
    [ "$rc" -eq 0 ] || failed=1
  done
  UNACCEPTED_SKIPS=0
  check_not_run || failed=1

  local verdict=PASSED
  [ "$failed" -eq 0 ] || verdict=FAILED
  [ "$UNACCEPTED_SKIPS" -eq 0 ] ||
    SUMMARY_PARTS+=("not run without an accepted reason: $UNACCEPTED_SKIPS")
  local summary part
  summary=${SUMMARY_PARTS[0]}
  for part in "${SUMMARY_PARTS[@]:1}"; do
    summary+="; $part"
  done
  printf '\n==> SUMMARY: %s => %s\n' "$summary" "$verdict"
  SUMMARY_PRINTED=1
  [ "$failed" -eq 0 ]
}

main "$@"
