// Small contract gaps (issue 10 item 7): unknown mod.* types, invisible titles, and
// guests taking the names of moderators or signed-in readers.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt, addModerator } = require('../lib/server.js');

const secret = crypto.randomBytes(32);
let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  keys:\n    - id: site-hmac\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`)) });
  addModerator(srv, 'mara.moderator', 'a long moderator secret', 'moderator');
});
after(async () => { await srv.stop(); srv.cleanup(); });

const post = (c, fields) => c.request({ type: 'post', article: 'contract', name: 'Ann', title: 'T', body: 'B', ...fields });

test('an unknown mod.* type is unknown_type, signed in or not', async () => {
  const c = await Client.connect(srv.wsUrl);
  assert.equal((await c.request({ type: 'mod.frobnicate' })).code, 'unknown_type');
  assert.equal((await c.request({ type: 'mod.approve', comment: 1 })).code, 'forbidden', 'a known one still needs a session');
  await c.close();
});

test('titles and bodies of only invisible characters are empty', async () => {
  const c = await Client.connect(srv.wsUrl);
  for (const t of ['\u200B', '\uFEFF', '\u200B\uFEFF\u2060', ' \u200B ', '\u180E\u200D']) {
    assert.equal((await post(c, { title: t })).code, 'title_empty', JSON.stringify(t));
    assert.equal((await post(c, { body: t })).code, 'body_empty', JSON.stringify(t));
  }
  assert.equal((await post(c, { title: 'Zero\u200Bwidth inside is kept' })).type, 'ack');
  await c.close();
});

test("a guest cannot take a moderator's or a signed-in reader's name, even disguised", async () => {
  const g = await Client.connect(srv.wsUrl);
  for (const name of ['Mara Moderator', 'mara moderator', 'M4ra M0derator', 'Mára Moderator']) {
    const r = await post(g, { name });
    assert.equal(r.code, 'name_reserved', `${name}: ${JSON.stringify(r)}`);
  }
  // a signed-in reader posts once; the name is then theirs
  const u = await Client.connect(srv.wsUrl);
  const token = signJwt({ sub: 'u-7', name: 'Ada Reporter', exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'site-hmac' });
  assert.equal((await u.request({ type: 'hello', token })).type, 'welcome');
  assert.equal((await post(u, {})).type, 'ack');
  assert.equal((await post(u, {})).type, 'ack', 'the owner keeps using it');
  for (const name of ['Ada Reporter', 'Ada Rep0rter', 'ADA  REPORTER', 'Ada.Reporter']) {
    assert.equal((await post(g, { name })).code, 'name_reserved', name);
  }
  assert.equal((await post(g, { name: 'Ada Reader' })).type, 'ack', 'other names are free');
  await g.close(); await u.close();
});

test('a NUL or a lone surrogate escaped in the JSON is invalid_text, answered by its id', async () => {
  const c = await Client.connect(srv.wsUrl);
  const frames = {
    nul: '{"type":"post","id":"nul","article":"contract","name":"Ann","title":"abc\\u0000def","body":"B"}',
    lone: '{"type":"post","id":"lone","article":"contract","name":"Ann","title":"T","body":"x\\ud800y"}',
    pair: '{"type":"post","id":"pair","article":"contract","name":"Ann","title":"T","body":"a \\\\ud800 \\ud83d\\ude00"}',
    dup: '{"type":"ping","id":"dup","id":"dup2"}',
    broken: '{"type":"ping","id":"broken",',
  };
  for (const f of Object.values(frames)) c.send(f);
  for (const id of ['nul', 'lone']) {
    const m = await c.next((x) => x.id === id, 5000);
    assert.equal(m.code, 'invalid_text', `${id}: ${JSON.stringify(m)}`);
  }
  // an escaped backslash before "ud800" is text, and a real pair is one character
  const pair = await c.next((x) => x.id === 'pair', 5000);
  assert.equal(pair.type, 'ack', JSON.stringify(pair));
  assert.equal(pair.comment.body, 'a \\ud800 \u{1F600}');
  // not JSON (duplicate keys, cut short): bad_json, with no id to answer by
  const bad = [await c.next((x) => x.code === 'bad_json', 5000), await c.next((x) => x.code === 'bad_json', 5000)];
  for (const m of bad) assert.equal(m.id, undefined);
  assert.equal((await c.request({ type: 'ping' })).type, 'pong', 'the connection stays open');
  await c.close();
});
