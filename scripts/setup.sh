#!/usr/bin/env bash
# Sets up ctr on a Debian 12 machine and runs a first rootless container.
#
#   scripts/setup.sh            (as root on a fresh machine, or as yourself)
#
# As root: installs the build, runtime and test dependencies with apt-get,
# creates the unprivileged user CTR_TEST_USER (default ctrtest) with
# subordinate IDs, builds with warnings as errors, installs into PREFIX
# (default /usr/local), and runs `echo hello from ctr` in a busybox container
# with ctr-runtime AS THAT USER: rootless is the point. As an ordinary user:
# the same without apt-get, installing into ~/.local, running as yourself.
#
# Settings: PREFIX, BUILD_DIR, BUILD_TYPE, JOBS, CTR_TEST_USER, CTR_FIXTURES
# (see scripts/lib.sh). Safe to run again; a second run is quick.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The installed binary when the run user can execute it, else the built one.
pick_runtime() {
  local installed=$PREFIX/bin/ctr-runtime
  if [ -x "$installed" ] && { ! uses_test_user || as_test_user test -x "$installed"; }; then
    echo "$installed"
  else
    built_binary ctr-runtime
  fi
}

hello_container() {
  local runtime bundle id out rc=0
  runtime=$(pick_runtime)
  [ -n "$runtime" ] || die "no ctr-runtime binary in $PREFIX/bin or $BUILD_DIR"
  make_session
  trap remove_session EXIT
  bundle=$CTR_SESSION/bundle
  id=hello-$$
  log "A rootless container, as $(run_user) (uid $(id -u "$(run_user)"))"
  note "bundle: $bundle (rootfs copied from $CTR_FIXTURES/busybox-rootfs)"
  in_session mkdir "$bundle"
  in_session cp -a --no-preserve=ownership "$CTR_FIXTURES/busybox-rootfs" "$bundle/rootfs"
  note "+ cd $bundle && $runtime spec --rootless"
  # shellcheck disable=SC2016 # expanded by the inner shell
  (cd / && in_session sh -c 'cd "$1" && exec "$2" spec --rootless' sh "$bundle" "$runtime") ||
    die "ctr-runtime spec --rootless failed"
  [ -s "$bundle/config.json" ] || die "ctr-runtime spec --rootless wrote no config.json in $bundle"
  note "+ jq '.process.terminal = false | .process.args = [\"echo\", \"hello\", \"from\", \"ctr\"]'"
  # shellcheck disable=SC2016 # expanded by the inner shell
  in_session sh -c 'jq "$2" "$1/config.json" > "$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"' \
    sh "$bundle" '.process.terminal = false | .process.args = ["echo", "hello", "from", "ctr"]'
  note "+ $runtime run --bundle $bundle $id"
  out=$(in_session "$runtime" run --bundle "$bundle" "$id" 2>&1 </dev/null) || rc=$?
  printf '%s\n' "$out" | sed 's/^/    | /'
  if [ "$rc" -ne 0 ] || ! grep -qx 'hello from ctr' <<<"$out"; then
    die "the container did not print 'hello from ctr' (ctr-runtime exited $rc)"
  fi
  log "Done: ctr-runtime is in $PREFIX/bin and runs rootless containers as $(run_user)"
}

install_deps
ensure_test_user
prepare_build_location
build_ctr
install_ctr
build_fixtures
hello_container
