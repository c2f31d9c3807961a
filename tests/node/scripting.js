'use strict';
// ioredis scripting against a server on 127.0.0.1:$BASALT_PORT. Prints "N passed, M failed"; exits non-zero on failure.
const assert = require('assert');
const crypto = require('crypto');
const Redis = require('ioredis');

const port = Number(process.env.BASALT_PORT || 6379);
const P = 'nodescript:';
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('eval with keys and args', async (r) => {
  await r.set(P + 'k', 'v');
  assert.deepStrictEqual(await r.eval("return {KEYS[1], ARGV[1], redis.call('get', KEYS[1])}", 1, P + 'k', 'a'), [P + 'k', 'a', 'v']);
  assert.strictEqual(await r.eval('return 7', 0), 7);
});

test('defineCommand uses evalsha then falls back to eval', async (r) => {
  await r.script('FLUSH');
  r.defineCommand('nodeIncr', { numberOfKeys: 1, lua: "return redis.call('incrby', KEYS[1], ARGV[1])" });
  await r.del(P + 'n');
  assert.strictEqual(await r.nodeIncr(P + 'n', 3), 3);
  assert.strictEqual(await r.nodeIncr(P + 'n', 4), 7);
  const p = r.pipeline();
  p.nodeIncr(P + 'n', 1);
  p.get(P + 'n');
  assert.deepStrictEqual(await p.exec(), [[null, 8], [null, '8']]);
});

test('evalsha and NOSCRIPT', async (r) => {
  const body = "return 'sha ' .. ARGV[1]";
  const sha = crypto.createHash('sha1').update(body).digest('hex');
  await r.script('FLUSH');
  await assert.rejects(r.evalsha(sha, 0, 'x'), /^ReplyError: NOSCRIPT No matching script\. Please use EVAL\.$/);
  assert.strictEqual(await r.script('LOAD', body), sha);
  assert.strictEqual(await r.evalsha(sha, 0, 'x'), 'sha x');
  assert.deepStrictEqual(await r.script('EXISTS', sha), [1]);
});

test('script errors become ReplyError', async (r) => {
  await r.set(P + 's', 'abc');
  await assert.rejects(r.eval("return redis.call('incr', KEYS[1])", 1, P + 's'), (e) => {
    assert.ok(e instanceof Redis.ReplyError);
    assert.match(e.message, /^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\.$/);
    return true;
  });
});

test('functions', async (r) => {
  await r.function('FLUSH');
  const code = "#!lua name=nodelib\nredis.register_function('nodefn', function(keys, args) return args[1] .. '!' end)";
  assert.strictEqual(await r.function('LOAD', code), 'nodelib');
  assert.strictEqual(await r.fcall('nodefn', 0, 'hey'), 'hey!');
  const list = await r.function('LIST');
  assert.strictEqual(list.length, 1);
  assert.strictEqual(list[0][1], 'nodelib');
  await r.function('DELETE', 'nodelib');
  await assert.rejects(r.fcall('nodefn', 0), /Function not found/);
});

(async () => {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  let passed = 0, failed = 0;
  try {
    await r.connect();
    for (const t of tests) {
      try { await t.fn(r); passed++; } catch (e) { failed++; console.log(`FAIL ${t.name}: ${e && e.stack || e}`); }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL connect: ${e}`);
  } finally {
    r.disconnect();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
