#!/usr/bin/python3
"""redis-py (Debian python3-redis 4.x) against a server on 127.0.0.1:$BASALT_PORT.

Run with /usr/bin/python3. Prints "N passed, M failed" and exits non-zero on any failure.
Sticks to what Basalt implements in every build: strings, keys basics, pipelines (no MULTI), RESP2.
"""
import os
import sys

import redis

from harness import PORT, client, expect, main, test

PREFIX = "py:"


@test
def ping_and_echo():
    r = client()
    expect(r.ping(), True)
    expect(r.echo("hi"), b"hi")


@test
def set_get_bytes_and_unicode():
    r = client()
    expect(r.set(PREFIX + "a", "value"), True)
    expect(r.get(PREFIX + "a"), b"value")
    expect(r.set(PREFIX + "bin", b"\x00\xff\r\n"), True)
    expect(r.get(PREFIX + "bin"), b"\x00\xff\r\n")
    expect(r.set(PREFIX + "uni", "héllo ✓"), True)
    expect(r.get(PREFIX + "uni").decode("utf-8"), "héllo ✓")
    expect(r.get(PREFIX + "missing"), None)


@test
def decode_responses():
    r = client(decode_responses=True)
    r.set(PREFIX + "d", "text")
    expect(r.get(PREFIX + "d"), "text")


@test
def set_options():
    r = client()
    r.delete(PREFIX + "nx")
    expect(r.set(PREFIX + "nx", "1", nx=True), True)
    expect(r.set(PREFIX + "nx", "2", nx=True), None)
    expect(r.set(PREFIX + "nx", "3", xx=True), True)
    expect(r.get(PREFIX + "nx"), b"3")
    expect(r.set(PREFIX + "ex", "v", ex=100), True)
    expect(r.set(PREFIX + "px", "v", px=100000), True)


@test
def delete_and_exists():
    r = client()
    r.set(PREFIX + "x1", "1")
    r.set(PREFIX + "x2", "2")
    expect(r.exists(PREFIX + "x1", PREFIX + "x2", PREFIX + "nope"), 2)
    expect(r.delete(PREFIX + "x1", PREFIX + "x2", PREFIX + "nope"), 2)
    expect(r.exists(PREFIX + "x1"), 0)


@test
def pipeline_without_transaction():
    r = client()
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set(f"{PREFIX}p{i}", i)
    for i in range(200):
        p.get(f"{PREFIX}p{i}")
    res = p.execute()
    expect(res[:200], [True] * 200)
    expect(res[200:], [str(i).encode() for i in range(200)])


@test
def pipeline_error_is_raised_in_place():
    r = client()
    p = r.pipeline(transaction=False)
    p.set(PREFIX + "pe", "v")
    p.execute_command("NOSUCHCMD")
    p.get(PREFIX + "pe")
    res = p.execute(raise_on_error=False)
    expect(res[0], True)
    if not isinstance(res[1], redis.ResponseError):
        raise AssertionError(f"expected ResponseError, got {res[1]!r}")
    expect(res[2], b"v")


@test
def error_replies_map_to_response_error():
    r = client()
    try:
        r.execute_command("NOSUCHCMD", "a")
    except redis.ResponseError as e:
        expect(str(e).startswith("unknown command 'NOSUCHCMD'"), True)
    else:
        raise AssertionError("no error raised")
    try:
        r.execute_command("GET")
    except redis.ResponseError as e:
        expect(str(e), "wrong number of arguments for 'get' command")
    else:
        raise AssertionError("no error raised")


@test
def select_databases_are_separate():
    r0 = client(db=0)
    r1 = client(db=1)
    r0.set(PREFIX + "db", "zero")
    r1.set(PREFIX + "db", "one")
    expect(r0.get(PREFIX + "db"), b"zero")
    expect(r1.get(PREFIX + "db"), b"one")


@test
def connection_pool_reuse():
    pool = redis.ConnectionPool(host="127.0.0.1", port=PORT, max_connections=4)
    r = redis.Redis(connection_pool=pool)
    for i in range(50):
        r.set(f"{PREFIX}pool{i}", i)
        expect(r.get(f"{PREFIX}pool{i}"), str(i).encode())
    pool.disconnect()


@test
def large_value():
    r = client()
    v = os.urandom(3 * 1024 * 1024)
    r.set(PREFIX + "large", v)
    expect(r.get(PREFIX + "large"), v)


if __name__ == "__main__":
    sys.exit(main())
