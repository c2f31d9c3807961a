#!/usr/bin/python3
"""redis-py (Debian python3-redis 4.x) Pub/Sub against a server on 127.0.0.1:$BASALT_PORT.

Run with /usr/bin/python3. Prints "N passed, M failed" and exits non-zero on any failure.
"""
import sys
import threading
import time

import redis

from harness import PORT, client, expect, main, test

PREFIX = "pyps:"


def next_message(ps, timeout=5.0):
    """The next non-None message (get_message returns None while nothing has arrived)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within timeout")


@test
def subscribe_publish_unsubscribe():
    r = client()
    ps = r.pubsub()
    ps.subscribe(PREFIX + "a", PREFIX + "b")
    expect(next_message(ps), {"type": "subscribe", "pattern": None, "channel": (PREFIX + "a").encode(), "data": 1})
    expect(next_message(ps)["data"], 2)
    expect(r.publish(PREFIX + "a", "hello"), 1)
    expect(next_message(ps), {"type": "message", "pattern": None, "channel": (PREFIX + "a").encode(), "data": b"hello"})
    ps.unsubscribe(PREFIX + "a")
    m = next_message(ps)
    expect((m["type"], m["channel"], m["data"]), ("unsubscribe", (PREFIX + "a").encode(), 1))
    expect(r.publish(PREFIX + "a", "x"), 0)
    ps.close()


@test
def pattern_subscriptions():
    r = client()
    ps = r.pubsub()
    ps.psubscribe(PREFIX + "news.*")
    # The confirmation first: PUBLISH on another connection could otherwise overtake the PSUBSCRIBE.
    expect(next_message(ps)["type"], "psubscribe")
    expect(r.publish(PREFIX + "news.tech", "chip"), 1)
    m = next_message(ps)
    expect((m["type"], m["pattern"], m["channel"], m["data"]),
           ("pmessage", (PREFIX + "news.*").encode(), (PREFIX + "news.tech").encode(), b"chip"))
    expect(r.publish(PREFIX + "sports", "goal"), 0)
    ps.punsubscribe()
    ps.close()


@test
def handlers_and_thread():
    r = client()
    got = []
    done = threading.Event()

    def handler(m):
        got.append(m["data"])
        if len(got) == 3:
            done.set()

    ps = r.pubsub(ignore_subscribe_messages=True)
    ps.subscribe(**{PREFIX + "h": handler})
    t = ps.run_in_thread(sleep_time=0.01)
    try:
        deadline = time.monotonic() + 5
        while r.pubsub_numsub(PREFIX + "h")[0][1] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(3):
            r.publish(PREFIX + "h", f"m{i}")
        if not done.wait(5):
            raise AssertionError(f"handler got {got!r}")
        expect(got, [b"m0", b"m1", b"m2"])
    finally:
        t.stop()
        t.join(5)
        ps.close()


@test
def introspection():
    r = client()
    ps = r.pubsub()
    ps.subscribe(PREFIX + "i1", PREFIX + "i2")
    ps.psubscribe(PREFIX + "ip*")
    for _ in range(3):
        next_message(ps)
    expect(sorted(r.pubsub_channels(PREFIX + "i*")), [(PREFIX + "i1").encode(), (PREFIX + "i2").encode()])
    expect(r.pubsub_numsub(PREFIX + "i1", PREFIX + "none"), [((PREFIX + "i1").encode(), 1), ((PREFIX + "none").encode(), 0)])
    if r.pubsub_numpat() < 1:
        raise AssertionError("numpat")
    ps.close()


@test
def ping_while_subscribed():
    r = client()
    ps = r.pubsub()
    ps.subscribe(PREFIX + "p")
    next_message(ps)
    ps.ping("hi")
    m = next_message(ps)
    expect((m["type"], m["data"]), ("pong", b"hi"))
    ps.close()


if __name__ == "__main__":
    sys.exit(main())
