"""redis-py's Sentinel client against a sentinel group: discover the master, write, kill -9 the master
(BASALT_MASTER_PID), get +switch-master, and resume writes on the promoted replica.

Environment: BASALT_SENTINEL_PORTS (comma separated), BASALT_MASTER_PID, BASALT_MASTER_NAME (default mymaster).
Prints "N passed, M failed" like the other suites.
"""
import os
import signal
import time

import redis
from redis.sentinel import Sentinel

from harness import expect, main, test

PORTS = [int(p) for p in os.environ["BASALT_SENTINEL_PORTS"].split(",")]
NAME = os.environ.get("BASALT_MASTER_NAME", "mymaster")
MASTER_PID = int(os.environ["BASALT_MASTER_PID"])


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@test
def sentinel_client_survives_failover():
    sentinel = Sentinel([("127.0.0.1", p) for p in PORTS], socket_timeout=2)
    old = sentinel.discover_master(NAME)
    expect(old[0], "127.0.0.1")
    expect(len(sentinel.discover_slaves(NAME)), 2)
    master = sentinel.master_for(NAME, socket_timeout=2)
    expect(master.set("py:sentinel", "before"), True)
    replica = sentinel.slave_for(NAME, socket_timeout=2)
    wait_until(lambda: replica.get("py:sentinel") == b"before", 10, "replicated write")

    # Watch for +switch-master on one sentinel, as clients do.
    events = redis.Redis(host="127.0.0.1", port=PORTS[0], socket_timeout=60).pubsub()
    events.subscribe("+switch-master")
    events.get_message(timeout=5)  # the subscribe confirmation

    os.kill(MASTER_PID, signal.SIGKILL)
    killed = time.monotonic()

    msg = wait_until(lambda: events.get_message(timeout=1), 60, "+switch-master")
    parts = msg["data"].decode().split()
    expect(parts[:3], [NAME, old[0], str(old[1])])
    new = (parts[3], int(parts[4]))
    if new == old:
        raise AssertionError("master did not change")

    def write():
        try:
            return master.set("py:sentinel", "after")
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            return False

    wait_until(write, 60, "a write after the failover")
    print(f"first write {time.monotonic() - killed:.2f}s after kill -9")
    expect(sentinel.discover_master(NAME), new)
    expect(master.get("py:sentinel"), b"after")
    events.close()


if __name__ == "__main__":
    raise SystemExit(main())
