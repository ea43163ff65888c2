// Moderation (issue 4): accounts, login, sessions, permissions, every console action and
// what readers and authors see of it. Real binary, real SQLite, real WebSockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer, Client, httpRequest, baseConfig, addModerator, login, consoleClient, BIN } =
  require('../lib/server.js');

let srv;
const ADMIN = ['ana', 'correct horse battery'];
const MOD = ['milo', 'another long secret'];

before(async () => {
  srv = await startServer({
    configText: baseConfig((t) => t.replace(/login_attempts: \d+/, 'login_attempts: 3')
      .replace(/report_hide_at: \d+/, 'report_hide_at: 2')
      .replace(/report_weight_guest: [\d.]+/, 'report_weight_guest: 1')
      .replace(/trust_proxy: \w+/, 'trust_proxy: true')),
  });
  addModerator(srv, ADMIN[0], ADMIN[1], 'admin');
  addModerator(srv, MOD[0], MOD[1], 'moderator');
});
after(async () => { await srv.stop(); srv.cleanup(); });

const post = (c, article, body, extra = {}) =>
  c.request({ type: 'post', article, name: 'Reader', title: 'A title', body, ...extra });

// Makes an article pre-moderated through the console, as an admin would.
async function premoderate(con, article) {
  const r = await con.request({ type: 'mod.article', article, mode: 'premoderated' });
  assert.equal(r.type, 'mod.ok', JSON.stringify(r));
}

// Nothing of type `type` arrives at c within ms.
async function nothing(c, type, ms = 300) {
  await new Promise((r) => setTimeout(r, ms));
  assert.equal(c.queue.filter((m) => m.type === type).length, 0,
    `unexpected ${type}: ${JSON.stringify(c.queue)}`);
}

test('moderator command line: add, list, passwd, remove', () => {
  const data = path.join(srv.dir, 'data');
  const args = ['--config', srv.config, '--data', data];
  addModerator(srv, 'temp', 'temporary pass');
  assert.match(execFileSync(BIN, ['moderator', 'list', ...args], { encoding: 'utf8' }), /temp\s+moderator/);
  assert.throws(() => execFileSync(BIN, ['moderator', 'add', 'temp', ...args], { input: 'another pass\n', stdio: 'pipe' }));
  assert.throws(() => execFileSync(BIN, ['moderator', 'add', 'short', ...args], { input: 'abc\n', stdio: 'pipe' }),
    'a short password is refused');
  execFileSync(BIN, ['moderator', 'passwd', 'temp', ...args], { input: 'a new password\n' });
  execFileSync(BIN, ['moderator', 'remove', 'temp', ...args]);
  assert.doesNotMatch(execFileSync(BIN, ['moderator', 'list', ...args], { encoding: 'utf8' }), /temp/);
});

test('login: wrong password, other origin, success, me, logout', async () => {
  const url = `${srv.base}/api/mod/login`;
  const json = { 'content-type': 'application/json' };
  let r = await httpRequest(url, { method: 'POST', headers: json, body: JSON.stringify({ name: MOD[0], password: 'nope' }) });
  assert.equal(r.status, 401);
  r = await httpRequest(url, { method: 'POST', headers: { ...json, origin: 'http://evil.example' },
    body: JSON.stringify({ name: MOD[0], password: MOD[1] }) });
  assert.equal(r.status, 403, 'CSRF: a login posted from another origin is refused');
  r = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ name: MOD[0], password: MOD[1] }) });
  assert.equal(r.status, 415, 'a form post cannot log in');
  const cookie = await login(srv, MOD[0], MOD[1]);
  r = await httpRequest(url, { method: 'POST', headers: { ...json, origin: srv.base }, body: JSON.stringify({ name: MOD[0], password: MOD[1] }) });
  const set = r.headers['set-cookie'][0];
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  assert.doesNotMatch(set, /Secure/, 'not behind TLS here');
  r = await httpRequest(`${srv.base}/api/mod/me`, { headers: { cookie } });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { name: MOD[0], role: 'moderator' });
  r = await httpRequest(`${srv.base}/api/mod/logout`, { method: 'POST', headers: { cookie, origin: srv.base }, body: '' });
  assert.equal(r.status, 204, 'logout answers 204 (docs/protocol.md)');
  assert.match(r.headers['set-cookie'][0], /Max-Age=0/);
  r = await httpRequest(`${srv.base}/api/mod/me`, { headers: { cookie } });
  assert.equal(r.status, 401, 'the session is gone after logout');
});

test('login throttling per name', async () => {
  const url = `${srv.base}/api/mod/login`;
  const body = JSON.stringify({ name: 'victim', password: 'guess' });
  const codes = [];
  for (let i = 0; i < 5; i++) {
    const r = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    codes.push(r.status);
    if (r.status === 429) {
      assert.ok(Number(r.headers['retry-after']) > 0);
      assert.equal(JSON.parse(r.body).error, 'rate_limited');
    }
  }
  assert.deepEqual(codes, [401, 401, 401, 429, 429]);
});

test('permissions: readers, forged and expired sessions, foreign origins, roles', async () => {
  const reader = await Client.connect(srv.wsUrl);
  for (const type of ['mod.approve', 'mod.queue', 'mod.ban', 'mod.audit']) {
    const r = await reader.request({ type, comment: 1, author: 'g:x' });
    assert.equal(r.code, 'forbidden', `${type} from a reader`);
  }
  assert.equal((await reader.request({ type: 'mod.hello' })).code, 'unauthorized');
  // a forged cookie
  const forged = await Client.connect(srv.wsUrl, { headers: { cookie: 'parley_session=' + 'ab'.repeat(32), origin: srv.base } });
  assert.equal((await forged.request({ type: 'mod.hello' })).code, 'unauthorized');
  assert.equal((await forged.request({ type: 'mod.approve', comment: 1 })).code, 'forbidden');
  // a real cookie, but the WebSocket opened from another (allowed embedding) origin
  const cookie = await login(srv, MOD[0], MOD[1]);
  const cross = await Client.connect(srv.wsUrl, { headers: { cookie, origin: 'http://127.0.0.1:8080' } });
  assert.equal((await cross.request({ type: 'mod.hello' })).code, 'unauthorized');
  // role moderator cannot use admin actions
  const con = await consoleClient(srv, cookie);
  assert.equal((await con.request({ type: 'mod.audit' })).code, 'forbidden');
  assert.equal((await con.request({ type: 'mod.article', article: 'x', mode: 'closed' })).code, 'forbidden');
  // the session expires while the console is open: the next action is refused
  srv.sql('UPDATE sessions SET expires_at = 0;');
  assert.equal((await con.request({ type: 'mod.queue' })).code, 'unauthorized');
  for (const c of [reader, forged, cross, con]) c.close();
});

test('held post: pending to its author only, approved live, removed live, undo', async () => {
  const admin = await consoleClient(srv, await login(srv, ...ADMIN));
  const other = await consoleClient(srv, await login(srv, ...MOD));
  await premoderate(admin, 'held-1');
  const reader = await Client.connect(srv.wsUrl);
  const author = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'held-1' });
  await author.request({ type: 'subscribe', article: 'held-1' });

  const ack = await post(author, 'held-1', 'Please review me.');
  assert.equal(ack.type, 'ack');
  assert.equal(ack.comment.status, 'pending');
  const id = ack.comment.id;
  const item = await admin.next((m) => m.type === 'mod.item' && m.item.comment.id === id);
  assert.equal(item.item.queue, 'held');
  assert.equal(item.item.author.name, 'Reader');
  assert.ok('published' in item.item.author && 'first_seen' in item.item.author);
  await other.next((m) => m.type === 'mod.item' && m.item.comment.id === id);
  await nothing(reader, 'comment');

  // the author sees it on reload, a stranger does not
  const again = await Client.connect(srv.wsUrl);
  const h = await again.request({ type: 'subscribe', article: 'held-1' });
  assert.equal(h.comments.length, 0);

  const q = await admin.request({ type: 'mod.queue', queue: 'held' });
  assert.ok(q.items.some((it) => it.comment.id === id));
  assert.ok(q.counts.held >= 1);

  assert.equal((await admin.request({ type: 'mod.approve', comment: id })).type, 'mod.ok');
  assert.equal((await reader.next('comment')).comment.id, id);
  const dec = await author.next('decision');
  assert.equal(dec.comment.status, 'published');
  const resolved = await other.next((m) => m.type === 'mod.resolved' && m.comment === id);
  assert.equal(resolved.by, ADMIN[0]);

  assert.equal((await admin.request({ type: 'mod.remove', comment: id, reason: 'off topic' })).type, 'mod.ok');
  assert.deepEqual(await reader.next('removed'), { type: 'removed', article: 'held-1', comment: id });

  const undo = await admin.request({ type: 'mod.undo' });
  assert.equal(undo.type, 'mod.ok');
  assert.equal(undo.undone[0].action, 'remove');
  const back = await reader.next('comment');
  assert.equal(back.comment.id, id, 'undoing the removal publishes it again');
  for (const c of [admin, other, reader, author, again]) c.close();
});

test('reject with a reason reaches the author; bulk approve; audit log', async () => {
  const admin = await consoleClient(srv, await login(srv, ...ADMIN));
  await premoderate(admin, 'held-2');
  const author = await Client.connect(srv.wsUrl);
  const reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'held-2' });
  const a1 = await post(author, 'held-2', 'first');
  const a2 = await post(author, 'held-2', 'second');
  const a3 = await post(author, 'held-2', 'third');
  assert.equal((await admin.request({ type: 'mod.reject', comment: a1.comment.id })).code, 'bad_request',
    'a rejection needs a reason');
  assert.equal((await admin.request({ type: 'mod.reject', comment: a1.comment.id, reason: 'Personal attack' })).type, 'mod.ok');
  const dec = await author.next('decision');
  assert.equal(dec.comment.status, 'rejected');
  assert.equal(dec.comment.reason, 'Personal attack');

  const bulk = await admin.request({ type: 'mod.bulk', action: 'approve', comments: [a2.comment.id, a3.comment.id, 999999] });
  assert.deepEqual(bulk.done, [a2.comment.id, a3.comment.id]);
  assert.deepEqual(bulk.failed, [999999]);
  const got = [(await reader.next('comment')).comment.id, (await reader.next('comment')).comment.id];
  assert.deepEqual(got.sort(), [a2.comment.id, a3.comment.id].sort());

  const audit = await admin.request({ type: 'mod.audit', action: 'approve' });
  assert.ok(audit.entries.length >= 2);
  const e = audit.entries.find((x) => x.target === `comment:${a2.comment.id}`);
  assert.equal(e.moderator, ADMIN[0]);
  assert.deepEqual(e.before, { status: 'pending' });
  assert.deepEqual(e.after, { status: 'published' });

  // undo takes back the whole bulk decision
  const undo = await admin.request({ type: 'mod.undo' });
  assert.equal(undo.undone.length, 2);
  const removed = [(await reader.next('removed')).comment, (await reader.next('removed')).comment];
  assert.deepEqual(removed.sort(), [a2.comment.id, a3.comment.id].sort());
  for (const c of [admin, author, reader]) c.close();
});

test('ban, shadow-ban, unban, note, search', async () => {
  const admin = await consoleClient(srv, await login(srv, ...ADMIN));
  const troll = await Client.connect(srv.wsUrl);
  await troll.request({ type: 'hello', guest_key: 'troll-key-0123456789' });
  const reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'open-1' });
  await troll.request({ type: 'subscribe', article: 'open-1' });
  const first = await post(troll, 'open-1', 'An ordinary first comment.');
  assert.equal(first.comment.status, 'published');
  await reader.next('comment');
  const authorId = first.comment.author.id;

  assert.equal((await admin.request({ type: 'mod.shadowban', author: authorId })).type, 'mod.ok');
  const shadow = await post(troll, 'open-1', 'Only I can see this one.');
  assert.equal(shadow.comment.status, 'published', 'the shadow-banned author sees it as published');
  await troll.next((m) => m.type === 'comment' && m.comment.id === shadow.comment.id);
  await nothing(reader, 'comment');
  // an edit of it goes to its author alone, as the post did
  const edit = await troll.request({ type: 'edit', comment: shadow.comment.id, body: 'Only I can see this one, edited.' });
  assert.equal(edit.type, 'ack', JSON.stringify(edit));
  await troll.next((m) => m.type === 'edited' && m.comment.id === shadow.comment.id);
  await nothing(reader, 'edited');
  const stranger = await Client.connect(srv.wsUrl);
  const hist = await stranger.request({ type: 'subscribe', article: 'open-1' });
  assert.ok(!hist.comments.some((c) => c.id === shadow.comment.id));

  assert.equal((await admin.request({ type: 'mod.ban', author: authorId, duration: 3600, ip: true, reason: 'spam' })).type, 'mod.ok');
  const refused = await post(troll, 'open-1', 'Banned now.');
  assert.equal(refused.code, 'forbidden');
  // the address is banned too: a fresh identity from the same address is refused
  const sock = await Client.connect(srv.wsUrl);
  assert.equal((await post(sock, 'open-1', 'new name, same place')).code, 'forbidden');

  assert.equal((await admin.request({ type: 'mod.unban', author: authorId })).type, 'mod.ok');
  assert.equal((await post(troll, 'open-1', 'Back again, politely.')).comment.status, 'published');

  assert.equal((await admin.request({ type: 'mod.note', author: authorId, text: 'Watch this one.' })).type, 'mod.ok');
  const found = await admin.request({ type: 'mod.search', author: authorId });
  assert.ok(found.items.length >= 3);
  assert.equal(found.items[0].author.notes[0].text, 'Watch this one.');
  const byText = await admin.request({ type: 'mod.search', text: 'politely' });
  assert.equal(byText.items.length, 1);
  for (const c of [admin, troll, reader, stranger, sock]) c.close();
});

test('reports: once per reader, queue order, hidden at the threshold', async () => {
  const admin = await consoleClient(srv, await login(srv, ...ADMIN));
  const author = await Client.connect(srv.wsUrl);
  const reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'open-2' });
  const c = (await post(author, 'open-2', 'Something people dislike.')).comment;
  await reader.next('comment');
  // two readers from two addresses (the proxy's X-Forwarded-For names them)
  const r1 = await Client.connect(srv.wsUrl, { headers: { 'x-forwarded-for': '192.0.2.1' } });
  const r2 = await Client.connect(srv.wsUrl, { headers: { 'x-forwarded-for': '192.0.2.2' } });
  assert.equal((await r1.request({ type: 'report', comment: c.id, reason: 'nonsense' })).code, 'bad_request');
  assert.equal((await r1.request({ type: 'report', comment: c.id, reason: 'abuse', note: 'rude' })).type, 'reported');
  assert.equal((await r1.request({ type: 'report', comment: c.id, reason: 'abuse' })).code, 'conflict');
  const item = await admin.next((m) => m.type === 'mod.item' && m.item.comment.id === c.id);
  assert.equal(item.item.queue, 'reported');
  assert.equal(item.item.reports[0].note, 'rude');
  await nothing(reader, 'removed', 100);
  assert.equal((await r2.request({ type: 'report', comment: c.id, reason: 'spam' })).type, 'reported');
  assert.equal((await reader.next('removed')).comment, c.id, 'hidden at report_hide_at = 2');
  const q = await admin.request({ type: 'mod.queue', queue: 'reported' });
  const it = q.items.find((x) => x.comment.id === c.id);
  assert.equal(it.report_count, 2);
  assert.equal(it.comment.status, 'hidden');
  assert.equal((await admin.request({ type: 'mod.approve', comment: c.id })).type, 'mod.ok');
  assert.equal((await reader.next('comment')).comment.id, c.id, 'approved: visible again');
  for (const x of [admin, author, reader, r1, r2]) x.close();
});

test('closed article refuses posts', async () => {
  const admin = await consoleClient(srv, await login(srv, ...ADMIN));
  assert.equal((await admin.request({ type: 'mod.article', article: 'closed-1', mode: 'closed' })).type, 'mod.ok');
  const c = await Client.connect(srv.wsUrl);
  const r = await post(c, 'closed-1', 'Too late?');
  assert.equal(r.code, 'forbidden');
  assert.match(r.message, /closed/i);
  assert.equal((await admin.request({ type: 'mod.undo' })).type, 'mod.ok');
  assert.equal((await post(c, 'closed-1', 'Open again.')).type, 'ack');
  admin.close(); c.close();
});
