#!/usr/bin/python3
"""redis-py transactions (MULTI/EXEC pipelines, WATCH) against a server on 127.0.0.1:$BASALT_PORT.

Run with /usr/bin/python3. Prints "N passed, M failed" and exits non-zero on any failure.
"""
import sys

import redis

from harness import PORT, client, expect, main, test

P = "pytx:"


@test
def pipeline_transaction_returns_all_replies():
    r = client()
    r.delete(P + "a", P + "n")
    with r.pipeline(transaction=True) as p:
        p.set(P + "a", "1").incr(P + "n").incrby(P + "n", 5).get(P + "a")
        expect(p.execute(), [True, 1, 6, b"1"])


@test
def pipeline_transaction_runtime_error_does_not_roll_back():
    r = client()
    r.set(P + "s", "text")
    with r.pipeline(transaction=True) as p:
        p.set(P + "b", "2").incr(P + "s").get(P + "b")
        res = p.execute(raise_on_error=False)
    expect(res[0], True)
    if not isinstance(res[1], redis.ResponseError):
        raise AssertionError(f"expected ResponseError, got {res[1]!r}")
    expect(res[2], b"2")


@test
def queueing_error_aborts_the_whole_transaction():
    r = client()
    r.delete(P + "c")
    p = r.pipeline(transaction=True)
    p.set(P + "c", "1")
    p.execute_command("NOSUCHCOMMAND", "x")
    try:
        p.execute()
        raise AssertionError("expected an error")
    except redis.ResponseError as e:
        if "EXECABORT" not in str(e) and "unknown command" not in str(e):
            raise
    expect(r.get(P + "c"), None)


@test
def watch_without_change_commits():
    r = client()
    r.set(P + "w", "10")
    with r.pipeline() as p:
        p.watch(P + "w")
        v = int(p.get(P + "w"))
        p.multi()
        p.set(P + "w", v + 1)
        expect(p.execute(), [True])
    expect(r.get(P + "w"), b"11")


@test
def watch_with_concurrent_change_raises_watch_error():
    r = client()
    other = client()
    r.set(P + "w2", "1")
    with r.pipeline() as p:
        p.watch(P + "w2")
        other.set(P + "w2", "changed")
        p.multi()
        p.set(P + "w2", "mine")
        try:
            p.execute()
            raise AssertionError("expected WatchError")
        except redis.WatchError:
            pass
    expect(r.get(P + "w2"), b"changed")


@test
def transaction_helper_retries_until_it_commits():
    r = client()
    other = client()
    r.set(P + "cnt", "0")
    attempts = []

    def body(p):
        attempts.append(1)
        n = int(p.get(P + "cnt"))
        if len(attempts) == 1:
            other.incr(P + "cnt")  # interfere once
        p.multi()
        p.set(P + "cnt", n + 10)

    r.transaction(body, P + "cnt")
    expect(len(attempts), 2)
    expect(r.get(P + "cnt"), b"11")


@test
def watch_detects_expire_and_delete():
    r = client()
    other = client()
    for change in (lambda: other.expire(P + "e", 100), lambda: other.delete(P + "e")):
        r.set(P + "e", "1")
        with r.pipeline() as p:
            p.watch(P + "e")
            change()
            p.multi()
            p.get(P + "e")
            try:
                p.execute()
                raise AssertionError("expected WatchError")
            except redis.WatchError:
                pass


@test
def unwatch_and_reset_allow_commit():
    r = client()
    other = client()
    r.set(P + "u", "1")
    with r.pipeline() as p:
        p.watch(P + "u")
        other.set(P + "u", "2")
        p.unwatch()
        p.multi()
        p.set(P + "u", "3")
        expect(p.execute(), [True])
    expect(r.get(P + "u"), b"3")


def raw(conn, *args):
    conn.send_command(*args)
    try:
        return conn.read_response()
    except redis.ResponseError as e:
        return e


@test
def discard_via_pipeline_reset():
    r = client()
    r.delete(P + "d")
    p = r.pipeline(transaction=True)
    p.set(P + "d", "1")
    p.reset()
    expect(r.get(P + "d"), None)
    conn = r.connection_pool.get_connection("MULTI")
    try:
        expect(raw(conn, "MULTI"), b"OK")
        expect(raw(conn, "SET", P + "d", "x"), b"QUEUED")
        expect(raw(conn, "DISCARD"), b"OK")
    finally:
        r.connection_pool.release(conn)
    expect(r.get(P + "d"), None)


@test
def raw_multi_errors_on_one_connection():
    r = client()
    conn = r.connection_pool.get_connection("MULTI")
    try:
        expect(raw(conn, "MULTI"), b"OK")
        expect(str(raw(conn, "MULTI")), "MULTI calls can not be nested")
        expect(raw(conn, "PING"), b"QUEUED")
        expect(raw(conn, "EXEC"), [b"PONG"])
        expect(str(raw(conn, "EXEC")), "EXEC without MULTI")
    finally:
        r.connection_pool.release(conn)


if __name__ == "__main__":
    sys.exit(main())
