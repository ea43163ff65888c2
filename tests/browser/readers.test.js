// What readers of a news site expect (issue 13), in Debian's Chromium against the real
// server: the three orders (kept, live, load more), likes (toggle, live, not one's own),
// clickable links, long titles at 360 px, the report form closing, the pill after a
// delete; screenshots of the orders and likes in light, dark and 360 px.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { startServer, Client, relaxedConfig, addModerator, signJwt } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function open(article, { dark = false, width = 420, ctx } = {}) {
  ctx = ctx || await browser.newContext({ colorScheme: dark ? 'dark' : 'light', viewport: { width, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.base}/demo/?${new URLSearchParams({ article })}`);
  const t = page.locator('#parley-thread');
  await t.locator('h2', { hasText: 'Discussion' }).waitFor();
  page.errors = errors;
  return { ctx, page, t };
}

async function guest(key) {
  const c = await Client.connect(srv.wsUrl);
  await c.request({ type: 'hello', guest_key: key.padEnd(24, '.') });
  return c;
}
const say = (c, article, title, body, extra = {}) =>
  c.request({ type: 'post', article, name: 'Wire Writer', title, body, ...extra }).then((m) => m.comment);
// Top-level comment titles in the order shown.
const tops = (t) => t.locator('ol.comments > li.c > .content .ctitle').allTextContents();

test('three orders: chosen, kept, live in place, and load more', async () => {
  const w = await guest('orders-writer'), fans = [await guest('fan-1'), await guest('fan-2')];
  const a = await say(w, 'r-orders', 'Alpha', 'The first one.');
  const b = await say(w, 'r-orders', 'Bravo', 'The second one.');
  const c = await say(w, 'r-orders', 'Charlie', 'The third one.');
  await say(w, 'r-orders', null, 'A reply to Alpha.', { parent: a.id });
  for (const f of fans) await f.request({ type: 'react', comment: a.id });
  await fans[0].request({ type: 'react', comment: b.id });

  const { ctx, page, t } = await open('r-orders');
  await t.locator('.cbody', { hasText: 'The third one.' }).waitFor();
  assert.deepEqual(await tops(t), ['Alpha', 'Bravo', 'Charlie'], 'oldest first by default');
  await screenshot(page, 'readers-order-oldest');
  const sel = t.locator('select[name=order]');
  await sel.selectOption('newest');
  await t.locator('ol.comments > li.c').first().filter({ hasText: 'Charlie' }).waitFor();
  assert.deepEqual(await tops(t), ['Charlie', 'Bravo', 'Alpha']);
  assert.equal(await t.locator(`li.c[data-id="${a.id}"] ol.replies li.c`).count(), 1, 'the reply with its thread');
  await screenshot(page, 'readers-order-newest');
  await sel.selectOption('liked');
  await t.locator('ol.comments > li.c').first().filter({ hasText: 'Alpha' }).waitFor();
  assert.deepEqual(await tops(t), ['Alpha', 'Bravo', 'Charlie']);
  await t.locator(`li.c[data-id="${a.id}"] > .content button.like`, { hasText: '♥ 2' }).waitFor();
  await screenshot(page, 'readers-order-liked');

  // a live comment: after the liked ones, before the older unliked one
  await say(w, 'r-orders', 'Delta', 'A live one.');
  await t.locator('.ctitle', { hasText: 'Delta' }).waitFor();
  assert.deepEqual(await tops(t), ['Alpha', 'Bravo', 'Delta', 'Charlie']);

  // the choice is kept: a new page of the same site opens in "liked"
  const again = await open('r-orders', { ctx });
  await again.t.locator('.ctitle', { hasText: 'Delta' }).waitFor();
  assert.equal(await again.t.locator('select[name=order]').inputValue(), 'liked');
  assert.deepEqual(await tops(again.t), ['Alpha', 'Bravo', 'Delta', 'Charlie']);
  // newest puts a live comment on top
  await again.t.locator('select[name=order]').selectOption('newest');
  await again.t.locator('ol.comments > li.c').first().filter({ hasText: 'Delta' }).waitFor();
  await say(w, 'r-orders', 'Echo', 'Another live one.');
  await again.t.locator('ol.comments > li.c').first().filter({ hasText: 'Echo' }).waitFor();
  assert.deepEqual(page.errors, []);
  await ctx.close();
  for (const x of [w, ...fans]) x.close();
});

test('load more in the newest and liked orders; live comments past the loaded pages wait', async () => {
  const w = await guest('more-writer');
  const ids = [];
  for (let i = 0; i < 53; i++) ids.push((await say(w, 'r-more', `Number ${i}`, `Comment ${i}.`)).id);
  const fan = await guest('more-fan');
  await fan.request({ type: 'react', comment: ids[1] });
  const { ctx, t } = await open('r-more');
  await t.locator('.ctitle', { hasText: 'Number 52' }).waitFor();
  await t.locator('select[name=order]').selectOption('liked');
  await t.locator('ol.comments > li.c').first().filter({ hasText: 'Number 1' }).waitFor();
  assert.equal(await t.locator('ol.comments > li.c').count(), 50);
  const more = t.getByRole('button', { name: 'Load more comments' });
  assert.equal(await t.getByRole('button', { name: 'Load older comments' }).isVisible(), false);
  await more.click();
  await more.waitFor({ state: 'hidden' });
  const titles = await tops(t);
  assert.equal(titles.length, 53);
  assert.equal(new Set(titles).size, 53, 'nothing twice');
  assert.deepEqual(titles.slice(0, 3), ['Number 1', 'Number 52', 'Number 51']);
  assert.equal(titles[52], 'Number 0');
  // newest: a reply to a thread on the second page is not shown until that page loads
  await t.locator('select[name=order]').selectOption('newest');
  await t.locator('ol.comments > li.c').first().filter({ hasText: 'Number 52' }).waitFor();
  await say(w, 'r-more', null, 'Late reply to number 0.', { parent: ids[0] });
  await say(w, 'r-more', 'Number 53', 'Fresh.');
  await t.locator('.ctitle', { hasText: 'Number 53' }).waitFor();
  assert.equal(await t.locator('.cbody', { hasText: 'Late reply to number 0.' }).count(), 0);
  await t.getByRole('button', { name: 'Load more comments' }).click();
  await t.locator(`li.c[data-id="${ids[0]}"] ol.replies .cbody`, { hasText: 'Late reply to number 0.' }).waitFor();
  assert.equal(await t.locator('.cbody', { hasText: 'Late reply to number 0.' }).count(), 1);
  assert.match(await t.locator('.count').textContent(), /^55 comments$/);
  await ctx.close();
  w.close(); fan.close();
});

test('likes: toggle, live for other readers, never on one\'s own comment', async () => {
  const w = await guest('likes-writer');
  const c = await say(w, 'r-likes', 'Worth a like', 'Read this.');
  const one = await open('r-likes'), two = await open('r-likes', { dark: true });
  const btn = (t) => t.locator(`li.c[data-id="${c.id}"] > .content button.like`);
  await btn(one.t).waitFor();
  assert.equal(await btn(one.t).textContent(), '♥ 0');
  await btn(one.t).click();
  await btn(one.t).filter({ hasText: '♥ 1' }).waitFor();
  assert.equal(await btn(one.t).getAttribute('aria-pressed'), 'true');
  await btn(two.t).filter({ hasText: '♥ 1' }).waitFor();
  assert.equal(await btn(two.t).getAttribute('aria-pressed'), 'false', 'the other reader did not like it');
  await screenshot(two.page, 'readers-likes-dark');
  await btn(one.t).click();
  await btn(two.t).filter({ hasText: '♥ 0' }).waitFor();
  assert.equal(await btn(one.t).getAttribute('aria-pressed'), 'false');
  // one's own comment: the count shows, the button is off
  await one.t.locator('input[name=name]').fill('Liker');
  await one.t.locator('input[name=title]').fill('My own');
  await one.t.locator('textarea[name=body]').fill('Mine, not to be liked by me.');
  await one.t.locator('button[type=submit]').click();
  const own = one.t.locator('li.c', { hasText: 'Mine, not to be liked' }).locator('> .content button.like');
  await own.waitFor();
  assert.equal(await own.isDisabled(), true);
  await one.ctx.close(); await two.ctx.close();
  w.close();
});

test('links are clickable (http/https only, with their host); the rest stays text', async () => {
  const w = await guest('links-writer');
  // (allowed hosts of the default links rule, so the post is published at once)
  await say(w, 'r-links', 'First', 'A comment before the one with links.');
  const posted = await say(w, 'r-links', 'Sources', 'See https://en.wikipedia.org/wiki/Loft?id=7. Also http://www.reuters.com, ' +
    'javascript:alert(1), ftp://files.example.com/x and <a href="https://apnews.com">here</a>.');
  assert.equal(posted.status, 'published');
  const { ctx, page, t } = await open('r-links');
  const body = t.locator('.cbody', { hasText: 'See ' });
  await body.waitFor();
  const links = await body.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.href, rel: a.rel, text: a.textContent })));
  assert.deepEqual(links.map((l) => l.href), ['https://en.wikipedia.org/wiki/Loft?id=7', 'http://www.reuters.com/', 'https://apnews.com/']);
  for (const l of links) assert.equal(l.rel, 'nofollow ugc noopener noreferrer');
  assert.equal(links[0].text, 'https://en.wikipedia.org/wiki/Loft?id=7', 'the full stop is not part of the link');
  assert.equal(links[2].text, 'https://apnews.com', 'a link inside markup is only its URL');
  const hosts = await body.locator('.host').allTextContents();
  assert.deepEqual(hosts, [' [en.wikipedia.org]', ' [www.reuters.com]', ' [apnews.com]']);
  assert.match(await body.textContent(), /javascript:alert\(1\), ftp:\/\/files\.example\.com\/x and <a href="/);
  assert.equal(await body.locator('[onclick], script, a[href^="javascript"]').count(), 0);
  assert.deepEqual(page.errors, []);
  await ctx.close();
  w.close();
});

test('rough edges: long titles at 360 px, the report form closes, the pill forgets deleted comments', async () => {
  const w = await guest('edges-writer');
  await say(w, 'r-edges', 'W'.repeat(100), 'A title with no spaces.');
  const { ctx, page, t } = await open('r-edges', { width: 360 });
  await t.locator('.cbody', { hasText: 'A title with no spaces.' }).waitFor();
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth - innerWidth);
  assert.ok(wide <= 0, `the page scrolls sideways by ${wide} px`);
  await screenshot(page, 'readers-360');

  // report: after sending, the form is gone and so is the Report button
  const li = t.locator('li.c', { hasText: 'A title with no spaces.' });
  await li.getByRole('button', { name: 'Report' }).click();
  await li.getByRole('button', { name: 'Send report' }).click();
  await li.getByText('Thank you, a moderator will look at it.').waitFor();
  assert.equal(await li.getByRole('button', { name: 'Send report' }).count(), 0);
  assert.equal(await li.getByRole('button', { name: 'Report' }).count(), 0);

  // the pill: a comment that arrives off screen and is then deleted no longer counts
  await page.evaluate(() => window.scrollTo(0, 0));
  await say(w, 'r-edges', 'Filler', 'x\n'.repeat(40) + 'end');
  const gone = await say(w, 'r-edges', 'Soon gone', 'This one will be deleted.');
  const pill = t.locator('button.pill');
  await pill.filter({ hasText: /new comment/ }).waitFor();
  const before = await pill.textContent();
  await w.request({ type: 'delete', comment: gone.id });
  await t.locator('.cbody', { hasText: 'This one will be deleted.' }).waitFor({ state: 'detached' });
  const num = (s) => (s ? parseInt(s, 10) || 1 : 0);
    const after = await pill.isVisible() ? await pill.textContent() : '';
  assert.equal(num(after), num(before) - 1, `pill said "${before}", then "${after}"`);
  await ctx.close();
  w.close();
});

test('permalinks: opening one fetches and highlights a comment not loaded; share copies it; custom format', async () => {
  const w = await guest('perma-writer');
  const first = await say(w, 'r-perma', 'The very first', 'Old and far away.');
  const reply = await say(w, 'r-perma', null, 'A reply deep in the past.', { parent: first.id });
  for (let i = 0; i < 55; i++) await say(w, 'r-perma', `Later ${i}`, `Later comment ${i}.`);
  const ctx = await browser.newContext({ viewport: { width: 420, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.base });
  const page = await ctx.newPage();
  await page.goto(`${srv.base}/demo/?article=r-perma#comment-${reply.id}`);
  const t = page.locator('#parley-thread');
  const target = t.locator(`li.c.target[data-id="${reply.id}"]`);
  await target.waitFor();
  // shown under its parent, which was not among the 50 loaded either
  assert.equal(await t.locator(`li.c[data-id="${first.id}"] ol.replies li.c[data-id="${reply.id}"]`).count(), 1);
  await page.waitForFunction((id) => {
    const li = document.querySelector('#parley-thread').shadowRoot.querySelector(`li.c[data-id="${id}"]`);
    const r = li.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight;
  }, reply.id);
  await screenshot(page, 'readers-permalink');
  // the time links to the comment on this page; Share copies that link
  const href = await target.locator('> .content a.when').getAttribute('href');
  assert.equal(href, `${srv.base}/demo/?article=r-perma#comment-${reply.id}`);
  await target.locator('> .content').getByRole('button', { name: 'Share' }).click();
  await target.getByRole('button', { name: 'Link copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), href);
  // following another permalink on the same page moves the highlight
  await page.evaluate((id) => { location.hash = `comment-${id}`; }, first.id);
  await t.locator(`li.c.target[data-id="${first.id}"]`).waitFor();
  assert.equal(await t.locator('li.c.target').count(), 1);

  // data-permalink="c{id}" changes the fragment both ways
  const p2 = await ctx.newPage();
  await p2.goto(`${srv.base}/demo/?article=r-perma&permalink=${encodeURIComponent('c{id}')}#c${first.id}`);
  const t2 = p2.locator('#parley-thread');
  await t2.locator(`li.c.target[data-id="${first.id}"]`).waitFor();
  assert.match(await t2.locator(`li.c[data-id="${first.id}"] > .content a.when`).getAttribute('href'), new RegExp(`#c${first.id}$`));
  await ctx.close();
  w.close();
});

test('featured: a moderator features from the console (which links to the article page); readers see the strip live', async () => {
  addModerator(srv, 'feli', 'featured console password', 'moderator');
  const w = await guest('feat-writer'), rep = await guest('feat-reporter');
  const reader = await open('r-feat');
  const c = await say(w, 'r-feat', 'An editor\'s pick', 'Insightful, with a source: https://www.reuters.com/x');
  await reader.t.locator('.cbody', { hasText: 'Insightful' }).waitFor();
  await rep.request({ type: 'report', comment: c.id, reason: 'other', note: 'actually rather good' });
  // the console
  const cctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const con = await cctx.newPage();
  await con.goto(`${srv.base}/console/`);
  await con.locator('#login-name').fill('feli');
  await con.locator('#login-password').fill('featured console password');
  await con.locator('#login-form button[type=submit]').click();
  await con.locator(`#item-${c.id}`).click();
  const link = con.locator('#detail a.on-page');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `${srv.base}/demo/?article=r-feat#comment-${c.id}`);
  await con.locator('#detail').getByRole('button', { name: /^Feature/ }).click();
  await con.locator('#detail').getByRole('button', { name: /^Unfeature/ }).waitFor();
  // live on the reader's page, above the form
  const strip = reader.t.locator('section.feat');
  await strip.getByText('Insightful').waitFor();
  assert.equal(await strip.locator('h3').textContent(), 'Featured');
  assert.equal(await strip.locator('a[rel="nofollow ugc noopener noreferrer"]').count(), 1);
  await screenshot(reader.page, 'readers-featured-light');
  // a new reader gets it at once, in dark and at 360 px
  for (const [name, o] of [['readers-featured-dark', { dark: true }], ['readers-featured-360', { width: 360 }]]) {
    const p = await open('r-feat', o);
    await p.t.locator('section.feat').getByText('Insightful').waitFor();
    const wide = await p.page.evaluate(() => document.scrollingElement.scrollWidth - innerWidth);
    assert.ok(wide <= 0, `${name} scrolls sideways by ${wide} px`);
    await screenshot(p.page, name);
    await p.ctx.close();
  }
  // the console's link opens the comment on its article page, highlighted
  const p = await open('r-feat');
  await p.page.goto(await link.getAttribute('href'));
  await p.page.locator(`#parley-thread li.c.target[data-id="${c.id}"]`).waitFor();
  await p.ctx.close();
  // unfeatured: the strip goes, live
  await con.locator('#detail').getByRole('button', { name: /^Unfeature/ }).click();
  await strip.waitFor({ state: 'hidden' });
  await cctx.close(); await reader.ctx.close();
  w.close(); rep.close();
});

test('badges from token roles, in light, dark and at 360 px', async () => {
  const secret = crypto.randomBytes(32);
  const s = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  badges:\n    editor: staff\n    subscriber: verified\n  keys:\n    - id: k\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n`)) });
  try {
    const tok = (sub, name, roles) => signJwt({ sub, name, roles, exp: Math.floor(Date.now() / 1000) + 600 }, { secret, kid: 'k' });
    for (const [who, name, roles, text] of [['ed', 'Ada Reporter', ['editor'], 'From the newsroom: we corrected the figure.'],
      ['su', 'Sam Subscriber', ['subscriber'], 'Thanks for the correction.']]) {
      const c = await Client.connect(s.wsUrl);
      await c.request({ type: 'hello', token: tok(who, name, roles) });
      await c.request({ type: 'post', article: 'r-badge', title: name, body: text });
      c.close();
    }
    for (const [shot, o] of [['readers-badge-light', {}], ['readers-badge-dark', { dark: true }], ['readers-badge-360', { width: 360 }]]) {
      const ctx = await browser.newContext({ colorScheme: o.dark ? 'dark' : 'light', viewport: { width: o.width || 420, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${s.base}/demo/?article=r-badge`);
      const t = page.locator('#parley-thread');
      const staff = t.locator('li.c', { hasText: 'From the newsroom' }).locator('.badge.role');
      await staff.waitFor();
      assert.equal(await staff.textContent(), 'Staff');
      assert.equal(await t.locator('li.c', { hasText: 'Thanks for the correction' }).locator('.badge.role').textContent(), 'Verified');
      await screenshot(page, shot);
      await ctx.close();
    }
    // a guest taking the staff member's name is refused (the lead's reserved names)
    const g = await Client.connect(s.wsUrl);
    const r = await g.request({ type: 'post', article: 'r-badge', name: 'Ada Rep0rter', title: 'Me', body: 'Impostor.' });
    assert.equal(r.code, 'name_reserved');
    g.close();
  } finally { await s.stop(); s.cleanup(); }
});

test('a page whose origin is not listed says the discussion is unavailable; the server says which key to change', async () => {
  const host = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><body><h1>Elsewhere</h1><div id="parley-thread" data-article="r-origin"></div>` +
      `<script src="${srv.base}/embed.js" async></script></body></html>`);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const hostBase = `http://127.0.0.1:${host.address().port}`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${hostBase}/article`);
  const t = page.locator('#parley-thread');
  await t.getByText('The discussion is unavailable on this page.').waitFor({ timeout: 20000 });
  assert.equal(await t.locator('form').isVisible(), false);
  assert.equal(await t.getByText('Reconnecting…').count(), 0);
  assert.match(srv.log, new RegExp(`refused WebSocket from origin ${hostBase.replace(/[.]/g, '\\.')}: not listed in server\\.origins`));
  await ctx.close();
  host.close();
});

test('the form: reply under the comment, required title marked, edit in place, offline post sent on reconnect, count.js live', async () => {
  const w = await guest('form-writer');
  const c = await say(w, 'r-form', 'Answer me', 'A question for the readers?');
  const { ctx, page, t } = await open('r-form');
  const li = t.locator(`li.c[data-id="${c.id}"]`);
  await li.waitFor();
  // a required title is marked, and an empty one is refused before anything is sent
  assert.equal(await t.locator('input[name=title]').getAttribute('aria-required'), 'true');
  await t.locator('label[for=p-title] abbr.req').waitFor();
  await t.locator('input[name=name]').fill('Quinn');
  await t.locator('textarea[name=body]').fill('No title here.');
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  await t.locator('button[type=submit]').click();
  await t.getByText('Please give your comment a title.').waitFor();
  assert.equal(await t.locator('input[name=title]').getAttribute('aria-invalid'), 'true');
  // the reply form opens under the comment answered, and goes back after posting
  await li.locator('> .content').getByRole('button', { name: 'Reply' }).click();
  assert.equal(await li.locator('> form').count(), 1);
  assert.equal(await t.locator('label[for=p-title] abbr.req').isVisible(), false, 'a reply needs no title');
  await t.locator('textarea[name=body]').fill('An answer, right under it.');
  await t.locator('button[type=submit]').click();
  await li.locator('ol.replies li.c', { hasText: 'right under it' }).waitFor();
  assert.equal(await li.locator('> form').count(), 0);
  // the edit box replaces the text in place
  const rid = await li.locator('ol.replies li.c', { hasText: 'right under it' }).getAttribute('data-id');
  const mine = li.locator(`ol.replies li.c[data-id="${rid}"]`);
  await mine.getByRole('button', { name: 'Edit' }).click();
  assert.equal(await mine.locator('> .content').isVisible(), false);
  await mine.locator('textarea[name=edit-body]').fill('An answer, edited in place.');
  await mine.getByRole('button', { name: 'Save' }).click();
  await mine.locator('> .content .cbody', { hasText: 'edited in place' }).waitFor();
  assert.equal(await mine.locator('> .box').count(), 0);
  // count.js on the page follows the widget's count live
  const counter = page.locator('[data-parley-count]');
  await page.waitForFunction(() => document.querySelector('[data-parley-count]').textContent === '2');
  await say(w, 'r-form', 'Another', 'One more for the counter.');
  await page.waitForFunction(() => document.querySelector('[data-parley-count]').textContent === '3');
  assert.equal(await counter.textContent(), '3');
  // offline: the post waits, then leaves once the thread is back
  await ctx.setOffline(true);
  await page.evaluate(() => window.Parley.dropConnection());
  await t.locator('input[name=title]').fill('Typed offline');
  await t.locator('textarea[name=body]').fill('Written on a train in a tunnel.');
  await t.locator('button[type=submit]').click();
  await t.getByText('You are offline: your comment will be sent as soon as the connection is back.').waitFor();
  await ctx.setOffline(false);
  await t.locator('li.c', { hasText: 'Written on a train' }).waitFor({ timeout: 30000 });
  assert.equal(await t.locator('.error[role=alert]').first().textContent(), '');
  assert.equal(await t.locator('textarea[name=body]').inputValue(), '');
  const posts = sent.filter((f) => f.includes('"type":"post"') && f.includes('Written on a train'));
  assert.equal(posts.length, 1, 'sent once');
  assert.ok(!sent.some((f) => f.includes('No title here.')), 'the untitled post never left');
  await ctx.close();
  w.close();
});

test('screenshots: the three orders and a highlighted permalink, in dark and at 360 px', async () => {
  const w = await guest('shots-writer'), fan = await guest('shots-fan');
  const a = await say(w, 'r-shots', 'Heat pumps in old houses', 'They work, if the radiators are big enough.');
  await say(w, 'r-shots', null, 'And the loft is insulated: https://en.wikipedia.org/wiki/Heat_pump', { parent: a.id });
  const b = await say(w, 'r-shots', 'A question about grants', 'Does the grant cover the installation too?');
  await say(w, 'r-shots', 'Noise', 'The outdoor unit is quieter than our fridge.');
  await fan.request({ type: 'react', comment: b.id });
  for (const [suffix, o] of [['dark', { dark: true }], ['360', { width: 360 }]]) {
    const { ctx, page, t } = await open('r-shots', o);
    await t.locator('.ctitle', { hasText: 'Noise' }).waitFor();
    for (const order of ['oldest', 'newest', 'liked']) {
      await t.locator('select[name=order]').selectOption(order);
      const first = order === 'oldest' ? 'Heat pumps' : order === 'newest' ? 'Noise' : 'A question';
      await t.locator('ol.comments > li.c').first().filter({ hasText: first }).waitFor();
      const wide = await page.evaluate(() => document.scrollingElement.scrollWidth - innerWidth);
      assert.ok(wide <= 0, `${order} ${suffix}: scrolls sideways by ${wide} px`);
      await screenshot(page, `readers-order-${order}-${suffix}`);
    }
    await page.evaluate((id) => { location.hash = `comment-${id}`; }, b.id);
    await t.locator(`li.c.target[data-id="${b.id}"]`).waitFor();
    await screenshot(page, `readers-permalink-${suffix}`);
    await ctx.close();
  }
  w.close(); fan.close();
});
