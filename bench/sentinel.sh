#!/usr/bin/env bash
# Failover timings, Basalt vs real Redis Sentinel, same settings: 1 master + 2 replicas, 3 sentinels,
# quorum 2, down-after-milliseconds 2000, failover-timeout 10000. Measures, from kill -9 of the master:
# +odown, +switch-master (as seen by the first sentinel) and the first successful SET through a client that asks
# the sentinels for the master (retrying every 10 ms). Also the acknowledged writes lost: a writer INCRs a counter
# on the master until the kill and remembers the last acknowledged value; after the failover the counter on the new
# master is read. "async" = plain replication; "safe" = master with min-replicas-to-write 1 and every INCR followed by
# WAIT 1 100 (a write counts as acknowledged only when WAIT saw a replica take it).
# Results also go to docs/BENCHMARKS.md between the "bench:sentinel" markers (NODOC=1 skips).
# Usage: bench/sentinel.sh [runs=1]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-1}"
dotnet build "$root/src/Basalt.Server/Basalt.Server.csproj" -c Release -o "$root/artifacts/server" -nologo -v quiet >/dev/null
exec /usr/bin/python3 - "$root" "$runs" <<'PY'
import os, signal, subprocess, sys, tempfile, time, socket, threading, re
import redis
root, runs = sys.argv[1], int(sys.argv[2])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_ping(port, t=60):
    end = time.time() + t
    while time.time() < end:
        try:
            if redis.Redis(port=port, socket_timeout=1).ping(): return
        except Exception: time.sleep(0.05)
    raise SystemExit(f"port {port} not ready")

def run(impl, safe):
    d = tempfile.mkdtemp(prefix=f"bench-sentinel-{impl}-")
    server = ["redis-server"] if impl == "redis" else [f"{root}/bin/basalt-server"]
    procs = []
    def start(args, log):
        p = subprocess.Popen(server + args, cwd=d, stdout=open(f"{d}/{log}", "w"), stderr=subprocess.STDOUT)
        procs.append(p); return p
    mp = free_port()
    extra = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"] if safe else []
    master = start(["--port", str(mp), "--save", "", "--appendonly", "no"] + extra, "m.log")
    wait_ping(mp)
    rports = []
    for i in range(2):
        rp = free_port(); rports.append(rp)
        start(["--port", str(rp), "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", str(mp)], f"r{i}.log"); wait_ping(rp)
    # Both replicas must have finished their first sync (diskless sync waits repl-diskless-sync-delay, 5 s by default).
    end = time.time() + 60
    while time.time() < end and not all(
            redis.Redis(port=p, socket_timeout=1).info("replication").get("master_link_status") == "up" for p in rports):
        time.sleep(0.1)
    sports = []
    for i in range(3):
        sp = free_port(); sports.append(sp)
        conf = f"{d}/s{i}.conf"
        open(conf, "w").write(f"port {sp}\nsentinel monitor m 127.0.0.1 {mp} 2\nsentinel down-after-milliseconds m 2000\nsentinel failover-timeout m 10000\n")
        start([conf, "--sentinel"], f"s{i}.log"); wait_ping(sp)
    try:
        s0 = redis.Redis(port=sports[0], socket_timeout=5)
        end = time.time() + 60
        while time.time() < end:
            info = s0.execute_command("SENTINEL", "MASTER", "m")
            f = dict(zip(info[::2], info[1::2]))
            if f[b"num-slaves"] == b"2" and f[b"num-other-sentinels"] == b"2" and all(
                    x[b"flags"] == b"slave" and int(x[b"info-refresh"]) > 0 for x in
                    [dict(zip(r[::2], r[1::2])) for r in s0.execute_command("SENTINEL", "REPLICAS", "m")]): break
            time.sleep(0.1)
        time.sleep(1)
        ps = s0.pubsub(); ps.subscribe("+odown", "+switch-master"); ps.get_message(timeout=1); ps.get_message(timeout=1)
        acked = [0]; stop = threading.Event()
        def writer():
            c = redis.Redis(port=mp, socket_timeout=2)
            while not stop.is_set():
                try:
                    v = c.incr("counter")
                    if safe and c.execute_command("WAIT", 1, 100) < 1: continue
                    acked[0] = v
                except Exception:
                    return
        w = threading.Thread(target=writer, daemon=True); w.start()
        time.sleep(2)
        os.kill(master.pid, signal.SIGKILL); t0 = time.monotonic()
        stop.set(); w.join(5)
        odown = switch = write = None
        sentinels = [redis.Redis(port=p, socket_timeout=0.5) for p in sports]
        while time.monotonic() - t0 < 90 and (odown is None or switch is None or write is None):
            m = ps.get_message(timeout=0.01)
            if m and m["type"] == "message":
                if m["channel"] == b"+odown" and odown is None: odown = time.monotonic() - t0
                if m["channel"] == b"+switch-master" and switch is None: switch = time.monotonic() - t0
            if write is None:
                for s in sentinels:
                    try:
                        host, port = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m")
                        if int(port) != mp and redis.Redis(port=int(port), socket_timeout=0.5).set("bench", "1"):
                            write = time.monotonic() - t0
                            newport = int(port)
                        break
                    except Exception: pass
        have = int(redis.Redis(port=newport, socket_timeout=2).get("counter") or 0) if write is not None else 0
        return odown, switch, write, acked[0], max(0, acked[0] - have)
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
            p.wait()

fmt = lambda v: "-" if v is None else f"{v:.2f}s"
rows = []
for mode in ("async", "safe"):
    for r in range(runs):
        for impl in (("basalt", "redis") if r % 2 == 0 else ("redis", "basalt")):
            o, s, w, acked, lost = run(impl, mode == "safe")
            rows.append((impl, mode, o, s, w, acked, lost))
            print(f"{impl:7s} {mode:5s} run {r+1}: +odown {fmt(o)}  +switch-master {fmt(s)}  first write {fmt(w)}  acked {acked} lost {lost}", flush=True)
lines = ["down-after-milliseconds 2000, quorum 2, 3 sentinels, 1 master + 2 replicas; times from kill -9 of the master.", "",
         "| server | replication | +odown | +switch-master | first write on new master | acknowledged writes | acknowledged writes lost |",
         "|---|---|---|---|---|---|---|"]
for impl, mode, o, s, w, acked, lost in rows:
    lines.append(f"| {'Redis 7.0' if impl == 'redis' else 'Basalt'} | {mode} | {fmt(o)} | {fmt(s)} | {fmt(w)} | {acked} | {lost} |")
table = "\n".join(lines) + "\n"
print(table)
if not os.environ.get("NODOC"):
    path = f"{root}/docs/BENCHMARKS.md"
    doc = open(path).read()
    block = "<!-- bench:sentinel:start -->\n" + table + "<!-- bench:sentinel:end -->"
    if "<!-- bench:sentinel:start -->" in doc:
        doc = re.sub(r"<!-- bench:sentinel:start -->.*?<!-- bench:sentinel:end -->", lambda m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n## Sentinel failover (bench/sentinel.sh)\n\n" + block + "\n"
    open(path, "w").write(doc)
PY
