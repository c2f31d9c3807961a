# Shared by the bench scripts (sourced): free ports, core pinning, and the markdown block they put in docs/BENCHMARKS.md.
PY="$(command -v python3)"

# wait_ready <port>: polls PING (30 s at most), exits the script when the server never answers.
wait_ready() {
  for _ in $(seq 1 300); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; exit 1
}

# rss_kb <pid>: resident set size in kB (0 once the process is gone).
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Servers on core 0, clients on core 1, when there are two cores and taskset.
pin_server=(); pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0); pin_client=(taskset -c 1)
fi

# update_doc_block <marker> <heading> <table.md>: replaces the block between "<!-- bench:<marker>:start/end -->" in
# docs/BENCHMARKS.md, or appends it under "## <heading>" the first time.
update_doc_block() {
  "$PY" - "$1" "$2" "$3" "$root/docs/BENCHMARKS.md" <<'PYEOF'
import sys, re
marker, heading, table_file, doc_file = sys.argv[1:]
table = open(table_file).read()
doc = open(doc_file).read()
start, end = f"<!-- bench:{marker}:start -->", f"<!-- bench:{marker}:end -->"
block = start + "\n" + table + end
if start in doc:
    doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, doc, flags=re.S)
else:
    doc = doc.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
open(doc_file, "w").write(doc)
PYEOF
}
