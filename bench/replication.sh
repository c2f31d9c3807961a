#!/usr/bin/env bash
# Replication: Basalt vs Debian's redis-server 7.0 with the same settings (diskless sync, no delay), one after the other.
# Masters pinned to core 0; replicas and redis-benchmark on core 1.
#   full sync: a master holding COUNT keys (DEBUG POPULATE), an empty running replica given REPLICAOF; time from that
#              command until master_link_status:up on the replica (snapshot, transfer and load);
#   throughput: redis-benchmark SET -r 100000 -P 16 -c 50 -n N on the master with 0, 1 and 2 replicas attached;
#   lag: max of (master_repl_offset - replica offset) sampled every 100 ms during the 2-replica run;
#   resync bytes: the replica's total_net_repl_input_bytes for the full sync, and for a partial resync after
#              CLIENT KILL TYPE master with 1000 SETs written meanwhile.
# Results: bench/out/replication.md and docs/BENCHMARKS.md between the "bench:replication" markers.
#   Each server gets an unrecorded warm-up run first (Basalt's JIT tiers up during its first requests); with ROUNDS > 1
#   the throughput part repeats, alternating which server goes first, and the table shows medians.
# Knobs: COUNTS="1000000 5000000"  N=300000  ROUNDS=1  NODOC=1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. "$root/bench/lib.sh"

COUNTS="${COUNTS:-1000000 5000000}"
N="${N:-300000}"
ROUNDS="${ROUNDS:-1}"
out="$root/bench/out"
mkdir -p "$out"
tsv="$out/replication.tsv"
: > "$tsv"

pin0=("${pin_server[@]}"); pin1=("${pin_client[@]}")
dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

pids=(); dirs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
  pids=(); dirs=()
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v k="$3" '$1 == k { print $2 }'; }
start() { # kind port pin... extra args
  local kind=$1 port=$2; shift 2
  local d; d="$(mktemp -d)"; dirs+=("$d")
  local bin=(redis-server) extra=(--appendonly no)
  [ "$kind" = basalt ] && bin=("$root/bin/basalt-server") && extra=()
  "$@" "${bin[@]}" --port "$port" --bind 127.0.0.1 --save "" --dir "$d" --enable-debug-command yes \
    --repl-diskless-sync yes --repl-diskless-sync-delay 0 "${extra[@]}" ${ARGS:-} >/dev/null 2>&1 &
  pids+=($!)
}
wait_ping() { for _ in $(seq 1 3000); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.02; done; echo "no server on $1" >&2; exit 1; }
wait_link() { for _ in $(seq 1 30000); do [ "$(field "$1" replication master_link_status)" = up ] && return 0; sleep 0.01; done; echo "link never up on $1" >&2; exit 1; }
rps() { "${pin1[@]}" redis-benchmark -p "$1" -t set -r 100000 -n "$N" -c 50 -P 16 -q 2>/dev/null | tr '\r' '\n' \
  | awk '/requests per second/ { for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1) } END { print v }'; }

for count in $COUNTS; do
  for kind in redis basalt; do
    pm=$(free_port); start "$kind" "$pm" "${pin0[@]}"; wait_ping "$pm"
    redis-cli -p "$pm" debug populate "$count" >/dev/null
    p1=$(free_port)
    start "$kind" "$p1" "${pin1[@]}"; wait_ping "$p1"
    t0=$(now_ms); redis-cli -p "$p1" replicaof 127.0.0.1 "$pm" >/dev/null; wait_link "$p1"; t1=$(now_ms)
    full_ms=$((t1 - t0))
    full_bytes=$(field "$p1" stats total_net_repl_input_bytes)
    # Partial resync: drop the link, write meanwhile, measure what the replica receives to catch up.
    b0=$(field "$p1" stats total_net_repl_input_bytes)
    redis-cli -p "$p1" client kill type master >/dev/null
    for i in $(seq 1 1000); do echo "SET partial:$i value-$i"; done | redis-cli -p "$pm" >/dev/null
    wait_link "$p1"
    target=$(field "$pm" replication master_repl_offset)
    for _ in $(seq 1 500); do [ "$(field "$p1" replication slave_repl_offset)" = "$target" ] && break; sleep 0.01; done
    b1=$(field "$p1" stats total_net_repl_input_bytes)
    partial_bytes=$((b1 - b0))
    partial_ok=$(field "$pm" stats sync_partial_ok)
    printf '%s\t%s\tfull_sync_ms\t%s\n' "$count" "$kind" "$full_ms" >> "$tsv"
    printf '%s\t%s\tfull_sync_bytes\t%s\n' "$count" "$kind" "$full_bytes" >> "$tsv"
    printf '%s\t%s\tpartial_resync_bytes\t%s\n' "$count" "$kind" "$partial_bytes" >> "$tsv"
    printf '%s\t%s\tpartial_resyncs_accepted\t%s\n' "$count" "$kind" "$partial_ok" >> "$tsv"
    echo "$count $kind: full sync ${full_ms} ms, ${full_bytes} B; partial ${partial_bytes} B (ok=${partial_ok})"
    cleanup
  done
done

for round in $(seq 1 "$ROUNDS"); do
order="redis basalt"; [ $((round % 2)) -eq 0 ] && order="basalt redis"
for kind in $order; do
  pm=$(free_port); start "$kind" "$pm" "${pin0[@]}"; wait_ping "$pm"
  rps "$pm" >/dev/null # warm-up, not recorded
  r0=$(rps "$pm")
  p1=$(free_port); ARGS="--replicaof 127.0.0.1 $pm" start "$kind" "$p1" "${pin1[@]}"; wait_ping "$p1"; wait_link "$p1"
  r1=$(rps "$pm")
  p2=$(free_port); ARGS="--replicaof 127.0.0.1 $pm" start "$kind" "$p2" "${pin1[@]}"; wait_ping "$p2"; wait_link "$p2"
  lagfile="$(mktemp)"
  ( while true; do
      # Replica first, master second: the master's offset is then never older than the replica's.
      for p in "$p1" "$p2"; do s=$(field "$p" replication slave_repl_offset); m=$(field "$pm" replication master_repl_offset); [ -n "$m" ] && [ -n "$s" ] && echo $((m - s)); done
      sleep 0.1
    done ) > "$lagfile" 2>/dev/null &
  sampler=$!
  r2=$(rps "$pm")
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  maxlag=$(sort -n "$lagfile" | tail -1); rm -f "$lagfile"
  printf 'all\t%s\tset_rps_0_replicas\t%s\n' "$kind" "$r0" >> "$tsv"
  printf 'all\t%s\tset_rps_1_replica\t%s\n' "$kind" "$r1" >> "$tsv"
  printf 'all\t%s\tset_rps_2_replicas\t%s\n' "$kind" "$r2" >> "$tsv"
  printf 'all\t%s\tmax_lag_bytes_2_replicas\t%s\n' "$kind" "${maxlag:-0}" >> "$tsv"
  echo "round $round $kind: SET rps 0/1/2 replicas: $r0 / $r1 / $r2; max lag ${maxlag:-0} B"
  cleanup
done
done

"$PY" - "$tsv" "$out/replication.md" "$N" "$ROUNDS" <<'EOF'
import sys
tsv, md, n, rounds = sys.argv[1:]
rows = {}
order = []
for line in open(tsv):
    count, kind, measure, v = line.rstrip('\n').split('\t')
    key = (count, measure)
    if key not in rows: order.append(key)
    rows.setdefault(key, {}).setdefault(kind, []).append(v)
def median(vs):
    try:
        xs = sorted(float(x) for x in vs)
    except ValueError:
        return vs[-1]
    m = xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    return f"{m:.2f}".rstrip('0').rstrip('.') if len(xs) > 1 else vs[0]
for key in rows:
    for kind in rows[key]: rows[key][kind] = median(rows[key][kind])
lines = [f"Diskless sync, no delay; throughput: redis-benchmark SET -P 16 -c 50 -n {n} on the master "
         f"(after a warm-up run; median of {rounds} round(s)).", "",
         "| keys | measure | Redis 7.0 | Basalt | Basalt/Redis |", "|---|---|---|---|---|"]
for key in order:
    count, measure = key
    r, b = rows[key].get('redis', '?'), rows[key].get('basalt', '?')
    try: ratio = f"{float(b) / float(r):.2f}"
    except (ValueError, ZeroDivisionError): ratio = "?"
    label = f"{int(count):,}" if count.isdigit() else "-"
    lines.append(f"| {label} | {measure} | {r} | {b} | {ratio} |")
open(md, 'w').write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF

if [ -z "${NODOC:-}" ]; then update_doc_block replication "Replication (bench/replication.sh)" "$out/replication.md"; fi
