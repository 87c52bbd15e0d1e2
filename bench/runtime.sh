#!/usr/bin/env bash
# Rootless container start-up: `ctr-runtime run` vs crun vs runc, side by side
# in ONE hyperfine run (compare ratios, never absolute times across runs),
# plus each runtime's peak RSS.
#
#   bench/runtime.sh            (after scripts/setup.sh)
#
# Every runtime runs the same busybox bundle (config from `ctr-runtime spec
# --rootless`, args ["true"], no terminal) as the unprivileged user: as root,
# CTR_TEST_USER (default ctrtest); otherwise yourself. crun 1.8 refuses hybrid
# cgroup hosts, so on one (as root) all three run inside the same private
# mount namespace with an empty tmpfs over /sys/fs/cgroup/unified
# (TESTING.md): the same conditions for all.
#
# Each timed command is `RUNTIME --root DIR run --bundle B NAME-$$`, run by
# hyperfine through `sh -c`: $$ is that shell's pid, so every iteration has
# its own container id at no extra cost, and hyperfine subtracts the shell's
# start-up time. (`run` deletes the container when it exits.)
#
# Settings: CTR_RUNTIME_BIN (default PREFIX/bin/ctr-runtime, else the build's),
# RUNS (100), WARMUP (10), RSS_RUNS (5), OUT (hyperfine JSON; default
# /tmp/ctr-bench-runtime-DATE.json).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${RUNS:-100}
WARMUP=${WARMUP:-10}
RSS_RUNS=${RSS_RUNS:-5}
OUT=${OUT:-/tmp/ctr-bench-runtime-$(date +%Y%m%d-%H%M%S).json}

if [ -z "${CTR_RUNTIME_BIN:-}" ]; then
  if [ -x "$PREFIX/bin/ctr-runtime" ]; then
    CTR_RUNTIME_BIN=$PREFIX/bin/ctr-runtime
  else
    CTR_RUNTIME_BIN=$(built_binary ctr-runtime)
  fi
fi
if [ -z "$CTR_RUNTIME_BIN" ] || [ ! -x "$CTR_RUNTIME_BIN" ]; then
  die "no ctr-runtime (run scripts/setup.sh first, or set CTR_RUNTIME_BIN)"
fi
CTR_RUNTIME_BIN=$(realpath "$CTR_RUNTIME_BIN")
for tool in hyperfine jq crun runc; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs it)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

# The part that runs as the unprivileged user, inside the prepared namespace.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
cd "$BENCH_DIR"
mkdir bundle check
cp -a --no-preserve=ownership "$CTR_FIXTURES/busybox-rootfs" bundle/rootfs
spec_from=ctr-runtime
if ! (cd bundle && "$CTR_RUNTIME_BIN" spec --rootless) || [ ! -s bundle/config.json ]; then
  # runc writes the single-ID user namespace maps that every runtime can use.
  echo "NOTE: ctr-runtime spec --rootless wrote no config.json; using runc spec --rootless instead"
  rm -f bundle/config.json
  (cd bundle && runc spec --rootless)
  spec_from=runc
fi
jq ".process.terminal = false | .process.args = [\"true\"]" bundle/config.json >bundle/c.json
mv bundle/c.json bundle/config.json
# A second bundle on the same rootfs that prints, to check each runtime really runs it.
jq ".process.args = [\"echo\", \"bench-ok\"] | .root.path = \"$BENCH_DIR/bundle/rootfs\"" \
  bundle/config.json >check/config.json

names=() cmds=()
for name in ctr-runtime crun runc; do
  case $name in
  ctr-runtime) bin=$CTR_RUNTIME_BIN ;;
  *) bin=$(command -v "$name") ;;
  esac
  root=$XDG_RUNTIME_DIR/bench-$name
  mkdir -p "$root"
  out=$("$bin" --root "$root" run --bundle "$BENCH_DIR/check" "check-$name-$$" 2>&1 </dev/null) || true
  if [ "$out" != bench-ok ]; then
    echo "NOT MEASURED: $name did not run the check container; it printed:"
    printf "%s\n" "$out" | sed "s/^/    /"
    continue
  fi
  names+=("$name")
  cmds+=("$bin --root $root run --bundle $BENCH_DIR/bundle $name-\$\$")
  kib=0
  for _ in $(seq "$RSS_RUNS"); do
    /usr/bin/time -v -o time.txt "$bin" --root "$root" run --bundle "$BENCH_DIR/bundle" \
      "rss-$name-$$" </dev/null >/dev/null 2>&1 || true
    k=$(sed -n "s/^[[:space:]]*Maximum resident set size (kbytes): //p" time.txt)
    [ "${k:-0}" -gt "$kib" ] && kib=$k
  done
  echo "$name $kib" >>rss.txt
done
[ ${#names[@]} -gt 0 ] || { echo "no runtime could run the bundle"; exit 1; }

echo
echo "config.json from $spec_from spec --rootless; args [\"true\"]; $(uname -r); $(nproc) CPUs; as $(id -un)"
args=(--warmup "$WARMUP" --runs "$RUNS" --export-json results.json)
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine "${args[@]}"
'

log "Bench: ctr-runtime run vs crun vs runc (rootless, $RUNS runs each, one hyperfine run)"
note "ctr-runtime: $CTR_RUNTIME_BIN ($("$CTR_RUNTIME_BIN" --version 2>/dev/null | head -n1 || true))"
note "crun: $(crun --version | head -n1); runc: $(runc --version | head -n1)"
ensure_test_user
build_fixtures
make_session
trap remove_session EXIT
BENCH_DIR=$CTR_SESSION/bench
CTR_ENV+=("BENCH_DIR=$BENCH_DIR" "CTR_RUNTIME_BIN=$CTR_RUNTIME_BIN" "RUNS=$RUNS" "WARMUP=$WARMUP"
  "RSS_RUNS=$RSS_RUNS")
in_session mkdir "$BENCH_DIR"

hybrid=false
[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true)" = cgroup2fs ] && hybrid=true
if is_root; then
  # A private mount namespace; on a hybrid host an empty tmpfs hides the v2
  # tree so crun accepts the host, for all three runtimes alike.
  prep='mount --make-rprivate /'
  if $hybrid; then
    prep+=' && mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup/unified'
    note "hybrid cgroups: all runtimes run in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified"
  fi
  if uses_test_user; then
    as_user=(setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups --)
  else
    as_user=()
  fi
  (cd / && unshare --mount -- sh -c "$prep"' && exec "$@"' sh \
    "${as_user[@]}" env -i "${CTR_ENV[@]}" bash -c "$inner")
else
  $hybrid && warn "hybrid cgroup host: crun 1.8 will refuse it (run this as root for a prepared namespace)"
  in_session bash -c "$inner"
fi

log "Results"
printf '    %-12s %12s %10s %10s %14s\n' runtime "mean (ms)" "± σ (ms)" "vs crun" "max RSS (KiB)"
jq -r --slurpfile rss <(awk '{ printf "{\"name\":\"%s\",\"kib\":%s}\n", $1, $2 }' "$BENCH_DIR/rss.txt") '
  (.results | map(select(.command == "crun")) | .[0].mean // null) as $crun
  | ($rss | map({(.name): .kib}) | add) as $kib
  | .results[]
  | [.command, (.mean * 1000), (.stddev * 1000),
     (if $crun then .mean / $crun else "-" end),
     ($kib[.command] // "-")]
  | @tsv' "$BENCH_DIR/results.json" |
  while IFS=$'\t' read -r name mean sd ratio kib; do
    [ "$ratio" = - ] || ratio=$(printf '%.2fx' "$ratio")
    printf '    %-12s %12.2f %10.2f %10s %14s\n' "$name" "$mean" "$sd" "$ratio" "$kib"
  done
cp "$BENCH_DIR/results.json" "$OUT"
note "hyperfine JSON: $OUT"
