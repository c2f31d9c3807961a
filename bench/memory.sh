#!/usr/bin/env bash
# Memory of small collections: Basalt (Release, bin/basalt-server) vs Debian's redis-server 7.0.
# For each kind a fresh pair of servers is started (no persistence, both pinned to core 0; redis-cli --pipe on
# core 1), COUNT keys are loaded with `redis-cli --pipe` from a RESP file generated once per kind in bench/out/,
# and used_memory (INFO memory) and VmRSS (/proc/PID/status) are read before and after the load, and again after
# MEMORY PURGE (Basalt: a blocking, compacting full GC in aggressive mode, which also decommits free GC regions and
# drops cached big connection buffers; Redis: jemalloc purge). The growth is divided by the key count.
# "After load" figures depend on where the GC cycle stands when the load ends (Basalt's gen0 budget under a write
# flood reaches tens of MB): compare Basalt and Redis on the "after GC" columns.
# The markdown table goes to bench/out/collections.md and into docs/BENCHMARKS.md between the
# "bench:collections" markers (reruns replace that block).
#
# Environment knobs:
#   COUNT=1000000                              keys per kind
#   KINDS="hash intset set zset list string"   which kinds to run
#   NODOC=1                                    do not touch docs/BENCHMARKS.md
#   KEEP=1                                     keep the generated RESP files in bench/out/
#   QUIET=4                                    seconds without commands before the after-load reading
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source bench/lib.sh

COUNT="${COUNT:-1000000}"
KINDS="${KINDS:-hash intset set zset list string}"
export QUIET="${QUIET:-4}"
PY="$(command -v python3)"

out="$root/bench/out"
mkdir -p "$out"
tsv="$out/collections.tsv"
: > "$tsv"



# Build first so the build does not run pinned or count against startup.
dotnet build src/Basalt.Server/Basalt.Server.csproj -c Release -o artifacts/server -nologo -v quiet >/dev/null

pids=(); dirs=()
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  for d in "${dirs[@]}"; do rm -rf "$d"; done
  dirs=()
}
trap stop_servers EXIT

info_field() { redis-cli -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }

# Writes the RESP commands for one kind: key prefix "k:", COUNT keys, 5 elements each.
gen_resp() { # kind file
  "$PY" - "$1" "$COUNT" >"$2" <<'EOF'
import sys
kind, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout
def cmd(*args):
    parts = ["*%d\r\n" % len(args)]
    for a in args:
        parts.append("$%d\r\n%s\r\n" % (len(a), a))
    return "".join(parts)
buf = []
for i in range(n):
    k = "k:%d" % i
    if kind == "hash":      # 5 fields, 2-char names, short values
        c = cmd("HSET", k, "f1", "v%d" % (i % 1000), "f2", "abc", "f3", "%d" % (i % 97), "f4", "x", "f5", "hello")
    elif kind == "intset":  # 5 integer members
        c = cmd("SADD", k, *["%d" % (i * 5 + j) for j in range(5)])
    elif kind == "set":     # 5 short string members
        c = cmd("SADD", k, *["m%d:%d" % (j, i % 1000) for j in range(5)])
    elif kind == "zset":    # 5 short members, integer scores
        c = cmd("ZADD", k, *[x for j in range(5) for x in ("%d" % (i % 1000 + j), "m%d" % j)])
    elif kind == "list":    # 5 short elements
        c = cmd("RPUSH", k, *["e%d:%d" % (j, i % 1000) for j in range(5)])
    elif kind == "string":  # 16-byte values
        c = cmd("SET", k, ("value:%d" % i).ljust(16, "x")[:16])
    else:
        raise SystemExit("unknown kind " + kind)
    buf.append(c)
    if len(buf) >= 10000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
EOF
}

# One measurement: load FILE into the server on PORT (PID), print a TSV row.
measure() { # server port pid file kind
  local server="$1" port="$2" pid="$3" file="$4" kind="$5"
  redis-cli -p "$port" memory purge >/dev/null
  sleep 0.5
  local b_used b_rss a_used a_rss g_used g_rss keys enc
  b_used="$(info_field "$port" used_memory)"; b_rss="$(rss_kb "$pid")"
  "${pin_client[@]}" redis-cli -p "$port" --pipe <"$file" >"$out/pipe-$kind-$server.log"
  keys="$(redis-cli -p "$port" dbsize)"
  # What a user sees once the load is over: Basalt returns the load's garbage after 2 s without commands.
  sleep "$QUIET"
  a_used="$(info_field "$port" used_memory)"; a_rss="$(rss_kb "$pid")"
  redis-cli -p "$port" memory purge >/dev/null
  sleep 0.5
  g_used="$(info_field "$port" used_memory)"; g_rss="$(rss_kb "$pid")"
  enc="$(redis-cli -p "$port" object encoding k:0)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$server" "$keys" "$enc" \
    "$b_used" "$a_used" "$g_used" "$b_rss" "$a_rss" "$g_rss" >>"$tsv"
}

for kind in $KINDS; do
  file="$out/collections-$kind.resp"
  echo "== $kind: generating $COUNT keys" >&2
  gen_resp "$kind" "$file"
  PB="$(free_port)"; PR="$(free_port)"
  while [ "$PR" = "$PB" ]; do PR="$(free_port)"; done
  bdir="$(mktemp -d)"; rdir="$(mktemp -d)"; dirs+=("$bdir" "$rdir")
  "${pin_server[@]}" "$root/bin/basalt-server" --port "$PB" --bind 127.0.0.1 --save "" --dir "$bdir" >"$out/basalt-$kind.log" 2>&1 &
  BPID=$!; pids+=("$BPID")
  "${pin_server[@]}" redis-server --port "$PR" --bind 127.0.0.1 --save "" --appendonly no --dir "$rdir" >"$out/redis-$kind.log" 2>&1 &
  RPID=$!; pids+=("$RPID")
  wait_ready "$PB"; wait_ready "$PR"
  # bin/basalt-server execs dotnet, so $BPID is the server process itself.
  echo "== $kind: basalt" >&2; measure basalt "$PB" "$BPID" "$file" "$kind"
  echo "== $kind: redis" >&2;  measure redis "$PR" "$RPID" "$file" "$kind"
  stop_servers
  [ -n "${KEEP:-}" ] || rm -f "$file"
done

report="$out/collections.md"
"$PY" - "$tsv" "$COUNT" "${#pin_server[@]}" >"$report" <<'EOF'
import sys, os, datetime
tsv, count, pinned = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
order = []
for l in open(tsv):
    f = l.rstrip("\n").split("\t")
    if len(f) < 10: continue
    kind, server = f[0], f[1]
    if kind not in order: order.append(kind)
    rows[(kind, server)] = f
desc = {
    "hash": "HSET k 5 fields (2-byte names, 1-5 byte values)",
    "intset": "SADD k 5 integers",
    "set": "SADD k 5 short strings",
    "zset": "ZADD k 5 members, integer scores",
    "list": "RPUSH k 5 short elements",
    "string": "SET k 16-byte value",
}
def per_key(a, b, keys):
    try: return (int(a) - int(b)) / keys
    except (ValueError, ZeroDivisionError): return None
def fmt(x): return "n/a" if x is None else f"{x:.1f}"
def ratio(a, b): return "n/a" if a is None or b is None or b <= 0 else f"{a / b:.2f}"
out = []
out.append(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
           f"{count:,} keys per kind, a fresh server pair per kind"
           f"{' (servers pinned to core 0, redis-cli --pipe to core 1)' if pinned != '0' else ''}. "
           "Bytes per key = growth over the empty server (after MEMORY PURGE) divided by the keys loaded; "
           f"\"used_memory\" and \"RSS growth\" are read {os.environ.get('QUIET', '4')} s after the load ended (no commands meanwhile); "
           "\"after GC\" = after a second MEMORY PURGE (Basalt: aggressive compacting full GC that returns free memory to the OS; Redis: jemalloc purge). "
           "The machine may have been shared with builds and tests of other helpers.")
out.append("")
out.append("| kind | keys | encoding Basalt / Redis | used_memory B/key Basalt / Redis | ratio | used_memory after GC B/key Basalt / Redis | ratio | RSS growth B/key Basalt / Redis | ratio | RSS growth after GC B/key Basalt / Redis | ratio |")
out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for kind in order:
    b, r = rows.get((kind, "basalt")), rows.get((kind, "redis"))
    if b is None or r is None: continue
    keys = int(r[2]) if r[2].isdigit() else count
    bk = b[2]
    keys_s = f"{keys:,}" if bk == r[2] else f"{bk} / {r[2]}"
    bkeys = int(bk) if bk.isdigit() else keys
    bu, ru = per_key(b[5], b[4], bkeys), per_key(r[5], r[4], keys)
    bg, rg = per_key(b[6], b[4], bkeys), per_key(r[6], r[4], keys)
    bs, rs = per_key(b[8], b[7], bkeys), per_key(r[8], r[7], keys)
    bsg, rsg = per_key(b[9], b[7], bkeys), per_key(r[9], r[7], keys)
    bs, rs, bsg, rsg = [None if x is None else x * 1024 for x in (bs, rs, bsg, rsg)]
    out.append(f"| {kind}: {desc.get(kind, kind)} | {keys_s} | {b[3]} / {r[3]} | {fmt(bu)} / {fmt(ru)} | {ratio(bu, ru)} | "
               f"{fmt(bg)} / {fmt(rg)} | {ratio(bg, rg)} | {fmt(bs)} / {fmt(rs)} | {ratio(bs, rs)} | {fmt(bsg)} / {fmt(rsg)} | {ratio(bsg, rsg)} |")
out.append("")
out.append("Absolute numbers (MB; before → after load and the quiet period → after GC):")
out.append("")
out.append("| kind | Basalt used_memory | Redis used_memory | Basalt VmRSS | Redis VmRSS |")
out.append("|---|---:|---:|---:|---:|")
def mb(x, scale): 
    try: return f"{int(x) * scale / 1048576:.1f}"
    except ValueError: return "n/a"
for kind in order:
    b, r = rows.get((kind, "basalt")), rows.get((kind, "redis"))
    if b is None or r is None: continue
    cells = []
    for f, idx, scale in ((b, 4, 1), (r, 4, 1), (b, 7, 1024), (r, 7, 1024)):
        cells.append(" → ".join(mb(f[idx + j], scale) for j in range(3)))
    out.append(f"| {kind} | " + " | ".join(cells) + " |")
print("\n".join(out))
EOF

cat "$report"

doc="$root/docs/BENCHMARKS.md"
if [ -z "${NODOC:-}" ] && [ -f "$doc" ] && grep -q '<!-- bench:collections:start -->' "$doc"; then
  "$PY" - "$doc" "$report" <<'EOF'
import sys, re
doc, report = sys.argv[1], sys.argv[2]
text = open(doc).read()
block = "<!-- bench:collections:start -->\n" + open(report).read().rstrip("\n") + "\n<!-- bench:collections:end -->"
text = re.sub(r"<!-- bench:collections:start -->.*?<!-- bench:collections:end -->", lambda m: block, text, flags=re.S)
open(doc, "w").write(text)
EOF
  echo "updated $doc" >&2
fi
