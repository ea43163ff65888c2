// Readers' own data from the widget (issue 15): a signed-in reader exports and erases
// their data over the WebSocket where the host site enables it (identity.self_service).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt } = require('../lib/server.js');

const secret = crypto.randomBytes(32);
let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  self_service: true\n  keys:\n    - id: site\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`)) });
});
after(async () => { await srv.stop(); srv.cleanup(); });

const token = (sub, name) => signJwt({ sub, name, exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'site' });

test('a signed-in reader downloads their data, then erases it; replies keep their place', async () => {
  const me = await Client.connect(srv.wsUrl);
  const w = await me.request({ type: 'hello', token: token('u-51', 'Grace Reader') });
  assert.equal(w.self_service, true);
  const mine = await me.request({ type: 'post', article: 'self-1', name: 'x', title: 'Mine', body: 'My own words.' });
  assert.equal(mine.type, 'ack');
  const other = await Client.connect(srv.wsUrl);
  const reply = await other.request({ type: 'post', article: 'self-1', parent: mine.comment.id, name: 'Other', body: 'A reply.' });
  assert.equal(reply.type, 'ack');
  const data = await me.request({ type: 'my_data' });
  assert.equal(data.type, 'my_data');
  assert.ok(JSON.stringify(data.data).includes('My own words.'), 'the export holds my comment');
  assert.equal((await me.request({ type: 'erase_me' })).code, 'bad_request', 'erasing needs confirm');
  const er = await me.request({ type: 'erase_me', confirm: true });
  assert.equal(er.type, 'erased', JSON.stringify(er));
  assert.equal(er.erased.comments, 1);
  const left = srv.sql("SELECT COUNT(*) FROM comments WHERE body LIKE '%My own words%' OR author_name = 'Grace Reader'").trim();
  assert.equal(left, '0', 'text and name are gone');
  // the name is free again: the identity is forgotten
  const g = await Client.connect(srv.wsUrl);
  assert.equal((await g.request({ type: 'post', article: 'self-2', name: 'Grace Reader', title: 'T', body: 'A guest now.' })).type, 'ack');
  g.close();
  const fresh = await Client.connect(srv.wsUrl);
  const h = await fresh.request({ type: 'subscribe', article: 'self-1' });
  assert.ok(h.comments.some((c) => c.id === reply.comment.id && c.parent === mine.comment.id), 'the reply keeps its place');
  for (const c of [me, other, fresh]) c.close();
});

test('guests and sites without self-service are refused', async () => {
  const g = await Client.connect(srv.wsUrl);
  assert.equal((await g.request({ type: 'my_data' })).code, 'unauthorized');
  assert.equal((await g.request({ type: 'erase_me', confirm: true })).code, 'unauthorized');
  g.close();
  const off = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  keys:\n    - id: site\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`)) });
  try {
    const u = await Client.connect(off.wsUrl);
    const w = await u.request({ type: 'hello', token: token('u-52', 'Hal Reader') });
    assert.equal(w.self_service, false);
    assert.equal((await u.request({ type: 'my_data' })).code, 'forbidden');
    u.close();
  } finally { await off.stop(); off.cleanup(); }
});
