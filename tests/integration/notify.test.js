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

test('email opt-in without an SMTP relay configured is refused with a clear error', async () => {
  const c = await guest('nobody-guest-key-0123456789');
  const r = await c.request({ type: 'notify.email', article: 'notify-1', email: 'x@example.test' });
  assert.equal(r.code, 'forbidden');
  await c.close();
});

// ---- Reply emails through a real SMTP server (aiosmtpd) ----

const { startSmtp } = require('../lib/smtp.js');
const { freePort, httpGet, httpRequest, signJwt } = require('../lib/server.js');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

test('reply emails: double opt-in, digest, headers, one-click unsubscribe, relay down', async () => {
  const smtp = await startSmtp();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const secret = crypto.randomBytes(32);
  const config = relaxedConfig((t) => t
    .replace(/public_url: "[^"]*"/, `public_url: "${base}"`)
    .replace(/origins:\n/, `origins:\n    - "${base}"\n`)
    .replace(/identity:\n  guests: true[^\n]*\n/,
      `identity:\n  guests: true\n  keys:\n    - {id: site, alg: HS256, secret: "${secret.toString('base64')}"}\n`)) +
    `\nnotifications:\n  retry_initial_ms: 100\n  retry_max_ms: 300\n  poll_ms: 50\n  email_interval_seconds: 2\n` +
    `  smtp:\n    url: "${smtp.url}"\n    from: "news@example.test"\n    starttls: false\n`;
  const s = await startServer({ configText: config, port });
  const g = async (key) => {
    const c = await Client.connect(s.wsUrl);
    await c.request({ type: 'hello', guest_key: key });
    return c;
  };
  try {
    const alice = await g('alice-mail-guest-key-012345');
    const bob = await g('bob-mail-guest-key-0123456789');
    const a = await post(alice, 'mail-1', 'Does anyone know?', { name: 'Alice' });
    // bad input first
    assert.equal((await alice.request({ type: 'notify.email', article: 'mail-1' })).code, 'bad_request');
    assert.equal((await alice.request({ type: 'notify.email', article: 'mail-1', email: 'not-an-email' })).code, 'bad_request');
    assert.equal((await alice.request({ type: 'notify.email', article: 'mail-1', email: 'a b@example.test' })).code, 'bad_request');
    assert.equal((await alice.request({ type: 'notify.email', article: 'mail-1', email: 42 })).code, 'bad_request');
    assert.equal((await alice.request({ type: 'notify.email', article: 'bad id!', email: 'alice@example.test' })).code, 'bad_request');

    const on = await alice.request({ type: 'notify.email', article: 'mail-1', email: 'alice@example.test', page: `${base}/demo/?article=mail-1` });
    assert.deepEqual([on.type, on.state], ['notify.email', 'pending']);
    assert.equal(JSON.stringify(on).includes('alice@'), false, 'the address is never echoed');
    assert.equal((await alice.request({ type: 'replies', article: 'mail-1' })).email, 'pending');
    const [confirm] = await smtp.waitFor((m) => m.length >= 1, 15000, 'the confirmation mail');
    assert.deepEqual(confirm.rcpt_tos, ['alice@example.test']);
    assert.equal(confirm.mail_from, 'news@example.test');
    assert.equal(confirm.headers.subject, 'Confirm email notifications for replies');
    const link = /Confirm: (\S+)/.exec(confirm.text)[1];
    assert.ok(link.startsWith(`${base}/api/notify/confirm?`), link);
    assert.ok(confirm.html.includes('Confirm email notifications'));

    // a reply before the address is confirmed waits; nothing is sent yet
    const r1 = await post(bob, 'mail-1', 'Yes: <b>bold</b> & "quotes".', { parent: a.comment.id, name: 'Bob' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.messages().length, 1, 'no digest before the double opt-in');
    // a forged link is refused; the real one confirms
    assert.equal((await httpGet(link.replace(/t=[0-9a-f]+/, 't=' + '0'.repeat(32)))).status, 400);
    const ok = await httpGet(link);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /Email notifications are on/);
    assert.equal((await alice.request({ type: 'replies', article: 'mail-1' })).email, 'active');

    const mails = await smtp.waitFor((m) => m.length >= 2, 15000, 'the first digest');
    const d1 = mails[1];
    assert.deepEqual(d1.rcpt_tos, ['alice@example.test']);
    assert.equal(d1.headers.subject, '1 new reply to your comment');
    assert.match(d1.headers['content-type'], /^multipart\/alternative; boundary=/);
    assert.match(d1.headers['message-id'], /^<[0-9a-f]+@example\.test>$/);
    assert.equal(d1.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    const unsub = /^<(.+)>$/.exec(d1.headers['list-unsubscribe'])[1];
    assert.ok(unsub.startsWith(`${base}/api/notify/unsubscribe?s=`), unsub);
    assert.match(d1.text, /Bob replied:\n\n  > Yes: <b>bold<\/b> & "quotes"\./);
    assert.ok(d1.text.includes(`Read the discussion: ${base}/demo/?article=mail-1`));
    assert.ok(d1.html.includes('Yes: &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;.'), 'reader text is escaped in the HTML part');
    assert.ok(!d1.html.includes('<b>bold</b>'));

    // three quick replies: one digest, not three, and not before the interval
    for (const body of ['Second answer.', 'Third answer.', 'Fourth answer.'])
      await post(bob, 'mail-1', body, { parent: a.comment.id, name: 'Bob' });
    const after3 = await smtp.waitFor((m) => m.length >= 3, 15000, 'the second digest');
    const d2 = after3[2];
    assert.equal(d2.headers.subject, '3 new replies to your comment');
    assert.ok(['Second answer.', 'Third answer.', 'Fourth answer.'].every((t) => d2.text.includes(t)));
    assert.ok(d2.at - d1.at >= 1.8, `at most one mail per interval (${d2.at - d1.at} s apart)`);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(smtp.messages().length, 3, 'one digest for the three');

    // the relay down: the digest waits and goes when it is back
    await smtp.down();
    await post(bob, 'mail-1', 'Sent while the relay was down.', { parent: a.comment.id, name: 'Bob' });
    const failedMetric = async () => Number(/parley_notify_emails_total\{result="failed"\} (\d+)/.exec((await httpGet(`${base}/metrics`)).body)[1]);
    const deadline = Date.now() + 15000;
    while (await failedMetric() < 1) {
      assert.ok(Date.now() < deadline, 'a failed attempt is counted');
      await new Promise((r) => setTimeout(r, 100));
    }
    await smtp.up();
    const back = await smtp.waitFor((m) => m.some((x) => x.text && x.text.includes('Sent while the relay was down.')), 15000, 'the digest after the outage');
    assert.equal(back.length, 4);

    // unsubscribe: GET shows a button and changes nothing; the RFC 8058 POST unsubscribes
    const page = await httpGet(unsub);
    assert.equal(page.status, 200);
    assert.match(page.body, /<form method=post/);
    assert.equal((await alice.request({ type: 'replies', article: 'mail-1' })).email, 'active');
    assert.equal((await httpRequest(unsub.replace(/t=[0-9a-f]+/, 't=' + 'f'.repeat(32)), { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 400, 'a forged unsubscribe is refused');
    const off = await httpRequest(unsub, { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(off.status, 200, off.body);
    assert.match(off.body, /Unsubscribed/);
    assert.equal((await alice.request({ type: 'replies', article: 'mail-1' })).email, null);
    await post(bob, 'mail-1', 'Nobody is told of this one.', { parent: a.comment.id, name: 'Bob' });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(smtp.messages().length, 4, 'no mail after unsubscribing');

    // a signed-in reader whose token carries an email needs no confirmation
    const carol = await Client.connect(s.wsUrl);
    const tok = signJwt({ sub: 'carol', name: 'Carol', email: 'carol@example.test', exp: Math.floor(Date.now() / 1000) + 600 }, { secret });
    assert.equal((await carol.request({ type: 'hello', token: tok })).type, 'welcome');
    const cc = await post(carol, 'mail-2', 'Signed-in question.');
    const con = await carol.request({ type: 'notify.email', article: 'mail-2' });
    assert.equal(con.state, 'active');
    await post(bob, 'mail-2', 'Answer to Carol.', { parent: cc.comment.id, name: 'Bob' });
    const toCarol = await smtp.waitFor((m) => m.some((x) => x.rcpt_tos[0] === 'carol@example.test'), 15000, 'carol\'s digest');
    assert.ok(toCarol.filter((x) => x.rcpt_tos[0] === 'carol@example.test').every((x) => !/Confirm/.test(x.headers.subject)));

    // confirmation mails cannot be used to mail strangers at will: one per reader and
    // article per 10 minutes, five per client address per hour
    const g1 = await g('flood-guest-key-00000000001');
    assert.equal((await g1.request({ type: 'notify.email', article: 'mail-3', email: 'x1@example.test' })).state, 'pending');
    const again = await g1.request({ type: 'notify.email', article: 'mail-3', email: 'x1@example.test' });
    assert.equal(again.code, 'rate_limited', JSON.stringify(again));
    const states = [];
    for (let i = 2; i <= 5; i++) {
      const gi = await g(`flood-guest-key-0000000000${i}`);
      const r = await gi.request({ type: 'notify.email', article: 'mail-3', email: `x${i}@example.test` });
      states.push(r.state || r.code);
      await gi.close();
    }
    // alice's and x1's count too: 5 in the hour, the fifth guest here is the sixth ask
    assert.deepEqual(states, ['pending', 'pending', 'pending', 'rate_limited']);
    await g1.close();

    // the addresses are stored encrypted and never logged
    const dataDir = path.join(s.dir, 'data');
    for (const f of fs.readdirSync(dataDir).filter((x) => x.startsWith('parley.db'))) {
      const bytes = fs.readFileSync(path.join(dataDir, f));
      assert.equal(bytes.includes('alice@example.test'), false, `${f} holds no address in clear`);
      assert.equal(bytes.includes('carol@example.test'), false, `${f} holds no address in clear`);
    }
    for (const who of ['alice@example.test', 'carol@example.test'])
      assert.equal(s.log.includes(who), false, `${who} is never logged`);
    await alice.close(); await bob.close(); await carol.close();
  } finally {
    await s.stop();
    s.cleanup();
    await smtp.down();
    smtp.cleanup();
  }
});

test('moderator alerts: the held queue past its threshold and a surge on one article, by webhook and email, once per cooldown', async () => {
  const { startReceiver } = require('../lib/receiver.js');
  const smtp = await startSmtp();
  const rx = await startReceiver('alerts-secret-0123456789');
  const config = relaxedConfig() + `
webhooks:
  - url: "${rx.url}"
    secret: "alerts-secret-0123456789"
    events: ["moderation.alert"]
notifications:
  retry_initial_ms: 100
  poll_ms: 50
  smtp:
    url: "${smtp.url}"
    from: "news@example.test"
    starttls: false
  alerts:
    queue_threshold: 3
    surge_posts: 6
    surge_minutes: 1
    cooldown_minutes: 60
    email: ["mods@example.test", "chief@example.test"]
`;
  const s = await startServer({ configText: config });
  try {
    const c = await Client.connect(s.wsUrl);
    for (let i = 0; i < 2; i++) await post(c, 'premod-alerts', `Held number ${i}.`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.events.length, 0, 'below the threshold: no alert');
    await post(c, 'premod-alerts', 'Held number 2.');
    await post(c, 'premod-alerts', 'Held number 3: still above, no second alert.');
    const [q] = await rx.waitFor((es) => es.length >= 1, 15000, 'the queue alert');
    assert.equal(q.type, 'moderation.alert');
    assert.deepEqual(q.data, { kind: 'queue', held: 3, threshold: 3 });
    const mails = await smtp.waitFor((m) => m.length >= 2, 15000, 'the alert mails');
    assert.deepEqual(mails.map((m) => m.rcpt_tos[0]).sort(), ['chief@example.test', 'mods@example.test']);
    assert.equal(mails[0].headers.subject, '[Parley] Moderation queue is filling up');
    assert.match(mails[0].text, /3 posts are waiting for review/);

    // a surge: 6 posts on one article within the minute (the 4 held ones were elsewhere)
    for (let i = 0; i < 8; i++) await post(c, 'surge-1', `Flood post ${i}.`);
    await rx.waitFor((es) => es.some((e) => e.data.kind === 'surge'), 15000, 'the surge alert');
    const surge = rx.events.filter((e) => e.data.kind === 'surge');
    assert.deepEqual(surge[0].data, { kind: 'surge', article: 'surge-1', posts: 6, minutes: 1 });
    await smtp.waitFor((m) => m.filter((x) => /Surge/.test(x.headers.subject)).length >= 2, 15000, 'surge mails');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rx.events.filter((e) => e.data.kind === 'surge').length, 1, 'one surge alert per cooldown');
    assert.equal(rx.events.filter((e) => e.data.kind === 'queue').length, 1, 'one queue alert per cooldown');
    assert.equal(smtp.messages().length, 4);
    await c.close();
  } finally {
    await s.stop();
    s.cleanup();
    await rx.down();
    await smtp.down();
    smtp.cleanup();
  }
});

test('alert emails without an SMTP relay are a configuration error with file:line:column', () => {
  const { spawnSync } = require('node:child_process');
  const os = require('node:os');
  const { BIN } = require('../lib/server.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-alerts-cfg-'));
  const f = path.join(dir, 'moderation.yml');
  const run = (text) => {
    fs.writeFileSync(f, relaxedConfig() + text);
    return spawnSync(BIN, ['serve', '--config', f, '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data')], { encoding: 'utf8', timeout: 10000 });
  };
  let r = run('\nnotifications:\n  alerts:\n    queue_threshold: 3\n    email: ["mods@example.test"]\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /moderation\.yml:\d+:\d+: alert emails need notifications\.smtp/);
  r = run('\nnotifications:\n  smtp:\n    url: "http://x"\n    from: "a@b.c"\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /:\d+:\d+: 'url' must start with smtp:\/\/ or smtps:\/\//);
  r = run('\nnotifications:\n  smtp:\n    url: "smtp://127.0.0.1:25"\n    from: "nobody"\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /:\d+:\d+: 'from' must be an address/);
  fs.rmSync(dir, { recursive: true, force: true });
});
