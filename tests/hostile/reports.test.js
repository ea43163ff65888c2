// Reports (issue 10 item 4): fresh connections from one address cannot hide a comment;
// authors cannot report themselves; guests weigh less; a moderator's approval brings a
// hidden comment back.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, baseConfig, addModerator, login, consoleClient } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: baseConfig((t) => t.replace(/trust_proxy: \w+/, 'trust_proxy: true')) });
  addModerator(srv, 'mara', 'a long moderator secret', 'moderator');
});
after(async () => { await srv.stop(); srv.cleanup(); });

const from = (addr) => Client.connect(srv.wsUrl, { headers: { 'x-forwarded-for': addr } });
const silence = (c, type, ms = 300) => new Promise((resolve, reject) => {
  c.next(type, ms).then((m) => reject(new Error(`unexpected ${JSON.stringify(m)}`)), () => resolve());
});

test('three fresh connections from one address, no hello, cannot hide a comment', async () => {
  const author = await from('198.51.100.1');
  const reader = await from('198.51.100.2');
  await reader.request({ type: 'subscribe', article: 'rep-1' });
  const c = (await author.request({ type: 'post', article: 'rep-1', name: 'Author', title: 'Opinion', body: 'A view some dislike.' })).comment;
  await reader.next('comment');
  const codes = [];
  for (let i = 0; i < 3; i++) {
    const x = await from('203.0.113.9');
    codes.push((await x.request({ type: 'report', comment: c.id, reason: 'abuse' })).type === 'reported' ? 'reported'
      : 'refused');
    await x.close();
  }
  assert.deepEqual(codes, ['reported', 'refused', 'refused'], 'one report per address');
  await silence(reader, 'removed');
  // the author cannot report their own comment
  const self = await author.request({ type: 'report', comment: c.id, reason: 'spam' });
  assert.equal(self.code, 'forbidden');
  for (const x of [author, reader]) await x.close();
});

test('guests weigh half: six guests from six addresses hide at report_hide_at 3; approval restores', async () => {
  const author = await from('198.51.100.11');
  const reader = await from('198.51.100.12');
  await reader.request({ type: 'subscribe', article: 'rep-2' });
  const c = (await author.request({ type: 'post', article: 'rep-2', name: 'Author', title: 'Opinion', body: 'Another view.' })).comment;
  await reader.next('comment');
  for (let i = 1; i <= 5; i++) {
    const x = await from(`203.0.113.${20 + i}`);
    assert.equal((await x.request({ type: 'report', comment: c.id, reason: 'off_topic' })).type, 'reported');
    await x.close();
  }
  await silence(reader, 'removed');
  const sixth = await from('203.0.113.26');
  assert.equal((await sixth.request({ type: 'report', comment: c.id, reason: 'off_topic' })).type, 'reported');
  assert.equal((await reader.next('removed')).comment, c.id, 'hidden at a weight of 3');
  const mod = await consoleClient(srv, await login(srv, 'mara', 'a long moderator secret'));
  assert.equal((await mod.request({ type: 'mod.approve', comment: c.id })).type, 'mod.ok');
  assert.equal((await reader.next('comment')).comment.id, c.id, 'back for every reader');
  const fresh = await from('198.51.100.13');
  const h = await fresh.request({ type: 'subscribe', article: 'rep-2' });
  assert.ok(h.comments.some((x) => x.id === c.id && x.status === 'published'), 'in a fresh history');
  for (const x of [author, reader, sixth, mod, fresh]) x.close();
});
