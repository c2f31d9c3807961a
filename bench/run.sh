#!/usr/bin/env bash
# Side-by-side benchmark: Basalt (Release, bin/basalt-server) vs Debian's redis-server 7.0.
# Servers share core 0, redis-benchmark runs on core 1 (taskset, when there are >= 2 cores).
# Rounds alternate which server goes first. Results go to bench/out/ and into docs/BENCHMARKS.md
# between the "bench:results" markers (reruns replace that block).
#
# Environment knobs:
#   ROUNDS=3  N=100000  CLIENTS=50  KEYSPACE=100000  PIPELINES="1 16"
#   TESTS="set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset"
#   MEMKEYS=1000000  (keys for the memory measurement; 0 skips it)   NODOC=1 (do not touch docs/BENCHMARKS.md)
#   ALLOCN=200000  (commands per phase for bench/Basalt.Bench; 0 skips it)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
N="${N:-100000}"
CLIENTS="${CLIENTS:-50}"
KEYSPACE="${KEYSPACE:-100000}"
PIPELINES="${PIPELINES:-1 16}"
TESTS="${TESTS:-set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset}"
MEMKEYS="${MEMKEYS:-1000000}"
PY="$(command -v python3)"

out="$root/bench/out"
mkdir -p "$out"
results="$out/results.tsv"
: > "$results"

PB="$(free_port)"
PR="$(free_port)"
while [ "$PR" = "$PB" ]; do PR="$(free_port)"; done


# Build first so the build does not run pinned or count against startup.
dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

bdir="$(mktemp -d)"; rdir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bdir" "$rdir"
}
trap cleanup EXIT

"${pin_server[@]}" "$root/bin/basalt-server" --port "$PB" --bind 127.0.0.1 --save "" --dir "$bdir" --enable-debug-command yes >"$out/basalt.log" 2>&1 &
BPID=$!; pids+=("$BPID")
"${pin_server[@]}" redis-server --port "$PR" --bind 127.0.0.1 --save "" --appendonly no --dir "$rdir" --enable-debug-command yes >"$out/redis.log" 2>&1 &
RPID=$!; pids+=("$RPID")

wait_ready "$PB"; wait_ready "$PR"

label_of() {
  case "$1" in
    lrange_100) echo "LRANGE_100" ;; lrange_300) echo "LRANGE_300" ;; ping) echo "PING_INLINE" ;;
    *) echo "$1" | tr '[:lower:]' '[:upper:]' ;;
  esac
}

# One redis-benchmark run per test, so a command Basalt lacks only costs that cell ("n/a").
run_one() { # server port test pipeline round
  local server="$1" port="$2" t="$3" p="$4" round="$5" label csv line
  label="$(label_of "$t")"
  csv="$("${pin_client[@]}" redis-benchmark -p "$port" -c "$CLIENTS" -r "$KEYSPACE" -n "$N" -P "$p" -t "$t" --csv 2>&1 || true)"
  line="$(printf '%s\n' "$csv" | grep -E "^\"$label[\" ]" | head -1 || true)"
  if [ -z "$line" ] || printf '%s' "$csv" | grep -q "Error"; then
    printf '%s\t%s\t%s\t%s\tn/a\tn/a\tn/a\n' "$server" "$t" "$p" "$round" >>"$results"
    return
  fi
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  printf '%s\n' "$line" | tr -d '"' | awk -F, -v s="$server" -v t="$t" -v p="$p" -v r="$round" \
    '{ printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s, t, p, r, $2, $5, $7 }' >>"$results"
}

IFS=',' read -r -a tests <<<"$TESTS"
# Unrecorded warm-up on both servers with the selected tests: Basalt's JIT tiers up each command's code during its first requests.
for port in "$PB" "$PR"; do
  "${pin_client[@]}" redis-benchmark -p "$port" -c "$CLIENTS" -r "$KEYSPACE" -n "$N" -t "$TESTS" -q >/dev/null 2>&1 || true
  "${pin_client[@]}" redis-benchmark -p "$port" -c "$CLIENTS" -r "$KEYSPACE" -n "$N" -P 16 -t "$TESTS" -q >/dev/null 2>&1 || true
done
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order=("basalt $PB" "redis $PR"); else order=("redis $PR" "basalt $PB"); fi
  for p in $PIPELINES; do
    for entry in "${order[@]}"; do
      read -r server port <<<"$entry"
      redis-cli -p "$port" flushall >/dev/null
      for t in "${tests[@]}"; do
        echo "round $round  $server  P=$p  $t" >&2
        run_one "$server" "$port" "$t" "$p" "$round"
      done
    done
  done
done

# Memory: the same keys on both servers, measured as the growth over an empty server.
mem="$out/memory.tsv"
: > "$mem"
info_field() { redis-cli -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
if [ "$MEMKEYS" -gt 0 ]; then
  method="DEBUG POPULATE $MEMKEYS key 16"
  if ! redis-cli -p "$PB" debug help 2>/dev/null | grep -qi populate; then
    # Fallback for builds without DEBUG POPULATE: the same SETs piped into both servers.
    method="redis-cli --pipe of $MEMKEYS SETs (key:N -> 16-byte value)"
    "$PY" - "$MEMKEYS" >"$out/populate.resp" <<'EOF'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    k = "key:%d" % i
    v = ("value:%d" % i).ljust(16, "x")[:16]
    w("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n" % (len(k), k, v))
EOF
  fi
  for entry in "basalt $PB $BPID" "redis $PR $RPID"; do
    read -r server port pid <<<"$entry"
    redis-cli -p "$port" flushall >/dev/null
    sleep 1
    before_rss="$(rss_kb "$pid")"; before_used="$(info_field "$port" used_memory)"
    if [[ "$method" == DEBUG* ]]; then
      redis-cli -p "$port" debug populate "$MEMKEYS" key 16 >/dev/null
    else
      redis-cli -p "$port" --pipe <"$out/populate.resp" >/dev/null
    fi
    sleep 1
    keys="$(redis-cli -p "$port" dbsize)"
    after_rss="$(rss_kb "$pid")"; after_used="$(info_field "$port" used_memory)"; after_info_rss="$(info_field "$port" used_memory_rss)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$keys" "${before_rss:-}" "${after_rss:-}" "${before_used:-}" "${after_used:-}" "${after_info_rss:-}" >>"$mem"
  done
  echo "$method" >"$out/memory.method"
fi

# Allocation probe (in-process server; runs after the servers above are done with the cores).
ALLOCN="${ALLOCN:-200000}"
alloc="$out/alloc.txt"
if [ "$ALLOCN" -gt 0 ]; then
  dotnet build bench/Basalt.Bench -c Release -nologo -v quiet >/dev/null
  { echo '```'; dotnet bench/Basalt.Bench/bin/Release/net10.0/Basalt.Bench.dll "$ALLOCN" 1,16; echo '```'; } >"$alloc"
  cat "$alloc"
fi

report="$out/report.md"
"$PY" - "$results" "$mem" "$out/memory.method" "$ROUNDS" "$N" "$CLIENTS" "$KEYSPACE" "${#pin_server[@]}" >"$report" <<'EOF'
import sys, statistics, os, datetime, subprocess
results, mem, method_file, rounds, n, clients, keyspace, pinned = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
data = {}
order = []
for server, test, p, rnd, rps, p50, p99 in rows:
    key = (test, int(p))
    if key not in order: order.append(key)
    data.setdefault((server,) + key, []).append(None if rps == "n/a" else (float(rps), float(p50), float(p99)))
def summary(server, key):
    runs = data.get((server,) + key, [])
    ok = [r for r in runs if r is not None]
    if not ok or len(ok) < len(runs): return None
    return (statistics.median(r[0] for r in ok), max(r[0] for r in ok),
            statistics.median(r[1] for r in ok), statistics.median(r[2] for r in ok))
def fmt_rps(x): return "n/a" if x is None else f"{x:,.0f}"
def fmt_ms(x): return "n/a" if x is None else f"{x:.3f}"
out = []
out.append(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores"
           f"{' (servers pinned to core 0, redis-benchmark to core 1)' if pinned != '0' else ' (no CPU pinning)'}; "
           f"redis-benchmark -c {clients} -r {keyspace} -n {n}, {rounds} alternating round(s). "
           "rps = requests/second (median and best of the rounds); p50/p99 = median over rounds of redis-benchmark's latency percentiles (ms).")
out.append("")
out.append("| test | -P | Basalt rps (median / best) | Redis rps (median / best) | Basalt/Redis | Basalt p50 / p99 ms | Redis p50 / p99 ms |")
out.append("|---|---:|---:|---:|---:|---:|---:|")
for key in order:
    b, r = summary("basalt", key), summary("redis", key)
    ratio = "n/a" if b is None or r is None else f"{b[0] / r[0]:.2f}"
    bs = "n/a" if b is None else f"{fmt_rps(b[0])} / {fmt_rps(b[1])}"
    rs = "n/a" if r is None else f"{fmt_rps(r[0])} / {fmt_rps(r[1])}"
    bl = "n/a" if b is None else f"{fmt_ms(b[2])} / {fmt_ms(b[3])}"
    rl = "n/a" if r is None else f"{fmt_ms(r[2])} / {fmt_ms(r[3])}"
    out.append(f"| {key[0]} | {key[1]} | {bs} | {rs} | {ratio} | {bl} | {rl} |")
if os.path.exists(mem) and os.path.getsize(mem) > 0:
    method = open(method_file).read().strip() if os.path.exists(method_file) else "?"
    out.append("")
    out.append(f"Memory after `FLUSHALL` then {method} (growth over the empty server, divided by the key count):")
    out.append("")
    out.append("| server | keys | VmRSS before → after (MB) | RSS growth per key (bytes) | used_memory growth per key (bytes) | INFO used_memory_rss (MB) |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for l in open(mem):
        server, keys, brss, arss, bused, aused, irss = (l.rstrip("\n").split("\t") + [""] * 7)[:7]
        try: k = int(keys)
        except ValueError: k = 0
        rss = f"{int(brss)/1024:.1f} → {int(arss)/1024:.1f}" if brss and arss else "n/a"
        rss_pk = f"{(int(arss) - int(brss)) * 1024 / k:.1f}" if brss and arss and k else "n/a"
        used_pk = f"{(int(aused) - int(bused)) / k:.1f}" if bused and aused and k else "n/a"
        irss_mb = f"{int(irss)/1048576:.1f}" if irss else "n/a"
        out.append(f"| {server} | {keys} | {rss} | {rss_pk} | {used_pk} | {irss_mb} |")
print("\n".join(out))
EOF

cat "$report"

doc="$root/docs/BENCHMARKS.md"
if [ -z "${NODOC:-}" ] && [ -f "$doc" ] && grep -q '<!-- bench:results:start -->' "$doc"; then
  [ -s "$alloc" ] || alloc=""
  "$PY" - "$doc" "$report" "$alloc" <<'EOF'
import sys, re
doc, report = sys.argv[1], sys.argv[2]
text = open(doc).read()
block = "<!-- bench:results:start -->\n" + open(report).read().rstrip("\n") + "\n<!-- bench:results:end -->"
text = re.sub(r"<!-- bench:results:start -->.*?<!-- bench:results:end -->", lambda m: block, text, flags=re.S)
if len(sys.argv) > 3 and sys.argv[3]:
    alloc = "<!-- bench:alloc:start -->\n" + open(sys.argv[3]).read().rstrip("\n") + "\n<!-- bench:alloc:end -->"
    text = re.sub(r"<!-- bench:alloc:start -->.*?<!-- bench:alloc:end -->", lambda m: alloc, text, flags=re.S)
open(doc, "w").write(text)
EOF
  echo "updated $doc" >&2
fi
