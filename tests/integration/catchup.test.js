// Catch-up by id (issue 12): readers get new comments from the store by id, in id order,
// each once, whatever Redis loses. Real redis-servers, real parley processes sharing one
// SQLite data dir (the several-machine version with PostgreSQL is tests/cluster/).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, startRedis, Client, httpGet, relaxedConfig, addModerator, login, consoleClient } = require('../lib/server.js');

let redis, lone, dir, a, b, c;

function config(url, file) {
  fs.writeFileSync(file, `${relaxedConfig()}\nredis:\n  url: "${url}"\n  prefix: "c${process.pid}:"\n  catchup_ms: 1000\n`);
  return file;
}

before(async () => {
  redis = await startRedis();
  lone = await startRedis(); // a Redis no other process uses: what C publishes is lost
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-catchup-'));
  const shared = config(redis.url, path.join(dir, 'shared.yml'));
  // one after the other: what is tested here is delivery, not a simultaneous start
  a = await startServer({ dataDir: dir, config: shared });
  b = await startServer({ dataDir: dir, config: shared });
  c = await startServer({ dataDir: dir, config: config(lone.url, path.join(dir, 'lone.yml')) });
});

after(async () => {
  for (const p of [a, b, c]) if (p) await p.stop();
  await redis.stop();
  await lone.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const ids = (cl) => cl.queue.filter((m) => m.type === 'comment').map((m) => m.comment.id);

async function reader(server, article, since) {
  const cl = await Client.connect(server.wsUrl);
  const h = await cl.request({ type: 'subscribe', article, ...(since ? { since } : {}) });
  assert.equal(h.type, 'history');
  return cl;
}

// Waits until every client holds every id (comments pushed live), or fails after ms.
async function allArrive(clients, want, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const missing = clients.map((cl) => want.filter((id) => !ids(cl).includes(id)).length);
    if (missing.every((n) => n === 0)) return;
    if (Date.now() > deadline) assert.fail(`comments missing per reader: ${missing.join(', ')} (closed: ${clients.map((cl) => cl.closeCode).join(', ')})`);
    await settle(100);
  }
}

function exactlyOnceInOrder(cl, want) {
  const got = ids(cl);
  assert.equal(got.length, new Set(got).size, 'a comment arrived twice');
  assert.deepEqual([...got].sort((x, y) => x - y), got, 'comments arrived out of id order');
  assert.deepEqual(got, [...want].sort((x, y) => x - y));
}

test('a comment whose PUBLISH never reaches the others arrives by the periodic catch-up', async () => {
  const rb = await reader(b, 'lost-publish');
  const poster = await Client.connect(c.wsUrl);
  const ack = await poster.request({ type: 'post', article: 'lost-publish', name: 'C', title: 't', body: 'published where nobody listens' });
  assert.equal(ack.type, 'ack');
  // C's Redis has no other process on it: only a read of the store by id can bring it to B
  const m = await rb.next((x) => x.type === 'comment' && x.comment.id === ack.comment.id, 15000);
  assert.equal(m.comment.body, 'published where nobody listens');
  const metrics = (await httpGet(`${b.base}/metrics`)).body;
  assert.match(metrics, /parley_catchup_comments_total [1-9]/);
  await settle(1500);
  assert.deepEqual(ids(rb), [], 'nothing twice');
  rb.close(); poster.close();
});

test('the periodic catch-up reaches 300 rooms (in batches of reads)', async () => {
  // 10 readers on B, 30 articles each; C posts once into every article, unheard by B
  const readers = [];
  for (let r = 0; r < 10; r++) {
    const cl = await Client.connect(b.wsUrl);
    for (let k = 0; k < 30; k++) {
      const h = await cl.request({ type: 'subscribe', article: `many-${r * 30 + k}` });
      assert.equal(h.type, 'history');
    }
    readers.push(cl);
  }
  const poster = await Client.connect(c.wsUrl);
  const want = new Map();
  for (let i = 0; i < 300; i++) {
    const ack = await poster.request({ type: 'post', article: `many-${i}`, name: 'C', title: 't', body: `into room ${i}` });
    assert.equal(ack.type, 'ack');
    want.set(ack.comment.id, `many-${i}`);
  }
  const got = () => readers.flatMap((cl) => cl.queue.filter((m) => m.type === 'comment').map((m) => m.comment));
  const deadline = Date.now() + 20000;
  while (got().length < 300 && Date.now() < deadline) await settle(200);
  await settle(1500);
  const comments = got();
  assert.equal(comments.length, 300, 'every room got its comment once');
  for (const cm of comments) assert.equal(want.get(cm.id), cm.article);
  for (const cl of [...readers, poster]) cl.close();
});

test('a comment approved from the queue reaches readers on both processes once, past the catch-up', async () => {
  addModerator(a, 'approver', 'a long enough password', 'admin');
  const admin = await consoleClient(a, await login(a, 'approver', 'a long enough password'));
  assert.equal((await admin.request({ type: 'mod.article', article: 'approve-1', mode: 'premoderated' })).type, 'mod.ok');
  const readers = [await reader(a, 'approve-1'), await reader(b, 'approve-1')];
  const author = await Client.connect(b.wsUrl);
  const held = await author.request({ type: 'post', article: 'approve-1', name: 'Held', title: 't', body: 'waits for a moderator' });
  assert.equal(held.comment.status, 'pending');
  assert.equal((await admin.request({ type: 'mod.approve', comment: held.comment.id })).type, 'mod.ok');
  for (const r of readers) await r.next((m) => m.type === 'comment' && m.comment.id === held.comment.id, 10000);
  await settle(2500); // two periodic catch-ups: the read by id must not bring it again
  for (const r of readers) assert.deepEqual(ids(r), [], 'the approved comment came once');
  // and a comment after it still comes, once
  assert.equal((await admin.request({ type: 'mod.article', article: 'approve-1', mode: 'open' })).type, 'mod.ok');
  const next = await author.request({ type: 'post', article: 'approve-1', name: 'Held', title: 't', body: 'and then another' });
  assert.equal(next.comment.status, 'published');
  for (const r of readers) await r.next((m) => m.type === 'comment' && m.comment.id === next.comment.id, 10000);
  await settle(1500);
  for (const r of readers) assert.deepEqual(ids(r), []);
  for (const c of [...readers, author, admin]) c.close();
});

test('Redis restarted while posts flow on A: readers on B get every acknowledged comment once, in order', async () => {
  const article = 'storm-redis';
  const readers = [await reader(b, article), await reader(b, article), await reader(a, article)];
  const writers = [await Client.connect(a.wsUrl), await Client.connect(a.wsUrl)];
  const acked = [];
  let errors = 0, stop = false;
  const write = async (w, k) => {
    for (let i = 0; !stop; i++) {
      const r = await w.request({ type: 'post', article, name: `W${k}`, title: 't', body: `w${k} post ${i}` }, 20000);
      if (r.type === 'ack') acked.push(r.comment.id);
      else errors++;
    }
  };
  const loops = writers.map((w, k) => write(w, k));
  await settle(800);
  await redis.stop();
  for (let i = 0; i < 100 && JSON.parse((await httpGet(`${b.base}/healthz`)).body).redis !== 'down'; i++) await settle(100);
  await settle(800); // posts acknowledged while Redis is away
  const duringOutage = acked.length;
  await redis.restart();
  await settle(1500);
  stop = true;
  await Promise.all(loops);
  assert.equal(errors, 0, 'a post failed');
  console.log(`# ${acked.length} posts, ${duringOutage} of them before Redis came back`);
  assert.ok(acked.length > duringOutage && duringOutage > 10, `posts flowed (${duringOutage} before the restart, ${acked.length} in all)`);
  await allArrive(readers, acked, 20000);
  await settle(1500); // a late duplicate would show now
  for (const r of readers) exactlyOnceInOrder(r, acked);
  // a fresh replay holds each comment once
  const fresh = await Client.connect(b.wsUrl);
  const h = await fresh.request({ type: 'subscribe', article, since: 0 });
  const replay = [h];
  while (replay[replay.length - 1].more) replay.push(await fresh.next('history'));
  const all = replay.flatMap((x) => x.comments.map((cm) => cm.id));
  assert.deepEqual(all, [...acked].sort((x, y) => x - y));
  for (const cl of [...readers, ...writers, fresh]) cl.close();
});

test('a reader that stops reading is closed as slow (or gets all once the kernel held it all); the others on its process get every comment', async () => {
  // D shares A's Redis and data dir, with small send queues: what the periodic catch-up
  // and the announcements read for its room waits for a reader's queue to drain
  const small = path.join(dir, 'small.yml');
  fs.writeFileSync(small, fs.readFileSync(path.join(dir, 'shared.yml'), 'utf8')
    .replace(/queue_max_messages: \d+/, 'queue_max_messages: 64'));
  const d = await startServer({ dataDir: dir, config: small });
  try {
    const article = 'stalled-reader';
    const good = [await reader(d, article), await reader(d, article)];
    const slow = await reader(d, article);
    slow.ws._socket.pause(); // never reads again: the kernel buffers fill, then its queue
    const w = await Client.connect(a.wsUrl);
    const body = 'z'.repeat(990);
    const title = 't'.repeat(100);
    const acked = [];
    for (let i = 0; i < 3000 && slow.closeCode === undefined; i++) {
      const r = await w.request({ type: 'post', article, name: 'W', title, body: `${body} ${i}` }, 20000);
      assert.equal(r.type, 'ack');
      acked.push(r.comment.id);
      if (i % 100 === 99) await settle(50);
    }
    const before = [...acked];
    slow.ws._socket.resume();
    // Closed as slow, unless the kernel's buffers held all of it (the server's send
    // buffer grows to net.ipv4.tcp_wmem's maximum, 4 MB by default): then the reader,
    // reading again, gets every comment once, in order. Either way the others get all.
    const deadline = Date.now() + 15000;
    while (slow.closeCode === undefined && Date.now() < deadline &&
           before.some((id) => !ids(slow).includes(id))) await settle(100);
    const wasClosed = slow.closeCode !== undefined;
    if (wasClosed) assert.equal(slow.closeCode, 1013);
    else exactlyOnceInOrder(slow, before);
    for (let i = 0; i < 50; i++) {
      const r = await w.request({ type: 'post', article, name: 'W', title: 't', body: `after ${i}` }, 20000);
      acked.push(r.comment.id);
    }
    await allArrive(good, acked, 20000);
    await settle(1200);
    for (const r of good) exactlyOnceInOrder(r, acked);
    const metrics = (await httpGet(`${d.base}/metrics`)).body;
    if (wasClosed) assert.match(metrics, /parley_slow_readers_closed_total [1-9]/);
    for (const cl of [...good, w, slow]) cl.close();
  } finally {
    await d.stop();
  }
});

test('a reader resuming with since on the other process misses nothing in a storm', async () => {
  const article = 'storm-resume';
  const r1 = await reader(b, article);
  const w = await Client.connect(a.wsUrl);
  const acked = [];
  let stop = false;
  const loop = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await w.request({ type: 'post', article, name: 'W', title: 't', body: `post ${i}` }, 20000);
      if (r.type === 'ack') acked.push(r.comment.id);
    }
  })();
  await settle(600);
  r1.close();
  const seen = ids(r1);
  const last = seen.length ? seen[seen.length - 1] : 0;
  await settle(300);
  const r2 = await Client.connect(a.wsUrl);
  const h = await r2.request({ type: 'subscribe', article, since: last });
  const replay = [h];
  while (replay[replay.length - 1].more) replay.push(await r2.next('history'));
  await settle(500);
  stop = true;
  await loop;
  const want = acked.filter((id) => id > last);
  const deadline = Date.now() + 15000;
  const got = () => [...replay.flatMap((x) => x.comments.map((cm) => cm.id)), ...ids(r2)];
  while (want.some((id) => !got().includes(id)) && Date.now() < deadline) await settle(100);
  await settle(1200);
  const all = [...seen, ...got()];
  assert.equal(all.length, new Set(all).size, 'nothing twice');
  assert.deepEqual(all, [...acked].sort((x, y) => x - y), 'everything, in id order');
  r2.close(); w.close();
});
