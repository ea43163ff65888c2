// Webhooks and the outbox (issue 14): real parley, real SQLite, a real HTTP receiver on
// 127.0.0.1 that checks signatures. Events of every kind, a forged signature refused,
// the receiver down and back (retries, order, nothing lost), kill -9 with events pending
// (all delivered after restart, duplicates only with the same event id), dead letters,
// /metrics and the admins' console view, and config errors with file:line:column.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, Client, httpGet, relaxedConfig, addModerator, login, consoleClient, BIN } =
  require('../lib/server.js');
const { startReceiver, verify } = require('../lib/receiver.js');

const SECRET = 'whsec_test_0123456789abcdef';
const ONLY_SECRET = 'another-secret-for-published';

// The repo's config plus webhooks and fast retries.
function hookConfig(hooks, notifications = {}) {
  const n = { retry_initial_ms: 100, retry_max_ms: 400, poll_ms: 50, ...notifications };
  // a rule that refuses a marker word, for the automatic comment.rejected
  let t = relaxedConfig((x) => x.replace(/^rules:\n/m, "rules:\n  - name: test-refuse\n    kind: pattern\n" +
    "    pattern: 'zzrefuseme'\n    action: reject\n    description: Refuses a marker word.\n\n"));
  t += '\nwebhooks:\n';
  for (const h of hooks)
    t += `  - url: "${h.url}"\n    secret: "${h.secret}"\n    events: [${h.events.map((e) => `"${e}"`).join(', ')}]\n`;
  t += 'notifications:\n' + Object.entries(n).map(([k, v]) => `  ${k}: ${v}\n`).join('');
  return t;
}

const post = (c, article, body, extra = {}) =>
  c.request({ type: 'post', article, name: 'Reader', title: extra.parent ? undefined : 'A title', body, ...extra });

async function metric(srv, name) {
  const r = await httpGet(`${srv.base}/metrics`);
  const m = r.body.match(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

async function until(pred, ms = 15000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let rx, rxOnly, rxForged, srv;
before(async () => {
  rx = await startReceiver(SECRET);
  rxOnly = await startReceiver(ONLY_SECRET);
  rxForged = await startReceiver('the-receiver-expects-this-one');
  srv = await startServer({ configText: hookConfig([
    { url: rx.url, secret: SECRET, events: ['*'] },
    { url: rxOnly.url, secret: ONLY_SECRET, events: ['comment.published'] },
    // parley signs with a secret the receiver does not know: every delivery is refused
    { url: rxForged.url, secret: 'not-the-receivers-secret', events: ['comment.published'] },
  ]) });
  addModerator(srv, 'ana', 'correct horse battery', 'admin');
});
after(async () => {
  await srv.stop();
  srv.cleanup();
  for (const r of [rx, rxOnly, rxForged]) await r.down();
});

test('signed events for every kind of change, filtered per endpoint', async () => {
  const alice = await Client.connect(srv.wsUrl);
  const bob = await Client.connect(srv.wsUrl);
  const a = await post(alice, 'hooks-1', 'First comment of the thread.');
  assert.equal(a.comment.status, 'published');
  const ev = (await rx.waitFor((es) => es.some((e) => e.type === 'comment.published' && e.data.comment.id === a.comment.id)))
    .find((e) => e.type === 'comment.published' && e.data.comment.id === a.comment.id);
  assert.match(ev.id, /^evt_[0-9a-f]{32}$/);
  assert.equal(ev.headerId, ev.id, 'Parley-Event-Id is the body id');
  assert.equal(ev.headerType, 'comment.published');
  assert.match(ev.created, /^\d{4}-\d\d-\d\dT/);
  assert.equal(ev.data.comment.body, 'First comment of the thread.');
  assert.equal(ev.data.comment.article, 'hooks-1');
  assert.equal(ev.data.comment.ip, undefined, 'no address hash leaves the server');

  // a reply: comment.published and reply.created naming the parent's author
  const r = await post(bob, 'hooks-1', 'An answer to you.', { parent: a.comment.id });
  const reply = (await rx.waitFor((es) => es.some((e) => e.type === 'reply.created')))
    .find((e) => e.type === 'reply.created');
  assert.equal(reply.data.comment.id, r.comment.id);
  assert.equal(reply.data.parent.id, a.comment.id);
  assert.equal(reply.data.parent.author.id, a.comment.author.id);

  // edit, report, delete by the author
  const e = await alice.request({ type: 'edit', comment: a.comment.id, title: 'A title', body: 'Edited text.' });
  assert.equal(e.type, 'ack', JSON.stringify(e));
  assert.equal((await bob.request({ type: 'report', comment: a.comment.id, reason: 'spam' })).type, 'reported');
  const d = await bob.request({ type: 'delete', comment: r.comment.id });
  assert.equal(d.type, 'ack', JSON.stringify(d));
  await rx.waitFor((es) => ['comment.edited', 'comment.reported', 'comment.removed'].every((t) => es.some((x) => x.type === t)));
  assert.equal(rx.events.find((x) => x.type === 'comment.edited').data.comment.body, 'Edited text.');
  const rep = rx.events.find((x) => x.type === 'comment.reported');
  assert.deepEqual([rep.data.comment, rep.data.reason, rep.data.weight], [a.comment.id, 'spam', 0.5], "a guest's report weighs 0.5");
  assert.equal(rx.events.find((x) => x.type === 'comment.removed').data.by, 'author');

  // a held post, then the moderator's decisions, then a ban
  const held = await post(alice, 'premod-hooks', 'Waiting for review.');
  assert.equal(held.comment.status, 'pending');
  const held2 = await post(alice, 'premod-hooks', 'This one will be rejected.');
  const cookie = await login(srv, 'ana', 'correct horse battery');
  const con = await consoleClient(srv, cookie);
  assert.equal((await con.request({ type: 'mod.approve', comment: held.comment.id })).type, 'mod.ok');
  assert.equal((await con.request({ type: 'mod.reject', comment: held2.comment.id, reason: 'Off topic' })).type, 'mod.ok');
  assert.equal((await con.request({ type: 'mod.ban', author: r.comment.author.id, reason: 'spam' })).type, 'mod.ok');
  await rx.waitFor((es) => es.filter((x) => x.type === 'moderation.decision').length >= 2 &&
    es.some((x) => x.type === 'reader.banned') && es.some((x) => x.type === 'comment.rejected'));
  const heldEv = rx.events.find((x) => x.type === 'comment.held');
  assert.equal(heldEv.data.comment.id, held.comment.id);
  const dec = rx.events.filter((x) => x.type === 'moderation.decision');
  assert.deepEqual(dec.map((x) => [x.data.comment.id, x.data.action, x.data.from, x.data.to, x.data.by]),
    [[held.comment.id, 'approve', 'pending', 'published', 'ana'], [held2.comment.id, 'reject', 'pending', 'rejected', 'ana']]);
  assert.ok(rx.events.some((x) => x.type === 'comment.published' && x.data.comment.id === held.comment.id),
    'an approved comment is published');
  const rej = rx.events.find((x) => x.type === 'comment.rejected');
  assert.deepEqual([rej.data.comment.id, rej.data.comment.reason, rej.data.by], [held2.comment.id, 'Off topic', 'ana']);
  const ban = rx.events.find((x) => x.type === 'reader.banned');
  assert.deepEqual([ban.data.author, ban.data.kind, ban.data.by], [r.comment.author.id, 'ban', 'ana']);

  // a post the rules refuse: comment.rejected, automatic, with the rule that fired
  const refused = await post(alice, 'hooks-1', 'This says zzrefuseme.');
  assert.equal(refused.code, 'rejected');
  await rx.waitFor((es) => es.some((x) => x.type === 'comment.rejected' && x.data.automatic));
  const auto = rx.events.find((x) => x.type === 'comment.rejected' && x.data.automatic);
  assert.equal(auto.data.by, null);
  assert.equal(auto.data.comment.status, 'refused');
  assert.ok(auto.data.comment.rules.some((r) => r.name === 'test-refuse'), JSON.stringify(auto.data.comment.rules));
  // undoing the rejection is a decision too (the first undo lifts the ban, the second
  // takes back the rejection)
  assert.equal((await con.request({ type: 'mod.undo' })).type, 'mod.ok');
  assert.equal((await con.request({ type: 'mod.undo' })).type, 'mod.ok');
  await rx.waitFor((es) => es.some((x) => x.type === 'moderation.decision' && x.data.action === 'undo'));
  const undo = rx.events.find((x) => x.type === 'moderation.decision' && x.data.action === 'undo');
  assert.deepEqual([undo.data.comment.id, undo.data.from, undo.data.to], [held2.comment.id, 'rejected', 'pending']);

  // the published-only endpoint got published comments and nothing else
  await rxOnly.waitFor((es) => es.length >= 3);
  assert.ok(rxOnly.events.every((x) => x.type === 'comment.published'), JSON.stringify(rxOnly.events.map((x) => x.type)));
  // every event id is unique per event
  const ids = rx.events.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length);
  await alice.close(); await bob.close(); await con.close();
});

test('a forged signature is refused by the receiver, and parley retries it', async () => {
  // a request forged by someone without the secret
  const body = JSON.stringify({ id: 'evt_forged', type: 'comment.published', created: new Date().toISOString(), data: {} });
  const t = Math.floor(Date.now() / 1000);
  const res = await fetch(rx.url, { method: 'POST', body, headers: { 'content-type': 'application/json',
    'parley-signature': `t=${t},v1=${'ab'.repeat(32)}` } });
  assert.equal(res.status, 401);
  assert.equal(rx.refused.at(-1).why, 'bad signature');
  assert.ok(!rx.events.some((e) => e.id === 'evt_forged'), 'a forged event is never accepted');
  // a correct signature that is too old is a replay: refused too
  const old = t - 3600;
  const sig = require('node:crypto').createHmac('sha256', SECRET).update(`${old}.${body}`).digest('hex');
  assert.equal(verify(SECRET, `t=${old},v1=${sig}`, Buffer.from(body)), 'stale');
  assert.equal(verify(SECRET, `t=${t},v1=${require('node:crypto').createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`, Buffer.from(body)), null);
  // parley signed with a secret this receiver does not share: refused, kept, retried
  await until(() => rxForged.refused.length >= 2, 15000, 'retries of the refused delivery');
  assert.equal(rxForged.events.length, 0);
  assert.equal(rxForged.refused[0].why, 'bad signature');
  assert.equal(rxForged.refused[0].headers['parley-event-id'], rxForged.refused[1].headers['parley-event-id'],
    'a retry carries the same event id');
  assert.ok(await metric(srv, 'parley_webhook_deliveries_total{result="failed"}') >= 2);
  assert.ok(await metric(srv, 'parley_outbox_backlog') >= 1, 'the refused events wait in the outbox');
  assert.ok(await metric(srv, 'parley_webhook_deliveries_total{result="delivered"}') >= 10);
  // the console shows the failure to admins
  const con = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  const w = await con.request({ type: 'mod.webhooks' });
  assert.equal(w.type, 'mod.webhooks', JSON.stringify(w));
  assert.ok(w.counts.pending >= 1);
  const f = w.failures.find((x) => x.endpoint === rxForged.url);
  assert.ok(f, JSON.stringify(w.failures));
  assert.equal(f.error, 'HTTP 401');
  assert.ok(f.attempts >= 1);
  await con.close();
});

test('receiver down for a while: retried, in order, nothing lost', async () => {
  const c = await Client.connect(srv.wsUrl);
  await rxOnly.down();
  const failedBefore = await metric(srv, 'parley_webhook_deliveries_total{result="failed"}');
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push((await post(c, 'hooks-down', `Posted while the receiver is down ${i}.`)).comment.id);
  await until(async () => await metric(srv, 'parley_webhook_deliveries_total{result="failed"}') >= failedBefore + 3,
    15000, 'failed attempts while down');
  const seen = rxOnly.events.length;
  await new Promise((r) => setTimeout(r, 300));
  await rxOnly.up();
  await rxOnly.waitFor((es) => ids.every((id) => es.some((e) => e.data.comment.id === id)));
  const got = rxOnly.events.slice(seen).map((e) => e.data.comment.id).filter((id) => ids.includes(id));
  assert.deepEqual(got, ids, 'delivered in the order they were emitted, each once');
  await c.close();
});

test('kill -9 with events pending: all delivered after restart, duplicates share the event id', async () => {
  const rxK = await startReceiver(SECRET);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-hooks-'));
  const cfg = path.join(dir, 'moderation.yml');
  fs.writeFileSync(cfg, hookConfig([{ url: rxK.url, secret: SECRET, events: ['comment.published'] }]));
  await rxK.down();
  let s = await startServer({ dataDir: dir, config: cfg });
  const c = await Client.connect(s.wsUrl);
  const ids = [];
  for (let i = 0; i < 8; i++) ids.push((await post(c, 'hooks-kill', `Pending at the kill ${i}.`)).comment.id);
  c.ws.terminate();
  await until(async () => await metric(s, 'parley_outbox_backlog') === 8, 10000, 'backlog of 8');
  await s.stop('SIGKILL');
  await rxK.up();
  s = await startServer({ dataDir: dir, config: cfg, port: s.port });
  try {
    await rxK.waitFor((es) => ids.every((id) => es.some((e) => e.data.comment.id === id)));
    const byComment = new Map();
    for (const e of rxK.events) {
      const prev = byComment.get(e.data.comment.id);
      if (prev) assert.equal(prev, e.id, 'a duplicate carries the same event id');
      byComment.set(e.data.comment.id, e.id);
    }
    assert.deepEqual([...byComment.keys()].sort((x, y) => x - y), ids);
    await until(async () => await metric(s, 'parley_outbox_backlog') === 0, 10000, 'backlog drained');
  } finally {
    await s.stop();
    s.cleanup();
    await rxK.down();
  }
});

test('an endpoint that never answers is dead-lettered after the give-up age', async () => {
  const rxD = await startReceiver(SECRET);
  await rxD.down();
  const s = await startServer({ configText: hookConfig([{ url: rxD.url, secret: SECRET, events: ['comment.published'] }],
    { give_up_seconds: 1 }) });
  try {
    const c = await Client.connect(s.wsUrl);
    await post(c, 'hooks-dead', 'Nobody will ever get this one.');
    await until(async () => await metric(s, 'parley_outbox_dead') === 1, 15000, 'a dead letter');
    assert.equal(await metric(s, 'parley_outbox_backlog'), 0);
    assert.ok(await metric(s, 'parley_webhook_deliveries_total{result="dead"}') >= 1);
    await c.close();
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('bad webhook configuration stops start-up with file:line:column', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-hooks-cfg-'));
  const cases = [
    [[{ url: 'ftp://x', secret: SECRET, events: ['*'] }], /moderation\.yml:\d+:\d+: a webhook 'url' is http/],
    [[{ url: 'http://127.0.0.1:9/h', secret: 'short', events: ['*'] }], /:\d+:\d+: a webhook 'secret' needs at least 16/],
    [[{ url: 'http://127.0.0.1:9/h', secret: SECRET, events: ['comment.nope'] }], /:\d+:\d+: unknown event 'comment.nope'/],
  ];
  for (const [hooks, re] of cases) {
    const f = path.join(dir, 'moderation.yml');
    fs.writeFileSync(f, hookConfig(hooks));
    const r = spawnSync(BIN, ['serve', '--config', f, '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data')], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  const f = path.join(dir, 'moderation.yml');
  fs.writeFileSync(f, relaxedConfig() + '\nnotifications:\n  retry_initial_ms: fast\n');
  const r = spawnSync(BIN, ['serve', '--config', f, '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data')], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /:\d+:\d+: 'retry_initial_ms' must be a whole number/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('two processes on one data dir: one delivers, the other takes over when it dies', async () => {
  const rx2 = await startReceiver(SECRET);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-hooks-two-'));
  const cfg = path.join(dir, 'moderation.yml');
  fs.writeFileSync(cfg, hookConfig([{ url: rx2.url, secret: SECRET, events: ['comment.published'] }]));
  const a = await startServer({ dataDir: dir, config: cfg });
  const b = await startServer({ dataDir: dir, config: cfg });
  try {
    const ca = await Client.connect(a.wsUrl), cb = await Client.connect(b.wsUrl);
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await post(ca, 'hooks-two', `From A ${i}.`)).comment.id);
      ids.push((await post(cb, 'hooks-two', `From B ${i}.`)).comment.id);
    }
    await rx2.waitFor((es) => ids.every((id) => es.some((e) => e.data.comment.id === id)));
    const got = rx2.events.map((e) => e.data.comment.id);
    assert.deepEqual(got, ids, 'each once, in the order they were emitted');
    const leader = /this process delivers the webhooks/.test(a.log) ? a : b;
    const other = leader === a ? b : a;
    assert.doesNotMatch(other.log, /this process delivers the webhooks/, 'only one process delivers');
    await leader.stop('SIGKILL');
    const co = other === a ? ca : cb;
    const later = (await post(co, 'hooks-two', 'After the deliverer died.')).comment.id;
    await rx2.waitFor((es) => es.some((e) => e.data.comment.id === later), 15000, 'delivery by the survivor');
    assert.match(other.log, /this process delivers the webhooks/);
    ca.ws.terminate(); cb.ws.terminate();
  } finally {
    await a.stop(); await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    await rx2.down();
  }
});

test('featuring a comment sends comment.featured, and unfeaturing too', async () => {
  const w = await Client.connect(srv.wsUrl);
  const a = await w.request({ type: 'post', article: 'feat-hook', name: 'Writer', title: 'Worth reading', body: 'A thoughtful comment.' });
  assert.equal(a.type, 'ack');
  const con = await consoleClient(srv, await login(srv, 'ana', 'correct horse battery'));
  assert.equal((await con.request({ type: 'mod.feature', comment: a.comment.id })).type, 'mod.ok');
  assert.equal((await con.request({ type: 'mod.unfeature', comment: a.comment.id })).type, 'mod.ok');
  const evs = await rx.waitFor((es) => es.filter((e) => e.type === 'comment.featured' && e.data.comment.id === a.comment.id).length >= 2);
  const mine = evs.filter((e) => e.type === 'comment.featured' && e.data.comment.id === a.comment.id);
  assert.deepEqual(mine.map((e) => [e.data.featured, e.data.by]), [[true, 'ana'], [false, 'ana']]);
  assert.ok(!rxOnly.events.some((e) => e.type === 'comment.featured'), 'filtered per endpoint');
  w.close(); con.close();
});
