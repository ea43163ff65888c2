// Parley on PostgreSQL (issue 12): a real cluster started by the harness
// (scripts/pg-cluster.sh), a real parley on it. Posts survive a restart of parley; with
// PostgreSQL stopped, posts are refused `unavailable` at once and /healthz says the store
// is down; started again, parley reconnects by itself and nothing acknowledged is lost.
// The command line works on the same database (moderator add, export), and backup says
// to use pg_dump.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { startServer, Client, httpGet, relaxedConfig, startPostgres, BIN } = require('../lib/server.js');

function pgConfig(conninfo) {
  return relaxedConfig((t) => t.replace(/^storage:\n/m, `storage:\n  postgres: "${conninfo}"\n`));
}

let n = 0;
async function post(c, article, body) {
  n++;
  return c.request({ type: 'post', article, name: `Reader ${n}`, title: `Title ${n}`,
    body: `${body} number ${n} says something of its own` }, 15000);
}

async function healthz(server) {
  return JSON.parse((await httpGet(`${server.base}/healthz`)).body);
}

test('a server on PostgreSQL keeps history across restarts; the CLI shares the database', async () => {
  const pg = startPostgres();
  const conninfo = pg.createDatabase();
  let s = await startServer({ configText: pgConfig(conninfo) });
  try {
    assert.match(s.log, /PostgreSQL, one writer and \d reader connections/);
    assert.strictEqual((await healthz(s)).store, 'up');
    const c = await Client.connect(s.wsUrl);
    const acked = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(c, 'pg-a', 'first life');
      assert.strictEqual(r.type, 'ack', JSON.stringify(r));
      acked.push(r.comment.id);
    }
    // ids grow in posting order
    assert.deepStrictEqual([...acked].sort((a, b) => a - b), acked);
    await c.close();
    await s.stop();
    // nothing of the store is in the data dir
    assert.ok(!require('node:fs').existsSync(path.join(s.dir, 'data', 'parley.db')));
    s = await startServer({ dataDir: s.dir, config: s.config });
    const c2 = await Client.connect(s.wsUrl);
    const h = await c2.request({ type: 'subscribe', article: 'pg-a', since: 0 });
    assert.deepStrictEqual(h.comments.map((x) => x.id), acked);
    const more = await post(c2, 'pg-a', 'second life');
    assert.strictEqual(more.type, 'ack');
    assert.ok(more.comment.id > acked[acked.length - 1]);
    await c2.close();

    // the command line on the same database: a moderator added, an export of the article
    execFileSync(BIN, ['moderator', 'add', 'pgmod', '--role', 'admin', '--config', s.config,
      '--data', path.join(s.dir, 'data')], { input: 'a-long-enough-password\n', encoding: 'utf8' });
    const list = execFileSync(BIN, ['moderator', 'list', '--store', conninfo, '--config', s.config,
      '--data', path.join(s.dir, 'nowhere')], { encoding: 'utf8' });
    assert.match(list, /pgmod/);
    const out = execFileSync(BIN, ['export', '--store', conninfo, '--article', 'pg-a'],
      { encoding: 'utf8', cwd: s.dir });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const ids = lines.filter((l) => l.type === 'comment' || l.id).map((l) => l.id);
    for (const id of [...acked, more.comment.id]) assert.ok(ids.includes(id), `export lacks ${id}: ${out.slice(0, 300)}`);
    // backup is SQLite's: a clear message and exit 2
    const b = spawnSync(BIN, ['backup', path.join(s.dir, 'b.db'), '--store', conninfo], { encoding: 'utf8' });
    assert.strictEqual(b.status, 2);
    assert.match(b.stderr, /pg_dump/);
    // a bad --store is refused with a message
    const bad = spawnSync(BIN, ['export', '--store'], { encoding: 'utf8' });
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /--store needs/);
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('PostgreSQL down: unavailable at once, /healthz says so; back: posts work, nothing acknowledged lost', async () => {
  const pg = startPostgres();
  const conninfo = pg.createDatabase();
  const s = await startServer({ configText: pgConfig(conninfo) });
  let stopped = false;
  try {
    const c = await Client.connect(s.wsUrl);
    await c.request({ type: 'subscribe', article: 'pg-b', since: 0 });
    const acked = [];
    for (let i = 0; i < 3; i++) {
      const r = await post(c, 'pg-b', 'before');
      assert.strictEqual(r.type, 'ack');
      acked.push(r.comment.id);
    }
    pg.stop();
    stopped = true;
    // the first post after the stop finds the connection gone; it and the next are
    // refused at once, never queued
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await post(c, 'pg-b', 'while down');
      assert.strictEqual(r.type, 'error', JSON.stringify(r));
      assert.strictEqual(r.code, 'unavailable');
      assert.ok(Date.now() - t0 < 3000, `refused after ${Date.now() - t0} ms`);
    }
    const h = await healthz(s);
    assert.strictEqual(h.store, 'down');
    const m = (await httpGet(`${s.base}/metrics`)).body;
    assert.match(m, /parley_store_up 0/);

    pg.start();
    stopped = false;
    // parley reconnects by itself (backoff at most 5 s)
    const deadline = Date.now() + 20000;
    while ((await healthz(s)).store !== 'up') {
      assert.ok(Date.now() < deadline, 'store never came back up');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 3; i++) {
      const r = await post(c, 'pg-b', 'after');
      assert.strictEqual(r.type, 'ack', JSON.stringify(r));
      acked.push(r.comment.id);
    }
    const c2 = await Client.connect(s.wsUrl);
    const hist = await c2.request({ type: 'subscribe', article: 'pg-b', since: 0 }, 15000);
    assert.strictEqual(hist.type, 'history', JSON.stringify(hist));
    const ids = hist.comments.map((x) => x.id);
    // every acknowledged comment is there, once; nothing refused was stored
    assert.deepStrictEqual(ids, acked);
    await c.close();
    await c2.close();
  } finally {
    if (stopped) pg.start();
    await s.stop();
    s.cleanup();
  }
});

test('three processes starting at once on a fresh database: one migrates, all serve', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const conninfo = startPostgres().createDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pg-race-'));
  const config = path.join(dir, 'moderation.yml');
  fs.writeFileSync(config, pgConfig(conninfo));
  const started = await Promise.allSettled([0, 1, 2].map(() => startServer({ dataDir: dir, config })));
  const procs = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  try {
    assert.strictEqual(procs.length, 3, started.filter((r) => r.status === 'rejected').map((r) => r.reason.message).join('\n'));
    assert.strictEqual(procs.filter((p) => /migrated PostgreSQL schema to version 1/.test(p.log)).length, 1);
    for (const p of procs) assert.strictEqual((await healthz(p)).store, 'up');
  } finally {
    for (const p of procs) await p.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve started before PostgreSQL waits for it; past storage.start_wait_ms it exits 1 and says why', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const pg = startPostgres();
  const conninfo = pg.createDatabase();
  pg.stop();
  try {
    // not within the wait: a clear error and exit 1, quickly
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pg-wait-'));
    const config = path.join(dir, 'short.yml');
    fs.writeFileSync(config, pgConfig(conninfo).replace(/^storage:\n/m, 'storage:\n  start_wait_ms: 700\n'));
    const t0 = Date.now();
    const r = spawnSync(BIN, ['serve', '--config', config, '--listen', '127.0.0.1:0', '--data', path.join(dir, 'd')],
      { encoding: 'utf8', timeout: 15000 });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /waiting for PostgreSQL/);
    assert.match(r.stderr, /did not answer within 700 ms \(storage\.start_wait_ms\)/);
    assert.ok(Date.now() - t0 < 8000, `gave up in ${Date.now() - t0} ms`);
    fs.rmSync(dir, { recursive: true, force: true });
    // within the wait: the database comes up 2 s after the server started, the server serves
    const starting = startServer({ configText: pgConfig(conninfo) });
    await new Promise((res) => setTimeout(res, 2000));
    pg.start();
    const s = await starting;
    try {
      assert.match(s.log, /waiting for PostgreSQL/);
      assert.strictEqual((await healthz(s)).store, 'up');
      const c = await Client.connect(s.wsUrl);
      assert.strictEqual((await post(c, 'pg-wait', 'after the wait')).type, 'ack');
      c.close();
    } finally {
      await s.stop();
    }
  } finally {
    try { pg.start(); } catch (_) { /* running already */ }
  }
});
