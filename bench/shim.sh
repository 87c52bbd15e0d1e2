#!/usr/bin/env bash
# ctr-shim vs conmon, side by side, the same runtime (ctr-runtime) and the
# same busybox bundle for both:
#   1. idle cost: RSS and PSS (/proc/PID/smaps_rollup) of the supervisor
#      holding an idle container (`sleep`), after it settled;
#   2. log throughput: a container writing 1 GiB to stdout in 64-byte lines
#      (`yes LINE | head -c 1G`), logged in k8s-file format, timed from the
#      supervisor's start to its exit command, in ONE hyperfine run (compare
#      ratios, never absolute times across runs). A check run first verifies
#      that each logged exactly 16777216 lines (F records; conmon also writes
#      P records at read boundaries, which are not lines).
#
#   bench/shim.sh            (after scripts/setup.sh; as root it runs as CTR_TEST_USER)
#
# Settings: CTR_SHIM_BIN, CTR_RUNTIME_BIN (default PREFIX/bin, else the build's),
# RUNS (3), WARMUP (1), SIZE (bytes, default 1073741824), OUT (hyperfine JSON).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
SIZE=${SIZE:-1073741824}
OUT=${OUT:-/tmp/ctr-bench-shim-$(date +%Y%m%d-%H%M%S).json}

pick() { # name variable
  local value=${!2:-}
  if [ -z "$value" ]; then
    if [ -x "$PREFIX/bin/$1" ]; then value=$PREFIX/bin/$1; else value=$(built_binary "$1"); fi
  fi
  if [ -z "$value" ] || [ ! -x "$value" ]; then die "no $1 (run scripts/setup.sh first, or set $2)"; fi
  realpath "$value"
}
CTR_SHIM_BIN=$(pick ctr-shim CTR_SHIM_BIN)
CTR_RUNTIME_BIN=$(pick ctr-runtime CTR_RUNTIME_BIN)
for tool in hyperfine jq conmon; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs it)"
done
[ $((SIZE % 64)) -eq 0 ] || die "SIZE must be a multiple of 64 (one line is 64 bytes)"

# The part that runs as the unprivileged user.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
cd "$BENCH_DIR"
mkdir -p bundle idle flood root
cp -a --no-preserve=ownership "$CTR_FIXTURES/busybox-rootfs" bundle/rootfs
(cd bundle && "$CTR_RUNTIME_BIN" spec --rootless)
line=$(printf "%063d" 0 | tr 0 x)   # 63 characters + newline = 64 bytes
jq ".process.terminal = false | .root.path = \"$BENCH_DIR/bundle/rootfs\" |
    .process.args = [\"sh\", \"-c\", \"echo ready; exec sleep 100000\"]" bundle/config.json >idle/config.json
jq ".process.terminal = false | .root.path = \"$BENCH_DIR/bundle/rootfs\" |
    .process.args = [\"sh\", \"-c\", \"yes $line | head -c $SIZE\"]" bundle/config.json >flood/config.json
rt() { "$CTR_RUNTIME_BIN" --root "$BENCH_DIR/root" "$@"; }

# start_supervisor NAME ID BUNDLE DIR: starts ctr-shim or conmon for container
# ID, logging k8s-file to DIR/ctr.log. The exit command (a child of the
# supervisor) saves /proc/PPID/stat of the supervisor (its CPU time) to DIR/stat,
# then writes DIR/done (a fifo).
start_supervisor() {
  local name=$1 id=$2 bundle=$3 dir=$4
  local exit_script="read -r s </proc/\$PPID/stat; echo \"\$s\" >$dir/stat; echo done >$dir/done"
  rm -rf "$dir" && mkdir -p "$dir" && mkfifo "$dir/done"
  case $name in
  ctr-shim)
    "$CTR_SHIM_BIN" --id "$id" --bundle "$bundle" --state-dir "$dir" --runtime "$CTR_RUNTIME_BIN" \
      --runtime-arg --root --runtime-arg "$BENCH_DIR/root" --log-path "$dir/ctr.log" \
      --exit-command /bin/sh --exit-arg -c --exit-arg "$exit_script" ;;
  conmon)
    conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$CTR_RUNTIME_BIN" -b "$bundle" -p "$dir/container.pid" \
      --exit-dir "$dir" --persist-dir "$dir" --socket-dir-path "$dir" -l "k8s-file:$dir/ctr.log" --log-level error \
      --runtime-arg --root --runtime-arg "$BENCH_DIR/root" --conmon-pidfile "$dir/conmon.pid" \
      --exit-command /bin/sh --exit-command-arg -c --exit-command-arg "$exit_script" ;;
  esac
  for _ in $(seq 500); do [ -s "$dir/container.pid" ] && break; sleep 0.01; done
  rt start "$id"
}
supervisor_pid() { # NAME DIR
  if [ "$1" = ctr-shim ]; then cut -d" " -f1 "$2/shim.pid"; else cat "$2/conmon.pid"; fi
}
# The whole flood run (what hyperfine times): start, wait for the exit command, clean up.
flood() { # NAME
  local id=flood-$1-$$ dir=$BENCH_DIR/flood-$1
  start_supervisor "$1" "$id" "$BENCH_DIR/flood" "$dir"
  read -r _ <"$dir/done"
  rt delete --force "$id" >/dev/null 2>&1 || true
  [ -n "${KEEP_LOG:-}" ] || rm -f "$dir/ctr.log"
}
export -f rt start_supervisor supervisor_pid flood
export BENCH_DIR SIZE CTR_SHIM_BIN CTR_RUNTIME_BIN

echo
echo "$(uname -r); $(nproc) CPUs; as $(id -un); runtime $CTR_RUNTIME_BIN for both"
echo "Idle container (sleep), after 2 s:"
printf "    %-10s %10s %10s\n" supervisor "RSS (KiB)" "PSS (KiB)"
for name in ctr-shim conmon; do
  id=idle-$name-$$ dir=$BENCH_DIR/idle-$name
  start_supervisor "$name" "$id" "$BENCH_DIR/idle" "$dir"
  for _ in $(seq 500); do grep -q ready "$dir/ctr.log" 2>/dev/null && break; sleep 0.01; done
  sleep 2
  pid=$(supervisor_pid "$name" "$dir")
  rss=$(awk "/^Rss:/ {print \$2}" "/proc/$pid/smaps_rollup")
  pss=$(awk "/^Pss:/ {print \$2}" "/proc/$pid/smaps_rollup")
  printf "    %-10s %10s %10s\n" "$name" "$rss" "$pss"
  echo "$name $rss $pss" >>rss.txt
  rt kill "$id" KILL
  read -r _ <"$dir/done"
  rt delete --force "$id" >/dev/null 2>&1 || true
done

echo
expected=$((SIZE / 64))
echo "Check run: $SIZE bytes = $expected lines each"
for name in ctr-shim conmon; do
  KEEP_LOG=1 bash -c "flood $name"
  log=$BENCH_DIR/flood-$name/ctr.log
  lines=$(grep -c "^[^ ]* stdout F " "$log" || true)
  bytes=$(stat -c %s "$log")
  rm -f "$log"
  cpu=$(awk -v hz="$(getconf CLK_TCK)" "{ printf \"%.2f\", (\$14 + \$15) / hz }" "$BENCH_DIR/flood-$name/stat")
  if [ "$lines" = "$expected" ]; then
    echo "    $name: $lines lines logged, all of them ($bytes bytes of log); supervisor CPU ${cpu} s"
  else
    echo "    $name: LOST LINES: $lines of $expected logged"
    echo "$name" >>lost.txt
  fi
done

echo
# bash as hyperfine shell: it imports the exported functions (dash would drop them).
hyperfine --shell=bash --warmup "$WARMUP" --runs "$RUNS" --export-json results.json \
  -n ctr-shim "flood ctr-shim" -n conmon "flood conmon"
'

log "Bench: ctr-shim vs conmon $(conmon --version | head -n1 | awk '{print $3}') (idle RSS/PSS, log throughput of $SIZE bytes)"
note "ctr-shim: $CTR_SHIM_BIN; runtime: $CTR_RUNTIME_BIN"
ensure_test_user
build_fixtures
make_session
trap remove_session EXIT
BENCH_DIR=$CTR_SESSION/bench
CTR_ENV+=("BENCH_DIR=$BENCH_DIR" "CTR_SHIM_BIN=$CTR_SHIM_BIN" "CTR_RUNTIME_BIN=$CTR_RUNTIME_BIN" "SIZE=$SIZE"
  "RUNS=$RUNS" "WARMUP=$WARMUP")
in_session mkdir "$BENCH_DIR"
in_session bash -c "$inner"

log "Results"
printf '    %-10s %12s %10s %10s %10s %10s\n' supervisor "mean (s)" "± σ (s)" "MiB/s" "RSS (KiB)" "PSS (KiB)"
jq -r --argjson size "$SIZE" '.results[] | [.command, .mean, .stddev, ($size / 1048576 / .mean)] | @tsv' \
  "$BENCH_DIR/results.json" |
  while IFS=$'\t' read -r name mean sd rate; do
    read -r _ rss pss < <(grep "^$name " "$BENCH_DIR/rss.txt")
    printf '    %-10s %12.2f %10.2f %10.0f %10s %10s\n' "$name" "$mean" "$sd" "$rate" "$rss" "$pss"
  done
cp "$BENCH_DIR/results.json" "$OUT"
note "hyperfine JSON: $OUT"
if [ -s "$BENCH_DIR/lost.txt" ]; then
  die "lines were lost by: $(tr '\n' ' ' <"$BENCH_DIR/lost.txt")"
fi
