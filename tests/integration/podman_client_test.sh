#!/usr/bin/env bash
# Podman as an OCI client: rootless `podman --runtime RUNTIME run` of a busybox
# image must print what the container printed.
#
#   podman_client_test.sh ctr-runtime [PATH]   podman drives ctr-runtime
#                                              ($CTR_RUNTIME_BIN, else PATH)
#   podman_client_test.sh runc                 control: the same with runc, so a
#                                              ctr-runtime failure can be told
#                                              apart from a podman environment problem
#
# Runs as an ordinary user (scripts/test.sh runs it as the test user) in a
# private HOME/XDG tree of its own, so podman's storage and pause process
# never mix with another test's. The image is imported offline from the
# busybox fixture ($CTR_FIXTURES/busybox-rootfs, built here when missing).
#
# Exit status: 0 passed, 1 failed, 77 not run; when not run, prints
# "FILE:LINE: Skipped" and "REASON-ID: text" like GTEST_SKIP() (see README.md).
set -euo pipefail

variant=${1:?usage: podman_client_test.sh ctr-runtime [PATH] | runc}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=${CTR_SOURCE_DIR:-$(cd "$here/../.." && pwd)}

not_run() { # REASON-ID text
  echo "${BASH_SOURCE[0]}:${BASH_LINENO[0]}: Skipped"
  echo "$1: $2"
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

command -v podman >/dev/null || not_run NO-PODMAN "podman is not installed (apt-get install podman)"
[ "$(id -u)" -ne 0 ] ||
  not_run RUNS-AS-ROOT "this test checks rootless podman; run it as an ordinary user (scripts/test.sh does)"
me=$(id -un)
grep -qE "^($me|$(id -u)):" /etc/subuid ||
  not_run NO-SUBUID "$me has no range in /etc/subuid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $me)"

case $variant in
ctr-runtime)
  runtime=${CTR_RUNTIME_BIN:-${2:-}}
  [ -n "$runtime" ] || fail "set CTR_RUNTIME_BIN to the ctr-runtime to test"
  [ -x "$runtime" ] || fail "CTR_RUNTIME_BIN=$runtime is not an executable"
  ;;
runc)
  runtime=$(command -v runc) || not_run NO-RUNC "runc is not installed (apt-get install runc)"
  ;;
*) fail "unknown variant $variant" ;;
esac

# Directly under /tmp, not TMPDIR: with an XDG_RUNTIME_DIR longer than about
# 35 characters, podman 4.3 + conmon 2.1 miss the container's exit and wait
# out a 20 s timeout on every run (measured here).
work=$(mktemp -d /tmp/ctr-podman.XXXXXX)
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data \
  XDG_CACHE_HOME=$work/cache XDG_STATE_HOME=$work/state XDG_RUNTIME_DIR=$work/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME/containers" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
  # Image layers belong to subordinate IDs: remove the storage from inside
  # podman's user namespace, then stop the pause process that namespace
  # lives in (it was started for this private XDG_RUNTIME_DIR only).
  timeout 60 podman system reset --force >/dev/null 2>&1 || true
  local pause=$XDG_RUNTIME_DIR/libpod/tmp/pause.pid
  [ -f "$pause" ] && kill "$(cat "$pause")" 2>/dev/null
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# Rootless podman on these machines (see TESTING.md): no systemd as PID 1
# nor a user bus, so cgroupfs and a file event log; overlay explicitly, as
# podman 4.3 would otherwise pick vfs without saying so.
cat >"$XDG_CONFIG_HOME/containers/containers.conf" <<'EOF'
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$XDG_CONFIG_HOME/containers/storage.conf" <<'EOF'
[storage]
driver = "overlay"
EOF

rootfs=${CTR_FIXTURES:+$CTR_FIXTURES/busybox-rootfs}
if [ -z "$rootfs" ] || [ ! -e "$rootfs/.complete" ]; then
  rootfs=$work/busybox-rootfs
  bash "$source_dir/tests/fixtures/build-busybox-rootfs.sh" "$rootfs" ||
    fail "could not build the busybox fixture"
fi

podman_() { timeout 120 podman --runtime "$runtime" "$@"; }

if ! import_out=$(tar -C "$rootfs" -c . | podman_ import - localhost/busybox 2>&1); then
  fail "podman import of the busybox rootfs failed (a podman environment problem, not the runtime):
$import_out"
fi

run_args=(run --rm --network=none --cgroup-manager=cgroupfs localhost/busybox echo ok)
echo "+ podman --runtime $runtime ${run_args[*]}"
rc=0
out=$(podman_ "${run_args[@]}" 2>"$work/stderr") || rc=$?
echo "stdout: $out"
if [ "$rc" -eq 0 ] && [ "$out" = ok ]; then
  echo "PASSED: podman ran the container with $variant"
  exit 0
fi
echo "stderr:"
sed 's/^/  /' "$work/stderr"
echo "--- again with --log-level=debug (last 60 lines):"
podman_ --log-level=debug "${run_args[@]}" 2>&1 | tail -n 60 | sed 's/^/  /' || true
if [ "$variant" = runc ]; then
  fail "podman with runc (the control) exited $rc and printed '$out' instead of 'ok': podman does not work in this environment"
fi
fail "podman with ctr-runtime exited $rc and printed '$out' instead of 'ok' (if podman_client.runc_control passed, the runtime is at fault)"
