#!/usr/bin/env bash
# RDB persistence: Basalt (forkless snapshot) vs Debian's redis-server 7.0 (fork + copy-on-write), side by side.
# For each key count (COUNTS) and each server, in turn (Redis first, then Basalt), on a fresh server pinned to core 0:
#   1. DEBUG POPULATE <count> (strings "value:N"), RSS noted;
#   2. SAVE: wall time of the command, dump.rdb size;
#   3. BGSAVE on an idle server: wall time until rdb_bgsave_in_progress is 0;
#   4. write load: redis-benchmark SET -r <count> -P 16 -c 50 on core 1 runs throughout; a 3 s window without a save
#      measures baseline ops/s (total_commands_processed delta), then a BGSAVE runs under the same load and the
#      ops/s over its duration are measured the same way. Extra memory: Redis reports the child's copy-on-write
#      (rdb_last_cow_size); for Basalt the peak of VmRSS sampled every 20 ms during the save, minus the RSS before it;
#   5. load time: the server restarted on the dump, "DB loaded from disk: X seconds" from its log.
# Results go to bench/out/persistence.md and into docs/BENCHMARKS.md between the "bench:persistence" markers.
#
# Environment knobs: COUNTS="1000000 5000000"  NODOC=1 (do not touch docs/BENCHMARKS.md)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. "$root/bench/lib.sh"

COUNTS="${COUNTS:-1000000 5000000}"
out="$root/bench/out"
mkdir -p "$out"
tsv="$out/persistence.tsv"
: > "$tsv"

dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

server_pid=""; bench_pid=""; dir=""
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
  [ -n "$dir" ] && rm -rf "$dir"
  server_pid=""; bench_pid=""
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
info() { redis-cli -p "$port" info "$1" 2>/dev/null | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
wait_ready() {
  for _ in $(seq 1 3000); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; exit 1
}
start_server() { # kind
  port="$(free_port)"
  local bin=(redis-server) extra=(--appendonly no --daemonize no)
  [ "$1" = basalt ] && bin=("$root/bin/basalt-server") && extra=()
  "${pin_server[@]}" "${bin[@]}" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/server.log" \
    --enable-debug-command yes "${extra[@]}" >/dev/null 2>&1 &
  server_pid=$!
  wait_ready
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
wait_bgsave() { # echoes peak RSS (kB) seen while waiting
  local peak=0 r
  while [ "$(info persistence rdb_bgsave_in_progress)" != "0" ]; do
    r="$(rss_kb "$server_pid")"; [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.02
  done
  echo "$peak"
}
ops() { info stats total_commands_processed; }

for count in $COUNTS; do
  for kind in redis basalt; do
    dir="$(mktemp -d)"
    start_server "$kind"
    redis-cli -p "$port" debug populate "$count" >/dev/null
    rss0="$(rss_kb "$server_pid")"

    t0=$(now_ms); redis-cli -p "$port" save >/dev/null; t1=$(now_ms)
    save_ms=$((t1 - t0))
    size=$(stat -c %s "$dir/dump.rdb")

    t0=$(now_ms); redis-cli -p "$port" bgsave >/dev/null; wait_bgsave >/dev/null; t1=$(now_ms)
    bgsave_ms=$((t1 - t0))

    "${pin_client[@]}" redis-benchmark -p "$port" -t set -r "$count" -n 2000000000 -c 50 -P 16 -q >/dev/null 2>&1 &
    bench_pid=$!
    sleep 2
    o0=$(ops); t0=$(now_ms); sleep 3; o1=$(ops); t1=$(now_ms)
    base_ops=$(( (o1 - o0) * 1000 / (t1 - t0) ))
    rssb="$(rss_kb "$server_pid")"
    o0=$(ops); t0=$(now_ms); redis-cli -p "$port" bgsave >/dev/null; peak="$(wait_bgsave)"; o1=$(ops); t1=$(now_ms)
    load_bgsave_ms=$((t1 - t0))
    during_ops=$(( (o1 - o0) * 1000 / (t1 - t0) ))
    if [ "$kind" = redis ]; then extra_kb=$(( $(info persistence rdb_last_cow_size) / 1024 ))
    else extra_kb=$(( peak > rssb ? peak - rssb : 0 )); fi
    kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; bench_pid=""

    redis-cli -p "$port" save >/dev/null
    stop_server
    : > "$dir/server.log"
    start_server "$kind"
    load_s="$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$dir/server.log" | awk '{print $5}' | tail -1)"
    stop_server
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$count" "$kind" "$rss0" "$save_ms" "$size" "$bgsave_ms" \
      "$base_ops" "$during_ops" "$load_bgsave_ms" "$extra_kb" "${load_s:-?}" >> "$tsv"
    echo "$count $kind: rss=${rss0}kB save=${save_ms}ms size=${size} bgsave=${bgsave_ms}ms ops ${base_ops}->${during_ops} (bgsave ${load_bgsave_ms}ms, extra ${extra_kb}kB) load=${load_s:-?}s"
    rm -rf "$dir"; dir=""
  done
done

"$PY" - "$tsv" "$out/persistence.md" <<'EOF'
import sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows: by.setdefault(r[0], {})[r[1]] = r
def ratio(a, b):
    try: return f"{float(a) / float(b):.2f}"
    except (ValueError, ZeroDivisionError): return "?"
lines = ["| keys | measure | Redis 7.0 | Basalt | Basalt/Redis |", "|---|---|---|---|---|"]
for count, kinds in by.items():
    r, b = kinds.get('redis'), kinds.get('basalt')
    if not r or not b: continue
    n = f"{int(count):,}"
    def row(name, i, fmt=lambda x: x):
        lines.append(f"| {n} | {name} | {fmt(r[i])} | {fmt(b[i])} | {ratio(b[i], r[i])} |")
    row("RSS after load (MB)", 2, lambda x: f"{int(x)/1024:.0f}")
    row("SAVE (ms)", 3)
    row("dump.rdb (MB)", 4, lambda x: f"{int(x)/1048576:.1f}")
    row("BGSAVE idle (ms)", 5)
    row("SET ops/s without save", 6)
    row("SET ops/s during BGSAVE", 7)
    row("BGSAVE under load (ms)", 8)
    row("extra memory during BGSAVE under load (MB)", 9, lambda x: f"{int(x)/1024:.0f}")
    row("load at start (s)", 10)
open(sys.argv[2], 'w').write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF

if [ -z "${NODOC:-}" ]; then update_doc_block persistence "Persistence (bench/persistence.sh)" "$out/persistence.md"; fi
