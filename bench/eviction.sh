#!/usr/bin/env bash
# Eviction under a write flood: does maxmemory hold the process near its limit?
# For each server (Basalt Release and Debian's redis-server 7.0, fresh, no persistence, pinned to core 0) with
# `maxmemory MAXMEM` and `maxmemory-policy POLICY`, redis-benchmark (core 1) floods SET with VALUE-byte values over a
# key space far larger than the limit, while this script samples VmRSS (/proc/PID/status), used_memory and
# evicted_keys every 200 ms. It reports the peak and the median (second half of the flood) of RSS and used_memory
# against the limit, the keys left and evicted, and the flood's throughput. Rounds alternate Basalt and Redis.
# The markdown table goes to bench/out/eviction.md and into docs/BENCHMARKS.md between the "bench:eviction" markers.
#
# Environment knobs:
#   MAXMEM=100mb  POLICY=allkeys-lru  VALUE=256  N=3000000  KEYSPACE=10000000  PIPELINE=16  ROUNDS=1
#   NODOC=1  do not touch docs/BENCHMARKS.md
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source bench/lib.sh

MAXMEM="${MAXMEM:-100mb}"
POLICY="${POLICY:-allkeys-lru}"
VALUE="${VALUE:-256}"
N="${N:-3000000}"
KEYSPACE="${KEYSPACE:-10000000}"
PIPELINE="${PIPELINE:-16}"
ROUNDS="${ROUNDS:-1}"

out="$root/bench/out"
mkdir -p "$out"
dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

pid=""; dir=""
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
  [ -n "$dir" ] && rm -rf "$dir"
  dir=""
}
trap stop_server EXIT

info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v k="$3" '$1 == k { print $2 }'; }

start_server() { # name port
  dir="$(mktemp -d)"
  local args=(--port "$2" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir"
              --maxmemory "$MAXMEM" --maxmemory-policy "$POLICY")
  if [ "$1" = basalt ]; then
    "${pin_server[@]}" bin/basalt-server "${args[@]}" >"$dir/log" 2>&1 &
  else
    "${pin_server[@]}" redis-server "${args[@]}" >"$dir/log" 2>&1 &
  fi
  pid=$!
  wait_ready "$2"
}

samples="$out/eviction-samples.tsv"
results="$out/eviction.tsv"
: > "$results"
printf 'server\tround\tt_ms\trss_kb\tused_memory\tevicted\n' > "$samples"

run_one() { # name round
  local port; port="$(free_port)"
  start_server "$1" "$port"
  local rss0; rss0="$(rss_kb "$pid")"
  local bench_log="$dir/bench.log"
  "${pin_client[@]}" redis-benchmark -p "$port" -t set -n "$N" -r "$KEYSPACE" -d "$VALUE" -P "$PIPELINE" -c 50 -q \
    >"$bench_log" 2>&1 &
  local bpid=$! t0; t0=$(date +%s%3N)
  while kill -0 "$bpid" 2>/dev/null; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(( $(date +%s%3N) - t0 ))" "$(rss_kb "$pid")" \
      "$(info_field "$port" memory used_memory)" "$(info_field "$port" stats evicted_keys)" >> "$samples"
    sleep 0.2
  done
  wait "$bpid" || true
  local rps; rps="$(tr '\r' '\n' < "$bench_log" | grep -oE 'SET: [0-9.]+' | tail -n 1 | awk '{print $2}')"
  local keys; keys="$(redis-cli -p "$port" dbsize)"
  local evicted; evicted="$(info_field "$port" stats evicted_keys)"
  local maxbytes; maxbytes="$(info_field "$port" memory maxmemory)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rps" "$keys" "$evicted" "$maxbytes" "$rss0" >> "$results"
  stop_server
}

for r in $(seq 1 "$ROUNDS"); do
  run_one basalt "$r"
  run_one redis "$r"
done

"$PY" - "$samples" "$results" "$out/eviction.md" "$MAXMEM" "$POLICY" "$VALUE" "$N" "$KEYSPACE" "$PIPELINE" "$ROUNDS" <<'PYEOF'
import sys, statistics, datetime, os
samples, results, md, maxmem, policy, value, n, keyspace, pipeline, rounds = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(samples)][1:]
res = [l.rstrip("\n").split("\t") for l in open(results)]
mb = lambda b: b / 1048576
out = []
out.append(f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores: maxmemory {maxmem}, "
           f"{policy}, redis-benchmark -t set -d {value} -r {keyspace} -n {n} -P {pipeline} -c 50, {rounds} round(s) "
           "per server (servers on core 0, client on core 1). RSS and used_memory sampled every 200 ms; "
           "\"late\" = median over the second half of the flood.\n")
out.append("| server | round | maxmemory MB | RSS at start MB | RSS peak MB | RSS late median MB | used_memory peak MB | "
           "used_memory late median MB | RSS growth late median / maxmemory | keys left | evicted keys | SET rps |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, rnd, rps, keys, evicted, maxbytes, rss0 in res:
    s = [r for r in rows if r[0] == name and r[1] == rnd and r[3] and r[4]]
    rss = [int(r[3]) * 1024 for r in s]
    used = [int(r[4]) for r in s]
    half = len(s) // 2
    late_rss = statistics.median(rss[half:]) if rss else 0
    late_used = statistics.median(used[half:]) if used else 0
    out.append(f"| {name} | {rnd} | {mb(int(maxbytes)):.0f} | {mb(int(rss0) * 1024):.1f} | {mb(max(rss, default=0)):.1f} | "
               f"{mb(late_rss):.1f} | {mb(max(used, default=0)):.1f} | {mb(late_used):.1f} | "
               f"{(late_rss - int(rss0) * 1024) / int(maxbytes):.2f} | {int(keys):,} | "
               f"{int(evicted):,} | {float(rps or 0):,.0f} |")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
PYEOF

if [ "${NODOC:-}" != 1 ]; then
  update_doc_block eviction "bench/eviction.sh — maxmemory under a write flood" "$out/eviction.md"
fi
