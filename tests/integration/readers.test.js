// What readers of a news site expect (issue 13), protocol side: the three orders with
// their paging and cursors, likes (toggle, own comment, guests per configuration,
// typed errors) and live like counts coalesced per room. Real binary, SQLite, sockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt, addModerator, login, consoleClient } = require('../lib/server.js');

let srv;
before(async () => { srv = await startServer({ configText: relaxedConfig() }); });
after(async () => { await srv.stop(); srv.cleanup(); });

let n = 0;
const post = (c, article, extra = {}) => c.request({ type: 'post', article, name: `Reader ${n % 7}`,
  title: `Title ${++n}`, body: `An ordinary comment, number ${n}.`, ...extra });
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

// A guest with a key of its own: a stable reader id across connections.
async function guest(key) {
  const c = await Client.connect(srv.wsUrl);
  const w = await c.request({ type: 'hello', guest_key: key.padEnd(24, '.') });
  assert.equal(w.type, 'welcome');
  c.user = w.user;
  c.welcomeMsg = w;
  return c;
}

test('orders: newest and liked page top-level comments with their replies; cursors', async () => {
  const a = await guest('author-a'), likers = [];
  const roots = [];
  for (let i = 0; i < 55; i++) roots.push((await post(a, 'ord-1')).comment.id);
  // replies to the oldest top-level comment, one nested
  const r1 = (await post(a, 'ord-1', { parent: roots[0], title: undefined })).comment.id;
  const r2 = (await post(a, 'ord-1', { parent: r1, title: undefined })).comment.id;
  // likes: roots[3] three, roots[0] two, roots[10] one
  for (let i = 0; i < 3; i++) likers.push(await guest(`liker-${i}`));
  const like = async (c, id) => assert.equal((await c.request({ type: 'react', comment: id, like: true })).type, 'reacted');
  for (const l of likers) await like(l, roots[3]);
  await like(likers[0], roots[0]); await like(likers[1], roots[0]);
  await like(likers[2], roots[10]);

  const b = await guest('reader-b');
  // newest: the 50 newest top-level comments, newest first, then a cursor
  const h = await b.request({ type: 'subscribe', article: 'ord-1', order: 'newest' });
  assert.equal(h.type, 'history');
  assert.equal(h.order, 'newest');
  assert.deepEqual(h.comments.map((c) => c.id), roots.slice(5).reverse());
  assert.equal(h.has_older, true);
  assert.equal(typeof h.next, 'string');
  assert.equal(h.count, 57);
  const p2 = await b.request({ type: 'history', article: 'ord-1', order: 'newest', after: h.next });
  assert.deepEqual(p2.comments.map((c) => c.id), [...roots.slice(0, 5).reverse(), r1, r2],
    'the last page brings the replies of its top-level comments');
  assert.equal(p2.has_older, false);
  assert.equal(p2.next, null);
  assert.equal(p2.comments.find((c) => c.id === roots[3]).likes, 3);

  // liked: most liked first, newest first among equals, replies with their thread
  const l1 = await b.request({ type: 'history', article: 'ord-1', order: 'liked' });
  const ids = l1.comments.filter((c) => c.parent === null).map((c) => c.id);
  assert.deepEqual(ids.slice(0, 4), [roots[3], roots[0], roots[10], roots[54]]);
  assert.equal(ids.length, 50);
  assert.deepEqual(l1.comments.filter((c) => c.parent !== null).map((c) => c.id), [r1, r2]);
  assert.deepEqual(l1.comments.slice(0, 3).map((c) => c.likes), [3, 2, 1]);
  const l2 = await b.request({ type: 'history', article: 'ord-1', order: 'liked', after: l1.next });
  const all = [...ids, ...l2.comments.map((c) => c.id)];
  assert.equal(new Set(all).size, 55, 'every top-level comment once over the two pages');
  assert.equal(l2.next, null);
  // liked marks what this reader likes
  const mine = await likers[0].request({ type: 'history', article: 'ord-1', order: 'liked' });
  assert.equal(mine.comments[0].liked, true);
  assert.equal(mine.comments[2].liked, undefined);

  // oldest is the v1 order: unchanged, and no cursor fields
  const o = await b.request({ type: 'history', article: 'ord-1', before: 2 ** 53 });
  assert.equal(o.order, undefined);
  assert.equal(o.comments[o.comments.length - 1].id, r2);
  // bad orders and cursors are typed errors, the connection stays
  for (const bad of [{ order: 'best' }, { order: 3 }, { order: 'liked', after: 'x:1' }, { order: 'liked', after: '5' },
    { order: 'newest', after: '1:2' }, { order: 'newest', after: 12 }, { after: '5' }, { order: 'liked', after: '99999999999999999999:1' }]) {
    const e = await b.request({ type: 'history', article: 'ord-1', ...bad });
    assert.equal(e.code, 'bad_request', JSON.stringify(bad));
    const s = await b.request({ type: 'subscribe', article: 'ord-x', ...bad });
    assert.equal(s.code, 'bad_request', JSON.stringify(bad));
  }
  assert.equal((await b.request({ type: 'ping' })).type, 'pong');
  for (const c of [a, b, ...likers]) c.close();
});

test('react: toggle, one per reader, not on your own comment, typed errors', async () => {
  const a = await guest('react-author'), b = await guest('react-b');
  const id = (await post(a, 'react-1')).comment.id;
  let r = await b.request({ type: 'react', comment: id, like: true });
  assert.deepEqual({ type: r.type, likes: r.likes, liked: r.liked, comment: r.comment, seq: r.seq }, { type: 'reacted', likes: 1, liked: true, comment: id, seq: 1 });
  r = await b.request({ type: 'react', comment: id, like: true });
  assert.equal(r.likes, 1, 'a second like by the same reader counts once');
  // the same reader on another connection is the same reader
  const b2 = await guest('react-b');
  r = await b2.request({ type: 'react', comment: id });
  assert.equal(r.likes, 1);
  r = await b2.request({ type: 'react', comment: id, like: false });
  assert.deepEqual([r.likes, r.liked], [0, false]);
  r = await b.request({ type: 'react', comment: id, like: false });
  assert.equal(r.likes, 0, 'unliking twice does not go below zero');
  assert.equal((await a.request({ type: 'react', comment: id })).code, 'forbidden');
  assert.equal((await b.request({ type: 'react', comment: 99999999 })).code, 'not_found');
  for (const bad of [{}, { comment: 'x' }, { comment: -1 }, { comment: id, like: 'yes' }])
    assert.equal((await b.request({ type: 'react', ...bad })).code, 'bad_request', JSON.stringify(bad));
  // a deleted comment cannot be liked
  await a.request({ type: 'delete', comment: id });
  assert.equal((await b.request({ type: 'react', comment: id })).code, 'not_found');
  assert.deepEqual(a.welcomeMsg.reactions, { guests: true });
  for (const c of [a, b, b2]) c.close();
});

test('likes are pushed coalesced: 1,000 changes a second cost a subscriber a few frames', async () => {
  const a = await guest('storm-author');
  const id = (await post(a, 'storm-1')).comment.id;
  const other = (await post(a, 'storm-1')).comment.id;
  const watcher = await guest('storm-watch');
  await watcher.request({ type: 'subscribe', article: 'storm-1' });
  const readers = [];
  for (let i = 0; i < 40; i++) readers.push(await guest(`storm-${i}`));
  const t0 = Date.now();
  // each reader toggles 25 times: 1,000 changes; the odd ones end liked
  await Promise.all(readers.map(async (c, i) => {
    const replies = [];
    for (let k = 0; k < 25; k++) replies.push(c.request({ type: 'react', comment: id, like: k % 2 === 0 }, 20000));
    if (i === 0) replies.push(c.request({ type: 'react', comment: other }, 20000));
    for (const r of await Promise.all(replies)) assert.equal(r.type, 'reacted');
  }));
  const elapsed = Date.now() - t0;
  await settle(800);
  const frames = watcher.queue.filter((m) => m.type === 'likes');
  assert.ok(frames.length >= 1);
  // one frame per flush window (250 ms) at most, whatever the number of likes
  assert.ok(frames.length <= Math.ceil(elapsed / 250) + 2, `${frames.length} frames for 1,000 likes in ${elapsed} ms`);
  const last = frames[frames.length - 1];
  assert.equal(last.article, 'storm-1');
  assert.equal(last.counts[String(id)], 40, 'the last frame carries the final count');
  assert.equal(last.seq[String(id)], 1000, 'and its change number: 1,000 changes');
  const seqs = frames.filter((f) => f.seq[String(id)] !== undefined).map((f) => f.seq[String(id)]);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'change numbers only grow');
  assert.ok(frames.some((f) => f.counts[String(other)] === 1), 'both comments in the room\'s frames');
  for (const c of [a, watcher, ...readers]) c.close();
});

test('guests may not like when reactions.guests is false; signed-in may', async () => {
  const secret = crypto.randomBytes(32);
  const s = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  keys:\n    - id: site-hmac\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`) +
    '\nreactions:\n  guests: false\n  flush_ms: 100\n') });
  try {
    const a = await Client.connect(s.wsUrl), b = await Client.connect(s.wsUrl);
    const w = await b.request({ type: 'hello', guest_key: 'g'.repeat(24) });
    assert.deepEqual(w.reactions, { guests: false });
    await a.request({ type: 'hello', guest_key: 'h'.repeat(24) });
    const id = (await post(a, 'ng-1')).comment.id;
    assert.equal((await b.request({ type: 'react', comment: id })).code, 'unauthorized');
    const u = await Client.connect(s.wsUrl);
    const token = signJwt({ sub: 'user-7', name: 'Sam Signed', exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'site-hmac' });
    assert.equal((await u.request({ type: 'hello', token })).type, 'welcome');
    assert.equal((await u.request({ type: 'react', comment: id })).likes, 1);
    a.close(); b.close(); u.close();
  } finally { await s.stop(); s.cleanup(); }
  // a bad value stops start-up with the file and key
  await assert.rejects(startServer({ configText: relaxedConfig((t) => t + '\nreactions:\n  flush_ms: 1\n') }));
});

test('thread: a comment\'s whole thread for a permalink; hidden, foreign or bad ids refused', async () => {
  const a = await guest('perma-a'), b = await guest('perma-b');
  const root = (await post(a, 'perma-1')).comment.id;
  const r1 = (await post(a, 'perma-1', { parent: root, title: undefined })).comment.id;
  const r2 = (await post(b, 'perma-1', { parent: r1, title: undefined })).comment.id;
  const other = (await post(a, 'perma-1')).comment.id;
  for (let i = 0; i < 5; i++) await post(a, 'perma-1');
  await b.request({ type: 'react', comment: root });
  const t = await b.request({ type: 'thread', article: 'perma-1', comment: r2 });
  assert.equal(t.type, 'thread');
  assert.equal(t.comment, r2);
  assert.deepEqual(t.comments.map((c) => c.id), [root, r1, r2], 'its top-level comment and every reply, nothing else');
  assert.equal(t.comments[0].likes, 1);
  assert.equal(t.comments[0].liked, true);
  assert.deepEqual((await a.request({ type: 'thread', article: 'perma-1', comment: root })).comments.map((c) => c.id), [root, r1, r2]);
  assert.notEqual(other, root);
  // another article's comment, a deleted one, none at all: not_found; bad fields: bad_request
  assert.equal((await b.request({ type: 'thread', article: 'perma-2', comment: r2 })).code, 'not_found');
  await a.request({ type: 'delete', comment: other });
  assert.equal((await b.request({ type: 'thread', article: 'perma-1', comment: other })).code, 'not_found');
  assert.equal((await b.request({ type: 'thread', article: 'perma-1', comment: 999999 })).code, 'not_found');
  for (const bad of [{ comment: r2 }, { article: 'perma-1' }, { article: 'perma-1', comment: '5' }, { article: '', comment: 1 }])
    assert.equal((await b.request({ type: 'thread', ...bad })).code, 'bad_request', JSON.stringify(bad));
  a.close(); b.close();
});

test('featured: moderators feature and unfeature (audited, undoable), readers see it live; typed errors', async () => {
  addModerator(srv, 'fay', 'featured test password', 'admin');
  const mod = await consoleClient(srv, await login(srv, 'fay', 'featured test password'));
  const a = await guest('feat-a'), r = await guest('feat-r');
  const id = (await post(a, 'feat-1')).comment.id;
  const second = (await post(a, 'feat-1')).comment.id;
  assert.deepEqual((await r.request({ type: 'featured', article: 'feat-1' })).comments, []);
  await r.request({ type: 'subscribe', article: 'feat-1' });
  assert.equal((await mod.request({ type: 'mod.feature', comment: id })).type, 'mod.ok');
  const ev = await r.next('feature');
  assert.deepEqual([ev.article, ev.featured, ev.comment.id], ['feat-1', true, id]);
  await mod.request({ type: 'mod.feature', comment: second });
  await r.next('feature');
  const list = await r.request({ type: 'featured', article: 'feat-1' });
  assert.deepEqual(list.comments.map((c) => c.id), [second, id], 'the newest pick first');
  // errors: twice, unknown comment, not a number; readers cannot feature
  assert.equal((await mod.request({ type: 'mod.feature', comment: id })).code, 'conflict');
  assert.equal((await mod.request({ type: 'mod.feature', comment: 9999999 })).code, 'not_found');
  assert.equal((await mod.request({ type: 'mod.feature', comment: 'x' })).code, 'bad_request');
  assert.equal((await r.request({ type: 'mod.feature', comment: id })).code, 'forbidden');
  assert.equal((await r.request({ type: 'featured', article: '' })).code, 'bad_request');
  // unfeature, audited; undo brings it back
  assert.equal((await mod.request({ type: 'mod.unfeature', comment: id })).type, 'mod.ok');
  assert.equal((await r.next('feature')).featured, false);
  assert.equal((await mod.request({ type: 'mod.unfeature', comment: id })).code, 'conflict');
  const audit = await mod.request({ type: 'mod.audit' });
  const actions = audit.entries.filter((e) => e.target === `featured:${id}`).map((e) => e.action);
  assert.deepEqual(actions.sort(), ['feature', 'unfeature']);
  const undo = await mod.request({ type: 'mod.undo' });
  assert.equal(undo.type, 'mod.ok', JSON.stringify(undo));
  assert.equal((await r.next('feature')).featured, true);
  // a removed comment leaves the featured list
  await a.request({ type: 'delete', comment: second });
  assert.deepEqual((await r.request({ type: 'featured', article: 'feat-1' })).comments.map((c) => c.id), [id]);
  for (const c of [mod, a, r]) c.close();
});

test('the page an article is read on reaches the console, from its own origin only', async () => {
  addModerator(srv, 'pat', 'page url test password', 'moderator');
  const mod = await consoleClient(srv, await login(srv, 'pat', 'page url test password'));
  const page = `${srv.base}/news/story-1?ref=home`;
  const a = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  await a.request({ type: 'hello', guest_key: 'url-author'.padEnd(24, '.') });
  assert.equal((await a.request({ type: 'subscribe', article: 'url-1', url: page })).type, 'history');
  // another origin's address is not kept; malformed ones are refused
  const b = await Client.connect(srv.wsUrl, { headers: { origin: srv.base } });
  assert.equal((await b.request({ type: 'subscribe', article: 'url-2', url: 'https://elsewhere.example/x' })).type, 'history');
  for (const url of ['javascript:alert(1)', `${page}#frag`, 'http://', 7, `${srv.base}/a b`, `${srv.base}/${'x'.repeat(1100)}`])
    assert.equal((await b.request({ type: 'subscribe', article: 'url-3', url })).code, 'bad_request', String(url).slice(0, 40));
  const id = (await post(a, 'url-1')).comment.id;
  const id2 = (await post(b, 'url-2')).comment.id;
  await b.request({ type: 'report', comment: id, reason: 'spam' });
  await a.request({ type: 'report', comment: id2, reason: 'spam' });
  await settle(200);
  const found = await mod.request({ type: 'mod.search', text: 'ordinary comment' });
  const item = found.items.find((i) => i.comment.id === id), item2 = found.items.find((i) => i.comment.id === id2);
  assert.equal(item.article_url, page);
  assert.equal(item.comment.featured, false);
  assert.equal(item2.article_url, null);
  // an address is kept only for an article with a comment: subscribing to made-up
  // article ids writes nothing (it would grow the table without bound)
  for (let i = 0; i < 20; i++)
    assert.equal((await a.request({ type: 'subscribe', article: `url-empty-${i}`, url: page })).type, 'history');
  await settle(300);
  assert.equal(srv.sql("SELECT COUNT(*) FROM article_pages WHERE article LIKE 'url-empty-%'").trim(), '0');
  assert.equal(srv.sql("SELECT url FROM article_pages WHERE article = 'url-1'").trim(), page);
  for (const c of [mod, a, b]) c.close();
});

test('badges: token roles mapped in identity.badges show next to the name', async () => {
  const secret = crypto.randomBytes(32);
  const cfg = (badges) => relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  badges:\n${badges}  keys:\n    - id: k\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`));
  const s = await startServer({ configText: cfg('    editor: staff\n    subscriber: verified\n    mod: moderator\n') });
  try {
    const tok = (sub, roles) => signJwt({ sub, name: `Name ${sub}`, roles, exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'k' });
    const hello = async (token) => { const c = await Client.connect(s.wsUrl); c.w = await c.request({ type: 'hello', token }); return c; };
    const ed = await hello(tok('ed', ['subscriber', 'editor'])), sub = await hello(tok('sub', ['subscriber'])), plain = await hello(tok('p', ['other']));
    assert.equal(ed.w.user.badge, 'staff', 'the first mapping in the file that the token holds');
    assert.equal(sub.w.user.badge, 'verified');
    assert.equal(plain.w.user.badge, undefined);
    const watcher = await Client.connect(s.wsUrl);
    await watcher.request({ type: 'subscribe', article: 'badge-1' });
    const c1 = (await ed.request({ type: 'post', article: 'badge-1', title: 'From the desk', body: 'Staff here.' })).comment;
    assert.equal(c1.author.badge, 'staff');
    assert.equal((await watcher.next('comment')).comment.author.badge, 'staff');
    const c2 = (await plain.request({ type: 'post', article: 'badge-1', title: 'Reader', body: 'No badge.' })).comment;
    assert.equal(c2.author.badge, undefined);
    const h = await watcher.request({ type: 'history', article: 'badge-1', before: 2 ** 53 });
    assert.deepEqual(h.comments.map((c) => c.author.badge), ['staff', undefined]);
    for (const c of [ed, sub, plain, watcher]) c.close();
  } finally { await s.stop(); s.cleanup(); }
  await assert.rejects(startServer({ configText: cfg('    editor: boss\n') }), /identity.badges.editor must be staff, verified or moderator/);
});

test('thread orders show a shadow-banned or removed top-level comment to nobody else (a removed one\'s replies to all)', async () => {
  addModerator(srv, 'sha', 'shadow order password', 'moderator');
  const mod = await consoleClient(srv, await login(srv, 'sha', 'shadow order password'));
  const troll = await guest('order-troll'), other = await guest('order-other'), reader = await guest('order-reader');
  assert.equal((await mod.request({ type: 'mod.shadowban', author: troll.user.id })).type, 'mod.ok');
  const hidden = (await post(troll, 'ord-shadow')).comment.id;
  const gone = (await post(other, 'ord-shadow')).comment.id;
  const reply2 = (await post(reader, 'ord-shadow', { parent: gone, title: undefined })).comment.id;
  await other.request({ type: 'delete', comment: gone });
  for (const order of ['newest', 'liked']) {
    const h = await reader.request({ type: 'history', article: 'ord-shadow', order });
    const ids = h.comments.map((c) => c.id);
    assert.ok(!ids.includes(hidden) && !ids.includes(gone), `${order}: ${ids}`);
    assert.ok(ids.includes(reply2), `${order}: the replies of a removed comment stay`);
    const own = await troll.request({ type: 'history', article: 'ord-shadow', order });
    assert.ok(own.comments.some((c) => c.id === hidden), 'the author sees their own');
  }
  for (const c of [mod, troll, other, reader]) c.close();
});

test('with Redis, like counts and featured picks reach readers of every process', async () => {
  const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
  const { startRedis } = require('../lib/server.js');
  const redis = await startRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-readers-redis-'));
  const config = path.join(dir, 'moderation.yml');
  fs.writeFileSync(config, `${relaxedConfig()}\nredis:\n  url: "${redis.url}"\n  prefix: "r${process.pid}:"\n`);
  const procs = await Promise.all([0, 1].map(() => startServer({ dataDir: dir, config })));
  try {
    const on = async (p, key) => {
      const c = await Client.connect(p.wsUrl);
      await c.request({ type: 'hello', guest_key: key.padEnd(24, '.') });
      return c;
    };
    const a = await on(procs[0], 'redis-author'), b = await on(procs[1], 'redis-reader');
    const id = (await post(a, 'redis-likes')).comment.id;
    await b.request({ type: 'subscribe', article: 'redis-likes' });
    await a.request({ type: 'subscribe', article: 'redis-likes' });
    const likers = [];
    for (let i = 0; i < 5; i++) likers.push(await on(procs[i % 2], `redis-liker-${i}`));
    for (const l of likers) assert.equal((await l.request({ type: 'react', comment: id })).type, 'reacted');
    // every reader, on either process, ends with the count of 5
    for (const c of [a, b]) await c.next((m) => m.type === 'likes' && m.counts[String(id)] === 5, 10000);
    for (const c of [a, b, ...likers]) c.close();
  } finally {
    for (const p of procs) await p.stop();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
