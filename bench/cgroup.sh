#!/usr/bin/env bash
# What the per-container systemd scope costs: `ctr run --rm busybox true`
# with the systemd cgroup manager (a transient ctr-ID.scope over the user
# bus, Delegate=yes, the shim and payload in two leaves) vs
# `--cgroup-manager none`, side by side in ONE hyperfine run, inside a real
# systemd user manager (scripts/lib.sh start_user_manager), as the test
# user. Target: the scope adds at most 10 ms. Both with --network=none, so
# the network helper's start (tens of ms) does not hide the difference.
#
#   bench/cgroup.sh          (as root, after scripts/setup.sh)
#
# Settings: CTR_BIN (default PREFIX/bin/ctr, else the build's), RUNS (30),
# WARMUP (3), OUT (hyperfine JSON).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
OUT=${OUT:-/tmp/ctr-bench-cgroup-$(date +%Y%m%d-%H%M%S).json}

is_root || die "run bench/cgroup.sh as root: it starts a systemd user manager for $CTR_TEST_USER"
if [ -z "${CTR_BIN:-}" ]; then
  if [ -x "$PREFIX/bin/ctr" ]; then CTR_BIN=$PREFIX/bin/ctr; else CTR_BIN=$(built_binary ctr); fi
fi
[ -n "$CTR_BIN" ] && [ -x "$CTR_BIN" ] || die "no ctr binary (run scripts/setup.sh, or set CTR_BIN)"
CTR_BIN=$(realpath "$CTR_BIN")
command -v hyperfine >/dev/null || die "hyperfine is not installed (scripts/setup.sh installs it)"
ensure_test_user
build_fixtures

make_session
# The shim and runtime that belong to CTR_BIN (installed side by side), not
# BUILD_DIR's, which make_session puts in the session environment.
bin_dir=$(dirname "$CTR_BIN")
if [ -x "$bin_dir/ctr-runtime" ] && [ -x "$bin_dir/ctr-shim" ]; then
  CTR_ENV=("${CTR_ENV[@]/#CTR_RUNTIME_BIN=*/CTR_RUNTIME_BIN=$bin_dir/ctr-runtime}")
  CTR_ENV=("${CTR_ENV[@]/#CTR_SHIM_BIN=*/CTR_SHIM_BIN=$bin_dir/ctr-shim}")
fi
trap 'stop_user_manager; remove_session' EXIT
start_user_manager || die "the systemd user manager did not start"
tar -C "$CTR_FIXTURES/busybox-rootfs" --exclude=./.complete -cf "$CTR_SESSION/busybox.tar" .
chmod 644 "$CTR_SESSION/busybox.tar"
: >"$CTR_SESSION/result.json"
chown "$CTR_TEST_USER" "$CTR_SESSION/result.json"

# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
S=$1 CTR=$2 RUNS=$3 WARMUP=$4
ctr_() { "$CTR" --root "$S/store" "$@"; }
ctr_ import -q "$S/busybox.tar" busybox >/dev/null
m=$(ctr_ info --format "{{.host.cgroupManager}}: {{.host.cgroupManagerReason}}")
case $m in systemd:*) ;; *) echo "no systemd cgroup manager here: $m" >&2; exit 1 ;; esac
[ "$(ctr_ run --rm --network=none busybox echo ok)" = ok ] || { echo "ctr run (systemd) failed" >&2; exit 1; }
[ "$(ctr_ --cgroup-manager none run --rm --network=none busybox echo ok)" = ok ] || { echo "ctr run (none) failed" >&2; exit 1; }
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$S/result.json" \
  -n "systemd scope" "$CTR --root $S/store run --rm --network=none busybox true" \
  -n "no cgroup" "$CTR --root $S/store --cgroup-manager none run --rm --network=none busybox true"
'
log "ctr run --rm busybox true: systemd scope vs --cgroup-manager none (in a systemd user manager, as $CTR_TEST_USER)"
in_user_manager bash -c "$inner" bash "$CTR_SESSION" "$CTR_BIN" "$RUNS" "$WARMUP"
cp "$CTR_SESSION/result.json" "$OUT"

mean() { jq ".results[] | select(.command == \"$1\") | .mean * 1000" "$OUT"; }
scope=$(mean "systemd scope") none=$(mean "no cgroup")
log "Result ($RUNS runs each)"
note "$(awk -v s="$scope" -v n="$none" 'BEGIN { printf "systemd scope %.1f ms, no cgroup %.1f ms: the scope adds %.1f ms (target <= 10 ms)", s, n, s - n }')"
note "hyperfine JSON: $OUT"
