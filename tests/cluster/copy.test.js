// `parley store copy --from DIR --to CONNINFO` (issue 12): an SQLite install moved into
// PostgreSQL with its ids, sequences advanced, keys carried over, idempotent, counts
// checked. A real SQLite install made by a real parley, a real PostgreSQL.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, Client, BIN, relaxedConfig, addModerator, login, consoleClient } = require('../lib/server.js');
const { startPg } = require('./lib.js');

let pg, sqlite, dataDir;
const made = { comments: [], guest: null };

const copy = (...args) => spawnSync(BIN, ['store', 'copy', ...args], { encoding: 'utf8', cwd: '/' });

before(async () => {
  pg = await startPg();
  // an SQLite install with comments, a reply, a held post, a moderator, a ban, a report
  sqlite = await startServer({ configText: relaxedConfig(), sqlite: true });
  dataDir = path.join(sqlite.dir, 'data');
  const c = await Client.connect(sqlite.wsUrl);
  made.guest = (await c.request({ type: 'hello', guest_key: 'moving-house-guest-key' })).user.id;
  for (let i = 0; i < 30; i++) {
    const r = await c.request({ type: 'post', article: `a-${i % 3}`, name: 'Ann', title: 't', body: `comment ${i}` });
    assert.equal(r.type, 'ack');
    made.comments.push(r.comment);
  }
  const reply = await c.request({ type: 'post', article: 'a-0', parent: made.comments[0].id, name: 'Ann', title: 't', body: 'a reply' });
  made.comments.push(reply.comment);
  const reporter = await Client.connect(sqlite.wsUrl);
  assert.equal((await reporter.request({ type: 'report', comment: made.comments[1].id, reason: 'spam' })).type, 'reported');
  reporter.close();
  addModerator(sqlite, 'mover', 'a long enough password', 'admin');
  const admin = await consoleClient(sqlite, await login(sqlite, 'mover', 'a long enough password'));
  const troll = await Client.connect(sqlite.wsUrl);
  await troll.request({ type: 'hello', guest_key: 'troll-before-the-move' });
  const t = await troll.request({ type: 'post', article: 'a-1', name: 'Troll', title: 't', body: 'rude' });
  assert.equal((await admin.request({ type: 'mod.ban', author: t.comment.author.id, duration: 3600, reason: 'spam' })).type, 'mod.ok');
  made.comments.push(t.comment);
  for (const x of [c, admin, troll]) x.close();
  await sqlite.stop();
});

after(() => {
  if (sqlite) sqlite.cleanup();
  if (pg) pg.stop();
});

test('bad input: usage errors, a missing store, an unreachable database', () => {
  let r = copy('--from', dataDir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: parley store copy --from DIR --to CONNINFO/);
  r = copy('--from', '/nonexistent/parley', '--to', pg.conninfo);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no SQLite store at \/nonexistent\/parley\/parley.db/);
  r = copy('--from', dataDir, '--to', `host=${pg.dir} dbname=no_such_db user=parley`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open PostgreSQL/);
});

test('copies every table with its ids, then a second run copies nothing and says so', () => {
  const r = copy('--from', dataDir, '--to', pg.conninfo);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /comments\s+\d+ rows copied/);
  assert.match(r.stdout, /rows copied; every table's counts match/);
  const nComments = made.comments.length;
  assert.equal(pg.psql('SELECT count(*) FROM comments'), String(nComments));
  assert.equal(pg.psql(`SELECT body FROM comments WHERE id = ${made.comments[5].id}`), 'comment 5');
  assert.equal(pg.psql(`SELECT parent FROM comments WHERE body = 'a reply'`), String(made.comments[0].id));
  assert.equal(pg.psql("SELECT count(*) FROM moderators WHERE name = 'mover'"), '1');
  assert.equal(pg.psql('SELECT count(*) FROM bans'), '1');
  assert.equal(pg.psql('SELECT count(*) FROM reports'), '1');
  assert.equal(pg.psql("SELECT count(*) FROM secrets WHERE name = 'ip-hash'"), '1');

  const again = copy('--from', dataDir, '--to', pg.conninfo);
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /store copy: nothing new to copy; every table's counts match/);
  assert.doesNotMatch(again.stdout, /rows copied \(/);
  assert.equal(pg.psql('SELECT count(*) FROM comments'), String(nComments));
});

test('a node on PostgreSQL serves the copied install: same guest id, new ids past the old, ban kept', async () => {
  const text = relaxedConfig().replace(/^storage:\n/m, `storage:\n  postgres: "${pg.conninfo}"\n`);
  const node = await startServer({ configText: text });
  try {
    const c = await Client.connect(node.wsUrl);
    assert.equal((await c.request({ type: 'hello', guest_key: 'moving-house-guest-key' })).user.id, made.guest,
      'the guest keeps its id: the keyed-hash key came along');
    const h = await c.request({ type: 'subscribe', article: 'a-0', since: 0 });
    const want = made.comments.filter((x) => x.article === 'a-0').map((x) => x.id);
    assert.deepEqual(h.comments.map((x) => x.id), want);
    const r = await c.request({ type: 'post', article: 'a-0', name: 'Ann', title: 't', body: 'after the move' });
    assert.equal(r.type, 'ack', JSON.stringify(r));
    assert.ok(r.comment.id > Math.max(...made.comments.map((x) => x.id)), 'the sequence was advanced past the copied ids');
    const troll = await Client.connect(node.wsUrl);
    await troll.request({ type: 'hello', guest_key: 'troll-before-the-move' });
    assert.equal((await troll.request({ type: 'post', article: 'a-0', name: 'Troll', title: 't', body: 'again' })).code, 'forbidden');
    c.close(); troll.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('a count that does not match makes the copy fail', () => {
  // a row only PostgreSQL has: the counts differ and the command says so
  pg.psql("INSERT INTO comments (article, author_id, author_name, body, status, created_at) VALUES ('x', 'g:x', 'X', 'only here', 'published', 0)");
  const r = copy('--from', dataDir, '--to', pg.conninfo);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /comments .*COUNTS DIFFER/);
  assert.match(r.stderr, /row counts differ/);
});
