#!/usr/bin/env bash
# Rootless networking speed: ctr vs Debian's podman, side by side, in one run,
# as the test user, loopback only (the container's own namespace and the
# helper's mapped host-loopback gateway are the only other addresses used):
#   1. host -> container: an iperf3 server in a container published on
#      127.0.0.1:H (`run -d -p 127.0.0.1:H:5201`), `iperf3 -c 127.0.0.1 -p H
#      -t IPERF_SECONDS -J` from the host: Gbit/s received, median of RUNS;
#   2. container -> host: an iperf3 server on the host at 127.0.0.1:P, the
#      client in a container connects to its default gateway, which the helper
#      maps to the host's loopback (slirp4netns: 10.0.2.2 with
#      allow_host_loopback=true; pasta maps its gateway unless --no-map-gw); the
#      server's JSON must show a 127.0.0.1 <- 127.0.0.1 connection;
#   3. time to the first accepted connection: from `run -d -p 127.0.0.1:H:80
#      IMAGE httpd -f -p 80` until an HTTP GET to 127.0.0.1:H gets a 200
#      (a poll loop with 2 ms pauses), hyperfine, CONNECT_RUNS runs each;
#   4. peak RSS (VmHWM) of the helper processes (pasta, slirp4netns,
#      rootlessport) during the host -> container test.
# Configurations: podman 4.3 with slirp4netns and its default port handler
# (rootlessport), podman with slirp4netns:port_handler=slirp4netns, podman
# with pasta when it has it (4.3 does not), ctr with slirp4netns (its port
# proxy, ctr-port-proxy, the counterpart of rootlessport), ctr with
# slirp4netns:port_handler=slirp4netns, and ctr with pasta (its default).
#
# The image (busybox fixture + the host's /usr/bin/iperf3 and the libraries
# ldd names, built here, nothing downloaded) is imported into both stores.
# Everything runs in a private mount and PID namespace: a tmpfs holds both
# stores and the runtime directories, /dev/net/tun is a node the test user
# can open (pasta and slirp4netns need it; /dev is left alone), a tmpfs
# covers /sys/fs/cgroup/unified for crun (TESTING.md), and every process the
# benchmark starts (podman's pause process, helpers) ends with the namespace.
#
#   bench/network.sh          (as root, after scripts/setup.sh)
#
# The configurations run one after another, so a changing machine load
# shows up as a spread: each iperf3 figure prints its runs; on a busy machine
# raise RUNS and compare within one run only.
#
# Settings: CTR_BIN (default PREFIX/bin/ctr, else the build's), TOOLS ("ctr
# podman"; "podman" alone measures podman only), RUNS (5), IPERF_SECONDS (5),
# CONNECT_RUNS (20), WARMUP (2, for the connection test), OUT (file prefix),
# CONFIGS (only these configurations, e.g. "ctr-pasta podman-slirp4netns").
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

TOOLS=${TOOLS:-ctr podman}
RUNS=${RUNS:-5}
IPERF_SECONDS=${IPERF_SECONDS:-5}
CONNECT_RUNS=${CONNECT_RUNS:-20}
WARMUP=${WARMUP:-2}
OUT=${OUT:-/tmp/ctr-bench-network-$(date +%Y%m%d-%H%M%S)}

is_root || die "run bench/network.sh as root: it mounts a private tmpfs and a tun node and runs as $CTR_TEST_USER"
case " $TOOLS " in *" podman "*) ;; *) die "TOOLS must include podman (the reference): TOOLS='$TOOLS'" ;; esac
for tool in $TOOLS; do
  case $tool in ctr | podman) ;; *) die "TOOLS: unknown tool '$tool' (ctr, podman)" ;; esac
done
with_ctr=false
case " $TOOLS " in *" ctr "*) with_ctr=true ;; esac
if $with_ctr; then
  if [ -z "${CTR_BIN:-}" ]; then
    if [ -x "$PREFIX/bin/ctr" ]; then CTR_BIN=$PREFIX/bin/ctr; else CTR_BIN=$(built_binary ctr); fi
  fi
  [ -n "$CTR_BIN" ] && [ -x "$CTR_BIN" ] || die "no ctr binary (run scripts/setup.sh, or set CTR_BIN)"
  CTR_BIN=$(realpath "$CTR_BIN")
  "$CTR_BIN" run --help 2>/dev/null | grep -q -- '--publish' ||
    die "$CTR_BIN has no run --publish yet (TOOLS=podman measures podman alone)"
fi
for tool in hyperfine jq podman crun conmon iperf3 slirp4netns ss ldd; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs the test tools; iperf3, slirp4netns and passt are Debian packages)"
done
$with_ctr && ! command -v pasta >/dev/null && die "pasta is not installed (apt-get install passt)"
[ -e /dev/net/tun ] || die "/dev/net/tun is missing: pasta and slirp4netns need the tun driver"
ensure_test_user
build_fixtures

# The part that runs as the test user (in the private PID namespace), with
# HOME, XDG dirs, podman's configuration and both stores under $B.
# Results go to $B/results.tsv: CONFIG<TAB>METRIC<TAB>VALUE.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
export HOME=$B/home XDG_CONFIG_HOME=$B/config XDG_DATA_HOME=$B/data XDG_CACHE_HOME=$B/cache XDG_RUNTIME_DIR=$B/r
mkdir -p "$HOME" "$XDG_CONFIG_HOME/containers" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
printf "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n" >"$XDG_CONFIG_HOME/containers/containers.conf"
printf "[storage]\ndriver = \"overlay\"\ngraphroot = \"%s\"\nrunroot = \"%s\"\n" "$B/podman-graph" "$B/podman-run" \
  >"$XDG_CONFIG_HOME/containers/storage.conf"
results=$B/results.tsv
: >"$results"
say() { printf "    %s\n" "$*"; }
fail() { printf "ERROR: %s\n" "$*" >&2; exit 1; }

# tool CONFIG-TOOL ARGS...: ctr with its own store, or podman (its
# "/ is not a shared mount" warning is expected in this namespace).
tool() {
  local t=$1; shift
  if [ "$t" = ctr ]; then "$CTR_BIN" --root "$B/ctr" "$@"
  else podman "$@" 2> >(grep -v "is not a shared mount" >&2); fi
}
remove() { # TOOL NAME
  if [ "$1" = ctr ]; then tool ctr rm -f "$2" >/dev/null 2>&1 || true
  else tool podman rm -f -t 0 "$2" >/dev/null 2>&1 || true; fi
}

# The image: the busybox fixture plus iperf3 and its libraries, and a page
# for httpd.
log_step() { printf "\n== %s\n" "$*"; }
log_step "image: busybox + $(command -v iperf3) and its libraries"
root=$B/image
cp -a "$FIXTURE" "$root"
rm -f "$root/.complete"
libs=$(ldd /usr/bin/iperf3 | awk "/=> \// {print \$3} /^[[:space:]]*\// {print \$1}")
for f in /usr/bin/iperf3 $libs; do
  mkdir -p "$root$(dirname "$f")"
  cp -L "$f" "$root$f"
done
mkdir -p "$root/www" && echo ok >"$root/www/index.html"
tar -C "$root" -cf "$B/netbench.tar" .
rm -rf "$root"
say "$(tar -tf "$B/netbench.tar" | grep -c -e "\.so" -e iperf3) iperf3 files: $(echo $libs | tr " " "\n" | xargs -n1 basename | tr "\n" " ")"
for t in $TOOLS; do tool "$t" import -q "$B/netbench.tar" netbench >/dev/null; done

# The configurations: NAME TOOL NETWORK (the option of --network).
configs=()
podman_pasta=false
if tool podman run --rm --network pasta netbench true >/dev/null 2>&1; then podman_pasta=true; fi
configs+=("podman-slirp4netns podman slirp4netns:allow_host_loopback=true")
configs+=("podman-slirp4netns-hostfwd podman slirp4netns:allow_host_loopback=true,port_handler=slirp4netns")
$podman_pasta && configs+=("podman-pasta podman pasta")
case " $TOOLS " in *" ctr "*)
  configs+=("ctr-slirp4netns ctr slirp4netns:allow_host_loopback=true")
  configs+=("ctr-slirp4netns-hostfwd ctr slirp4netns:allow_host_loopback=true,port_handler=slirp4netns")
  configs+=("ctr-pasta ctr pasta") ;;
esac
# CONFIGS (names, space-separated) keeps only those.
if [ -n "$CONFIGS" ]; then
  kept=()
  for c in "${configs[@]}"; do case " $CONFIGS " in *" ${c%% *} "*) kept+=("$c") ;; esac; done
  [ ${#kept[@]} -gt 0 ] || fail "CONFIGS=\"$CONFIGS\" matches none of: $(for c in "${configs[@]}"; do printf "%s " "${c%% *}"; done)"
  configs=("${kept[@]}")
fi
$podman_pasta || say "podman $(podman --version | cut -d" " -f3) has no --network pasta: ctr pasta is compared with podman slirp4netns"
for c in "${configs[@]}"; do
  read -r name t net <<<"$c"
  out=$(tool "$t" run --rm --network "$net" netbench iperf3 --version 2>&1) ||
    fail "$name: $t run --network $net netbench iperf3 --version failed: $out"
done
say "configurations: $(for c in "${configs[@]}"; do printf "%s " "${c%% *}"; done)"

# A port nobody listens on (random, so parallel runs rarely collide; every
# port is used once).
used_ports=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    case $used_ports in *" $p "*) continue ;; esac
    if [ -z "$(ss -Hltn "sport = :$p")" ] && [ -z "$(ss -Hlun "sport = :$p")" ]; then
      used_ports="$used_ports$p "
      echo "$p"
      return
    fi
  done
}
# Polls (20 s at most) until nothing listens on 127.0.0.1:PORT/tcp.
wait_port_free() {
  local i
  for i in $(seq 400); do
    [ -n "$(ss -Hltn "sport = :$1")" ] || return 0
    sleep 0.05
  done
  fail "port $1 is still in use 20 s after its container was removed"
}
median() { sort -g | awk "{ v[NR] = \$1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }"; }
record() { printf "%s\t%s\t%s\n" "$1" "$2" "$3" >>"$results"; }

# Peak RSS (VmHWM, KiB) summed over the network helpers alive now. The PID
# namespace holds only this benchmark, so every one of them is ours.
helper_rss() {
  local total=0 p comm args hwm seen=""
  for p in /proc/[0-9]*; do
    comm=$(cat "$p/comm" 2>/dev/null) || continue
    args=$(tr "\0" " " <"$p/cmdline" 2>/dev/null) || continue
    case "$comm $args" in
    pasta* | passt* | slirp4netns* | rootlessport* | "exe rootlessport"* | ctr-port-proxy*) ;;
    *) continue ;;
    esac
    hwm=$(awk "/^VmHWM:/ {print \$2}" "$p/status" 2>/dev/null) || continue
    [ -n "$hwm" ] || continue
    total=$((total + hwm))
    seen="$seen ${comm}:${hwm}"
  done
  echo "$total$seen"
}

host_to_container() { # NAME TOOL NETWORK
  local name=$1 t=$2 net=$3 port i json bps all="" rss
  port=$(free_port)
  tool "$t" run -d --name iperf-server --network "$net" -p "127.0.0.1:$port:5201" netbench iperf3 -s >/dev/null ||
    fail "$name: could not start the iperf3 server container"
  # Ready once a 1 KiB test goes through (the host port listens before the server does).
  for i in $(seq 200); do
    timeout 10 iperf3 -c 127.0.0.1 -p "$port" -n 1K >/dev/null 2>&1 && break
    [ "$i" -lt 200 ] || fail "$name: the iperf3 server at 127.0.0.1:$port did not answer within 20 s"
    sleep 0.1
  done
  for i in $(seq "$RUNS"); do
    # The server may still be finishing the previous test ("busy"): retry a few times.
    local try
    for try in 1 2 3 4 5; do
      json=$(timeout $((IPERF_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_SECONDS" -J) && bps=$(jq -e ".end.sum_received.bits_per_second" <<<"$json") && break
      [ "$try" -lt 5 ] || fail "$name: iperf3 -c 127.0.0.1 -p $port failed 5 times, last: $(jq -r ".error // empty" <<<"$json" 2>/dev/null || head -c 500 <<<"$json")"
      say "$name: iperf3 run $i failed ($(jq -r ".error // empty" <<<"$json" 2>/dev/null || head -c 200 <<<"$json")): again"
      sleep 0.5
    done
    all="$all $bps"
  done
  rss=$(helper_rss)
  remove "$t" iperf-server
  wait_port_free "$port"
  bps=$(tr " " "\n" <<<"$all" | grep . | median)
  record "$name" h2c_bps "$bps"
  record "$name" helper_rss_kib "${rss%% *}"
  say "$(printf "%-28s host->container %6.2f Gbit/s (runs:%s) helper peak RSS %s KiB (%s)" "$name" \
    "$(awk -v b="$bps" "BEGIN { print b / 1e9 }")" \
    "$(for b in $all; do awk -v b="$b" "BEGIN { printf \" %.2f\", b / 1e9 }"; done)" "${rss%% *}" "${rss#* }")"
}

# container -> host, in three parts so that the runs can be interleaved
# (run 1 of every configuration, then run 2, ...): the throughput of the helpers
# in this direction depends on how often the iperf3 server on the host gets a CPU,
# so a build starting on the machine halfway through would otherwise favour
# the configurations measured first.
declare -A c2h_gw=() c2h_hosts=() c2h_all=() c2h_retr=()
c2h_setup() { # NAME TOOL NETWORK: finds and checks the gateway the client connects to
  local name=$1 t=$2 net=$3 gw
  # The helper maps the default gateway to the host loopback: slirp4netns 10.0.2.2
  # (allow_host_loopback=true), pasta its copy of the host gateway (not --no-map-gw).
  gw=$(tool "$t" run --rm --network "$net" netbench ip route | awk "/^default/ {print \$3; exit}")
  c2h_hosts[$name]=$(tool "$t" run --rm --network "$net" netbench cat /etc/hosts | awk "/host.containers.internal/ {print \$1; exit}")
  [ -n "$gw" ] || fail "$name: the container has no default route"
  case $net in
  slirp4netns*) [ "$gw" = 10.0.2.2 ] || fail "$name: slirp4netns gateway is $gw, not 10.0.2.2: not measuring" ;;
  pasta*) [ "$gw" = "$(ip -4 route show default | awk "{print \$3; exit}")" ] ||
    fail "$name: pasta gateway $gw is not the host gateway pasta maps to loopback: not measuring" ;;
  esac
  c2h_gw[$name]=$gw c2h_all[$name]="" c2h_retr[$name]=""
}
c2h_run() { # NAME TOOL NETWORK RUN: one iperf3 run, client in a new container
  local name=$1 t=$2 net=$3 i=$4 gw=${c2h_gw[$1]} port server client bps retr
  port=$(free_port)
  server=$B/iperf-server-$name-$i.json client=$B/iperf-client-$name-$i.json
  timeout $((IPERF_SECONDS + 60)) iperf3 -s -1 -B 127.0.0.1 -p "$port" -J >"$server" 2>&1 &
  local spid=$!
  for _ in $(seq 200); do
    [ -z "$(ss -Hltn "sport = :$port")" ] || break
    kill -0 "$spid" 2>/dev/null || fail "$name: the host iperf3 server exited: $(cat "$server")"
    sleep 0.02
  done
  tool "$t" run --rm --network "$net" netbench timeout $((IPERF_SECONDS + 30)) iperf3 -c "$gw" -p "$port" -t "$IPERF_SECONDS" -J >"$client" 2>&1 ||
    { kill "$spid" 2>/dev/null; fail "$name: iperf3 -c $gw -p $port in the container failed: $(jq -r ".error // empty" "$client" 2>/dev/null || tail -n3 "$client")"; }
  wait "$spid" || fail "$name: the host iperf3 server failed: $(jq -r ".error // empty" "$server")"
  # Loopback only: the server saw every connection from 127.0.0.1 on 127.0.0.1.
  jq -e "[.start.connected[] | .local_host == \"127.0.0.1\" and .remote_host == \"127.0.0.1\"] | length > 0 and all" \
    "$server" >/dev/null || fail "$name: the host server saw non-loopback connections: $(jq -c ".start.connected" "$server")"
  bps=$(jq -e ".end.sum_received.bits_per_second" "$server") || fail "$name: no sum_received in the server JSON"
  # TCP retransmissions in the container: segments the helper lost (pasta
  # 2023-03 drops what its host socket does not take; each loss then waits
  # for a retransmission timeout in the container).
  retr=$(jq -r ".end.sum_sent.retransmits // \"?\"" "$client" 2>/dev/null) || retr="?"
  c2h_all[$name]="${c2h_all[$name]} $bps" c2h_retr[$name]="${c2h_retr[$name]} $retr"
}
c2h_report() { # NAME
  local name=$1 bps all=${c2h_all[$1]}
  bps=$(tr " " "\n" <<<"$all" | grep . | median)
  record "$name" c2h_bps "$bps"
  say "$(printf "%-28s container->host %6.2f Gbit/s (runs:%s; TCP retransmits:%s) via %s (host.containers.internal: %s)" "$name" \
    "$(awk -v b="$bps" "BEGIN { print b / 1e9 }")" \
    "$(for b in $all; do awk -v b="$b" "BEGIN { printf \" %.2f\", b / 1e9 }"; done)" "${c2h_retr[$name]}" \
    "${c2h_gw[$name]}" "${c2h_hosts[$name]:-none}")"
}

# The connection test: first-conn.sh PORT CMD... runs CMD (run -d ...), then
# polls until a GET to 127.0.0.1:PORT is answered with a 200 (20 s at most);
# cleanup.sh TOOL PORT removes the container and waits for the port.
cat >"$B/first-conn.sh" <<"EOF"
trap "" PIPE   # a GET written to a reset connection must not kill the poller
port=$1; shift
"$@" >/dev/null || exit 1
mkfifo "$TMPDIR/pause.$$" && exec 4<>"$TMPDIR/pause.$$" && rm -f "$TMPDIR/pause.$$"
deadline=$((SECONDS + 20))
while :; do
  if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    printf "GET /index.html HTTP/1.0\r\n\r\n" >&3 2>/dev/null
    line=
    read -r -t 2 line <&3 2>/dev/null
    exec 3>&-
    case $line in "HTTP/1."?" 200"*) exit 0 ;; esac
  fi
  [ "$SECONDS" -lt "$deadline" ] || { echo "no HTTP 200 from 127.0.0.1:$port within 20 s" >&2; exit 1; }
  read -r -t 0.002 -u 4 || true   # a 2 ms pause without a fork
done
EOF
first_connection() { # NAME TOOL NETWORK
  local name=$1 t=$2 net=$3 port cmd clean
  port=$(free_port)
  if [ "$t" = ctr ]; then cmd="$CTR_BIN --root $B/ctr"; clean="$CTR_BIN --root $B/ctr rm -f first-conn"
  else cmd=podman; clean="podman rm -f -t 0 first-conn"; fi
  cat >"$B/cleanup-$name.sh" <<EOF
$clean >/dev/null 2>&1 || true
for _ in \$(seq 400); do [ -n "\$(ss -Hltn "sport = :$port")" ] || exit 0; sleep 0.05; done
echo "port $port still in use" >&2; exit 1
EOF
  hyperfine -N --style basic --warmup "$WARMUP" --runs "$CONNECT_RUNS" --export-json "$B/first-conn-$name.json" \
    --prepare "bash $B/cleanup-$name.sh" --cleanup "bash $B/cleanup-$name.sh" \
    -n "$name" "bash $B/first-conn.sh $port $cmd run -d --name first-conn --network $net -p 127.0.0.1:$port:80 netbench httpd -f -p 80 -h /www" \
    >"$B/hyperfine-$name.txt" 2>&1 || { cat "$B/hyperfine-$name.txt" >&2; fail "$name: the connection test failed"; }
  bash "$B/cleanup-$name.sh"
  local ms
  ms=$(jq ".results[0].median * 1000" "$B/first-conn-$name.json")
  record "$name" first_conn_ms "$ms"
  say "$(printf "%-28s first connection after run -d: median %.1f ms (%s)" "$name" "$ms" \
    "$(jq -r ".results[0] | \"mean \\(.mean * 1000 | floor) ms, min \\(.min * 1000 | floor), max \\(.max * 1000 | floor)\"" "$B/first-conn-$name.json")")"
}

log_step "host -> container: iperf3 -c 127.0.0.1 -t $IPERF_SECONDS through a published port, $RUNS runs"
for c in "${configs[@]}"; do host_to_container $c; done
log_step "container -> host: iperf3 -c GATEWAY -t $IPERF_SECONDS in the container, server on 127.0.0.1, $RUNS runs (interleaved)"
for c in "${configs[@]}"; do c2h_setup $c; done
for i in $(seq "$RUNS"); do
  for c in "${configs[@]}"; do c2h_run $c "$i"; done
done
for c in "${configs[@]}"; do c2h_report "${c%% *}"; done
log_step "time from run -d -p to the first HTTP 200 (busybox httpd), $CONNECT_RUNS runs"
for c in "${configs[@]}"; do first_connection $c; done
for t in $TOOLS; do tool "$t" ps -a -q | grep -q . && fail "$t: containers left behind: $(tool "$t" ps -a)"; done
cp "$results" "$OUT-results.tsv"
for f in "$B"/first-conn-*.json; do cp "$f" "$OUT-${f##*/}"; done
'

log "Networking: ctr vs podman $(podman --version | awk '{print $3}') (TOOLS=$TOOLS), loopback only, as $CTR_TEST_USER"
# Short: podman puts a unix socket path under it (at most 107 bytes).
base=$(mktemp -d /tmp/cbn.XXXXXX)
chmod 755 "$base"
trap 'rmdir "$base" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# --kill-child: if this script is killed, unshare's child (PID 1 of the
# namespace, root: it keeps the parent-death signal that the test user's
# process would lose) is killed, and with it everything the benchmark started.
unshare --mount --pid --fork --kill-child --mount-proc -- bash -c '
  set -e
  mount --make-rprivate /
  mount -t tmpfs -o size=2g,mode=755 tmpfs "$1"
  chown "$2" "$1"
  if [ -d /sys/fs/cgroup/unified ]; then mount -t tmpfs tmpfs /sys/fs/cgroup/unified; fi
  mkdir "$1/.dev" && mknod -m 666 "$1/.dev/tun" c 10 200 && mount --bind "$1/.dev/tun" /dev/net/tun
  shift 2
  "$@"' bash "$base" "$CTR_TEST_USER" \
  setpriv --reuid="$CTR_TEST_USER" --regid="$(id -g "$CTR_TEST_USER")" --init-groups -- env -i \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin B="$base" TMPDIR="$base" CTR_BIN="${CTR_BIN:-}" TOOLS="$TOOLS" \
  RUNS="$RUNS" IPERF_SECONDS="$IPERF_SECONDS" CONNECT_RUNS="$CONNECT_RUNS" WARMUP="$WARMUP" OUT="$OUT" CONFIGS="${CONFIGS:-}" \
  FIXTURE="$CTR_FIXTURES/busybox-rootfs" bash -c "$inner" || die "the benchmark failed"

# ---------------------------------------------------------------- report
res=$OUT-results.tsv
get() { awk -F'\t' -v c="$1" -v m="$2" '$1 == c && $2 == m {print $3}' "$res"; }
has() { [ -n "$(get "$1" h2c_bps)" ]; }
log "Result (iperf3: median of $RUNS x ${IPERF_SECONDS} s; first connection: median of $CONNECT_RUNS)"
printf '    %-28s %12s %12s %12s %12s\n' configuration 'host->ctr' 'ctr->host' 'first conn' 'helper RSS'
for c in podman-slirp4netns podman-slirp4netns-hostfwd podman-pasta ctr-slirp4netns ctr-slirp4netns-hostfwd ctr-pasta; do
  has "$c" || continue
  printf '    %-28s %7.2f Gb/s %7.2f Gb/s %9.1f ms %8d KiB\n' "$c" \
    "$(awk -v b="$(get "$c" h2c_bps)" 'BEGIN { print b / 1e9 }')" \
    "$(awk -v b="$(get "$c" c2h_bps)" 'BEGIN { print b / 1e9 }')" \
    "$(get "$c" first_conn_ms)" "$(get "$c" helper_rss_kib)"
done
# ratio CTR PODMAN: throughput ctr/podman (>= 1.0 means at least podman's),
# connection time podman/ctr (> 1 means ctr is faster), RSS podman/ctr (> 1
# means ctr's helper is smaller).
ratio() {
  has "$1" && has "$2" || return 0
  note "$(awk -v a="$1" -v b="$2" \
    -v h1="$(get "$1" h2c_bps)" -v h2="$(get "$2" h2c_bps)" -v c1="$(get "$1" c2h_bps)" -v c2="$(get "$2" c2h_bps)" \
    -v f1="$(get "$1" first_conn_ms)" -v f2="$(get "$2" first_conn_ms)" \
    -v r1="$(get "$1" helper_rss_kib)" -v r2="$(get "$2" helper_rss_kib)" 'BEGIN {
      printf "%s vs %s: host->ctr %.2fx%s, ctr->host %.2fx%s, first connection %.2fx faster, helper peak RSS podman/ctr %.2fx",
        a, b, h1 / h2, (h1 >= h2 ? "" : " (BELOW podman)"), c1 / c2, (c1 >= c2 ? "" : " (BELOW podman)"),
        f2 / f1, (r1 > 0 ? r2 / r1 : 0) }')"
}
if has ctr-pasta || has ctr-slirp4netns; then
  log "Ratios (throughput: ctr / podman, target >= 1.0x)"
  ratio ctr-slirp4netns podman-slirp4netns
  ratio ctr-slirp4netns-hostfwd podman-slirp4netns-hostfwd
  if has podman-pasta; then ratio ctr-pasta podman-pasta; fi
  ratio ctr-pasta podman-slirp4netns
fi
note "results: $res; hyperfine JSON: $OUT-first-conn-*.json"
