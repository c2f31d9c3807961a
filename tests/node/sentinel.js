'use strict';
// ioredis with the sentinels option: finds the master, survives a kill -9 of it (BASALT_MASTER_PID) and resumes
// writes on the promoted replica after +switch-master. Env: BASALT_SENTINEL_PORTS, BASALT_MASTER_PID.
// Prints "N passed, M failed"; exits non-zero on failure.
const assert = require('assert');
const Redis = require('ioredis');

const ports = process.env.BASALT_SENTINEL_PORTS.split(',').map(Number);
const masterPid = Number(process.env.BASALT_MASTER_PID);
const name = process.env.BASALT_MASTER_NAME || 'mymaster';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v) return v; } catch (e) { /* retry */ }
    await sleep(50);
  }
  throw new Error('timed out waiting for ' + what);
}

async function run() {
  const sentinels = ports.map((port) => ({ host: '127.0.0.1', port }));
  const r = new Redis({ sentinels, name, sentinelRetryStrategy: () => 100, retryStrategy: () => 100, maxRetriesPerRequest: 1 });
  const sub = new Redis({ host: '127.0.0.1', port: ports[0] });
  try {
    assert.strictEqual(await r.set('node:sentinel', 'before'), 'OK');
    const before = await r.call('ROLE');
    assert.strictEqual(before[0], 'master');
    const s = new Redis({ host: '127.0.0.1', port: ports[1] });
    const oldAddr = await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
    s.disconnect();

    let switched = null;
    sub.on('message', (ch, msg) => { if (ch === '+switch-master') switched = msg.split(' '); });
    await sub.subscribe('+switch-master');
    await waitUntil(async () => (await r.wait(2, 100)) === 2, 10000, 'replicas acknowledged the write');

    process.kill(masterPid, 'SIGKILL');
    const killed = Date.now();
    await waitUntil(() => switched, 60000, '+switch-master');
    assert.deepStrictEqual(switched.slice(0, 3), [name, oldAddr[0], oldAddr[1]]);
    assert.notStrictEqual(switched[4], oldAddr[1]);
    await waitUntil(async () => (await r.set('node:sentinel', 'after')) === 'OK', 60000, 'write after failover');
    console.log(`first write ${(Date.now() - killed) / 1000}s after kill -9`);
    assert.strictEqual(await r.get('node:sentinel'), 'after');
    assert.strictEqual(String(r.stream.remotePort), switched[4]);
  } finally {
    r.disconnect();
    sub.disconnect();
  }
}

run().then(() => { console.log('1 passed, 0 failed'); process.exit(0); },
  (e) => { console.log('FAIL sentinel failover'); console.log(e); console.log('0 passed, 1 failed'); process.exit(1); });
