// The production risks of the layers issue (issue 11), each against real parts: a
// bounded storage queue, an audit row that fails to insert, shutdown with Redis
// callbacks pending, and subscribing on one process while another posts.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, startRedis, Client, httpGet, relaxedConfig, baseConfig, addModerator, login,
  consoleClient } = require('../lib/server.js');

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function metric(srv, name) {
  const r = await httpGet(`${srv.base}/metrics`);
  const m = r.body.match(new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

test('past storage.queue_max new work gets `unavailable` at once, nothing half-stored, still up', async () => {
  const srv = await startServer({ configText: relaxedConfig((t) => t.replace(/queue_max: \d+/, 'queue_max: 2')
    .replace(/batch_max: \d+/, 'batch_max: 1')) });
  cleanup.push(async () => { await srv.stop(); srv.cleanup(); });
  const conns = await Promise.all(Array.from({ length: 20 }, () => Client.connect(srv.wsUrl)));
  const replies = await Promise.all(conns.map((c, i) => c.request({ type: 'post', article: 'busy', name: `P${i}`,
    title: 'T', body: `Post number ${i} in a burst` }, 20000)));
  const codes = replies.map((r) => (r.type === 'ack' ? 'ack' : r.code));
  assert.ok(codes.includes('unavailable'), `some refused: ${codes}`);
  assert.ok(codes.includes('ack'), `some stored: ${codes}`);
  assert.ok(codes.every((c) => c === 'ack' || c === 'unavailable'), `${codes}`);
  assert.ok(await metric(srv, 'parley_storage_refused_total') >= 1);
  assert.equal(await metric(srv, 'parley_storage_queue_depth'), 0, 'the queue drains');
  // every ack is on disk, nothing else is
  const stored = Number(srv.sql("SELECT COUNT(*) FROM comments WHERE article = 'busy'").trim());
  assert.equal(stored, codes.filter((c) => c === 'ack').length);
  for (const c of conns) c.close();
});

test('a moderator action whose audit row cannot be written is undone and reported', async () => {
  const first = await startServer({ configText: relaxedConfig() });
  addModerator(first, 'ana', 'correct horse battery', 'admin');
  await first.stop();
  // the disk refuses audit rows (a trigger in the real database file)
  first.sql({
    sqlite: "CREATE TRIGGER audit_refused BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
    postgres: "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
      "RAISE EXCEPTION 'audit refused'; END $$; CREATE TRIGGER audit_refused BEFORE INSERT ON audit " +
      'FOR EACH ROW EXECUTE FUNCTION audit_refused();',
  });
  const srv = await startServer({ dataDir: first.dir, config: first.config });
  cleanup.push(async () => { await srv.stop(); srv.cleanup(); });
  const author = await Client.connect(srv.wsUrl);
  // articles premod-* are pre-moderated (moderation.yml): the post waits for a moderator
  const ack = await author.request({ type: 'post', article: 'premod-audit', name: 'Newcomer', title: 'Hello',
    body: 'A first comment on the budget.' });
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  assert.equal(ack.comment.status, 'pending', JSON.stringify(ack));
  const mod = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  const r = await mod.request({ type: 'mod.approve', comment: ack.comment.id });
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'unavailable');
  const status = srv.sql(`SELECT status FROM comments WHERE id = ${ack.comment.id}`).trim();
  assert.equal(status, 'pending', 'the approval was rolled back with its audit row');
  assert.match(srv.log, /audit entry for approve comment:\d+ not written/);
  author.close(); mod.close();
});

test('SIGTERM while Redis callbacks are pending exits cleanly and loses no ack', async () => {
  const redis = await startRedis();
  cleanup.push(() => redis.stop());
  const srv = await startServer({ configText: `${relaxedConfig()}\nredis:\n  url: "${redis.url}"\n  prefix: "sig${process.pid}:"\n` });
  cleanup.push(() => srv.cleanup());
  const conns = await Promise.all(Array.from({ length: 10 }, () => Client.connect(srv.wsUrl)));
  const acks = [];
  for (const [i, c] of conns.entries()) {
    for (let k = 0; k < 10; k++) {
      c.request({ type: 'post', article: 'sigterm', name: `W${i}`, title: 'T', body: `Post ${i}.${k}` }, 20000)
        .then((m) => { if (m.type === 'ack') acks.push(m.comment.id); }, () => {});
    }
  }
  await new Promise((r) => setTimeout(r, 30));
  const { code } = await srv.stop('SIGTERM'); // throws on a sanitizer report
  assert.equal(code, 0);
  const ids = srv.sql("SELECT id FROM comments WHERE article = 'sigterm'").trim().split('\n').filter(Boolean).map(Number);
  for (const id of acks) assert.ok(ids.includes(id), `acknowledged ${id} is on disk`);
});

test('readers subscribing on process B while A posts miss nothing and get nothing twice', async () => {
  const redis = await startRedis();
  cleanup.push(() => redis.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-ab-'));
  const config = path.join(dir, 'moderation.yml');
  fs.writeFileSync(config, `${relaxedConfig()}\nredis:\n  url: "${redis.url}"\n  prefix: "ab${process.pid}:"\n`);
  const [a, b] = await Promise.all([0, 1].map(() => startServer({ dataDir: dir, config })));
  cleanup.push(async () => { await a.stop(); await b.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  const writer = await Client.connect(a.wsUrl);
  const acked = [];
  let posting = true;
  const poster = (async () => {
    for (let i = 0; posting && i < 400; i++) {
      const m = await writer.request({ type: 'post', article: 'ab', name: 'Writer', title: 'T', body: `Live ${i}` });
      if (m.type === 'ack') acked.push(m.comment.id);
    }
  })();
  const readers = [];
  for (let i = 0; i < 12; i++) {        // readers join while A keeps posting
    const c = await Client.connect(b.wsUrl);
    const h = await c.request({ type: 'subscribe', article: 'ab' });
    c.hist = h.comments.map((x) => x.id);
    readers.push(c);
    await new Promise((r) => setTimeout(r, 40));
  }
  posting = false;
  await poster;
  await new Promise((r) => setTimeout(r, 1500));
  for (const [i, c] of readers.entries()) {
    // the history, then every live comment the client queued after it
    c.seen = c.hist.concat(c.queue.filter((m) => m.type === 'comment').map((m) => m.comment.id));
    const first = c.seen.length ? Math.min(...c.seen) : Infinity;
    const want = acked.filter((id) => id >= first);
    const dup = c.seen.filter((id, k) => c.seen.indexOf(id) !== k);
    assert.deepEqual(dup, [], `reader ${i}: nothing twice`);
    for (const id of want) assert.ok(c.seen.includes(id), `reader ${i} missed ${id}`);
    c.close();
  }
  writer.close();
});
