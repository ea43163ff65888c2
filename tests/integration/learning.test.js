// Moderation that learns (issue 16): moderators decide through the real console protocol,
// the learned rules then score similar posts higher; an undo takes the lesson back;
// readers' reports teach nothing; the model lives in the store, shared by two processes
// on one data dir and kept across restarts; `parley rules learn` refuses bad input.
// Real binary, real SQLite, real WebSockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, Client, relaxedConfig, addModerator, login, consoleClient, httpGet, BIN, ON_PG } =
  require('../lib/server.js');

const MOD = ['lena', 'a long enough secret'];
// The repo's rules with the learned ones acting after three examples of each label.
// trust_proxy: the readers who report come from distinct addresses (X-Forwarded-For)
const config = () => relaxedConfig((t) => t.replace(/min_examples: 20/g, 'min_examples: 3').replace(/trust_proxy: \w+/, 'trust_proxy: true'));

const SPAM = [
  'Replica watches with genuine leather straps, lowest prices and worldwide shipping today',
  'Genuine replica watches at the lowest prices, worldwide shipping on leather straps',
  'Lowest prices on replica watches this week, genuine leather and worldwide shipping',
  'Worldwide shipping for replica watches, genuine leather straps at the lowest prices',
];
const HAM = [
  'I think the author makes a fair point about the council budget this year',
  'The council should publish the budget figures before the vote, as the author says',
  'A fair point, though the budget vote in the council was closer than the article suggests',
  'Thanks for the article; the council budget debate deserves more coverage like this',
];
const PROBE = 'Replica watches, genuine leather straps, lowest prices with worldwide shipping';

let srv, srv2, con, reader, cookie;
let n = 0;

before(async () => {
  srv = await startServer({ configText: config() });
  addModerator(srv, MOD[0], MOD[1]);
  cookie = await login(srv, ...MOD);
  con = await consoleClient(srv, cookie);
  reader = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
});
after(async () => {
  for (const c of [con, reader]) if (c) await c.close();
  if (srv2) await srv2.stop();
  await srv.stop();
  srv.cleanup();
});

// Posts body to a pre-moderated article (so it is held whatever its score) as a new
// guest; resolves with the queue item the console receives.
async function postHeld(c, body, console_ = con) {
  const r = await c.request({ type: 'post', article: 'premod-learn', name: `Guest ${++n}`, title: 'A comment', body });
  assert.equal(r.type, 'ack', JSON.stringify(r));
  const id = r.comment.id;
  const ev = await console_.next((m) => m.type === 'mod.item' && m.item.comment.id === id);
  return ev.item;
}

const learnedHit = (item, name = 'learned-spam') => item.comment.rules.find((h) => h.name === name);

// The probability the learned spam rule gives text, read from the store by the command
// line (`parley rules test --data`) with a copy of the config in which that rule always
// fires (threshold 0); null when the model is not ready.
function probability(text) {
  const probeConfig = path.join(srv.dir, 'probe.yml');
  if (!fs.existsSync(probeConfig))
    fs.writeFileSync(probeConfig, fs.readFileSync(srv.config, 'utf8').replace(/threshold: 0\.7 /, 'threshold: 0 '));
  const out = spawnSync(BIN, ['rules', 'test', '--config', probeConfig, '--data', path.join(srv.dir, 'data')],
    { input: JSON.stringify({ body: text }) + '\n', encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const hit = JSON.parse(out.stdout).rules.find((h) => h.name === 'learned-spam');
  return hit ? hit.probability : null;
}

test('moderators decide through the console; a similar post is then scored higher', async () => {
  const first = await postHeld(reader, PROBE);
  assert.equal(learnedHit(first), undefined, 'no examples yet: the learned rule stays silent');
  assert.equal(probability(PROBE), null);

  for (const body of SPAM) {
    const it = await postHeld(reader, body);
    const r = await con.request({ type: 'mod.reject', comment: it.comment.id, reason: 'Spam' });
    assert.equal(r.type, 'mod.ok', JSON.stringify(r));
  }
  for (const body of HAM) {
    const it = await postHeld(reader, body);
    const r = await con.request({ type: 'mod.approve', comment: it.comment.id });
    assert.equal(r.type, 'mod.ok', JSON.stringify(r));
  }
  const again = await postHeld(reader, PROBE);
  const hit = learnedHit(again);
  assert.ok(hit, `the learned rule fires now: ${JSON.stringify(again.comment.rules)}`);
  assert.ok(hit.score > 0 && hit.probability > 0.9, JSON.stringify(hit));
  assert.ok(again.comment.score > first.comment.score, `${again.comment.score} > ${first.comment.score}`);
  // its explanation: spans over the words that weighed most, in the body
  assert.equal(hit.field, 'body');
  assert.ok(hit.spans.length > 0);
  const cps = [...PROBE];
  const shown = hit.spans.map(([s, e]) => cps.slice(s, e).join('').toLowerCase());
  assert.ok(shown.some((t) => /replica|watches|leather|lowest|worldwide|shipping|genuine|straps|prices/.test(t)), shown.join(' | '));
  // a comment like those approved is not held by it
  const ham = await postHeld(reader, 'The council budget vote deserves a fair debate, as the author says');
  const hamHit = learnedHit(ham);
  assert.ok(!hamHit || hamHit.score <= 0, JSON.stringify(hamHit));
});

test('refused posts reach the Refused queue; a rescue publishes them and teaches ham', async () => {
  const text = 'Buy followers and make money fast: check out my channel http://bit.ly/x http://bit.ly/y';
  const author = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  const watcher = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  watcher.send({ type: 'subscribe', article: 'open-refused' });
  await watcher.next('history');
  const r = await author.request({ type: 'post', article: 'open-refused', name: 'Seller', title: 'A comment', body: text });
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'rejected', 'the author is told no');
  // ... but the consoles hear of it, in the Refused queue
  const ev = await con.next((m) => m.type === 'mod.item' && m.item.queue === 'refused');
  const id = ev.item.comment.id;
  assert.equal(ev.item.comment.status, 'refused');
  assert.ok(ev.item.comment.rules.length > 0);
  const counts = await con.next((m) => m.type === 'mod.counts' && m.counts.refused >= 1);
  assert.ok(counts.counts.refused >= 1);
  const q = await con.request({ type: 'mod.queue', queue: 'refused' });
  assert.equal(q.type, 'mod.queue');
  assert.ok(q.items.some((it) => it.comment.id === id && it.queue === 'refused'));
  const all = await con.request({ type: 'mod.queue', queue: 'all' });
  assert.ok(!all.items.some((it) => it.comment.id === id), '"all" stays held + reported');
  // a refused post cannot be "removed" (it was never public) ...
  const bad = await con.request({ type: 'mod.remove', comment: id, reason: 'Spam' });
  assert.equal(bad.code, 'conflict');
  // ... it is rescued: published to readers, gone from the queue, and taught as ham
  const p0 = probability(text);
  const ok = await con.request({ type: 'mod.approve', comment: id });
  assert.equal(ok.type, 'mod.ok', JSON.stringify(ok));
  const live = await watcher.next((m) => m.type === 'comment' && m.comment.id === id);
  assert.equal(live.comment.body, text);
  const after_ = await con.request({ type: 'mod.queue', queue: 'refused' });
  assert.ok(!after_.items.some((it) => it.comment.id === id));
  const p1 = probability(text);
  assert.ok(p1 < p0, `the rescue taught ham: ${p1} < ${p0}`);
  // undo puts it back in the Refused queue and takes the lesson back
  const u = await con.request({ type: 'mod.undo' });
  assert.equal(u.type, 'mod.ok');
  await watcher.next((m) => m.type === 'removed' && m.comment === id);
  const back = await con.request({ type: 'mod.queue', queue: 'refused' });
  assert.ok(back.items.some((it) => it.comment.id === id));
  assert.equal(probability(text), p0);
  await author.close();
  await watcher.close();
});

test('an undo takes the lesson back, to the exact count', async () => {
  const probe = 'Lowest prices on genuine leather straps for your watches, worldwide shipping';
  const before_ = probability(probe);
  const it = await postHeld(reader, 'Replica watches and leather straps at the lowest prices, shipping worldwide now');
  let r = await con.request({ type: 'mod.reject', comment: it.comment.id, reason: 'spam' });
  assert.equal(r.type, 'mod.ok');
  const taught = probability(probe);
  assert.notEqual(taught, before_, 'the rejection taught the model');
  r = await con.request({ type: 'mod.undo' });
  assert.equal(r.type, 'mod.ok', JSON.stringify(r));
  assert.equal(probability(probe), before_, 'the undo took exactly that lesson back');

  // approve, then remove as spam: the comment's lesson is replaced, not added to
  const text = 'Replica watches were the subject of a council budget debate this year';
  const ham = await postHeld(reader, text);
  const p0 = probability(text);
  await con.request({ type: 'mod.approve', comment: ham.comment.id });
  const pHam = probability(text);
  assert.ok(pHam < p0, `approved as ham: ${pHam} < ${p0}`);
  r = await con.request({ type: 'mod.remove', comment: ham.comment.id, reason: 'Spam' });
  assert.equal(r.type, 'mod.ok', JSON.stringify(r));
  const pSpam = probability(text);
  assert.ok(pSpam > p0, `then removed as spam: ${pSpam} > ${p0}`);
  await con.request({ type: 'mod.undo' });
  assert.equal(probability(text), pHam, 'undoing the removal brings back the approval\'s lesson');
  await con.request({ type: 'mod.undo' });
  assert.equal(probability(text), p0, 'undoing the approval too: no lesson at all');
});

test('"Ban 7 days" from an item, then undo: the ban is lifted and the comment is back in its queue', async () => {
  const troll = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  const it = await postHeld(troll, 'Replica watches, genuine leather straps, lowest prices, worldwide shipping here');
  const author = it.author.id;
  const before_ = probability(it.comment.body);
  const r = await con.request({ type: 'mod.ban', author, duration: 7 * 86400, comment: it.comment.id, reason: 'Spam' });
  assert.equal(r.type, 'mod.ok', JSON.stringify(r));
  await con.next((m) => m.type === 'mod.resolved' && m.comment === it.comment.id);
  const refused = await troll.request({ type: 'post', article: 'open-learn', name: it.author.name, title: 'A comment', body: 'hello again' });
  assert.equal(refused.code, 'forbidden', 'banned');
  assert.ok(probability(it.comment.body) > before_, 'the ban\'s rejection as spam taught the model');
  // one undo reverts the whole action
  const u = await con.request({ type: 'mod.undo' });
  assert.equal(u.type, 'mod.ok', JSON.stringify(u));
  assert.deepEqual(u.undone.map((x) => x.action).sort(), ['ban', 'reject']);
  const back = await con.next((m) => m.type === 'mod.item' && m.item.comment.id === it.comment.id);
  assert.equal(back.item.queue, 'held');
  assert.equal(back.item.comment.status, 'pending');
  assert.equal(back.item.author.banned, false, 'the ban is lifted');
  const q = await con.request({ type: 'mod.queue', queue: 'held' });
  assert.ok(q.items.some((x) => x.comment.id === it.comment.id), 'in the held queue again');
  assert.equal(probability(it.comment.body), before_, 'and the lesson is taken back');
  const ok = await troll.request({ type: 'post', article: 'open-learn', name: it.author.name, title: 'A comment', body: 'hello again, unbanned' });
  assert.equal(ok.type, 'ack', JSON.stringify(ok));
  // a ban naming someone else's comment is refused whole
  const other = await postHeld(reader, 'A comment by somebody else entirely');
  const wrong = await con.request({ type: 'mod.ban', author, duration: 60, comment: other.comment.id });
  assert.equal(wrong.code, 'bad_request');
  assert.match(wrong.message, /not by the author/);
  // a ban naming a comment that does not exist changes nothing
  const bad = await con.request({ type: 'mod.ban', author, duration: 60, comment: 999999 });
  assert.equal(bad.code, 'not_found');
  const still = await troll.request({ type: 'post', article: 'open-learn', name: it.author.name, title: 'A comment', body: 'still here' });
  assert.equal(still.type, 'ack', 'the failed ban was rolled back whole');
  await troll.close();
});

test('per-rule quality: hits, holds and overturns in mod.rules and /metrics, undone with the decision', async () => {
  const rulesNow = async () => {
    const r = await con.request({ type: 'mod.rules' });
    assert.equal(r.type, 'mod.rules', JSON.stringify(r));
    return Object.fromEntries(r.rules.map((x) => [x.rule, x]));
  };
  const zero = { hits: 0, holds: 0, approved_held: 0, rejected_passed: 0 };
  const before_ = await rulesNow();
  const sp = before_['self-promotion'] || zero, pr = before_.profanity || zero;
  // held by the rules on an open article, then approved: self-promotion was overturned
  const poster = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  const ack = await poster.request({ type: 'post', article: 'open-quality', name: 'Vlogger', title: 'A comment',
    body: 'nice song, check out my cover' });
  assert.equal(ack.comment.status, 'pending', JSON.stringify(ack));
  let now = await rulesNow();
  assert.equal(now['self-promotion'].hits, sp.hits + 1);
  assert.equal(now['self-promotion'].holds, sp.holds + 1);
  assert.equal((await con.request({ type: 'mod.approve', comment: ack.comment.id })).type, 'mod.ok');
  now = await rulesNow();
  assert.equal(now['self-promotion'].approved_held, sp.approved_held + 1);
  // let through by the rules (one swear word), then rejected: profanity was too weak
  const ack2 = await poster.request({ type: 'post', article: 'open-quality', name: 'Vlogger', title: 'A comment',
    body: 'This is shit, honestly' });
  assert.equal(ack2.comment.status, 'published', JSON.stringify(ack2));
  assert.equal((await con.request({ type: 'mod.remove', comment: ack2.comment.id, reason: 'Harassment' })).type, 'mod.ok');
  now = await rulesNow();
  assert.equal(now.profanity.hits, pr.hits + 1);
  assert.equal(now.profanity.holds, pr.holds);
  assert.equal(now.profanity.rejected_passed, pr.rejected_passed + 1);
  // /metrics shows the same numbers
  const m = await httpGet(`${srv.base}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.body, new RegExp(`parley_rule_overturned_rejected\\{rule="profanity"\\} ${pr.rejected_passed + 1}\\n`));
  assert.match(m.body, new RegExp(`parley_rule_overturned_approved\\{rule="self-promotion"\\} ${sp.approved_held + 1}\\n`));
  assert.match(m.body, /parley_posts_total|parley_rules_limit_hits_total/);
  // the undo takes the overturn back
  assert.equal((await con.request({ type: 'mod.undo' })).type, 'mod.ok');
  now = await rulesNow();
  assert.equal(now.profanity.rejected_passed, pr.rejected_passed);
  await poster.close();
});

test('off-topic rejections and readers\' reports teach nothing', async () => {
  const probe = 'Genuine replica watches, lowest prices';
  const p0 = probability(probe);
  const it = await postHeld(reader, 'Replica watches, lowest prices, genuine leather straps, worldwide shipping');
  await con.request({ type: 'mod.reject', comment: it.comment.id, reason: 'Off topic' });
  assert.equal(probability(probe), p0, 'an off-topic rejection is not a spam example');
  // a published comment reported as spam by readers
  const pub = await reader.request({ type: 'post', article: 'open-learn', name: 'Poster', title: 'A comment',
    body: 'Replica watches are a topic for the council budget too' });
  assert.equal(pub.type, 'ack');
  for (let i = 0; i < 3; i++) {
    const r2 = await Client.connect(srv.wsUrl, { headers: { origin: srv.base, 'x-forwarded-for': `10.0.0.${i}` } });
    const r = await r2.request({ type: 'report', comment: pub.comment.id, reason: 'spam' });
    assert.notEqual(r.type, 'error', JSON.stringify(r));
    await r2.close();
  }
  assert.equal(probability(probe), p0, 'reports alone never teach');
});

test('the model is shared by two processes on one data dir and survives a restart', async () => {
  srv2 = await startServer({ dataDir: srv.dir, config: srv.config });
  const cookie2 = await login(srv2, ...MOD);
  const con2 = await consoleClient(srv2, cookie2);
  const reader2 = await Client.connect(srv2.wsUrl, { headers: { origin: srv2.base } });
  // the second process learned nothing itself, yet scores with what the first was taught
  let it = await postHeld(reader2, PROBE, con2);
  assert.ok(learnedHit(it), `process two scores with the shared model: ${JSON.stringify(it.comment.rules)}`);
  // a lesson given on process two reaches process one
  const novel = 'Bitcoin doubler scheme, send coins and get double back instantly';
  for (const body of [novel, 'Send coins to the bitcoin doubler and get double back', 'Bitcoin doubler: double back instantly, send coins']) {
    const h = await postHeld(reader2, body, con2);
    assert.equal((await con2.request({ type: 'mod.reject', comment: h.comment.id, reason: 'Spam' })).type, 'mod.ok');
  }
  await new Promise((r) => setTimeout(r, 700)); // process one re-reads the model at most every 500 ms
  it = await postHeld(reader, 'Send coins to this bitcoin doubler, get double back instantly');
  const hit = learnedHit(it);
  assert.ok(hit && hit.probability > 0.9, `process one learned from process two: ${JSON.stringify(it.comment.rules)}`);
  await reader2.close();
  await con2.close();
  await srv2.stop();
  srv2 = null;

  // a restart: the model is read back from the store
  await con.close(); await reader.close();
  await srv.stop();
  srv = await startServer({ dataDir: srv.dir, config: srv.config });
  con = await consoleClient(srv, await login(srv, ...MOD));
  reader = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  it = await postHeld(reader, PROBE);
  assert.ok(learnedHit(it), 'after a restart the model is still there');
});

test('per-rule counts are kept in memory and written once a second: another process sees them without asking', async () => {
  const hitsOf = async (c) => {
    const r = await c.request({ type: 'mod.rules' });
    assert.equal(r.type, 'mod.rules', JSON.stringify(r));
    return (r.rules.find((x) => x.rule === 'self-promotion') || { hits: 0, holds: 0 });
  };
  const start = await hitsOf(con);
  srv2 = await startServer({ dataDir: srv.dir, config: srv.config });
  const reader2 = await Client.connect(srv2.wsUrl, { headers: { origin: srv2.base } });
  for (let i = 0; i < 3; i++) {
    const ack = await reader2.request({ type: 'post', article: 'open-quality-2', name: `Vlogger ${i}`, title: 'A comment',
      body: `nice song number ${i}, check out my cover` });
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
  }
  // process two is never asked: its timer writes what it counted, process one reads it
  let seen = start;
  for (let t = 0; t < 50 && seen.hits < start.hits + 3; t++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await hitsOf(con);
  }
  assert.equal(seen.hits, start.hits + 3, 'the three hits counted on process two reach the store');
  assert.equal(seen.holds, start.holds + 3);
  await reader2.close();
  await srv2.stop();
  srv2 = null;
});

test('parley rules learn: typed errors for bad lines, the good ones kept', () => {
  const data = path.join(srv.dir, 'learn-cli');
  const input = [
    JSON.stringify({ body: 'free crypto giveaway click now', label: 'spam' }),
    'not json',
    JSON.stringify({ body: 'hello', label: 'maybe' }),
    JSON.stringify({ body: '   ', label: 'ham' }),
    JSON.stringify({ title: 'A fair point', body: 'well argued piece', label: 'ham' }),
    JSON.stringify({ body: 'you are vile', label: 'abuse' }),
    JSON.stringify({ body: 'bad \u202e bidi text', label: 'ham' }),
    '[1,2]',
  ].join('\n') + '\n';
  const out = spawnSync(BIN, ['rules', 'learn', '--data', data], { input, encoding: 'utf8' });
  assert.equal(out.status, 1, 'bad lines make the exit status 1');
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.error).map((l) => [l.error, l.line]),
    [['bad_json', 2], ['bad_label', 3], ['empty', 4], ['invalid_text', 7], ['bad_json', 8]]);
  const sum = lines.at(-1);
  assert.deepEqual(sum.learned, { ham: 1, spam: 1, abuse: 1 });
  assert.equal(sum.bad_lines, 5);
  // taught again: the counts add up in the store
  const again = spawnSync(BIN, ['rules', 'learn', '--data', data],
    { input: JSON.stringify({ body: 'free crypto giveaway', label: 'spam' }) + '\n', encoding: 'utf8' });
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).model, { ham: 1, spam: 2, abuse: 1 });
  if (ON_PG) return; // with storage.postgres in the config the store is the database, not --data
  const missing = spawnSync(BIN, ['rules', 'test', '--config', srv.config, '--data', path.join(srv.dir, 'nowhere')],
    { input: '{"body":"x"}\n', encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot open the store/);
  assert.ok(!fs.existsSync(path.join(srv.dir, 'nowhere')), 'testing never creates a store');
  const noData = spawnSync(BIN, ['rules', 'learn'], { input: '', encoding: 'utf8' });
  assert.equal(noData.status, 2);
  assert.match(noData.stderr, /--data/);
});

test('trusted commenters: enough approved comments skip the newcomer hold, a rejection ends it', async () => {
  const cfg = relaxedConfig((t) => t
    .replace(/trusted_after: \d+/, 'trusted_after: 2')
    .replace(/kind: newcomer\n    max_posts: 0\n    score: 1/, 'kind: newcomer\n    max_posts: 1000\n    action: hold'));
  assert.match(cfg, /trusted_after: 2/);
  assert.match(cfg, /max_posts: 1000\n    action: hold/);
  const s = await startServer({ configText: cfg });
  try {
    addModerator(s, MOD[0], MOD[1]);
    const c = await consoleClient(s, await login(s, ...MOD));
    const author = await Client.connect(s.wsUrl, { headers: { origin: s.base } });
    const post = (body) => author.request({ type: 'post', article: 'open-trust', name: 'Regular', title: 'A comment', body });
    for (const body of ['First thoughts on the plan', 'Second thoughts on the plan']) {
      const r = await post(body);
      assert.equal(r.comment.status, 'pending', 'a newcomer is held');
      assert.equal((await c.request({ type: 'mod.approve', comment: r.comment.id })).type, 'mod.ok');
    }
    const trusted = await post('Third thoughts, now trusted');
    assert.equal(trusted.comment.status, 'published', 'two approvals, no rejection: trusted');
    assert.equal((await c.request({ type: 'mod.remove', comment: trusted.comment.id, reason: 'Off topic' })).type, 'mod.ok');
    const again = await post('Fourth thoughts after a removal');
    assert.equal(again.comment.status, 'pending', 'a removal ends the trust');
    // the undo of that removal gives it back
    assert.equal((await c.request({ type: 'mod.undo' })).type, 'mod.ok');
    const back = await post('Fifth thoughts after the undo');
    assert.equal(back.comment.status, 'published');
    await author.close();
    await c.close();
  } finally {
    await s.stop();
    s.cleanup();
  }
});
