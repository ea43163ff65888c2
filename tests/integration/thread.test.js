// The live thread (issue 2), written from docs/protocol.md: subscribe, post, live
// delivery, history and paging, resume with since, replies, edits, deletes, reports,
// several articles on one connection. Real binary, real SQLite, real WebSockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig } = require('../lib/server.js');

let srv;
before(async () => { srv = await startServer({ configText: relaxedConfig() }); });
after(async () => { await srv.stop(); srv.cleanup(); });

let n = 0;
const post = (c, article, extra = {}) => c.request({ type: 'post', article, name: 'Ann',
  title: `Title ${++n}`, body: `A perfectly ordinary comment number ${n}.`, ...extra });
const settle = (ms = 250) => new Promise((r) => setTimeout(r, ms));

test('subscribe answers history; a post reaches every subscriber live, once', async () => {
  const a = await Client.connect(srv.wsUrl), b = await Client.connect(srv.wsUrl);
  const h = await a.request({ type: 'subscribe', article: 'live-1' });
  assert.equal(h.type, 'history');
  assert.deepEqual(h.comments, []);
  assert.equal(h.has_older, false);
  assert.equal(h.count, 0);
  await b.request({ type: 'subscribe', article: 'live-1' });
  const ack = await post(a, 'live-1', { title: '  Spaced title  ', body: 'Body\r\nline two' });
  assert.equal(ack.type, 'ack');
  const c = ack.comment;
  assert.equal(c.status, 'published');
  assert.equal(c.title, 'Spaced title', 'trimmed');
  assert.equal(c.body, 'Body\nline two', 'CR LF folded');
  assert.equal(c.parent, null);
  assert.equal(c.author.name, 'Ann');
  assert.match(c.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  for (const x of [a, b]) assert.deepEqual((await x.next('comment')).comment, c);
  await settle();
  for (const x of [a, b]) assert.equal(x.queue.filter((m) => m.type === 'comment').length, 0);
  a.close(); b.close();
});

test('history: newest 50 oldest first, paging with before, count', async () => {
  const a = await Client.connect(srv.wsUrl);
  const ids = [];
  for (let i = 0; i < 57; i++) ids.push((await post(a, 'page-1', { body: `page comment ${i}` })).comment.id);
  const b = await Client.connect(srv.wsUrl);
  const h = await b.request({ type: 'subscribe', article: 'page-1' });
  assert.equal(h.comments.length, 50);
  assert.deepEqual(h.comments.map((c) => c.id), ids.slice(7));
  assert.equal(h.has_older, true);
  assert.equal(h.count, 57);
  const older = await b.request({ type: 'history', article: 'page-1', before: h.comments[0].id });
  assert.deepEqual(older.comments.map((c) => c.id), ids.slice(0, 7));
  assert.equal(older.has_older, false);
  assert.equal((await b.request({ type: 'history', article: 'page-1' })).code, 'bad_request');
  a.close(); b.close();
});

test('resume with since: exactly what was missed, nothing twice', async () => {
  const a = await Client.connect(srv.wsUrl);
  let b = await Client.connect(srv.wsUrl);
  await b.request({ type: 'subscribe', article: 'resume-1' });
  const first = await post(a, 'resume-1');
  const seen = (await b.next('comment')).comment.id;
  assert.equal(seen, first.comment.id);
  await b.close();
  const missed = [];
  for (let i = 0; i < 3; i++) missed.push((await post(a, 'resume-1')).comment.id);
  b = await Client.connect(srv.wsUrl);
  const h = await b.request({ type: 'subscribe', article: 'resume-1', since: seen });
  assert.deepEqual(h.comments.map((c) => c.id), missed);
  const live = await post(a, 'resume-1');
  assert.equal((await b.next('comment')).comment.id, live.comment.id);
  await settle();
  assert.equal(b.queue.filter((m) => m.type === 'comment').length, 0);
  const all = await (await Client.connect(srv.wsUrl)).request({ type: 'subscribe', article: 'resume-1', since: 0 });
  assert.equal(all.comments.length, 5, 'since 0 replays everything');
  a.close(); b.close();
});

test('resume with since also brings edits and removals of older comments', async () => {
  const author = await Client.connect(srv.wsUrl);
  await author.request({ type: 'hello', guest_key: 'resume-edit-author-key-1' });
  const c0 = (await post(author, 'resume-2', { body: 'to be deleted' })).comment;
  const c1 = (await post(author, 'resume-2', { body: 'to be edited' })).comment;
  let r = await Client.connect(srv.wsUrl);
  const h = await r.request({ type: 'subscribe', article: 'resume-2' });
  assert.deepEqual(h.comments.map((c) => c.id), [c0.id, c1.id]);
  await r.close();
  await author.request({ type: 'edit', comment: c1.id, body: 'edited while you were away' });
  await author.request({ type: 'delete', comment: c0.id });
  r = await Client.connect(srv.wsUrl);
  const h2 = await r.request({ type: 'subscribe', article: 'resume-2', since: c1.id });
  assert.deepEqual(h2.comments, []);
  assert.equal((await r.next('edited')).comment.body, 'edited while you were away');
  assert.deepEqual(await r.next('removed'), { type: 'removed', article: 'resume-2', comment: c0.id });
  author.close(); r.close();
});

test('one connection watches several articles; unsubscribe stops delivery', async () => {
  const a = await Client.connect(srv.wsUrl), w = await Client.connect(srv.wsUrl);
  await w.request({ type: 'subscribe', article: 'multi-a' });
  await w.request({ type: 'subscribe', article: 'multi-b' });
  const pa = await post(a, 'multi-a'), pb = await post(a, 'multi-b');
  const got = [(await w.next('comment')).comment, (await w.next('comment')).comment];
  assert.deepEqual(got.map((c) => c.article).sort(), ['multi-a', 'multi-b']);
  assert.deepEqual(got.map((c) => c.id).sort(), [pa.comment.id, pb.comment.id].sort());
  const u = await w.request({ type: 'unsubscribe', article: 'multi-a' });
  assert.deepEqual({ type: u.type, article: u.article }, { type: 'unsubscribed', article: 'multi-a' });
  assert.equal((await w.request({ type: 'unsubscribe', article: 'multi-a' })).code, 'not_found');
  await post(a, 'multi-a');
  const pb2 = await post(a, 'multi-b');
  assert.equal((await w.next('comment')).comment.id, pb2.comment.id);
  await settle();
  assert.equal(w.queue.filter((m) => m.type === 'comment').length, 0);
  a.close(); w.close();
});

test('replies: parent of the same article; title optional; other article refused', async () => {
  const a = await Client.connect(srv.wsUrl);
  const top = (await post(a, 'reply-1')).comment;
  const reply = await a.request({ type: 'post', article: 'reply-1', parent: top.id, name: 'Bob', body: 'I agree.' });
  assert.equal(reply.comment.parent, top.id);
  assert.equal(reply.comment.title, '');
  const other = (await post(a, 'reply-2')).comment;
  const bad = await a.request({ type: 'post', article: 'reply-1', parent: other.id, name: 'Bob', body: 'Wrong place.' });
  assert.equal(bad.code, 'bad_request');
  assert.equal((await a.request({ type: 'post', article: 'reply-1', parent: 99999999, name: 'Bob', body: 'x' })).code, 'bad_request');
  assert.equal((await a.request({ type: 'post', article: 'reply-1', name: 'Bob', body: 'no title on top' })).code, 'title_empty');
  a.close();
});

test('edit and delete own comments, live for everyone; not others\'', async () => {
  const a = await Client.connect(srv.wsUrl), other = await Client.connect(srv.wsUrl), r = await Client.connect(srv.wsUrl);
  await a.request({ type: 'hello', guest_key: 'guest-key-for-edits-123' });
  await r.request({ type: 'subscribe', article: 'edit-1' });
  const c = (await post(a, 'edit-1')).comment;
  await r.next('comment');
  const e = await a.request({ type: 'edit', comment: c.id, body: 'Edited body.' });
  assert.equal(e.comment.body, 'Edited body.');
  assert.ok(e.comment.edited_at);
  assert.equal((await r.next('edited')).comment.body, 'Edited body.');
  assert.equal((await other.request({ type: 'edit', comment: c.id, body: 'Hijack' })).code, 'forbidden');
  assert.equal((await other.request({ type: 'delete', comment: c.id })).code, 'forbidden');
  // the same guest key on a new connection is the same author
  const again = await Client.connect(srv.wsUrl);
  const w = await again.request({ type: 'hello', guest_key: 'guest-key-for-edits-123' });
  assert.equal(w.type, 'welcome');
  assert.equal(w.user.id, c.author.id);
  assert.equal(w.limits.title, 100);
  const d = await again.request({ type: 'delete', comment: c.id });
  assert.equal(d.comment.status, 'removed');
  assert.deepEqual(await r.next('removed'), { type: 'removed', article: 'edit-1', comment: c.id });
  assert.equal((await a.request({ type: 'edit', comment: c.id, body: 'gone' })).code, 'not_found');
  for (const x of [a, other, r, again]) x.close();
});

test('report once; ping', async () => {
  const a = await Client.connect(srv.wsUrl), b = await Client.connect(srv.wsUrl);
  const c = (await post(a, 'report-1')).comment;
  const r = await b.request({ type: 'report', comment: c.id, reason: 'off_topic' });
  assert.deepEqual({ type: r.type, comment: r.comment }, { type: 'reported', comment: c.id });
  assert.equal((await b.request({ type: 'report', comment: c.id, reason: 'spam' })).code, 'conflict');
  assert.equal((await b.request({ type: 'report', comment: 424242, reason: 'spam' })).code, 'not_found');
  const p = await b.request({ type: 'ping' });
  assert.equal(p.type, 'pong');
  assert.ok(Date.parse(p.time) > 0);
  const s = await b.request({ type: 'ping', id: 'string-id' });
  a.close(); b.close();
  assert.ok(s);
});
