// What must agree between nodes that share nothing on disk (issue 12): a guest's id, an
// address ban and an author's rate window hold on all three nodes. Real PostgreSQL, real
// redis-server, three real parley processes each with its own --data directory.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, startRedis, addModerator, login, consoleClient } = require('../lib/server.js');
const { startPg, startNodes, stopNodes } = require('./lib.js');

let pg, redis, nodes = [];

before(async () => {
  pg = await startPg();
  redis = await startRedis();
  // the repo's own flood rules (5 posts a minute per author), client address from the proxy
  nodes = await startNodes(3, { pg, redis, prefix: `id${process.pid}:`, strict: true,
    edit: (t) => t.replace('trust_proxy: false', 'trust_proxy: true') });
});

after(async () => {
  await stopNodes(nodes);
  if (redis) await redis.stop();
  if (pg) pg.stop();
});

const from = (server, addr) => Client.connect(server.wsUrl, { headers: { 'x-forwarded-for': addr } });

test('the same guest key is the same guest on every node', async () => {
  const ids = [];
  for (const s of nodes) {
    const c = await from(s, '10.1.0.1');
    const w = await c.request({ type: 'hello', guest_key: 'one-reader-three-machines' });
    assert.equal(w.type, 'welcome');
    ids.push(w.user.id);
    c.close();
  }
  assert.match(ids[0], /^g:/);
  assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
  // and a different key is a different guest
  const other = await from(nodes[2], '10.1.0.1');
  assert.notEqual((await other.request({ type: 'hello', guest_key: 'another-reader-elsewhere' })).user.id, ids[0]);
  other.close();
});

test('an author\'s rate window holds across the three nodes', async () => {
  const statuses = [];
  for (let i = 0; i < 7; i++) {
    const c = await from(nodes[i % 3], '10.1.0.2');
    await c.request({ type: 'hello', guest_key: 'fast-poster-on-three-nodes' });
    const r = await c.request({ type: 'post', article: 'rate-x', name: 'Fast', title: 't', body: `a different post, number ${i}` });
    assert.equal(r.type, 'ack', JSON.stringify(r));
    statuses.push(r.comment.status);
    c.close();
  }
  assert.deepEqual(statuses.slice(0, 5), Array(5).fill('published'));
  assert.deepEqual(statuses.slice(5), ['pending', 'pending'], 'past 5 a minute, held whichever node took it');
});

test('an address ban made on one node holds on the others', async () => {
  addModerator(nodes[0], 'chief', 'correct horse battery', 'admin');
  const admin = await consoleClient(nodes[1], await login(nodes[1], 'chief', 'correct horse battery'));
  const troll = await from(nodes[0], '10.9.9.9');
  await troll.request({ type: 'hello', guest_key: 'troll-on-the-cluster' });
  const first = await troll.request({ type: 'post', article: 'ban-x', name: 'Troll', title: 't', body: 'An ordinary first comment.' });
  assert.equal(first.comment.status, 'published');
  const ban = await admin.request({ type: 'mod.ban', author: first.comment.author.id, duration: 3600, ip: true, reason: 'spam' });
  assert.equal(ban.type, 'mod.ok', JSON.stringify(ban));
  // a fresh identity from the banned address, on each of the other nodes
  for (const s of [nodes[1], nodes[2]]) {
    const c = await from(s, '10.9.9.9');
    await c.request({ type: 'hello', guest_key: `new-face-${s.port}` });
    const r = await c.request({ type: 'post', article: 'ban-x', name: 'New', title: 't', body: 'same place, new name' });
    assert.equal(r.code, 'forbidden', JSON.stringify(r));
    c.close();
  }
  // another address is not affected
  const fine = await from(nodes[2], '10.9.9.10');
  const ok = await fine.request({ type: 'post', article: 'ban-x', name: 'Fine', title: 't', body: 'from elsewhere' });
  assert.equal(ok.type, 'ack');
  for (const c of [admin, troll, fine]) c.close();
});
