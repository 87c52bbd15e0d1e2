#!/usr/bin/env bash
# Image load speed: `ctr load` vs `podman load` of a Debian minbase
# docker-archive, side by side in ONE hyperfine run (compare the ratio, not
# absolute times across runs), both stores on the same tmpfs (TESTING.md:
# ext4 without a journal scatters unpack times), rootless, as the test user.
# Then: loading a second image that shares the base layer must not store a
# second copy of it (du of the ctr store grows by ~0).
#
#   bench/load.sh          (as root, after scripts/setup.sh)
#
# The Debian image is built once and cached under /var/tmp/ctr-bench/:
# `debootstrap --variant=minbase bookworm`, imported into podman and saved
# with `podman save --format docker-archive`; a second archive adds one small
# layer on top of the same base layer (made with jq, no container run).
#
# Settings: CTR_BIN (default PREFIX/bin/ctr, else the build's), RUNS (10),
# WARMUP (1), SUITE (bookworm), MIRROR (http://deb.debian.org/debian),
# OUT (hyperfine JSON; default /tmp/ctr-bench-load-DATE.json).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
OUT=${OUT:-/tmp/ctr-bench-load-$(date +%Y%m%d-%H%M%S).json}
CACHE=/var/tmp/ctr-bench

is_root || die "run bench/load.sh as root: it builds the Debian image with debootstrap and mounts a private tmpfs"
if [ -z "${CTR_BIN:-}" ]; then
  if [ -x "$PREFIX/bin/ctr" ]; then CTR_BIN=$PREFIX/bin/ctr; else CTR_BIN=$(built_binary ctr); fi
fi
[ -n "$CTR_BIN" ] && [ -x "$CTR_BIN" ] || die "no ctr binary (run scripts/setup.sh, or set CTR_BIN)"
CTR_BIN=$(realpath "$CTR_BIN")
for tool in hyperfine jq podman debootstrap sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
id -u "$CTR_TEST_USER" >/dev/null 2>&1 || die "no user $CTR_TEST_USER (scripts/setup.sh creates it)"
mkdir -p "$CACHE"
chmod 755 "$CACHE"

# Runs a script as the test user with a private podman set-up under $1
# (HOME, XDG dirs, containers.conf and storage.conf as TESTING.md says).
as_user_with_podman() { # base-dir script [args]
  local base=$1 script=$2
  shift 2
  setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups -- env -i \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin B="$base" CTR_BIN="$CTR_BIN" \
    RUNS="$RUNS" WARMUP="$WARMUP" CACHE="$CACHE" OUT="$OUT" \
    bash -c '
set -euo pipefail
export HOME=$B/home XDG_CONFIG_HOME=$B/config XDG_DATA_HOME=$B/data XDG_CACHE_HOME=$B/cache XDG_RUNTIME_DIR=$B/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME/containers" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
printf "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n" >"$XDG_CONFIG_HOME/containers/containers.conf"
printf "[storage]\ndriver = \"overlay\"\ngraphroot = \"%s\"\nrunroot = \"%s\"\n" "$B/podman-graph" "$B/podman-run" \
  >"$XDG_CONFIG_HOME/containers/storage.conf"
stop_podman() {
  podman system reset --force >/dev/null 2>&1 || true
  local pause=$XDG_RUNTIME_DIR/libpod/tmp/pause.pid
  [ -f "$pause" ] && kill "$(cat "$pause")" 2>/dev/null || true
}
trap stop_podman EXIT
'"$script" bash "$@"
}

# ---------------------------------------------------------------- fixtures

base_archive=$CACHE/debian-minbase-$SUITE.tar
plus_archive=$CACHE/debian-plus-$SUITE.tar
if [ ! -s "$base_archive" ]; then
  log "Building the Debian $SUITE minbase image (once; cached in $CACHE)"
  rootfs=$CACHE/debian-rootfs-$SUITE
  if [ ! -e "$rootfs/.complete" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed; see $CACHE/debootstrap.log"
    touch "$rootfs/.complete"
  fi
  tar -C "$rootfs" --exclude=./.complete --numeric-owner -cf "$CACHE/debian-rootfs-$SUITE.tar" .
  chmod 644 "$CACHE/debian-rootfs-$SUITE.tar"
  work=$(mktemp -d /tmp/ctr-bench-podman.XXXXXX)
  chown "$CTR_TEST_USER" "$work"
  chown "$CTR_TEST_USER" "$CACHE"
  as_user_with_podman "$work" '
    podman import -q "$CACHE/debian-rootfs-'"$SUITE"'.tar" localhost/debian-minbase:latest >/dev/null
    podman save -q --format docker-archive -o "$CACHE/debian-minbase.tar.tmp" localhost/debian-minbase:latest'
  chown root "$CACHE"
  mv "$CACHE/debian-minbase.tar.tmp" "$base_archive"
  rm -rf "$work" 2>/dev/null || true
fi
if [ ! -s "$plus_archive" ]; then
  log "Making a second image that shares the base layer"
  work=$(mktemp -d)
  tar -C "$work" -xf "$base_archive"
  mkdir -p "$work/extra-root/etc" "$work/extra"
  echo "second image" >"$work/extra-root/etc/bench-extra"
  tar -C "$work/extra-root" --owner=0 --group=0 --numeric-owner -cf "$work/extra/layer.tar" etc
  diff_id=sha256:$(sha256sum "$work/extra/layer.tar" | cut -d' ' -f1)
  old_config=$(jq -r '.[0].Config' "$work/manifest.json")
  jq --arg d "$diff_id" '.rootfs.diff_ids += [$d] | .history += [{"created_by": "bench/load.sh: one extra file"}]' \
    "$work/$old_config" >"$work/config.new"
  new_config=$(sha256sum "$work/config.new" | cut -d' ' -f1).json
  mv "$work/config.new" "$work/$new_config"
  rm -f "$work/$old_config"
  jq --arg c "$new_config" '.[0].Config = $c | .[0].Layers += ["extra/layer.tar"] |
      .[0].RepoTags = ["localhost/debian-plus:latest"]' "$work/manifest.json" >"$work/manifest.new"
  mv "$work/manifest.new" "$work/manifest.json"
  rm -rf "$work/extra-root" "$work/repositories"
  (cd "$work" && tar -cf "$plus_archive.tmp" ./*)
  mv "$plus_archive.tmp" "$plus_archive"
  rm -rf "$work"
fi
chmod 644 "$base_archive" "$plus_archive"
note "$(du -h "$base_archive" | cut -f1) $base_archive"

# ---------------------------------------------------------------- measure

# The part that runs as the test user inside a private mount namespace with a
# tmpfs at $T (gone when the namespace ends).
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
T=$B
ctr_() { "$CTR_BIN" --root "$T/ctr" "$@"; }
podman load -q -i "$CACHE/debian-minbase-'"$SUITE"'.tar" >/dev/null   # starts the pause process once, outside timing
podman rmi -af >/dev/null
hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$OUT" \
  --prepare "podman rmi -af >/dev/null 2>&1 || true; \"$CTR_BIN\" --root \"$T/ctr\" unshare rm -rf \"$T/ctr\" 2>/dev/null || true" \
  -n "ctr load" "\"$CTR_BIN\" --root \"$T/ctr\" load -q -i \"$CACHE/debian-minbase-'"$SUITE"'.tar\"" \
  -n "podman load" "podman load -q -i \"$CACHE/debian-minbase-'"$SUITE"'.tar\""
echo
echo "== Shared base layer: second image on top of the same base"
ctr_ unshare rm -rf "$T/ctr" 2>/dev/null || true
ctr_ load -q -i "$CACHE/debian-minbase-'"$SUITE"'.tar"
before=$(ctr_ unshare du -sk "$T/ctr" | cut -f1)
ctr_ load -q -i "$CACHE/debian-plus-'"$SUITE"'.tar"
after=$(ctr_ unshare du -sk "$T/ctr" | cut -f1)
ctr_ images
echo "ctr store: ${before} KiB with the base image, ${after} KiB with both: grew by $((after - before)) KiB"
ctr_ system df
'
log "ctr load vs podman load (tmpfs stores, as $CTR_TEST_USER; $RUNS runs)"
tmp_base=$(mktemp -d /tmp/ctr-bench-load.XXXXXX)
chmod 755 "$tmp_base"
unshare --mount -- bash -c '
  set -e
  mount --make-rprivate /
  mount -t tmpfs -o size=4g,mode=755 tmpfs "$1"
  chown "$2" "$1"
  shift 2
  exec "$@"' bash "$tmp_base" "$CTR_TEST_USER" bash -c "$(declare -f as_user_with_podman); CTR_TEST_USER=$CTR_TEST_USER CTR_BIN=$CTR_BIN RUNS=$RUNS WARMUP=$WARMUP CACHE=$CACHE OUT=$OUT as_user_with_podman $tmp_base '$inner'" ||
  { rmdir "$tmp_base" 2>/dev/null; die "the benchmark failed"; }
rmdir "$tmp_base" 2>/dev/null || true

ctr_mean=$(jq '.results[] | select(.command == "ctr load") | .mean' "$OUT")
podman_mean=$(jq '.results[] | select(.command == "podman load") | .mean' "$OUT")
log "Result"
note "$(printf 'ctr load     %.3f s (mean of %s)' "$ctr_mean" "$RUNS")"
note "$(printf 'podman load  %.3f s' "$podman_mean")"
note "$(awk -v c="$ctr_mean" -v p="$podman_mean" 'BEGIN { printf "ctr is %.2fx as fast as podman (target: >= 2x)", p / c }')"
note "hyperfine JSON: $OUT"
