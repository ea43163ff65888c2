// Authorization in moderation and self-service (red team, 26 Nov 2026): consoles whose
// session ended, undo against later decisions, bulk id lists, self-service erasure and
// bans, identity switches on one connection.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer, Client, httpRequest, relaxedConfig, addModerator, login, consoleClient, signJwt, BIN } =
  require('../lib/server.js');

const secret = crypto.randomBytes(32);
let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t
    .replace(/identity:\n  guests: true[^\n]*\n/,
      `identity:\n  guests: true\n  self_service: true\n  keys:\n    - id: site\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`)
    .replace(/^console:\n/m, 'console:\n  session_check_seconds: 1\n')) });
  addModerator(srv, 'ana', 'correct horse battery', 'admin');
  addModerator(srv, 'milo', 'another long secret', 'moderator');
});
after(async () => { await srv.stop(); srv.cleanup(); });

const token = (sub, name) => signJwt({ sub, name, exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'site' });
const post = (c, article, body, extra = {}) =>
  c.request({ type: 'post', article, name: 'Reader', title: 'A title', body, ...extra });
const cli = (...args) => execFileSync(BIN, [...args, '--config', srv.config, '--data', path.join(srv.dir, 'data')],
  { input: 'a brand new password\n', encoding: 'utf8' });
let articles = 0;

// A pre-moderated article (its posts are held), made by the admin console `ana`.
async function heldArticle(ana) {
  const article = `authz-${++articles}`;
  assert.equal((await ana.request({ type: 'mod.article', article, mode: 'premoderated' })).type, 'mod.ok');
  return article;
}

// A console whose session ends is told so, closed, and gets no queue event after it.
async function assertEnded(con, ana, how) {
  const err = await con.next((m) => m.type === 'error' && m.code === 'unauthorized', 5000);
  assert.match(err.message, /session has ended/, how);
  const { code } = await con.closed;
  assert.equal(code, 1008, `${how}: the console is closed`);
  const g = await Client.connect(srv.wsUrl);
  const p = await post(g, await heldArticle(ana), `Held text after ${how}.`);
  assert.equal(p.comment.status, 'pending');
  await ana.next((m) => m.type === 'mod.item' && m.item.comment.id === p.comment.id);
  assert.ok(!con.queue.some((m) => m.type === 'mod.item'), `${how}: no queue event reaches it`);
  g.close();
}

test('a console stops getting the queue when its session ends: logout, passwd, remove', async () => {
  const ana = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));

  // logout: at once
  let cookie = await login(srv, 'milo', 'another long secret');
  let con = await consoleClient(srv, cookie);
  const r = await httpRequest(`${srv.base}/api/mod/logout`, { method: 'POST', headers: { cookie, origin: srv.base }, body: '' });
  assert.equal(r.status, 204);
  await assertEnded(con, ana, 'logout');

  // a password changed from the command line (another process): within session_check_seconds
  cookie = await login(srv, 'milo', 'another long secret');
  con = await consoleClient(srv, cookie);
  cli('moderator', 'passwd', 'milo');
  await assertEnded(con, ana, 'passwd');

  // a moderator removed
  addModerator(srv, 'temp', 'temporary pass');
  con = await consoleClient(srv, await login(srv, 'temp', 'temporary pass'));
  cli('moderator', 'remove', 'temp');
  await assertEnded(con, ana, 'remove');

  // a live session is left alone
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(ana.closeCode, undefined, 'the admin with a live session stays');
  assert.equal((await ana.request({ type: 'mod.queue', queue: 'held' })).type, 'mod.queue');
  ana.close();
});

test('undo takes back only a decision still in force: not another moderator\'s later one, not an author\'s delete', async () => {
  const ana = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  const milo = await consoleClient(srv, await login(srv, 'milo', 'a brand new password'));
  const article = await heldArticle(ana);
  const g = await Client.connect(srv.wsUrl);
  const status = (id) => srv.sql(`SELECT status FROM comments WHERE id = ${id}`).trim();

  // milo rejects, ana then approves: milo's undo must not pull ana's approval back
  const a = await post(g, article, 'First held post.');
  assert.equal((await milo.request({ type: 'mod.reject', comment: a.comment.id, reason: 'Spam' })).type, 'mod.ok');
  assert.equal((await ana.request({ type: 'mod.approve', comment: a.comment.id })).type, 'mod.ok');
  const u = await milo.request({ type: 'mod.undo' });
  assert.equal(u.code, 'conflict', JSON.stringify(u));
  assert.match(u.message, /changed since/);
  assert.equal(status(a.comment.id), 'published', 'ana\'s approval stands');

  // approved, then deleted by its author: an undo must not bring it back to the queue
  const b = await post(g, article, 'Second held post.');
  assert.equal((await ana.request({ type: 'mod.approve', comment: b.comment.id })).type, 'mod.ok');
  assert.equal((await g.request({ type: 'delete', comment: b.comment.id })).comment.status, 'removed');
  assert.equal((await ana.request({ type: 'mod.undo' })).code, 'conflict');
  assert.equal(status(b.comment.id), 'removed', 'the author\'s delete stands');

  // an undo of a decision still in force works, once
  const c = await post(g, article, 'Third held post.');
  assert.equal((await milo.request({ type: 'mod.approve', comment: c.comment.id })).type, 'mod.ok');
  assert.equal((await milo.request({ type: 'mod.undo' })).type, 'mod.ok');
  assert.equal(status(c.comment.id), 'pending');
  for (const x of [ana, milo, g]) x.close();
});

test('a banned reader cannot lift the ban by erasing themselves (erase_me)', async () => {
  const milo = await consoleClient(srv, await login(srv, 'milo', 'a brand new password'));
  const b = await Client.connect(srv.wsUrl);
  assert.equal((await b.request({ type: 'hello', token: token('banned-1', 'Banned Reader') })).type, 'welcome');
  assert.equal((await post(b, 'authz-open', 'Before the ban.')).type, 'ack');
  // an old ban, lifted, and one in force with the address
  assert.equal((await milo.request({ type: 'mod.ban', author: 'u:banned-1', duration: 60, ip: false, reason: 'first' })).type, 'mod.ok');
  assert.equal((await milo.request({ type: 'mod.unban', author: 'u:banned-1' })).type, 'mod.ok');
  assert.equal((await milo.request({ type: 'mod.ban', author: 'u:banned-1', duration: null, ip: true, reason: 'Spam links' })).type, 'mod.ok');
  assert.equal((await post(b, 'authz-open', 'While banned.')).code, 'forbidden');
  const er = await b.request({ type: 'erase_me', confirm: true });
  assert.equal(er.type, 'erased', JSON.stringify(er));
  assert.equal(er.erased.bans, 1, 'only the lifted ban is deleted');
  const again = await post(b, 'authz-open', 'Free again?');
  assert.equal(again.code, 'forbidden', `the ban holds after the erasure: ${JSON.stringify(again)}`);
  const g = await Client.connect(srv.wsUrl); // the same address: the address ban holds too
  assert.equal((await post(g, 'authz-open', 'From the same address.')).code, 'forbidden');
  assert.equal(srv.sql("SELECT COUNT(*) FROM bans WHERE author_id = 'u:banned-1' AND reason IS NOT NULL").trim(), '0',
    'the moderator\'s reason about them is gone');
  assert.equal((await milo.request({ type: 'mod.unban', author: 'u:banned-1' })).type, 'mod.ok');
  for (const x of [milo, b, g]) x.close();
});

test('a hello with a guest_key after a sign-in makes a plain guest', async () => {
  const m = await Client.connect(srv.wsUrl);
  assert.equal((await m.request({ type: 'hello', token: token('mix-1', 'Signed Name') })).user.guest, false);
  const w = await m.request({ type: 'hello', guest_key: 'k'.repeat(24) });
  assert.equal(w.user.guest, true, JSON.stringify(w));
  assert.equal(w.user.name, null);
  assert.equal(w.self_service, false);
  const p = await post(m, 'authz-open', 'Posted as the guest.', { name: 'Guest Name' });
  assert.equal(p.type, 'ack', JSON.stringify(p));
  assert.deepEqual([p.comment.author.guest, p.comment.author.name], [true, 'Guest Name'],
    'not shown as the signed-in reader');
  assert.equal((await m.request({ type: 'erase_me', confirm: true })).code, 'unauthorized',
    'a guest id cannot be erased through the earlier sign-in');
  m.close();
});

test('bulk: an id listed many times is decided once', async () => {
  const ana = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  const g = await Client.connect(srv.wsUrl);
  const p = await post(g, await heldArticle(ana), 'Held for a bulk approval.');
  const r = await ana.request({ type: 'mod.bulk', action: 'approve', comments: Array(200).fill(p.comment.id) });
  assert.equal(r.type, 'mod.ok', JSON.stringify(r).slice(0, 300));
  assert.deepEqual(r.done, [p.comment.id]);
  assert.equal(r.failed.length, 199);
  assert.equal(srv.sql(`SELECT COUNT(*) FROM audit WHERE target = 'comment:${p.comment.id}'`).trim(), '1');
  for (const x of [ana, g]) x.close();
});

test('a rejected comment cannot be edited back into the queue; a banned author cannot edit', async () => {
  const ana = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  const a = await Client.connect(srv.wsUrl);
  assert.equal((await a.request({ type: 'hello', token: token('editor-1', 'Editor') })).type, 'welcome');
  const first = await post(a, 'authz-edit', 'A first comment, soon rejected.');
  const second = await post(a, 'authz-edit', 'A second comment, fine as it is.');
  assert.equal(first.comment.status, 'published');
  assert.equal((await ana.request({ type: 'mod.reject', comment: first.comment.id, reason: 'spam' })).type, 'mod.ok');
  const edit = await a.request({ type: 'edit', comment: first.comment.id, body: 'Check out my channel, subscribe please!' });
  assert.equal(edit.code, 'forbidden', JSON.stringify(edit));
  assert.match(edit.message, /rejected/);
  assert.equal(srv.sql(`SELECT status FROM comments WHERE id = ${first.comment.id}`).trim(), 'rejected');
  assert.equal((await ana.request({ type: 'mod.ban', author: 'u:editor-1', duration: 60, ip: false, reason: 'spam' })).type, 'mod.ok');
  const banned = await a.request({ type: 'edit', comment: second.comment.id, body: 'Edited while banned.' });
  assert.equal(banned.code, 'forbidden', JSON.stringify(banned));
  assert.equal(srv.sql(`SELECT body FROM comments WHERE id = ${second.comment.id}`).trim(), 'A second comment, fine as it is.');
  assert.equal((await ana.request({ type: 'mod.unban', author: 'u:editor-1' })).type, 'mod.ok');
  const after = await a.request({ type: 'edit', comment: second.comment.id, body: 'Edited after the ban was lifted.' });
  assert.equal(after.type, 'ack', JSON.stringify(after));
  for (const x of [ana, a]) x.close();
});
