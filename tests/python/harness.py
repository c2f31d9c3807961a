"""Tiny test harness shared by the redis-py suites: registration, a client factory, assertions, the runner.

Suites run with /usr/bin/python3 (Debian's python3-redis) against 127.0.0.1:$BASALT_PORT and print "N passed, M failed".
"""
import os
import traceback

import redis

PORT = int(os.environ.get("BASALT_PORT", "6379"))
tests = []


def test(fn):
    tests.append(fn)
    return fn


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, **kw)


def expect(actual, expected):
    if actual != expected:
        raise AssertionError(f"expected {expected!r}, got {actual!r}")


def main():
    passed = failed = 0
    for fn in tests:
        try:
            fn()
            passed += 1
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
