#!/usr/bin/env bash
# Side-by-side proxy benchmark: fulcrum vs HAProxy vs nginx, each with exactly one worker, in
# front of one shared nginx backend, measured with wrk in alternating rounds. Prints and
# optionally writes (markdown) the median requests/s and p99 latency per proxy and scenario.
# The tls-* scenarios go to a second, TLS listener of each proxy (and of the backend, for
# "direct"), all serving the same ECDSA P-256 certificate made by openssl at start.
#
# Builds nothing: expects build/release/bin/fulcrum (make build). Everything runs on loopback
# ports the kernel hands out, in a temporary directory that is removed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

rounds=5
duration=10
warmup=2
out=""
fulcrum_bin="$repo/build/release/bin/fulcrum"
proxy_cpu=1
load_cpu=0
conns=50
big_conns=10
scenarios="keepalive close big tls-keepalive tls-close"
targets="fulcrum haproxy nginx direct"
baseline_bin=""
niceness=0

usage() {
  cat <<EOF
usage: $0 [options]
  --rounds N        measured rounds per proxy and scenario (default $rounds)
  --duration SECS   length of one wrk run (default $duration)
  --warmup SECS     unmeasured wrk run per proxy and scenario before the rounds (default $warmup; 0 = none)
  --out FILE        also write the results as markdown to FILE
  --fulcrum PATH    fulcrum binary (default build/release/bin/fulcrum)
  --baseline PATH   also measure this second fulcrum binary (target "baseline"), to A/B a change
  --proxy-cpu N     CPU the proxy under test is pinned to (default $proxy_cpu)
  --load-cpu N      CPU wrk and the backend are pinned to (default $load_cpu)
  --connections N   wrk connections for the small-response scenarios (default $conns)
  --big-connections N  wrk connections for the 1 MiB scenario (default $big_conns)
  --scenarios LIST  subset of "keepalive close big tls-keepalive tls-close" (default all)
  --targets LIST    subset of "fulcrum haproxy nginx direct" (default all; direct = backend without proxy)
  --nice N          run every benchmark process under 'nice -n N' and give this session's
                    scheduler autogroup the same nice value until exit (e.g. -19 as root on a busy
                    machine: with autogroups, per-process nice alone does not outrank other sessions)
EOF
}

args_given="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fulcrum) fulcrum_bin="$2"; shift 2 ;;
    --baseline) baseline_bin="$2"; shift 2 ;;
    --proxy-cpu) proxy_cpu="$2"; shift 2 ;;
    --load-cpu) load_cpu="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --big-connections) big_conns="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --nice) niceness="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 1; }

[ -x "$fulcrum_bin" ] || die "$fulcrum_bin not found: run 'make build' first"
if [ -n "$baseline_bin" ]; then
  [ -x "$baseline_bin" ] || die "$baseline_bin not found"
  targets="$targets baseline"
fi
for tool in haproxy nginx wrk taskset curl openssl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    die "$tool not found (scripts/install-deps.sh installs it)"
done
haproxy_bin="$(command -v haproxy || echo /usr/sbin/haproxy)"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
ncpu="$(nproc)"
if [ "$proxy_cpu" -ge "$ncpu" ] || [ "$load_cpu" -ge "$ncpu" ]; then
  die "CPU $proxy_cpu or $load_cpu does not exist (nproc = $ncpu)"
fi
[ "$proxy_cpu" != "$load_cpu" ] || echo "run.sh: warning: proxy and load share CPU $load_cpu" >&2

tmp="$(mktemp -d /tmp/fulcrum-bench.XXXXXX)"
# nginx workers drop to an unprivileged user when started as root: they must read the files.
chmod 755 "$tmp"
pids=()
declare -A pid_of negotiated
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
  [ -z "$autogroup_before" ] || echo "$autogroup_before" >/proc/self/autogroup 2>/dev/null || true
}
autogroup_before=""
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every process of the benchmark runs under this prefix: pinned, and reniced when asked.
prio=()
if [ "$niceness" != 0 ]; then
  prio=(nice -n "$niceness")
  if [ -w /proc/self/autogroup ]; then
    autogroup_before="$(sed 's/.* nice //' /proc/self/autogroup)"
    echo "$niceness" >/proc/self/autogroup 2>/dev/null || autogroup_before=""
  fi
fi

# Free loopback ports, chosen by the kernel: bind port 0 and keep every socket open until all
# are chosen, so they differ. They are released just before the servers bind them.
free_ports() {
  if command -v python3 >/dev/null && python3 -c 'import socket' 2>/dev/null; then
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
  else
    # Fallback: random ports that nothing listens on.
    local chosen=() port
    while [ ${#chosen[@]} -lt "$1" ]; do
      port=$((20000 + RANDOM % 12000))
      ss -Htln "sport = :$port" | grep -q . || [[ " ${chosen[*]} " == *" $port "* ]] || chosen+=("$port")
    done
    echo "${chosen[*]}"
  fi
}
read -r backend_port fulcrum_port haproxy_port nginx_port baseline_port \
  backend_tls_port fulcrum_tls_port haproxy_tls_port nginx_tls_port baseline_tls_port \
  <<<"$(free_ports 10)"
declare -A port=([direct]=$backend_port [fulcrum]=$fulcrum_port [haproxy]=$haproxy_port
  [nginx]=$nginx_port [baseline]=$baseline_port)
declare -A tls_port=([direct]=$backend_tls_port [fulcrum]=$fulcrum_tls_port
  [haproxy]=$haproxy_tls_port [nginx]=$nginx_tls_port [baseline]=$baseline_tls_port)

small_body="$(printf 'x%.0s' $(seq 100))"
render() {  # template output dir port tls_port
  sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$4|g" -e "s|@TLS_PORT@|$5|g" \
    -e "s|@BACKEND_PORT@|$backend_port|g" -e "s|@WWW@|$tmp/www|g" \
    -e "s|@SMALL_BODY@|$small_body|g" -e "s|@CERT@|$tmp/tls/bench.pem|g" \
    -e "s|@KEY@|$tmp/tls/bench.key|g" -e "s|@CERT_AND_KEY@|$tmp/tls/bench-with-key.pem|g" \
    "$here/$1" >"$2"
}

# One certificate for every TLS listener: ECDSA P-256, self-signed (wrk does not verify).
# HAProxy reads the certificate and its key from one file.
mkdir -p "$tmp/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=bench.test" -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" \
  -keyout "$tmp/tls/bench.key" -out "$tmp/tls/bench.pem" 2>"$tmp/tls/openssl.log" ||
  die "openssl could not make the certificate: $(cat "$tmp/tls/openssl.log")"
cat "$tmp/tls/bench.pem" "$tmp/tls/bench.key" >"$tmp/tls/bench-with-key.pem"
chmod 755 "$tmp/tls"
chmod 644 "$tmp/tls"/*

start() {  # name cpu command... ; remembers the pid
  local name="$1" cpu="$2"
  shift 2
  taskset -c "$cpu" "${prio[@]}" "$@" >"$tmp/$name.out" 2>&1 &
  pids+=($!)
  pid_of[$name]=$!
}

wait_ready() {  # name port [scheme]
  local i
  for i in $(seq 100); do
    curl -sk -o /dev/null --max-time 1 "${3:-http}://127.0.0.1:$2/small" && return 0
    sleep 0.1
  done
  cat "$tmp/$1.out" >&2 || true
  die "$1 did not answer on port $2"
}

# The shared backend.
mkdir -p "$tmp/www" "$tmp/backend" "$tmp/nginx"
chmod 755 "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/1m"
chmod 644 "$tmp/www/1m"
render backend-nginx.conf.in "$tmp/backend/nginx.conf" "$tmp/backend" "$backend_port" \
  "$backend_tls_port"
start backend "$load_cpu" "$nginx_bin" -p "$tmp/backend" -e "$tmp/backend/error.log" -c "$tmp/backend/nginx.conf"
wait_ready backend "$backend_port"

# The proxies under test.
render fulcrum.yaml.in "$tmp/fulcrum.yaml" "$tmp" "$fulcrum_port" "$fulcrum_tls_port"
render fulcrum.yaml.in "$tmp/baseline.yaml" "$tmp" "$baseline_port" "$baseline_tls_port"
render haproxy.cfg.in "$tmp/haproxy.cfg" "$tmp" "$haproxy_port" "$haproxy_tls_port"
render nginx-proxy.conf.in "$tmp/nginx/nginx.conf" "$tmp/nginx" "$nginx_port" "$nginx_tls_port"
for t in $targets; do
  case "$t" in
    fulcrum) start fulcrum "$proxy_cpu" "$fulcrum_bin" -c "$tmp/fulcrum.yaml" ;;
    baseline) start baseline "$proxy_cpu" "$baseline_bin" -c "$tmp/baseline.yaml" ;;
    haproxy) start haproxy "$proxy_cpu" "$haproxy_bin" -db -f "$tmp/haproxy.cfg" ;;
    nginx) start nginx "$proxy_cpu" "$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" ;;
    direct) ;;
    *) die "unknown target $t" ;;
  esac
done
for t in $targets; do
  [ "$t" = direct ] || wait_ready "$t" "${port[$t]}"
  wait_ready "$t" "${tls_port[$t]}" https
  case "$t" in
    fulcrum | baseline)
      grep -q "with 1 workers" "$tmp/$t.out" || die "$t does not report 1 worker: $(cat "$tmp/$t.out")"
      ;;
  esac
  # Every target must serve both bodies intact before it is measured.
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:${port[$t]}/small")"
  [ "$got" = "200 100" ] || die "$t: /small gave '$got', expected '200 100'"
  got="$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:${port[$t]}/1m")"
  [ "$got" = "200 1048576" ] || die "$t: /1m gave '$got', expected '200 1048576'"
  got="$(curl -sk -o /dev/null -w '%{http_code} %{size_download}' "https://127.0.0.1:${tls_port[$t]}/small")"
  [ "$got" = "200 100" ] || die "$t: https /small gave '$got', expected '200 100'"
  # What the TLS scenarios negotiate with this target, for the report.
  negotiated[$t]="$(openssl s_client -connect "127.0.0.1:${tls_port[$t]}" </dev/null 2>/dev/null |
    sed -n 's/^New, \(.*\)$/\1/p; s/^Server Temp Key: \(.*\)$/\1/p' | paste -sd' ' -)"
done

# Processes whose CPU time counts for a target (nginx: master and workers).
target_pids() {
  case "$1" in
    fulcrum | haproxy | baseline) echo "${pid_of[$1]}" ;;
    nginx | direct)  # master and workers
      local master="${pid_of[${1/direct/backend}]}"
      echo "$master $(pgrep -P "$master" | tr '\n' ' ')"
      ;;
  esac
}
cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local total=0 pid f
  for pid in "$@"; do
    # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    read -ra f <<<"$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    [ ${#f[@]} -gt 12 ] && total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
clk_tck="$(getconf CLK_TCK)"

scenario_args() {  # -> connections path connection-header scheme
  case "$1" in
    keepalive) echo "-c$conns /small keep http" ;;
    close) echo "-c$conns /small close http" ;;
    big) echo "-c$big_conns /1m keep http" ;;
    tls-keepalive) echo "-c$conns /small keep https" ;;
    tls-close) echo "-c$conns /small close https" ;;
    *) die "unknown scenario $1" ;;
  esac
}

# One wrk run; prints "rps p99_ms errors cpu_percent".
measure() {  # target scenario seconds
  local t="$1" secs="$3" c path close scheme log before after url
  read -r c path close scheme <<<"$(scenario_args "$2")"
  log="$tmp/wrk.log"
  local extra=()
  [ "$close" = close ] && extra=(-H "Connection: close")
  url="http://127.0.0.1:${port[$t]}$path"
  [ "$scheme" = https ] && url="https://127.0.0.1:${tls_port[$t]}$path"
  local target_pid_list
  read -ra target_pid_list <<<"$(target_pids "$t")"
  before="$(cpu_ticks "${target_pid_list[@]}")"
  taskset -c "$load_cpu" "${prio[@]}" wrk -t1 "$c" -d"${secs}s" --latency "${extra[@]}" \
    "$url" >"$log" 2>&1 || true
  after="$(cpu_ticks "${target_pid_list[@]}")"
  awk -v cpu="$(((after - before) * 100 / clk_tck / secs))" '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /s$/) return v * 1000
      if (v ~ /m$/) return v * 60000
      return v
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +99%/ { p99 = ms($2) }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    END {
      if (rps == "") { rps = 0; p99 = 0; errors = -1 }
      printf "%.0f %.3f %d %d\n", rps, p99, errors, cpu
    }' "$log"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
raw="$tmp/raw.tsv"
: >"$raw"
read -ra target_list <<<"$targets"
n_targets=${#target_list[@]}
echo "run.sh: proxy on CPU $proxy_cpu, wrk and backend on CPU $load_cpu; $rounds rounds of ${duration}s" >&2
if [ "$warmup" -gt 0 ]; then
  for s in $scenarios; do
    for t in "${target_list[@]}"; do measure "$t" "$s" "$warmup" >/dev/null; done
  done
fi
for r in $(seq "$rounds"); do
  for s in $scenarios; do
    # Rotate the order each round so that no proxy always runs right after another.
    for i in $(seq 0 $((n_targets - 1))); do
      t="${target_list[$(((i + r - 1) % n_targets))]}"
      read -r rps p99 errors cpu <<<"$(measure "$t" "$s" "$duration")"
      per_cpu="$(awk -v r="$rps" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? r * 100 / c : 0) }')"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$r" "$rps" "$p99" "$errors" "$cpu" \
        "$per_cpu" >>"$raw"
      printf 'round %s %-9s %-8s %8s req/s  p99 %8s ms  errors %s  cpu %s%%\n' \
        "$r" "$s" "$t" "$rps" "$p99" "$errors" "$cpu" >&2
    done
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() {  # scenario target column -> values
  awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t { print $c }' "$raw"
}
declare -A med_rps med_p99
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
label() {
  case "$1" in
    keepalive) echo "keep-alive, 100 B, -c$conns" ;;
    close) echo "new connection per request, 100 B, -c$conns" ;;
    big) echo "keep-alive, 1 MiB, -c$big_conns" ;;
    tls-keepalive) echo "TLS keep-alive, 100 B, -c$conns" ;;
    tls-close) echo "TLS new connection per request, 100 B, -c$conns" ;;
  esac
}
name() {
  case "$1" in
    fulcrum) echo fulcrum ;; haproxy) echo "HAProxy" ;; nginx) echo nginx ;;
    baseline) echo "fulcrum (baseline)" ;;
    direct) echo "(backend direct)" ;;
  esac
}

report="$tmp/report.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'): $rounds alternating rounds of ${duration}s per proxy and"
  echo "scenario (warm-up ${warmup}s), medians over the rounds; the spread is min-max of requests/s."
  echo
  echo "| Scenario | Proxy | req/s (median) | req/s min-max | p99 ms (median) | proxy CPU % | req/s per CPU-second | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for s in $scenarios; do
    for t in "${target_list[@]}"; do
      med_rps[$s.$t]="$(column_of "$s" "$t" 4 | median)"
      med_p99[$s.$t]="$(column_of "$s" "$t" 5 | median)"
      range="$(column_of "$s" "$t" 4 | sort -g | sed -n '1p;$p' | paste -sd- -)"
      cpu="$(column_of "$s" "$t" 7 | median)"
      per_cpu="$(column_of "$s" "$t" 8 | median)"
      errors="$(column_of "$s" "$t" 6 | awk '{ n += $1 } END { print n + 0 }')"
      printf '| %s | %s | %.0f | %s | %.2f | %.0f | %.0f | %s |\n' "$(label "$s")" "$(name "$t")" \
        "${med_rps[$s.$t]}" "$range" "${med_p99[$s.$t]}" "$cpu" "$per_cpu" "$errors"
    done
  done
  if [[ " $targets " == *" fulcrum "* ]]; then
    echo
    echo "Ratios of medians (req/s: higher is better for fulcrum; p99: lower is better for fulcrum):"
    echo
    others=()
    for o in haproxy nginx baseline; do [[ " $targets " != *" $o "* ]] || others+=("$o"); done
    header="| Scenario |" rule="|---|"
    for o in "${others[@]}"; do header+=" req/s fulcrum/$(name "$o") |" rule+="---:|"; done
    for o in "${others[@]}"; do header+=" p99 fulcrum/$(name "$o") |" rule+="---:|"; done
    echo "$header"
    echo "$rule"
    for s in $scenarios; do
      row="| $(label "$s") |"
      for o in "${others[@]}"; do row+=" $(ratio "${med_rps[$s.fulcrum]}" "${med_rps[$s.$o]:-0}") |"; done
      for o in "${others[@]}"; do row+=" $(ratio "${med_p99[$s.fulcrum]}" "${med_p99[$s.$o]:-0}") |"; done
      echo "$row"
    done
  fi
  echo
  echo "Setup: each proxy has one worker and is pinned to CPU $proxy_cpu (\`taskset\`); wrk (\`-t1\`) and the"
  echo "backend (nginx, 1 worker) share CPU $load_cpu. \"(backend direct)\" is wrk against the backend alone: the"
  echo "ceiling of the load side. \"proxy CPU %\" is the CPU time of the target's processes over the run;"
  echo "\"req/s per CPU-second\" divides by it (median of the rounds), which a busy machine disturbs less."
  [ "$niceness" = 0 ] || echo "Every benchmark process ran under \`nice -n $niceness\`${autogroup_before:+ (and its autogroup too)}."
  echo
  echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1),"
  echo "Linux $(uname -r), load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo "Versions: $("$fulcrum_bin" --version) ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ', uncommitted changes')),"
  echo "$("$haproxy_bin" -v | head -1 | cut -d' ' -f1-3), $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'),"
  echo "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
  echo "Command: \`bench/proxy/run.sh $args_given\`"
  if [[ " $scenarios " == *" tls-"* ]]; then
    echo
    echo "TLS: the same ECDSA P-256 certificate everywhere; wrk resumes sessions on reconnection"
    echo "(OpenSSL keeps the session across its SSL_clear). Negotiated (openssl s_client):"
    for t in "${target_list[@]}"; do echo "$(name "$t"): ${negotiated[$t]}."; done
  fi
  echo
  echo "<details><summary>Every round</summary>"
  echo
  echo "| Scenario | Proxy | Round | req/s | p99 ms | errors | proxy CPU % | req/s per CPU-second |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  sort -t$'\t' -k1,1 -k2,2 -k3,3n "$raw" |
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
  echo
  echo "</details>"
} >"$report"

cat "$report"
if [ -n "$out" ]; then
  mkdir -p "$(dirname "$out")"
  cp "$report" "$out"
  echo "run.sh: results written to $out" >&2
fi
