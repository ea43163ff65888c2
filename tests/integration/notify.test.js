// Reply notifications (issue 14): the `replies` request for a reader coming back and the
// live `reply` event while they are there. Real parley, real SQLite, real WebSockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig, addModerator, login, consoleClient } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  addModerator(srv, 'ana', 'correct horse battery', 'admin');
});
after(async () => { await srv.stop(); srv.cleanup(); });

async function guest(key) {
  const c = await Client.connect(srv.wsUrl);
  const w = await c.request({ type: 'hello', guest_key: key });
  assert.equal(w.type, 'welcome');
  c.user = w.user;
  return c;
}
const post = (c, article, body, extra = {}) =>
  c.request({ type: 'post', article, name: extra.name || 'Reader', ...(extra.parent ? {} : { title: 'A title' }), body, ...extra });

test('a reader hears of replies live, and finds them listed when coming back', async () => {
  const KEY = 'alice-guest-key-0123456789';
  let alice = await guest(KEY);
  const bob = await guest('bob-guest-key-0123456789ab');
  const a = await post(alice, 'notify-1', 'What do you think?', { name: 'Alice' });
  // alice is not even subscribed: the event goes to her, wherever she is connected
  const r1 = await post(bob, 'notify-1', 'I think yes.', { parent: a.comment.id, name: 'Bob' });
  const ev = await alice.next('reply');
  assert.equal(ev.article, 'notify-1');
  assert.equal(ev.parent, a.comment.id);
  assert.equal(ev.comment.id, r1.comment.id);
  assert.equal(ev.comment.author.name, 'Bob');
  // her own answer to her own comment, and a reply to someone else, are no news to her
  await post(alice, 'notify-1', 'Replying to myself.', { parent: a.comment.id });
  const b = await post(bob, 'notify-1', 'Another thread.');
  await post(bob, 'notify-1', 'Talking to myself.', { parent: b.comment.id });
  const r2 = await post(bob, 'notify-1', 'And one more answer.', { parent: a.comment.id });
  assert.equal((await alice.next('reply')).comment.id, r2.comment.id);
  assert.equal(alice.queue.filter((m) => m.type === 'reply').length, 0, JSON.stringify(alice.queue));
  await alice.close();

  // coming back later, from another connection with the same guest key
  alice = await guest(KEY);
  const list = await alice.request({ type: 'replies', article: 'notify-1' });
  assert.equal(list.type, 'replies');
  assert.deepEqual(list.replies.map((c) => c.id), [r2.comment.id, r1.comment.id], 'newest first, only replies to her by others');
  const other = await alice.request({ type: 'replies', article: 'notify-other' });
  assert.deepEqual(other.replies, []);
  // bad input: a typed error, the connection stays
  assert.equal((await alice.request({ type: 'replies' })).code, 'bad_request');
  assert.equal((await alice.request({ type: 'replies', article: 'bad article id!' })).code, 'bad_request');
  assert.equal((await alice.request({ type: 'ping' })).type, 'pong');
  await alice.close(); await bob.close();
});

test('a held reply notifies only once a moderator approves it', async () => {
  const alice = await guest('alice-two-guest-key-012345');
  const bob = await guest('bob-two-guest-key-01234567');
  const a = await post(alice, 'premod-notify', 'Held question.');
  const con = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  assert.equal((await con.request({ type: 'mod.approve', comment: a.comment.id })).type, 'mod.ok');
  const r = await post(bob, 'premod-notify', 'Held answer.', { parent: a.comment.id });
  assert.equal(r.comment.status, 'pending');
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(alice.queue.filter((m) => m.type === 'reply').length, 0, 'nothing while it is held');
  assert.deepEqual((await alice.request({ type: 'replies', article: 'premod-notify' })).replies, []);
  assert.equal((await con.request({ type: 'mod.approve', comment: r.comment.id })).type, 'mod.ok');
  const ev = await alice.next('reply');
  assert.equal(ev.comment.id, r.comment.id);
  assert.equal(ev.comment.status, 'published');
  await alice.close(); await bob.close(); await con.close();
});
