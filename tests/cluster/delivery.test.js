// Three parley nodes on one PostgreSQL and one Redis, sharing nothing on disk (issue 12):
// delivery exactly once across nodes, a node killed with -9 in a post storm, PostgreSQL
// restarted in a post storm, Redis restarted. Real PostgreSQL (Debian's), real
// redis-server, real parley processes.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, startRedis } = require('../lib/server.js');
const { startPg, startNodes, stopNodes, settle, commentIds, follow, replay, until, health } = require('./lib.js');

let pg, redis, nodes = [];

before(async () => {
  pg = await startPg();
  redis = await startRedis();
  nodes = await startNodes(3, { pg, redis, prefix: `cl${process.pid}:` });
});

after(async () => {
  await stopNodes(nodes);
  if (redis) await redis.stop();
  if (pg) pg.stop();
});

const sorted = (a) => [...a].sort((x, y) => x - y);
const alive = (s) => s.proc.exitCode === null && s.proc.signalCode === null;

// A reader's whole view: its history, then the comments pushed live, in arrival order.
const view = (c) => [...c.history, ...commentIds(c)];

function onceInOrder(ids, what) {
  assert.equal(ids.length, new Set(ids).size, `${what}: a comment came twice`);
  assert.deepEqual(ids, sorted(ids), `${what}: comments out of id order`);
}

// Writers that post into article as fast as acks return, until stop(); acked holds every
// acknowledged id, errors every error code. A writer whose node dies just stops.
function storm(servers, article, perNode = 2) {
  const acked = [], errors = [];
  let stopping = false;
  const loops = [];
  const writers = [];
  for (const [n, s] of servers.entries()) {
    for (let k = 0; k < perNode; k++) {
      loops.push((async () => {
        const w = await Client.connect(s.wsUrl);
        writers.push(w);
        for (let i = 0; !stopping; i++) {
          let r;
          try {
            r = await w.request({ type: 'post', article, name: `N${n}W${k}`, title: 't', body: `node ${n} writer ${k} post ${i}` }, 30000);
          } catch (_) { return; } // its node is gone: the post in flight is not acknowledged
          if (r.type === 'ack') acked.push(r.comment.id);
          else { errors.push(r.code); await settle(50); }
        }
      })());
    }
  }
  return {
    acked, errors,
    async stop() { stopping = true; await Promise.all(loops); for (const w of writers) w.close(); },
  };
}

test('a post on one node reaches readers on all three exactly once', async () => {
  const readers = [];
  for (const s of nodes) readers.push(await follow(s, 'x-1'), await follow(s, 'x-1'));
  const w = await Client.connect(nodes[1].wsUrl);
  const ack = await w.request({ type: 'post', article: 'x-1', name: 'Ann', title: 't', body: 'one post, three nodes' });
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  for (const r of readers) await r.next((m) => m.type === 'comment' && m.comment.id === ack.comment.id, 15000);
  await settle(1500); // past a periodic catch-up: a second copy would come now
  for (const r of readers) assert.deepEqual(commentIds(r), [], 'nothing twice');
  for (const c of [...readers, w]) c.close();
});

test('writers on three nodes, one killed with -9: every reader gets every acknowledged comment once', async () => {
  const article = 'storm-kill';
  const readers = nodes.map((s) => [0, 1].map(() => null));
  for (const [n, s] of nodes.entries()) for (let k = 0; k < 2; k++) readers[n][k] = await follow(s, article);
  const st = storm(nodes, article);
  await settle(1500);
  const before = st.acked.length;
  await nodes[2].stop('SIGKILL');
  // its readers were cut off: they resume on another node after the last id they saw
  const resumed = [];
  for (const r of readers[2]) {
    await r.closed;
    const seen = view(r);
    const next = await follow(nodes[resumed.length % 2], article, seen.length ? seen[seen.length - 1] : 0);
    resumed.push({ seen, c: next });
  }
  await settle(1500);
  await st.stop();
  assert.ok(before > 20 && st.acked.length > before + 20, `posts flowed (${before} before the kill, ${st.acked.length} in all)`);
  assert.deepEqual(st.errors.filter((e) => e !== 'unavailable'), [], 'only typed errors');
  const survivors = [...readers[0], ...readers[1]];
  await until(() => survivors.every((r) => st.acked.every((id) => view(r).includes(id))) &&
    resumed.every(({ seen, c }) => st.acked.every((id) => seen.includes(id) || view(c).includes(id))), 30000,
  () => 'some reader lacks an acknowledged comment');
  await settle(1500);
  for (const r of survivors) onceInOrder(view(r), 'a reader on a live node');
  for (const { seen, c } of resumed) onceInOrder([...seen, ...view(c)], 'a reader that resumed with since');
  // a fresh replay holds each comment once, in id order, every acknowledged one among them
  const all = await replay(nodes[0], article);
  onceInOrder(all, 'the replay');
  for (const id of st.acked) assert.ok(all.includes(id), `acknowledged comment ${id} is stored`);
  console.log(`# kill -9: ${st.acked.length} acknowledged posts, ${all.length} stored`);
  for (const r of [...survivors, ...resumed.map((x) => x.c)]) r.close();
});

test('PostgreSQL restarted in a post storm: typed errors while down, then recovery, nothing acknowledged lost or doubled', async () => {
  const live = nodes.filter(alive);
  const article = 'storm-pg';
  const readers = [];
  for (const s of live) readers.push(await follow(s, article));
  const st = storm(live, article);
  await settle(1000);
  // pg_ctl restart -m fast: every session is cut mid-storm
  pg.restart();
  let mark = st.acked.length;
  await until(() => st.acked.length > mark + 20, 30000, () => `no recovery after the restart (${st.acked.length} acks, errors ${[...new Set(st.errors)]})`);
  // and down for a while (stop -m fast, start): posts are refused with a typed error
  pg.stopServer();
  await until(async () => (await health(live[0])).store === 'down' && st.errors.length > 0, 20000,
    () => `no typed error while PostgreSQL is down (${st.errors.length} errors)`);
  const downErrors = st.errors.length;
  pg.startServer();
  mark = st.acked.length;
  await until(() => st.acked.length > mark + 20, 30000, () => `no recovery after the start (${st.acked.length} acks)`);
  await st.stop();
  assert.deepEqual([...new Set(st.errors)], ['unavailable'], 'errors while PostgreSQL was down are typed `unavailable`');
  for (const s of live) await until(async () => (await health(s)).store === 'up', 15000, () => 'store not up again');
  await until(() => readers.every((r) => st.acked.every((id) => view(r).includes(id))), 30000,
    () => 'a reader lacks an acknowledged comment');
  await settle(1500);
  for (const r of readers) onceInOrder(view(r), 'a reader through the restart');
  const all = await replay(live[0], article);
  onceInOrder(all, 'the replay');
  for (const id of st.acked) assert.ok(all.includes(id), `acknowledged comment ${id} survived the restart`);
  console.log(`# pg restart: ${st.acked.length} acknowledged, ${downErrors} unavailable while down, ${all.length} stored`);
  for (const r of readers) r.close();
});

test('Redis restarted: catch-up by id fills the gap', async () => {
  const live = nodes.filter(alive);
  const article = 'storm-redis';
  const readers = [];
  for (const s of live) readers.push(await follow(s, article), await follow(s, article));
  const st = storm([live[0]], article, 2);
  await settle(600);
  await redis.stop();
  await until(async () => (await health(live[1])).redis === 'down', 15000, () => 'Redis loss not noticed');
  await settle(800);
  await redis.restart();
  await settle(800);
  await st.stop();
  assert.deepEqual(st.errors, []);
  await until(() => readers.every((r) => st.acked.every((id) => view(r).includes(id))), 30000,
    () => 'a reader lacks an acknowledged comment');
  await settle(1500);
  for (const r of readers) onceInOrder(view(r), 'a reader through the Redis restart');
  for (const r of readers) r.close();
});
