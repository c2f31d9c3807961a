'use strict';
// ioredis Pub/Sub against a server on 127.0.0.1:$BASALT_PORT. Prints "N passed, M failed"; exits non-zero on failure.
const assert = require('assert');
const Redis = require('ioredis');

const port = Number(process.env.BASALT_PORT || 6379);
const P = 'nodeps:';
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const connect = () => {
  const c = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  return c;
};

/** Resolves with the first `n` events of `name` on `emitter`, or rejects after a timeout. */
const collect = (emitter, name, n) => new Promise((resolve, reject) => {
  const got = [];
  const timer = setTimeout(() => reject(new Error(`only ${got.length}/${n} ${name} events: ${JSON.stringify(got)}`)), 5000);
  const on = (...args) => {
    got.push(args);
    if (got.length === n) {
      clearTimeout(timer);
      emitter.removeListener(name, on);
      resolve(got);
    }
  };
  emitter.on(name, on);
});

test('subscribe and receive messages in order', async (pub) => {
  const sub = connect();
  try {
    assert.strictEqual(await sub.subscribe(P + 'a', P + 'b'), 2);
    const msgs = collect(sub, 'message', 20);
    for (let i = 0; i < 10; i++) {
      assert.strictEqual(await pub.publish(P + 'a', 'a' + i), 1);
      await pub.publish(P + 'b', 'b' + i);
    }
    const got = await msgs;
    for (let i = 0; i < 10; i++) {
      assert.deepStrictEqual(got[2 * i], [P + 'a', 'a' + i]);
      assert.deepStrictEqual(got[2 * i + 1], [P + 'b', 'b' + i]);
    }
    // Subscribed connections reject ordinary commands on the client side; the server agrees.
    assert.strictEqual(await sub.unsubscribe(P + 'a'), 1);
    assert.strictEqual(await pub.publish(P + 'a', 'x'), 0);
    assert.strictEqual(await sub.unsubscribe(), 0);
    assert.strictEqual(await sub.get(P + 'k'), null);
  } finally {
    sub.disconnect();
  }
});

test('pattern subscriptions deliver pmessage', async (pub) => {
  const sub = connect();
  try {
    assert.strictEqual(await sub.psubscribe(P + 'news.*'), 1);
    const msgs = collect(sub, 'pmessage', 1);
    assert.strictEqual(await pub.publish(P + 'news.tech', 'chip'), 1);
    assert.deepStrictEqual((await msgs)[0], [P + 'news.*', P + 'news.tech', 'chip']);
    assert.strictEqual(await pub.call('PUBSUB', 'NUMPAT') >= 1, true);
  } finally {
    sub.disconnect();
  }
});

test('buffer messages and introspection', async (pub) => {
  const sub = connect();
  try {
    await sub.subscribe(P + 'bin');
    const msgs = collect(sub, 'messageBuffer', 1);
    const bin = Buffer.from([0, 255, 13, 10, 1]);
    await pub.publish(P + 'bin', bin);
    assert.deepStrictEqual((await msgs)[0][1], bin);
    assert.deepStrictEqual(await pub.call('PUBSUB', 'NUMSUB', P + 'bin', P + 'none'), [P + 'bin', 1, P + 'none', 0]);
    assert.deepStrictEqual(await pub.call('PUBSUB', 'CHANNELS', P + 'bi?'), [P + 'bin']);
  } finally {
    sub.disconnect();
  }
});

test('shard channels', async (pub) => {
  const sub = connect();
  try {
    assert.strictEqual(await sub.ssubscribe(P + 's'), 1);
    const msgs = collect(sub, 'smessage', 1);
    assert.strictEqual(await pub.spublish(P + 's', 'm'), 1);
    assert.deepStrictEqual((await msgs)[0], [P + 's', 'm']);
    assert.strictEqual(await pub.publish(P + 's', 'not shard'), 0);
  } finally {
    sub.disconnect();
  }
});

(async () => {
  const r = connect();
  let passed = 0, failed = 0;
  try {
    for (const t of tests) {
      try {
        await t.fn(r);
        passed++;
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}: ${e && e.stack || e}`);
      }
    }
  } finally {
    r.disconnect();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
