# shellcheck shell=bash
# Shared functions for scripts/setup.sh, scripts/test.sh and bench/runtime.sh.
# Source it; it only defines variables and functions.
#
# Settings (environment):
#   PREFIX          install prefix (default /usr/local as root, ~/.local otherwise)
#   BUILD_DIR       CMake build directory (default <checkout>/build)
#   BUILD_TYPE      CMake build type (default RelWithDebInfo)
#   JOBS            parallel build/test jobs (default: number of CPUs)
#   CTR_TEST_USER   unprivileged user that runs containers when we are root (default ctrtest)
#   CTR_FIXTURES    fixture cache (default /var/tmp/ctr-test-fixtures as root,
#                   ${XDG_CACHE_HOME:-~/.cache}/ctr-test-fixtures otherwise)

umask 022

CTR_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTR_TEST_USER=${CTR_TEST_USER:-ctrtest}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
if [ "$(id -u)" -eq 0 ]; then
  PREFIX=${PREFIX:-/usr/local}
  CTR_FIXTURES=${CTR_FIXTURES:-/var/tmp/ctr-test-fixtures}
else
  PREFIX=${PREFIX:-$HOME/.local}
  CTR_FIXTURES=${CTR_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/ctr-test-fixtures}
fi
# Where the build happens. Not final until prepare_build_location has run:
# it moves the build when the test user cannot reach the checkout.
CTR_BUILD_SRC=$CTR_SRC_DIR
BUILD_DIR=${BUILD_DIR:-$CTR_SRC_DIR/build}

CTR_BUILD_DEPS=(build-essential cmake pkg-config libsystemd-dev nlohmann-json3-dev
  libseccomp-dev libarchive-dev libssl-dev libzstd-dev libcli11-dev libgtest-dev libgmock-dev googletest)
CTR_RUNTIME_DEPS=(uidmap busybox-static file passt slirp4netns)
CTR_TEST_DEPS=(crun runc podman conmon hyperfine time jq dbus-user-session systemd skopeo umoci debootstrap
  fuse-overlayfs tmux bash-completion zsh fish bsdutils iperf3 python3)

log() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# True when containers run as a separate unprivileged user (we are root).
uses_test_user() { is_root && [ "$CTR_TEST_USER" != root ]; }

# The user that runs tests and containers: the test user as root, else ourselves.
run_user() { if uses_test_user; then echo "$CTR_TEST_USER"; else id -un; fi; }

# ---------------------------------------------------------------- packages

# Runs apt-get update unless the package lists are less than an hour old.
apt_update_if_stale() {
  local stamp=/var/lib/apt/periodic/ctr-update-success-stamp
  local fresh
  fresh=$(find "$stamp" /var/lib/apt/lists -maxdepth 0 -mmin -60 2>/dev/null | head -n1 || true)
  if [ -n "$fresh" ] && compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
    note "apt package lists are less than an hour old; not updating them"
    return 0
  fi
  apt-get update
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
}

# Installs the build, runtime and test dependencies (root only).
install_deps() {
  local pkgs=("${CTR_BUILD_DEPS[@]}" "${CTR_RUNTIME_DEPS[@]}" "${CTR_TEST_DEPS[@]}")
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      missing+=("$p")
  done
  log "Dependencies (${#pkgs[@]} Debian packages)"
  if [ ${#missing[@]} -eq 0 ]; then
    note "all installed"
    return 0
  fi
  if ! is_root; then
    note "not root, so not running apt-get. Missing: ${missing[*]}"
    note "install them with: sudo apt-get install ${missing[*]}"
    return 0
  fi
  note "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update_if_stale
  apt-get install -y "${missing[@]}" </dev/null
}

# ---------------------------------------------------------------- test user

# Runs a command as the test user with the current environment trimmed by the caller.
as_test_user() {
  setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups -- "$@"
}

# Prints the first ID after the end of every range in a subordinate-ID file.
next_free_subid() {
  awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 ~ /^[0-9]+$/ { e = $2 + $3; if (e > m) m = e } END { print m }' "$1"
}

# Makes sure the user has a 65536-wide range in /etc/subuid (or subgid).
ensure_subids() { # kind (uid|gid)
  local kind=$1 file=/etc/sub$1 user=$CTR_TEST_USER uid start
  uid=$(id -u "$user")
  touch "$file"
  if grep -qE "^($user|$uid):" "$file"; then
    return 0
  fi
  start=$(next_free_subid "$file")
  note "adding subordinate ${kind}s $start-$((start + 65535)) for $user"
  usermod "--add-sub${kind}s" "$start-$((start + 65535))" "$user"
}

# Creates the unprivileged test user with subordinate IDs (root only).
ensure_test_user() {
  if ! uses_test_user; then
    local me
    me=$(id -un)
    grep -qE "^($me|$(id -u)):" /etc/subuid 2>/dev/null ||
      warn "$me has no range in /etc/subuid: rootless tests that need newuidmap will fail or be reported as not run (ask an admin for: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $me)"
    return 0
  fi
  log "Test user $CTR_TEST_USER"
  if ! id -u "$CTR_TEST_USER" >/dev/null 2>&1; then
    # Debian's useradd also adds 65536-wide ranges to /etc/subuid and /etc/subgid.
    useradd --create-home --shell /bin/bash "$CTR_TEST_USER"
    note "created"
  fi
  ensure_subids uid
  ensure_subids gid
  note "$(id "$CTR_TEST_USER"); subuid $(grep -E "^($CTR_TEST_USER|$(id -u "$CTR_TEST_USER")):" /etc/subuid | head -n1)"
  if ! as_test_user env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ unshare --user --map-auto --map-root-user true 2>/dev/null; then
    warn "$CTR_TEST_USER cannot create a user namespace with its subordinate IDs (newuidmap from the uidmap package, kernel.unprivileged_userns_clone)"
  fi
}

# ---------------------------------------------------------------- build

# The test user must be able to read the build and the sources (ctest runs
# scripts from the source tree). When the checkout sits under a private
# directory (say /root), build a copy under /var/tmp instead of loosening the
# permissions of somebody's home.
prepare_build_location() {
  uses_test_user || return 0
  if as_test_user test -r "$CTR_SRC_DIR/CMakeLists.txt" &&
    as_test_user test -x "$(dirname "$BUILD_DIR")"; then
    return 0
  fi
  local work
  work=/var/tmp/ctr-build-$(printf '%s' "$CTR_SRC_DIR" | md5sum | cut -c1-12)
  log "Build location"
  note "$CTR_TEST_USER cannot read $CTR_SRC_DIR or $(dirname "$BUILD_DIR") (a parent directory is private)"
  note "building a copy of the checkout in $work instead"
  mkdir -p "$work"
  chmod 755 "$work"
  rm -rf "$work/src.new"
  mkdir "$work/src.new"
  # tar keeps modification times, so an unchanged file does not rebuild.
  tar -C "$CTR_SRC_DIR" --exclude='./build*' --exclude=./.cache -cf - . | tar -C "$work/src.new" -xf -
  rm -rf "$work/src"
  mv "$work/src.new" "$work/src"
  CTR_BUILD_SRC=$work/src
  BUILD_DIR=$work/build
}

# Configures and builds with warnings as errors.
build_ctr() {
  log "Build ($BUILD_TYPE) in $BUILD_DIR"
  cmake -S "$CTR_BUILD_SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCTR_WERROR=ON \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" || die "cmake configure failed"
  cmake --build "$BUILD_DIR" -j "$JOBS" || die "build failed"
}

install_ctr() {
  log "Install into $PREFIX"
  cmake --install "$BUILD_DIR" --prefix "$PREFIX" | sed 's/^/    /'
}

# Path of a built binary, by target name, or nothing.
built_binary() { # name
  local candidate
  for candidate in "$BUILD_DIR/runtime/$1" "$BUILD_DIR/cmd/$1" "$BUILD_DIR/shim/$1" "$BUILD_DIR/$1"; do
    [ -x "$candidate" ] && [ -f "$candidate" ] && {
      echo "$candidate"
      return 0
    }
  done
  return 0
}

# ---------------------------------------------------------------- fixtures

# Builds the test images (cached; each builder is a no-op when its output exists).
# The cache is built by us (root when root) and only read by tests: a test
# that needs a writable or user-owned rootfs copies it.
build_fixtures() {
  log "Fixtures in $CTR_FIXTURES"
  mkdir -p "$CTR_FIXTURES"
  bash "$CTR_SRC_DIR/tests/fixtures/build-busybox-rootfs.sh" "$CTR_FIXTURES/busybox-rootfs"
  # The Debian images (debootstrap + umoci + skopeo) need root; about a
  # minute the first time, seconds when only the script changed.
  if is_root; then
    bash "$CTR_SRC_DIR/tests/fixtures/build-debian-image.sh" "$CTR_FIXTURES/debian" ||
      die "could not build the Debian test images (tests/fixtures/build-debian-image.sh)"
    note "debian: $(cd "$CTR_FIXTURES/debian" && echo *.tar oci/)"
  elif [ ! -e "$CTR_FIXTURES/debian/.complete" ]; then
    warn "no Debian test images in $CTR_FIXTURES/debian: they need root (sudo tests/fixtures/build-debian-image.sh $CTR_FIXTURES/debian); the tests that use them will be skipped"
  fi
  # Not the whole cache: the debootstrap tree there keeps Debian's modes
  # (/etc/shadow 0640, /root 0700), which the images are packed from.
  chmod -R a+rX "$CTR_FIXTURES/busybox-rootfs" 2>/dev/null || true
  note "busybox-rootfs: $(find "$CTR_FIXTURES/busybox-rootfs" -mindepth 1 | wc -l) entries"
}

# ---------------------------------------------------------------- session

# Makes fresh HOME and XDG directories for the run user and fills CTR_ENV
# with the environment tests and containers get. Sets CTR_SESSION.
make_session() {
  CTR_SESSION=$(mktemp -d "/tmp/ctr-test.XXXXXX")
  chmod 755 "$CTR_SESSION"
  mkdir -p "$CTR_SESSION"/{home,config,data,cache,state,tmp,results}
  mkdir -m 700 "$CTR_SESSION/run"
  if uses_test_user; then
    chown -R "$CTR_TEST_USER:$(id -g "$CTR_TEST_USER")" "$CTR_SESSION"
  fi
  local user path
  user=$(run_user)
  path="$PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  uses_test_user || path="$path:$PATH"
  CTR_ENV=(
    "HOME=$CTR_SESSION/home" "USER=$user" "LOGNAME=$user" "PATH=$path" "LANG=C.UTF-8"
    "SHELL=/bin/sh" "TMPDIR=$CTR_SESSION/tmp"
    "XDG_CONFIG_HOME=$CTR_SESSION/config" "XDG_DATA_HOME=$CTR_SESSION/data"
    "XDG_CACHE_HOME=$CTR_SESSION/cache" "XDG_STATE_HOME=$CTR_SESSION/state"
    "XDG_RUNTIME_DIR=$CTR_SESSION/run"
    "CTR_FIXTURES=$CTR_FIXTURES" "CTR_BUILD_DIR=$BUILD_DIR" "CTR_SOURCE_DIR=$CTR_BUILD_SRC"
    "CTR_RUNTIME_BIN=$(built_binary ctr-runtime)"
    "CTR_BIN=$(built_binary ctr)" "CTR_SHIM_BIN=$(built_binary ctr-shim)"
    "CI=${CI:-}"
  )
  # An ordinary user on a desktop keeps their systemd user bus: the tests
  # labelled needs-systemd use it. (As root we start a manager ourselves.)
  if ! uses_test_user; then
    local bus=${DBUS_SESSION_BUS_ADDRESS:-}
    if [ -z "$bus" ] && [ -S "/run/user/$(id -u)/bus" ]; then
      bus="unix:path=/run/user/$(id -u)/bus"
    fi
    if [ -n "$bus" ]; then
      CTR_ENV+=("DBUS_SESSION_BUS_ADDRESS=$bus")
    fi
  fi
}

# Runs a command as the run user with exactly the session environment, from /.
in_session() {
  if uses_test_user; then
    (cd / && as_test_user env -i "${CTR_ENV[@]}" "$@")
  else
    (cd / && env -i "${CTR_ENV[@]}" "$@")
  fi
}

# Like in_session, but inside a private mount namespace where the test user
# can open /dev/fuse and /dev/net/tun, as on distributions whose udev makes
# them 0666 (fuse-overlayfs, pasta and slirp4netns need them). These machines
# have them 0600 root (TESTING.md); the machine's own /dev is left alone.
# Without root, the same as in_session.
in_session_with_user_devices() {
  uses_test_user || {
    in_session "$@"
    return
  }
  local setup='
    set -e
    mount --make-rprivate /
    nodes=$(mktemp -d /tmp/ctr-devices.XXXXXX)
    mount -t tmpfs -o mode=755 ctr-devices "$nodes"
    if [ -e /dev/fuse ]; then mknod -m 666 "$nodes/fuse" c 10 229; mount --bind "$nodes/fuse" /dev/fuse; fi
    if [ -e /dev/net/tun ]; then mknod -m 666 "$nodes/tun" c 10 200; mount --bind "$nodes/tun" /dev/net/tun; fi
    umount -l "$nodes" && rmdir "$nodes"
    exec "$@"'
  (cd / && unshare --mount -- bash -c "$setup" ctr-devices \
    setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups -- \
    env -i "${CTR_ENV[@]}" "$@")
}

# Root only: kills the test user's processes that still refer to this
# session (command line or environment) once the tests are over, and says so:
# a test or the runtime leaked them. Other processes of that user are left alone.
reap_session_processes() {
  if [ -z "${CTR_SESSION:-}" ] || ! uses_test_user; then
    return 0
  fi
  local uid proc pid state leaked=()
  uid=$(id -u "$CTR_TEST_USER")
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [ "$(stat -c %u "$proc" 2>/dev/null)" = "$uid" ] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$proc/status" 2>/dev/null)
    case $state in '' | Z) continue ;; esac
    if grep -qaF "$CTR_SESSION" "$proc/cmdline" "$proc/environ" 2>/dev/null; then
      leaked+=("$pid")
    fi
  done
  [ ${#leaked[@]} -gt 0 ] || return 0
  warn "${#leaked[@]} process(es) of $CTR_TEST_USER outlived the tests; killing them:"
  ps -o pid,ppid,etime,args -p "$(IFS=,; echo "${leaked[*]}")" | sed 's/^/    /' >&2 || true
  kill -KILL "${leaked[@]}" 2>/dev/null || true
}

# Removes the session directory (files written by containers may belong to
# subordinate IDs: only root or the user's namespace can remove those).
remove_session() {
  [ -n "${CTR_SESSION:-}" ] && [ -d "$CTR_SESSION" ] || return 0
  if [ -n "${CTR_KEEP_SESSION:-}" ]; then
    note "kept $CTR_SESSION (CTR_KEEP_SESSION is set)"
    return 0
  fi
  rm -rf "$CTR_SESSION" 2>/dev/null && return 0
  command -v podman >/dev/null && in_session podman unshare rm -rf "$CTR_SESSION" 2>/dev/null
  rm -rf "$CTR_SESSION" 2>/dev/null || warn "could not remove all of $CTR_SESSION"
}

# ---------------------------------------------------------------- systemd

# Starts a systemd user manager for the test user (root only), the way
# /work/shared/TESTING.md describes: a private mount namespace with
# /run/systemd/system, a private /run/user and a pure cgroup2 view, the
# manager in a delegated cgroup of its own (unique per run, so concurrent
# runs do not share it). Sets CTR_MANAGER_PID; returns non-zero if the
# manager or its bus did not come up.
# The manager's mount namespace gets user-usable /dev/fuse and /dev/net/tun
# as in_session_with_user_devices does (pasta and fuse-overlayfs need them).
start_user_manager() {
  local uid gid cg _
  uid=$(id -u "$CTR_TEST_USER")
  gid=$(id -g "$CTR_TEST_USER")
  CTR_MANAGER_CGROUP=ctr-test-$$-$RANDOM
  cg=/sys/fs/cgroup/$CTR_MANAGER_CGROUP/user.slice/user-$uid.slice/user@$uid.service
  mkdir -p /run/user
  unshare --mount -- sh -c "
    set -e
    mount --make-rprivate /
    mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system
    mount -t tmpfs -o mode=755 tmpfs /run/user
    mount -t cgroup2 none /sys/fs/cgroup
    mount -t tmpfs -o mode=755 ctr-devices /run/systemd/system
    for node in fuse:229 net/tun:200; do
      [ -e /dev/\${node%:*} ] || continue
      mknod -m 666 /run/systemd/system/dev-node c 10 \${node#*:}
      mount --bind /run/systemd/system/dev-node /dev/\${node%:*}
      rm /run/systemd/system/dev-node
    done
    umount -l /run/systemd/system
    mkdir -p $cg && chown -R $uid:$gid /sys/fs/cgroup/$CTR_MANAGER_CGROUP/user.slice
    echo \$\$ > $cg/cgroup.procs
    install -d -o $uid -g $gid -m 700 /run/user/$uid
    exec setpriv --reuid=$uid --regid=$gid --init-groups -- env -i HOME=$CTR_SESSION/home \
      USER=$CTR_TEST_USER LOGNAME=$CTR_TEST_USER XDG_RUNTIME_DIR=/run/user/$uid \
      PATH=/usr/local/bin:/usr/bin:/bin /lib/systemd/systemd --user
  " >"$CTR_SESSION/systemd-user.log" 2>&1 </dev/null &
  CTR_MANAGER_PID=$!
  for _ in $(seq 100); do
    if nsenter -t "$CTR_MANAGER_PID" -m -- test -S "/run/user/$uid/bus" 2>/dev/null; then
      return 0
    fi
    kill -0 "$CTR_MANAGER_PID" 2>/dev/null || break
    sleep 0.1
  done
  warn "the systemd user manager did not come up; its log:"
  sed 's/^/    /' "$CTR_SESSION/systemd-user.log" >&2 || true
  stop_user_manager
  return 1
}

stop_user_manager() {
  [ -n "${CTR_MANAGER_PID:-}" ] || return 0
  kill "$CTR_MANAGER_PID" 2>/dev/null || true
  local _
  for _ in $(seq 50); do
    kill -0 "$CTR_MANAGER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$CTR_MANAGER_PID" 2>/dev/null || true
  wait "$CTR_MANAGER_PID" 2>/dev/null || true
  CTR_MANAGER_PID=
  # The manager's cgroups live in the machine's cgroup2 tree: remove the empty ones.
  local root=/sys/fs/cgroup/unified
  [ -d /sys/fs/cgroup/unified ] || root=/sys/fs/cgroup
  if [ -n "${CTR_MANAGER_CGROUP:-}" ] && [ -d "$root/$CTR_MANAGER_CGROUP" ]; then
    find "$root/$CTR_MANAGER_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
}

# Runs a command as a transient service of the user manager (inside the
# manager's tree, as in a desktop terminal), with the session environment
# except XDG_RUNTIME_DIR, which is the manager's.
in_user_manager() {
  local uid env_args=() kv
  uid=$(id -u "$CTR_TEST_USER")
  for kv in "${CTR_ENV[@]}"; do
    case $kv in
    XDG_RUNTIME_DIR=*) ;;
    *) env_args+=("--setenv=$kv") ;;
    esac
  done
  env_args+=("--setenv=XDG_RUNTIME_DIR=/run/user/$uid"
    "--setenv=DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus")
  (cd / && nsenter -t "$CTR_MANAGER_PID" -m -- setpriv --reuid="$uid" --regid="$(id -g "$CTR_TEST_USER")" \
    --init-groups -- env -i "HOME=$CTR_SESSION/home" PATH=/usr/bin:/bin "XDG_RUNTIME_DIR=/run/user/$uid" \
    "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus" \
    systemd-run --user --quiet --wait --pipe --collect --working-directory=/ "${env_args[@]}" "$@" </dev/null)
}
