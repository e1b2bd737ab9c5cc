#!/usr/bin/env bash
# System calls and CPU time per request, fulcrum vs HAProxy (and nginx), behind the same nginx
# backend as run.sh. On a shared, noisy machine requests/s moves with everything else running;
# the work a proxy does per request does not, so this is the number to compare changes with.
#
#   bench/proxy/syscalls.sh                       # every target, every scenario, 3 s each
#   bench/proxy/syscalls.sh --strace --targets "fulcrum haproxy" --scenarios keepalive
#                                                 # which system calls, per request (slows the proxy)
#
# Counts come from `perf stat -e raw_syscalls:sys_enter` on the proxy's processes, split by kind
# with tracepoint filters on x86_64 (EAGAIN: failed attempts, mostly reads that found nothing), or
# from strace -c with --strace; CPU time from /proc/PID/stat; requests from wrk's total.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
duration=3
fulcrum_bin="$repo/build/release/bin/fulcrum"
baseline_bin=""
targets="fulcrum haproxy nginx"
scenarios="keepalive close big"
proxy_cpu=1
load_cpu=0
use_strace=0

usage() {
  cat <<EOF
usage: $0 [--duration SECS] [--fulcrum PATH] [--baseline PATH] [--targets LIST]
          [--scenarios LIST] [--proxy-cpu N] [--load-cpu N] [--strace]
  targets: fulcrum haproxy nginx baseline (baseline = a second fulcrum binary, --baseline)
  scenarios: keepalive (-c50 /small), close (-c50 /small, Connection: close), big (-c10 /1m)
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --fulcrum) fulcrum_bin="$2"; shift 2 ;;
    --baseline) baseline_bin="$2"; targets="$targets baseline"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --proxy-cpu) proxy_cpu="$2"; shift 2 ;;
    --load-cpu) load_cpu="$2"; shift 2 ;;
    --strace) use_strace=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "syscalls.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "syscalls.sh: $*" >&2; exit 1; }
[ -x "$fulcrum_bin" ] || die "$fulcrum_bin not found: run 'make build' first"
if [ "$use_strace" = 1 ]; then
  command -v strace >/dev/null || die "strace not found"
else
  perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 ||
    die "perf cannot count raw_syscalls:sys_enter here (try --strace)"
fi

tmp="$(mktemp -d /tmp/fulcrum-syscalls.XXXXXX)"
chmod 755 "$tmp"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r backend_port fulcrum_port haproxy_port nginx_port baseline_port <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
declare -A port=([fulcrum]=$fulcrum_port [haproxy]=$haproxy_port [nginx]=$nginx_port
  [baseline]=$baseline_port)
declare -A pid_of

small_body="$(printf 'x%.0s' $(seq 100))"
render() {  # template output dir port
  sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$4|g" -e "s|@BACKEND_PORT@|$backend_port|g" \
    -e "s|@WWW@|$tmp/www|g" -e "s|@SMALL_BODY@|$small_body|g" "$here/$1" >"$2"
}
start() {  # name cpu command...
  local name="$1" cpu="$2"
  shift 2
  taskset -c "$cpu" "$@" >"$tmp/$name.out" 2>&1 &
  pids+=($!)
  pid_of[$name]=$!
}
wait_ready() {  # name port
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/small" && return 0
    sleep 0.1
  done
  cat "$tmp/$1.out" >&2 || true
  die "$1 did not answer on port $2"
}

mkdir -p "$tmp/www" "$tmp/backend" "$tmp/nginx"
chmod 755 "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/1m"
chmod 644 "$tmp/www/1m"
render backend-nginx.conf.in "$tmp/backend/nginx.conf" "$tmp/backend" "$backend_port"
start backend "$load_cpu" nginx -p "$tmp/backend" -e "$tmp/backend/error.log" -c "$tmp/backend/nginx.conf"
wait_ready backend "$backend_port"
for t in $targets; do
  case "$t" in
    fulcrum | baseline)
      bin="$fulcrum_bin"
      [ "$t" = fulcrum ] || bin="$baseline_bin"
      render fulcrum.yaml.in "$tmp/$t.yaml" "$tmp" "${port[$t]}"
      start "$t" "$proxy_cpu" "$bin" -c "$tmp/$t.yaml"
      ;;
    haproxy)
      render haproxy.cfg.in "$tmp/haproxy.cfg" "$tmp" "${port[$t]}"
      start haproxy "$proxy_cpu" haproxy -db -f "$tmp/haproxy.cfg"
      ;;
    nginx)
      render nginx-proxy.conf.in "$tmp/nginx/nginx.conf" "$tmp/nginx" "${port[$t]}"
      start nginx "$proxy_cpu" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
      ;;
    *) die "unknown target $t" ;;
  esac
  wait_ready "$t" "${port[$t]}"
done

proxy_pids() {  # nginx: the master and its workers
  if [ "$1" = nginx ]; then
    echo "${pid_of[nginx]} $(pgrep -P "${pid_of[nginx]}" | tr '\n' ' ')"
  else
    echo "${pid_of[$1]}"
  fi
}
cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    read -ra f <<<"$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    [ ${#f[@]} -gt 12 ] && total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
clk_tck="$(getconf CLK_TCK)"

# perf events: every system call, then (x86_64 numbers) the ones a proxy makes per request.
events=(-e raw_syscalls:sys_enter)
kinds=""
if [ "$(uname -m)" = x86_64 ]; then
  add_kind() {  # name filter
    kinds="$kinds $1"
    events+=(-e "raw_syscalls:${3:-sys_enter}" --filter "$2")
  }
  add_kind EAGAIN 'ret == -11' sys_exit
  add_kind recv 'id == 45 || id == 0'
  add_kind send 'id == 44 || id == 46 || id == 1 || id == 20'
  add_kind epoll_wait 'id == 232 || id == 281'
  add_kind epoll_ctl 'id == 233'
  add_kind accept 'id == 43 || id == 288'
  add_kind ioctl 'id == 16'
  add_kind setsockopt 'id == 54'
  add_kind getpeername 'id == 52 || id == 51'
fi

measure() {  # target scenario
  local t="$1" conns=50 path=/small extra=() list counter before after requests
  case "$2" in
    keepalive) ;;
    close) extra=(-H "Connection: close") ;;
    big) conns=10 path=/1m ;;
    *) die "unknown scenario $2" ;;
  esac
  read -ra list <<<"$(proxy_pids "$t")"
  if [ "$use_strace" = 1 ]; then
    strace -f -c -o "$tmp/count" $(printf -- '-p %s ' "${list[@]}") &
  else
    perf stat -x, -o "$tmp/count" -p "$(IFS=,; echo "${list[*]}")" "${events[@]}" &
  fi
  counter=$!
  sleep 0.3  # let the counter attach
  before="$(cpu_ticks "${list[@]}")"
  taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"${duration}s" "${extra[@]}" \
    "http://127.0.0.1:${port[$t]}$path" >"$tmp/wrk.log" 2>&1 || true
  after="$(cpu_ticks "${list[@]}")"
  kill -INT "$counter" 2>/dev/null || true
  wait "$counter" 2>/dev/null || true
  requests="$(awk '/requests in/ { print $1 }' "$tmp/wrk.log")"
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || die "$t $2: wrk made no request: $(cat "$tmp/wrk.log")"
  if [ "$use_strace" = 1 ]; then
    # strace -c: "% time seconds usecs/call calls errors syscall"; calls per request.
    printf '%-9s %-9s %8d requests (traced, slow)\n' "$t" "$2" "$requests"
    awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
        calls = $4; errors = (NF == 6 ? $5 : 0); name = $NF
        printf "    %-16s %6.2f per request (%.2f failed)\n", name, calls / n, errors / n
        total += calls }
      END { printf "    %-16s %6.2f per request\n", "total", total / n }' "$tmp/count"
  else
    # One line per run: per request, every system call, then the kinds named in $kinds.
    awk -F, -v t="$t" -v s="$2" -v n="$requests" -v ticks="$((after - before))" -v hz="$clk_tck" \
      -v secs="$duration" -v kinds="total $kinds" '
      BEGIN { split(kinds, name, " ") }
      /raw_syscalls/ { i++; per[i] = $1 / n }
      END {
        printf "%-9s %-9s %8.0f req/s %6.1f us CPU/req  syscalls/req:", t, s, n / secs,
          ticks / hz * 1e6 / n
        for (j = 1; j <= i; j++) printf " %s %.2f", name[j], per[j]
        printf "\n"
      }' "$tmp/count"
  fi
}

echo "syscalls.sh: proxy on CPU $proxy_cpu, wrk and backend on CPU $load_cpu, ${duration}s per run" >&2
for s in $scenarios; do
  for t in $targets; do measure "$t" "$s"; done
done
