// Several parley processes on one Redis (issue 6): shared fan-out exactly once, presence,
// and no outage when Redis goes away. Real redis-server, three real parley processes
// sharing one SQLite data dir.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, startRedis, Client, httpGet, httpRequest, baseConfig } = require('../lib/server.js');

let redis, dir, procs = [];

before(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-redis-'));
  const configText = baseConfig((t) => `${t.replace(/login_attempts: \d+/, 'login_attempts: 3')
    .replace(/(name: flood-author\n\s+kind: rate\n\s+per: author\n\s+max: )\d+/, '$13')}\nredis:\n  url: "${redis.url}"\n  prefix: "t${process.pid}:"\n`);
  // one config file, three processes on one data dir, started together
  const config = path.join(dir, 'moderation.yml');
  fs.writeFileSync(config, configText);
  procs = await Promise.all([0, 1, 2].map(() => startServer({ dataDir: dir, config })));
});

after(async () => {
  for (const p of procs) await p.stop();
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function subscribers(article) {
  const cs = [];
  for (const p of procs) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) continue;
    const c = await Client.connect(p.wsUrl);
    await c.request({ type: 'subscribe', article });
    cs.push(c);
  }
  return cs;
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
const comments = (c) => c.queue.filter((m) => m.type === 'comment');

async function health(p) { return JSON.parse((await httpGet(`${p.base}/healthz`)).body); }

test('every process reports the Redis link', async () => {
  for (const p of procs) assert.equal((await health(p)).redis, 'connected');
});

test('a post on one process reaches subscribers on all three exactly once', async () => {
  const cs = await subscribers('multi-1');
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const ack = await cs[i].request({ type: 'post', article: 'multi-1', name: `P${i}`, title: 't', body: `from process ${i}` });
    assert.equal(ack.type, 'ack');
    ids.push(ack.comment.id);
  }
  for (const c of cs)
    for (let i = 0; i < 3; i++) await c.next((m) => m.type === 'comment' && m.comment.id === ids[i]);
  await settle();
  for (const c of cs) assert.equal(comments(c).length, 0, 'nothing twice');
  assert.equal(new Set(ids).size, 3, 'ids are unique across processes');
  for (const c of cs) c.close();
});

test('presence adds up across processes', async () => {
  const cs = await subscribers('presence-1');
  const extra = await Client.connect(procs[0].wsUrl);
  await extra.request({ type: 'subscribe', article: 'presence-1' });
  for (const c of [...cs, extra])
    await c.next((m) => m.type === 'presence' && m.article === 'presence-1' && m.reading === 4, 10000);
  for (const c of [...cs, extra]) c.close();
});

test('Redis lost and back: no crash, local delivery goes on, the others catch up', async () => {
  const cs = await subscribers('outage-1');
  await redis.stop();
  // every process notices and keeps serving
  for (const p of procs) {
    for (let i = 0; i < 100 && (await health(p)).redis !== 'down'; i++) await settle(100);
    assert.equal((await health(p)).redis, 'down');
  }
  const ack = await cs[0].request({ type: 'post', article: 'outage-1', name: 'A', title: 't', body: 'while Redis is away' });
  assert.equal(ack.type, 'ack');
  assert.equal((await cs[0].next('comment')).comment.id, ack.comment.id, 'local delivery never stops');
  await redis.restart();
  for (const c of cs.slice(1)) {
    const m = await c.next((x) => x.type === 'comment' && x.comment.id === ack.comment.id, 25000);
    assert.equal(m.comment.body, 'while Redis is away');
  }
  for (const p of procs) {
    for (let i = 0; i < 250 && (await health(p)).redis !== 'connected'; i++) await settle(100);
    assert.equal((await health(p)).redis, 'connected');
  }
  const ack2 = await cs[1].request({ type: 'post', article: 'outage-1', name: 'B', title: 't', body: 'after' });
  for (const c of cs) await c.next((x) => x.type === 'comment' && x.comment.id === ack2.comment.id);
  await settle();
  for (const c of cs) assert.equal(comments(c).length, 0, 'nothing twice after the catch-up');
  for (const c of cs) c.close();
});

test('a reader that reconnects with since gets what it missed, once', async () => {
  const [a, b] = await subscribers('resume-1');
  const first = await a.request({ type: 'post', article: 'resume-1', name: 'A', title: 't', body: 'one' });
  await b.next((m) => m.type === 'comment' && m.comment.id === first.comment.id);
  b.close();
  const second = await a.request({ type: 'post', article: 'resume-1', name: 'A', title: 't', body: 'two' });
  const b2 = await Client.connect(procs[2].wsUrl);
  const h = await b2.request({ type: 'subscribe', article: 'resume-1', since: first.comment.id });
  assert.deepEqual(h.comments.map((c) => c.id), [second.comment.id]);
  await settle();
  assert.equal(comments(b2).length, 0);
  a.close(); b2.close();
});

test('login throttling is shared: failures on one process count on the others', async () => {
  const body = JSON.stringify({ name: 'nobody', password: 'guess' });
  const tryOn = (p) => httpRequest(`${p.base}/api/mod/login`, { method: 'POST',
    headers: { 'content-type': 'application/json' }, body });
  const codes = [];
  for (const p of [procs[0], procs[1], procs[2], procs[0]]) codes.push((await tryOn(p)).status);
  assert.deepEqual(codes, [401, 401, 401, 429]);
});

test('a shared rate limit holds across processes', async () => {
  const cs = [];
  for (const p of procs) {
    const c = await Client.connect(p.wsUrl);
    await c.request({ type: 'hello', guest_key: 'one-author-on-three-processes' });
    cs.push(c);
  }
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const r = await cs[i % 3].request({ type: 'post', article: 'rate-1', name: 'Fast', title: 't', body: `post number ${i} here` });
    statuses.push(r.comment.status);
  }
  assert.deepEqual(statuses, ['published', 'published', 'published', 'pending'],
    'the 4th post of one author within a minute is held, whichever process took it');
  for (const c of cs) c.close();
});

test('one process killed: the other two are unaffected', async () => {
  const cs = await subscribers('kill-1');
  await procs[1].stop('SIGKILL');
  const ack = await cs[0].request({ type: 'post', article: 'kill-1', name: 'A', title: 't', body: 'still here' });
  await cs[0].next((m) => m.type === 'comment' && m.comment.id === ack.comment.id);
  await cs[2].next((m) => m.type === 'comment' && m.comment.id === ack.comment.id);
  assert.equal((await health(procs[0])).status, 'ok');
  assert.equal((await health(procs[2])).status, 'ok');
  cs[0].close(); cs[2].close();
});
