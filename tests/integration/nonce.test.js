// Client nonces on posts (issue 12): a retry of a post (same author, same nonce) stores
// nothing new and is answered with the first comment's ack, on the same connection, on
// another one, sent at the same moment, or after the server restarted; another author
// may use the same nonce; a malformed nonce is refused with a typed error.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig } = require('../lib/server.js');

let srv;
const clients = [];
const banned = `  - name: test-banned-word
    kind: pattern
    pattern: '\\bzorglub\\b'
    action: reject
    message: "That word is not allowed here."
`;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/\nrules:\n/, `\nrules:\n${banned}`)) });
});
after(async () => {
  for (const c of clients) c.close();
  await srv.stop();
  srv.cleanup();
});

// SQL on the server's database, SQLite or PostgreSQL (the harness's dbQuery)
function sql(server, q) {
  return String(server.sql(q)).trim();
}

// A guest connection whose identity is fixed by key (the widget keeps one per browser).
async function guest(server, key) {
  const c = await Client.connect(server.wsUrl);
  clients.push(c);
  const w = await c.request({ type: 'hello', guest_key: key });
  assert.equal(w.type, 'welcome', JSON.stringify(w));
  return c;
}

const post = (article, nonce, body = 'A comment sent once, perhaps twice.') =>
  ({ type: 'post', article, name: 'Nina', title: 'On retries', body, nonce });

test('the same nonce twice on one connection: one comment, the same id in both acks', async () => {
  const c = await guest(srv, 'nonce-guest-key-aaaaaaaa');
  const first = await c.request(post('nonce-1', 'n-0001'));
  assert.equal(first.type, 'ack', JSON.stringify(first));
  const again = await c.request(post('nonce-1', 'n-0001'));
  assert.equal(again.type, 'ack', JSON.stringify(again));
  assert.equal(again.comment.id, first.comment.id);
  assert.deepEqual(again.comment, first.comment, 'the ack of the first post, as it was');
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-1'"), '1');
  assert.equal(sql(srv, `SELECT nonce FROM comments WHERE id = ${first.comment.id}`), 'n-0001');
  // a new nonce is a new comment
  const other = await c.request(post('nonce-1', 'n-0002'));
  assert.equal(other.type, 'ack');
  assert.notEqual(other.comment.id, first.comment.id);
  // and no nonce at all stores every time, as before
  const a = await c.request({ ...post('nonce-1'), nonce: undefined, body: 'Without a nonce.' });
  const b = await c.request({ ...post('nonce-1'), nonce: undefined, body: 'Without a nonce.' });
  assert.equal(a.type, 'ack');
  assert.equal(b.type, 'ack');
  assert.notEqual(a.comment.id, b.comment.id);
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-1'"), '4');
});

test('a retry on a second connection gets the first id, and readers hear of it once', async () => {
  const reader = await Client.connect(srv.wsUrl);
  clients.push(reader);
  const h = await reader.request({ type: 'subscribe', article: 'nonce-2' });
  assert.equal(h.type, 'history');
  const one = await guest(srv, 'nonce-guest-key-bbbbbbbb');
  const first = await one.request(post('nonce-2', 'retry-after-drop'));
  assert.equal(first.type, 'ack');
  one.close();
  // the connection is gone: the client reconnects with its guest key and sends it again
  const two = await guest(srv, 'nonce-guest-key-bbbbbbbb');
  const again = await two.request(post('nonce-2', 'retry-after-drop'));
  assert.equal(again.type, 'ack', JSON.stringify(again));
  assert.equal(again.comment.id, first.comment.id);
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-2'"), '1');
  // a marker post, then every event the reader got before it: the comment once
  const mark = await two.request(post('nonce-2', 'marker', 'The marker.'));
  await reader.next((m) => m.type === 'comment' && m.comment.id === mark.comment.id, 10000);
  const seen = reader.queue.filter((m) => m.type === 'comment' && m.comment.id === first.comment.id);
  assert.equal(seen.length, 1, 'the retry is not fanned out again');
});

test('the same nonce sent on two connections at once stores one comment', async () => {
  const a = await guest(srv, 'nonce-guest-key-cccccccc');
  const b = await guest(srv, 'nonce-guest-key-cccccccc');
  const [ra, rb] = await Promise.all([a.request(post('nonce-3', 'at-once')), b.request(post('nonce-3', 'at-once'))]);
  assert.equal(ra.type, 'ack', JSON.stringify(ra));
  assert.equal(rb.type, 'ack', JSON.stringify(rb));
  assert.equal(ra.comment.id, rb.comment.id);
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-3'"), '1');
});

test('different authors may use the same nonce', async () => {
  const a = await guest(srv, 'nonce-guest-key-dddddddd');
  const b = await guest(srv, 'nonce-guest-key-eeeeeeee');
  const ra = await a.request(post('nonce-4', 'shared-nonce'));
  const rb = await b.request(post('nonce-4', 'shared-nonce'));
  assert.equal(ra.type, 'ack');
  assert.equal(rb.type, 'ack');
  assert.notEqual(ra.comment.id, rb.comment.id);
  assert.notEqual(ra.comment.author.id, rb.comment.author.id);
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-4'"), '2');
});

test('a retry with changed text still answers the first comment and changes nothing', async () => {
  const c = await guest(srv, 'nonce-guest-key-ffffffff');
  const first = await c.request(post('nonce-5', 'edited-retry', 'The first text.'));
  const again = await c.request(post('nonce-5', 'edited-retry', 'A second text.'));
  assert.equal(again.type, 'ack');
  assert.equal(again.comment.id, first.comment.id);
  assert.equal(again.comment.body, 'The first text.');
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-5'"), '1');
});

test('a post the rules refused, retried with its nonce, is refused again with the same message', async () => {
  const c = await guest(srv, 'nonce-guest-key-iiiiiiii');
  const first = await c.request(post('nonce-9', 'refused-once', 'zorglub forever'));
  assert.equal(first.code, 'rejected', JSON.stringify(first));
  const again = await c.request(post('nonce-9', 'refused-once', 'zorglub forever'));
  assert.equal(again.code, 'rejected', JSON.stringify(again));
  assert.equal(again.message, first.message);
  assert.equal(again.message, 'That word is not allowed here.');
  // kept once, as 'refused', for the console
  assert.equal(sql(srv, "SELECT COUNT(*) || ' ' || MIN(status) FROM comments WHERE article = 'nonce-9'"), '1 refused');
});

test('a post refused before anything was stored leaves its nonce free', async () => {
  const c = await guest(srv, 'nonce-guest-key-gggggggg');
  // a parent of another article is refused before anything is stored: the nonce is free
  const bad = await c.request({ ...post('nonce-6', 'bad-parent'), parent: 999999 });
  assert.equal(bad.code, 'bad_request');
  const ok = await c.request(post('nonce-6', 'bad-parent'));
  assert.equal(ok.type, 'ack', 'a nonce whose post stored nothing can be used again');
});

test('a malformed nonce gets bad_request, stores nothing, and the server stays up', async () => {
  const c = await guest(srv, 'nonce-guest-key-hhhhhhhh');
  // (a NUL never gets this far: the whole frame is bad_json)
  const bad = ['', 'x'.repeat(65), 42, true, { a: 1 }, ['n'], 'tab\there', 'line\nbreak', 'caf\u00e9',
    'emoji-\u{1F600}', '\u007fdel', '\u0080'];
  for (const nonce of bad) {
    const r = await c.request(post('nonce-7', nonce));
    assert.equal(r.type, 'error', `nonce ${JSON.stringify(nonce)}: ${JSON.stringify(r)}`);
    assert.equal(r.code, 'bad_request', `nonce ${JSON.stringify(nonce)}`);
    assert.match(r.message, /nonce/);
  }
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-7'"), '0');
  // the edges of what is allowed: 64 characters, spaces and punctuation
  for (const nonce of ['y'.repeat(64), 'a', ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}']) {
    const r = await c.request(post('nonce-7', nonce, `Allowed ${nonce.length}`));
    assert.equal(r.type, 'ack', `nonce ${JSON.stringify(nonce)}: ${JSON.stringify(r)}`);
  }
  const null_ = await c.request({ ...post('nonce-7'), nonce: null, body: 'A null nonce is none.' });
  assert.equal(null_.type, 'ack');
  assert.equal(sql(srv, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-7'"), '4');
  assert.equal((await c.request({ type: 'ping' })).type, 'pong');
});

test('a retry after the server restarted answers the comment stored before', async () => {
  const first = await startServer({ configText: relaxedConfig() });
  let second;
  try {
    const c = await Client.connect(first.wsUrl);
    await c.request({ type: 'hello', guest_key: 'nonce-restart-key-0123' });
    const ack = await c.request(post('nonce-8', 'across-restart'));
    assert.equal(ack.type, 'ack');
    c.close();
    await first.stop();
    second = await startServer({ dataDir: first.dir, config: first.config });
    const d = await Client.connect(second.wsUrl);
    await d.request({ type: 'hello', guest_key: 'nonce-restart-key-0123' });
    const again = await d.request(post('nonce-8', 'across-restart'));
    assert.equal(again.type, 'ack', JSON.stringify(again));
    assert.equal(again.comment.id, ack.comment.id);
    assert.equal(sql(second, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-8'"), '1');
    d.close();
  } finally {
    if (second) await second.stop();
    await first.stop();
    first.cleanup();
  }
});

test('past the flood limit a retry is still answered with its comment; a new post is refused', async () => {
  // the hard limit per author at 3 a minute; on one process, and on two sharing Redis
  const { startRedis } = require('../lib/server.js');
  const limited = (t) => relaxedConfig(t).replace(/author_posts_per_minute: \d+/, 'author_posts_per_minute: 3');
  const lone = await startServer({ configText: limited() });
  const redis = await startRedis();
  const shared = await startServer({ configText: `${limited()}\nredis:\n  url: "${redis.url}"\n  prefix: "n${process.pid}:"\n` });
  try {
    for (const server of [lone, shared]) {
      const c = await guest(server, 'nonce-flood-key-ffffffff');
      const acks = [];
      for (let i = 0; i < 3; i++) acks.push(await c.request(post('nonce-flood', `f-${i}`, `Post number ${i}.`)));
      for (const a of acks) assert.equal(a.type, 'ack', JSON.stringify(a));
      // the limit is reached: a new post is refused, and stores nothing
      const fourth = await c.request(post('nonce-flood', 'f-3', 'One too many.'));
      assert.equal(fourth.type, 'error');
      assert.equal(fourth.code, 'rate_limited');
      // a retry of a post that was stored (its ack lost) gets that comment's ack
      const retry = await c.request(post('nonce-flood', 'f-2', 'Post number 2.'));
      assert.equal(retry.type, 'ack', JSON.stringify(retry));
      assert.equal(retry.comment.id, acks[2].comment.id);
      // and a retry on another connection of the same reader too
      const c2 = await guest(server, 'nonce-flood-key-ffffffff');
      const again = await c2.request(post('nonce-flood', 'f-0', 'Post number 0.'));
      assert.equal(again.type, 'ack', JSON.stringify(again));
      assert.equal(again.comment.id, acks[0].comment.id);
      // without a nonce, refused as before
      const bare = await c2.request({ ...post('nonce-flood'), nonce: undefined });
      assert.equal(bare.code, 'rate_limited');
      assert.equal(sql(server, "SELECT COUNT(*) FROM comments WHERE article = 'nonce-flood'"), '3');
    }
  } finally {
    await shared.stop(); shared.cleanup();
    await lone.stop(); lone.cleanup();
    await redis.stop();
  }
});
