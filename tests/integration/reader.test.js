// A reader's own data (issue 15): `parley reader export ID` lists everything stored about
// an author; `parley reader erase ID` removes texts, name and identity while the thread
// keeps its shape. Real server, real SQLite, checked table by table with sqlite3.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { startServer, Client, relaxedConfig, BIN, addModerator, login, consoleClient, httpRequest, ON_PG } = require('../lib/server.js');

// rows as JSON from the server's database: sqlite3 -json, or json_agg through psql
const sql = (srv, q) => (ON_PG
  ? { stdout: srv.sql(`SELECT coalesce(json_agg(t), '[]'::json) FROM (${q}) t`).trim() }
  : spawnSync('sqlite3', ['-json', path.join(srv.dir, 'data', 'parley.db'), q], { encoding: 'utf8' }));
const TABLES = ON_PG ? "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
  : "SELECT name FROM sqlite_master WHERE type = 'table'";
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

test('export then erase a reader: gone from every table, the thread still reads', async () => {
  // webhooks to a port nobody listens on (their events wait in the outbox) and SMTP the
  // same way (a reply-email subscription is stored, its confirmation waits)
  const srv = await startServer({ configText: relaxedConfig() +
    '\nwebhooks:\n  - url: "http://127.0.0.1:9/hook"\n    secret: "a long enough shared secret here"\n    events: ["*"]\n' +
    '\nnotifications:\n  smtp:\n    url: "smtp://127.0.0.1:9"\n    from: "news@example.test"\n    starttls: false\n' });
  const data = path.join(srv.dir, 'data');
  const cli = (...a) => spawnSync(BIN, ['reader', ...a, '--config', srv.config, '--data', data], { encoding: 'utf8' });
  try {
    const ann = await Client.connect(srv.wsUrl);
    await ann.request({ type: 'hello', guest_key: 'ann-guest-key-0123456789' });
    const bob = await Client.connect(srv.wsUrl);
    await bob.request({ type: 'hello', guest_key: 'bob-guest-key-0123456789' });
    const a1 = (await ann.request({ type: 'post', article: 'gdpr-1', name: 'Annabel Secret', title: 'Mine',
      body: 'A very personal comment by Annabel.' })).comment;
    const b1 = (await bob.request({ type: 'post', article: 'gdpr-1', parent: a1.id, name: 'Bob', title: 'Re',
      body: 'Bob replies to the first comment.' })).comment;
    const a2 = (await ann.request({ type: 'post', article: 'gdpr-1', parent: b1.id, name: 'Annabel Secret', title: 'Again',
      body: 'Annabel answers Bob privately-ish.' })).comment;
    const rep = await ann.request({ type: 'report', comment: b1.id, reason: 'spam', note: 'Annabel thinks so' });
    assert.notEqual(rep.type, 'error', JSON.stringify(rep));
    const annId = a1.author.id;
    assert.ok(annId && annId === a2.author.id);
    // Ann likes Bob's reply and asks for reply emails; a moderator decides on her second
    // comment (the learned model keeps its text as an example)
    assert.equal((await ann.request({ type: 'react', comment: b1.id, like: true })).type, 'reacted');
    const sub = await ann.request({ type: 'notify.email', article: 'gdpr-1', email: 'annabel@example.test' });
    assert.equal(sub.state, 'pending', JSON.stringify(sub));
    addModerator(srv, 'gdpr.mod', 'a long moderator password', 'moderator');
    const mod = await consoleClient(srv, await login(srv, 'gdpr.mod', 'a long moderator password'));
    assert.equal((await mod.request({ type: 'mod.reject', comment: a2.id, reason: 'spam' })).type, 'mod.ok');
    mod.close();
    ann.close(); bob.close();
    await settle(500);
    assert.equal(sql(srv, `SELECT COUNT(*) AS n FROM learned_examples WHERE comment_id = ${a2.id}`).stdout.includes('1'), true,
      'the decision was learned (its text kept)');

    const ex = cli('export', annId);
    assert.equal(ex.status, 0, ex.stderr);
    const mine = JSON.parse(ex.stdout);
    assert.equal(mine.reader, annId);
    assert.deepEqual(mine.comments.map((c) => c.id), [a1.id, a2.id]);
    assert.equal(mine.comments[0].body, 'A very personal comment by Annabel.');
    assert.equal(mine.comments[0].name, 'Annabel Secret');
    assert.equal(mine.reports.length, 1);
    assert.equal(mine.reports[0].comment, b1.id);
    assert.deepEqual(mine.reactions.map((r) => [r.comment, r.article, r.kind]), [[b1.id, 'gdpr-1', 'like']]);

    const er = cli('erase', annId);
    assert.equal(er.status, 0, er.stderr);
    assert.match(er.stdout, /2 comments kept as placeholders, 1 reports, \d+ notes, \d+ bans, 1 likes, 1 reply-email subscriptions, 1 learned texts, [1-9]\d* webhook events deleted/);

    // gone from every table: no row of any table mentions the id, the name or the texts
    const db = srv;
    const tables = JSON.parse(sql(db, TABLES).stdout).map((t) => t.name);
    for (const t of tables) {
      const dump = sql(db, `SELECT * FROM "${t}"`).stdout;
      for (const s of [annId, 'Annabel', 'very personal', 'privately-ish'])
        assert.ok(!dump.includes(s), `${s} still in table ${t}`);
    }
    const audit = JSON.parse(sql(db, "SELECT action, target, note FROM audit WHERE action = 'reader.erase'").stdout);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].target, 'reader:erased');
    assert.equal(cli('export', annId).stdout.includes('"comments": []'), true);

    // the thread still reads: Bob's reply keeps its parent, a new reader sees it
    const c = await Client.connect(srv.wsUrl);
    const h = await c.request({ type: 'subscribe', article: 'gdpr-1' });
    assert.deepEqual(h.comments.map((x) => x.id), [b1.id]);
    assert.equal(h.comments[0].parent, a1.id);
    assert.equal(h.comments[0].likes, 0, 'her like is gone from the count too');
    c.close();
    // and the erased placeholders keep their place in the tree
    const rows = JSON.parse(sql(db, `SELECT id, parent, status, body, author_name FROM comments ORDER BY id`).stdout);
    assert.deepEqual(rows.map((r) => [r.id, r.parent, r.status, r.body, r.author_name]), [
      [a1.id, null, 'removed', '', ''], [b1.id, a1.id, 'published', 'Bob replies to the first comment.', 'Bob'],
      [a2.id, b1.id, 'removed', '', '']]);

    assert.equal(cli('erase', 'not an id').status, 2);
    assert.equal(cli('frobnicate', annId).status, 2);
  } finally { await srv.stop(); srv.cleanup(); }
});

test('admins export and erase a reader over HTTP (the console API); nobody else can', async () => {
  const srv = await startServer({ configText: relaxedConfig() });
  const data = path.join(srv.dir, 'data');
  try {
    addModerator(srv, 'root', 'admin password 123', 'admin');
    addModerator(srv, 'mo', 'moderator password 123', 'moderator');
    const admin = await login(srv, 'root', 'admin password 123');
    const mod = await login(srv, 'mo', 'moderator password 123');
    const c = await Client.connect(srv.wsUrl);
    await c.request({ type: 'hello', guest_key: 'http-reader-key-0123456789' });
    const a = (await c.request({ type: 'post', article: 'gdpr-2', name: 'Zed Private', title: 'Z',
      body: 'Zed wrote this and wants it gone.' })).comment;
    c.close();
    const id = a.author.id;
    const url = `${srv.base}/api/mod/reader?id=${encodeURIComponent(id)}`;
    const get = (cookie) => httpRequest(url, { headers: cookie ? { cookie } : {} });
    assert.equal((await get()).status, 401);
    assert.equal((await get(mod)).status, 403, 'moderators may not');
    const ex = await get(admin);
    assert.equal(ex.status, 200, ex.body);
    assert.equal(JSON.parse(ex.body).comments[0].body, 'Zed wrote this and wants it gone.');
    assert.equal((await httpRequest(`${srv.base}/api/mod/reader?id=bad`, { headers: { cookie: admin } })).status, 400);

    const erase = (cookie, origin, body = JSON.stringify({ id })) => httpRequest(`${srv.base}/api/mod/reader/erase`,
      { method: 'POST', headers: { cookie, origin, 'content-type': 'application/json' }, body });
    assert.equal((await erase(admin, 'https://evil.example')).status, 403, 'foreign origin');
    assert.equal((await erase(mod, srv.base)).status, 403);
    assert.equal((await erase(admin, srv.base, '{"id": 5}')).status, 400);
    const er = await erase(admin, srv.base);
    assert.equal(er.status, 200, er.body);
    assert.equal(JSON.parse(er.body).erased.comments, 1);
    const db = srv;
    const dump = sql(db, 'SELECT * FROM comments').stdout + sql(db, 'SELECT * FROM audit').stdout;
    for (const s of [id, 'Zed']) assert.ok(!dump.includes(s), `${s} still stored`);
    const audit = JSON.parse(sql(db, "SELECT moderator, target FROM audit WHERE action = 'reader.erase'").stdout);
    assert.deepEqual(audit, [{ moderator: 'root', target: 'reader:erased' }]);
  } finally { await srv.stop(); srv.cleanup(); }
});
