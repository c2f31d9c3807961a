#!/usr/bin/python3
"""redis-py scripting against a server on 127.0.0.1:$BASALT_PORT: eval/evalsha, register_script, functions.

Run with /usr/bin/python3. Prints "N passed, M failed" and exits non-zero on any failure.
"""
import sys

import redis

from harness import client, expect, main, test

PREFIX = "pyscript:"


@test
def eval_with_keys_and_args():
    r = client()
    r.set(PREFIX + "k", "v")
    expect(r.eval("return {KEYS[1], ARGV[1], redis.call('get', KEYS[1])}", 1, PREFIX + "k", "a"),
           [PREFIX.encode() + b"k", b"a", b"v"])
    expect(r.eval("return 42", 0), 42)
    expect(r.eval("return nil", 0), None)
    expect(r.eval("return redis.status_reply('FINE')", 0), b"FINE")


@test
def eval_errors_raise_response_error():
    r = client()
    r.set(PREFIX + "s", "abc")
    try:
        r.eval("return redis.call('incr', KEYS[1])", 1, PREFIX + "s")
        raise AssertionError("no error")
    except redis.exceptions.ResponseError as e:
        expect(str(e).startswith("value is not an integer or out of range script: "), True)
    try:
        r.eval("return 1 +", 0)
        raise AssertionError("no error")
    except redis.exceptions.ResponseError as e:
        expect("Error compiling script" in str(e), True)


@test
def register_script_loads_on_noscript():
    r = client()
    r.script_flush()
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    r.delete(PREFIX + "n")
    expect(incr_by(keys=[PREFIX + "n"], args=[5]), 5)
    expect(incr_by(keys=[PREFIX + "n"], args=[2]), 7)
    expect(r.script_exists(incr_by.sha), [True])
    pipe = r.pipeline()
    incr_by(keys=[PREFIX + "n"], args=[1], client=pipe)
    expect(pipe.execute(), [8])


@test
def evalsha_and_script_commands():
    r = client()
    sha = r.script_load("return ARGV[1] .. '!'")
    expect(r.evalsha(sha, 0, "hi"), b"hi!")
    expect(r.script_exists(sha, "0" * 40), [True, False])
    expect(r.script_flush(), True)
    try:
        r.evalsha(sha, 0, "hi")
        raise AssertionError("no error")
    except redis.exceptions.NoScriptError:
        pass


@test
def functions_load_and_fcall():
    r = client()
    r.function_flush()
    code = ("#!lua name=pylib\n"
            "redis.register_function('pyset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n"
            "redis.register_function{function_name='pyget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}")
    expect(r.function_load(code), b"pylib")
    expect(r.fcall("pyset", 1, PREFIX + "f", "fv"), b"OK")
    expect(r.fcall_ro("pyget", 1, PREFIX + "f"), b"fv")
    libs = r.function_list()
    expect(len(libs), 1)
    expect(libs[0][1], b"pylib")
    dump = r.function_dump()
    r.function_flush()
    expect(r.function_restore(dump), True)
    expect(r.fcall("pyget", 1, PREFIX + "f"), b"fv")
    try:
        r.function_load(code)
        raise AssertionError("no error")
    except redis.exceptions.ResponseError as e:
        expect(str(e), "Library 'pylib' already exists")
    expect(r.function_load(code, replace=True), b"pylib")
    r.function_delete("pylib")


@test
def eval_resp3_types_through_resp2():
    r = client()
    expect(r.eval("return {double=3.5}", 0), b"3.5")
    expect(r.eval("return {1, 2.9, 'x', false}", 0), [1, 2, b"x", None])


if __name__ == "__main__":
    sys.exit(main())
