#!/usr/bin/env bash
# ctr as real root (`sudo ctr run`): no user namespace (the container's
# uid_map is the identity over the whole ID space), the store and state in
# root's places, and the basic lifecycle (run --rm, run -d, ps, logs, stop,
# rm, wait) working there. A temporary --root and --runroot keep the
# machine's /var/lib/ctr and /run/ctr alone.
#
#   ctr_root_test.sh [CTR]     CTR: $CTR_BIN, else the argument
#
# scripts/test.sh runs it as root (ctest -L needs-root). Exit status: 0
# passed, 1 failed, 77 not run (prints "FILE:LINE: Skipped" and
# "REASON-ID: text" like GTEST_SKIP(), see README.md).
set -euo pipefail

not_run() { # REASON-ID text
  echo "${BASH_SOURCE[0]}:${BASH_LINENO[0]}: Skipped"
  echo "$1: $2"
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

ctr_bin=${CTR_BIN:-${1:-}}
[ -n "$ctr_bin" ] || fail "set CTR_BIN to the ctr to test"
[ -x "$ctr_bin" ] || fail "CTR_BIN=$ctr_bin is not an executable"
[ "$(id -u)" -eq 0 ] ||
  not_run NOT-ROOT "this test checks ctr run as root; run it as root (scripts/test.sh does when started as root)"
[ "$(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" = "0 0 4294967295" ] ||
  not_run NOT-REAL-ROOT "uid 0 here is not root of the initial user namespace (uid_map: $(cat /proc/self/uid_map))"
fixture=${CTR_FIXTURES:-/var/tmp/ctr-test-fixtures}/busybox-rootfs
[ -d "$fixture/bin" ] || fail "no busybox fixture at $fixture (scripts/test.sh builds it; or tests/fixtures/build-busybox-rootfs.sh)"

work=$(mktemp -d /tmp/ctr-root-test.XXXXXX)
store=$work/store
runroot=$work/run
ctr() { "$ctr_bin" --root "$store" --runroot "$runroot" "$@"; }
cleanup() {
  local id
  for id in $(ctr ps -a -q --no-trunc 2>/dev/null); do ctr rm -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# expect NAME EXPECTED ACTUAL
expect() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
  echo "ok: $1"
}

tar -C "$fixture" --exclude=./.complete -czf "$work/busybox.tgz" .
ctr import "$work/busybox.tgz" busybox >/dev/null || fail "ctr import as root"

# No user namespace: real root in the container, with the whole ID space.
expect "run --rm: id -u" 0 "$(ctr run --rm busybox id -u)"
expect "uid_map is the identity" "0 0 4294967295" "$(ctr run --rm busybox cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
expect "the store's files belong to root" "0:0" "$(stat -c %u:%g "$store/layers")"
expect "run --rm leaves no container" "" "$(ctr ps -a -q)"

# Detached: state under --runroot, logs, stop, rm.
id=$(ctr run -d --name rootweb busybox sh -c 'echo hello from root; exec sleep 60')
[ ${#id} -eq 64 ] || fail "run -d printed '$id', not an ID"
[ -d "$runroot/containers/$id" ] || fail "no shim state under --runroot ($runroot/containers/$id)"
[ -d "$runroot/runtime/$id" ] || fail "no OCI runtime state under --runroot ($runroot/runtime/$id)"
expect "ps shows it running" "rootweb Up" "$(ctr ps --format '{{.Names}} {{.Status}}' | cut -d' ' -f1-2)"
for _ in $(seq 50); do
  [ -n "$(ctr logs rootweb)" ] && break
  sleep 0.1
done
expect "logs" "hello from root" "$(ctr logs rootweb)"
pid=$(ctr inspect --format '{{.State.Pid}}' rootweb 2>/dev/null || true)
if [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null; then
  expect "the payload runs as host root" 0 "$(stat -c %u "/proc/$pid")"
fi
ctr stop -t 1 rootweb >/dev/null || fail "stop rootweb"
expect "wait after stop" 137 "$(ctr wait rootweb)"
expect "ps -a shows it exited" "Exited" "$(ctr ps -a --format '{{.Status}}' | cut -d' ' -f1)"
ctr rm rootweb >/dev/null || fail "rm rootweb"
expect "rm leaves no container" "" "$(ctr ps -a -q)"
[ ! -e "$runroot/containers/$id" ] || fail "shim state left behind in $runroot/containers/$id"
[ ! -e "$runroot/runtime/$id" ] || fail "runtime state left behind in $runroot/runtime/$id"
[ ! -e "$store/containers/$id" ] || fail "container storage left behind in $store/containers/$id"

# Exit codes and rm -f of a running container.
set +e
ctr run --rm busybox sh -c 'exit 3'
code=$?
set -e
expect "run --rm exit status" 3 "$code"
ctr run -d --name rootsleep busybox sleep 60 >/dev/null
ctr rm -f rootsleep >/dev/null || fail "rm -f rootsleep"
expect "rm -f leaves no container" "" "$(ctr ps -a -q)"
# Nothing of ours was mounted in the host's mount table.
if grep -q "$work" /proc/self/mountinfo; then fail "mounts left in the host namespace: $(grep "$work" /proc/self/mountinfo)"; fi
echo "PASSED"
