#!/usr/bin/env bash
# Container lifecycle speed and memory: ctr vs Debian's podman, side by side,
# rootless, as the test user, no network, both stores and both runtime
# directories on the same tmpfs (a real session's XDG_RUNTIME_DIR is one):
#   1. `ctr run --rm --network=none busybox true` vs `podman run --rm
#      --network=none busybox true`, in ONE hyperfine run (compare the ratio; target >= 7x);
#   2. `ctr ps -a` vs `podman ps -a` with 100 containers each (created, not
#      started), in one hyperfine run (target >= 5x);
#   3. peak RSS (/usr/bin/time -v) of the `ctr` and `podman` processes for a
#      `run --rm` (target: ctr >= 4x smaller).
# Podman runs with its default OCI runtime (crun) and conmon; crun 1.8 needs
# a tmpfs over /sys/fs/cgroup/unified on this hybrid host (TESTING.md), so
# the whole benchmark runs in a private mount namespace that has one.
#
#   bench/container.sh          (as root, after scripts/setup.sh)
#
# Settings: CTR_BIN (default PREFIX/bin/ctr, else the build's), RUNS (30),
# WARMUP (3), CONTAINERS (100), OUT (hyperfine JSON prefix), CTR_BASE_BIN
# (optional: a second ctr, e.g. an older build, timed in the same hyperfine
# run as "ctr base run" for an A/B of a change; it gets its own store).
# hyperfine's User/System columns count only the processes it waits for:
# ctr's detached shim, the runtime and the exit command are not in them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
CONTAINERS=${CONTAINERS:-100}
OUT=${OUT:-/tmp/ctr-bench-container-$(date +%Y%m%d-%H%M%S)}

is_root || die "run bench/container.sh as root: it mounts a private tmpfs and runs as $CTR_TEST_USER"
if [ -z "${CTR_BIN:-}" ]; then
  if [ -x "$PREFIX/bin/ctr" ]; then CTR_BIN=$PREFIX/bin/ctr; else CTR_BIN=$(built_binary ctr); fi
fi
[ -n "$CTR_BIN" ] && [ -x "$CTR_BIN" ] || die "no ctr binary (run scripts/setup.sh, or set CTR_BIN)"
CTR_BIN=$(realpath "$CTR_BIN")
CTR_BASE_BIN=${CTR_BASE_BIN:+$(realpath "$CTR_BASE_BIN")}
[ -z "$CTR_BASE_BIN" ] || [ -x "$CTR_BASE_BIN" ] || die "CTR_BASE_BIN=$CTR_BASE_BIN is not executable"
for tool in hyperfine jq podman crun conmon; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs it)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
ensure_test_user
build_fixtures

# The part that runs as the test user, with HOME, XDG dirs and podman's
# configuration under $B (a tmpfs).
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
export HOME=$B/home XDG_CONFIG_HOME=$B/config XDG_DATA_HOME=$B/data XDG_CACHE_HOME=$B/cache XDG_RUNTIME_DIR=$B/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME/containers" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
printf "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n" >"$XDG_CONFIG_HOME/containers/containers.conf"
printf "[storage]\ndriver = \"overlay\"\ngraphroot = \"%s\"\nrunroot = \"%s\"\n" "$B/podman-graph" "$B/podman-run" \
  >"$XDG_CONFIG_HOME/containers/storage.conf"
trap "podman rm -af >/dev/null 2>&1; podman system reset --force >/dev/null 2>&1 || true" EXIT
ctr_() { "$CTR_BIN" --root "$B/ctr" "$@"; }

tar -C "$FIXTURE" --exclude=./.complete -cf "$B/busybox.tar" .
ctr_ import -q "$B/busybox.tar" busybox >/dev/null
podman import -q "$B/busybox.tar" busybox >/dev/null
# Both work (and podman starts its pause process) before anything is timed.
[ "$(ctr_ run --rm --network=none busybox echo ok)" = ok ] || { echo "ctr run failed" >&2; exit 1; }
base_cmd=()
if [ -n "$CTR_BASE_BIN" ]; then
  "$CTR_BASE_BIN" --root "$B/ctr-base" import -q "$B/busybox.tar" busybox >/dev/null
  [ "$("$CTR_BASE_BIN" --root "$B/ctr-base" run --rm busybox echo ok)" = ok ] || { echo "base ctr run failed" >&2; exit 1; }
  base_cmd=(-n "ctr base run" "$CTR_BASE_BIN --root $B/ctr-base run --rm busybox true")
fi
[ "$(podman run --rm --network=none busybox echo ok)" = ok ] || { echo "podman run failed" >&2; exit 1; }

echo
echo "== run --rm busybox true"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT-run.json" \
  -n "ctr run" "$CTR_BIN --root $B/ctr run --rm --network=none busybox true" \
  -n "podman run" "podman run --rm --network=none busybox true" "${base_cmd[@]}"

echo
echo "== peak RSS of run --rm busybox true (KiB)"
for tool in ctr podman; do
  if [ $tool = ctr ]; then cmd=("$CTR_BIN" --root "$B/ctr" run --rm --network=none busybox true)
  else cmd=(podman run --rm --network=none busybox true); fi
  for _ in 1 2 3; do
    /usr/bin/time -v "${cmd[@]}" 2>&1 >/dev/null | awk "/Maximum resident/ {print \$6}"
  done | sort -n | tail -n1 | sed "s/^/$tool /" | tee -a "$B/rss.txt"
done

echo
echo "== ps -a with $CONTAINERS containers each"
for i in $(seq "$CONTAINERS"); do
  ctr_ create --network=none --name "c$i" busybox true >/dev/null
  podman create --network=none --name "c$i" busybox true >/dev/null
done
[ "$(ctr_ ps -a -q | wc -l)" = "$CONTAINERS" ] && [ "$(podman ps -a -q | wc -l)" = "$CONTAINERS" ] ||
  { echo "expected $CONTAINERS containers each" >&2; exit 1; }
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT-ps.json" \
  -n "ctr ps -a" "$CTR_BIN --root $B/ctr ps -a" \
  -n "podman ps -a" "podman ps -a"
ctr_ rm -a -f >/dev/null 2>&1 || ctr_ ps -a -q | xargs -r "$CTR_BIN" --root "$B/ctr" rm -f >/dev/null
cp "$B/rss.txt" "$OUT-rss.txt"
'

log "ctr vs podman $(podman --version | awk '{print $3}'): run --rm, ps -a, peak RSS (tmpfs, as $CTR_TEST_USER)"
base=$(mktemp -d /tmp/ctr-bench-ctr.XXXXXX)
chmod 755 "$base"
unshare --mount -- bash -c '
  set -e
  mount --make-rprivate /
  mount -t tmpfs -o size=2g,mode=755 tmpfs "$1"
  chown "$2" "$1"
  if [ -d /sys/fs/cgroup/unified ]; then mount -t tmpfs tmpfs /sys/fs/cgroup/unified; fi
  shift 2
  exec "$@"' bash "$base" "$CTR_TEST_USER" \
  setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups -- env -i \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin B="$base" CTR_BIN="$CTR_BIN" RUNS="$RUNS" WARMUP="$WARMUP" \
  CONTAINERS="$CONTAINERS" OUT="$OUT" FIXTURE="$CTR_FIXTURES/busybox-rootfs" CTR_BASE_BIN="$CTR_BASE_BIN" bash -c "$inner" ||
  { rmdir "$base" 2>/dev/null; die "the benchmark failed"; }
rmdir "$base" 2>/dev/null || true

mean() { jq ".results[] | select(.command == \"$2\") | .mean * 1000" "$OUT-$1.json"; }
log "Result ($RUNS runs each)"
ctr_run=$(mean run "ctr run") podman_run=$(mean run "podman run")
ctr_ps=$(mean ps "ctr ps -a") podman_ps=$(mean ps "podman ps -a")
ctr_rss=$(awk '$1 == "ctr" {print $2}' "$OUT-rss.txt") podman_rss=$(awk '$1 == "podman" {print $2}' "$OUT-rss.txt")
note "$(awk -v c="$ctr_run" -v p="$podman_run" 'BEGIN { printf "run --rm: ctr %.1f ms, podman %.1f ms: %.1fx (target >= 7x)", c, p, p / c }')"
note "$(awk -v c="$ctr_ps" -v p="$podman_ps" -v n="$CONTAINERS" 'BEGIN { printf "ps -a (%d containers): ctr %.1f ms, podman %.1f ms: %.1fx (target >= 5x)", n, c, p, p / c }')"
note "$(awk -v c="$ctr_rss" -v p="$podman_rss" 'BEGIN { printf "peak RSS: ctr %d KiB, podman %d KiB: %.1fx smaller (target >= 4x)", c, p, p / c }')"
if [ -n "$CTR_BASE_BIN" ]; then
  base_run=$(mean run "ctr base run")
  note "$(awk -v c="$ctr_run" -v b="$base_run" 'BEGIN { printf "A/B: ctr %.1f ms, base %.1f ms: %+.1f%%", c, b, (c - b) * 100 / b }')"
fi
note "hyperfine JSON: $OUT-run.json, $OUT-ps.json"
