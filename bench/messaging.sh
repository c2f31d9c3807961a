#!/usr/bin/env bash
# PUBLISH and EVALSHA throughput: Basalt vs Debian's redis-server 7.0, side by side, alternating rounds.
# Servers pinned to core 0; redis-benchmark (and the subscribers) on core 1.
#   publish-1 / publish-50: redis-benchmark PUBLISH to a channel with 1 or 50 redis-cli subscribers attached
#     (their output discarded); the figure is PUBLISH requests/s (each delivered to every subscriber).
#   evalsha: EVALSHA of `return redis.call('GET', KEYS[1])` on a random key; evalsha-set: a script doing one SET.
# Results: bench/out/messaging.md and docs/BENCHMARKS.md between the "bench:messaging" markers.
# Knobs: ROUNDS=3 N=100000 CLIENTS=50 PIPELINE=1 NODOC=1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. "$root/bench/lib.sh"

ROUNDS="${ROUNDS:-3}"
N="${N:-100000}"
CLIENTS="${CLIENTS:-50}"
PIPELINE="${PIPELINE:-1}"
out="$root/bench/out"
mkdir -p "$out"
tsv="$out/messaging.tsv"
: > "$tsv"

dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

server_pid=""; subs=()
cleanup() {
  for p in "${subs[@]}"; do kill "$p" 2>/dev/null || true; done
  subs=()
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  server_pid=""
}
trap cleanup EXIT

start_server() { # kind
  port="$(free_port)"
  if [ "$1" = basalt ]; then
    "${pin_server[@]}" "$root/bin/basalt-server" --port "$port" --bind 127.0.0.1 --save "" >/dev/null 2>&1 &
  else
    "${pin_server[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  fi
  server_pid=$!
  for _ in $(seq 1 600); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.05; done
  echo "server did not start" >&2; exit 1
}

rps() { # redis-benchmark args... -> requests per second
  "${pin_client[@]}" redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$PIPELINE" -q "$@" 2>/dev/null \
    | tr '\r' '\n' | awk '/requests per second/ { for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1) } END { print v }'
}

subscribe() { # count
  for _ in $(seq 1 "$1"); do
    "${pin_client[@]}" redis-cli -p "$port" subscribe bench-ch >/dev/null 2>&1 &
    subs+=($!)
  done
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "$port" pubsub numsub bench-ch | tail -1)" = "$1" ] && return 0
    sleep 0.05
  done
  echo "subscribers did not attach" >&2; exit 1
}

run_kind() { # kind round
  start_server "$1"
  redis-cli -p "$port" debug populate 100000 >/dev/null 2>&1 || redis-cli -p "$port" set key:1 v >/dev/null
  sha_get="$(redis-cli -p "$port" script load "return redis.call('GET', KEYS[1])")"
  sha_set="$(redis-cli -p "$port" script load "return redis.call('SET', KEYS[1], ARGV[1])")"
  printf '%s\t%s\t%s\t%s\n' "$2" "$1" evalsha "$(rps -r 100000 evalsha "$sha_get" 1 key:__rand_int__)" >> "$tsv"
  printf '%s\t%s\t%s\t%s\n' "$2" "$1" evalsha-set "$(rps -r 100000 evalsha "$sha_set" 1 key:__rand_int__ v)" >> "$tsv"
  subscribe 1
  printf '%s\t%s\t%s\t%s\n' "$2" "$1" publish-1 "$(rps publish bench-ch hello-subscribers)" >> "$tsv"
  for p in "${subs[@]}"; do kill "$p" 2>/dev/null || true; done; subs=()
  subscribe 50
  printf '%s\t%s\t%s\t%s\n' "$2" "$1" publish-50 "$(rps publish bench-ch hello-subscribers)" >> "$tsv"
  cleanup
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="redis basalt"; else order="basalt redis"; fi
  for kind in $order; do run_kind "$kind" "$round"; done
  echo "round $round done"
done

"$PY" - "$tsv" "$out/messaging.md" "$ROUNDS" "$N" "$CLIENTS" "$PIPELINE" <<'EOF'
import sys, statistics
tsv, md, rounds, n, clients, pipeline = sys.argv[1:]
vals = {}
for line in open(tsv):
    r, kind, test, v = line.rstrip('\n').split('\t')
    if v: vals.setdefault(test, {}).setdefault(kind, []).append(float(v))
lines = [f"redis-benchmark -n {n} -c {clients} -P {pipeline}, {rounds} alternating round(s), median requests/s.", "",
         "| test | Redis 7.0 | Basalt | Basalt/Redis |", "|---|---|---|---|"]
for test in ["publish-1", "publish-50", "evalsha", "evalsha-set"]:
    k = vals.get(test, {})
    if 'redis' not in k or 'basalt' not in k: continue
    r, b = statistics.median(k['redis']), statistics.median(k['basalt'])
    lines.append(f"| {test} | {r:,.0f} | {b:,.0f} | {b / r:.2f} |")
open(md, 'w').write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF

if [ -z "${NODOC:-}" ]; then update_doc_block messaging "PUBLISH and EVALSHA (bench/messaging.sh)" "$out/messaging.md"; fi
