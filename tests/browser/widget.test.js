// The embedded widget in Debian's Chromium against the real server (issue 5).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

const secret = crypto.randomBytes(32);
let srv, browser;

before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  keys:\n    - {id: site, alg: HS256, secret: "${secret.toString('base64')}"}\n`)) });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function open(article, { dark = false, token } = {}) {
  const ctx = await browser.newContext({ colorScheme: dark ? 'dark' : 'light', viewport: { width: 420, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const q = new URLSearchParams({ article });
  if (token) q.set('token', token);
  await page.goto(`${srv.base}/demo/?${q}`);
  const t = page.locator('#parley-thread');
  await t.locator('h2', { hasText: 'Discussion' }).waitFor();
  page.errors = errors;
  return { ctx, page, t };
}

async function postVia(t, { name = 'Ann', title, body }) {
  if (name !== null) await t.locator('input[name=name]').fill(name);
  await t.locator('input[name=title]').fill(title);
  await t.locator('textarea[name=body]').fill(body);
  await t.locator('button[type=submit]').click();
}

const comment = (t, text) => t.locator('li.c', { hasText: text });

test('two readers: one posts, the other sees it live; empty thread text; counters', async () => {
  const a = await open('w-live'), b = await open('w-live');
  await a.t.getByText('Be the first to share your thoughts.').waitFor();
  assert.equal(await a.t.locator('[data-counter=title]').textContent(), '0/100');
  assert.equal(await a.t.locator('[data-counter=body]').textContent(), '0/1000');
  await postVia(a.t, { title: 'Installers first', body: 'Training fitters matters more than money.' });
  await comment(b.t, 'Training fitters matters more than money.').waitFor();
  assert.match(await b.t.locator('.count').textContent(), /1 comment/);
  assert.equal(await b.t.getByText('Be the first to share your thoughts.').isVisible(), false);
  await screenshot(a.page, 'demo-light');
  assert.deepEqual(a.page.errors, []);
  await a.ctx.close(); await b.ctx.close();
});

test('counters stop at the limits and count as the server does', async () => {
  const { ctx, page, t } = await open('w-limits');
  const title = t.locator('input[name=title]');
  await title.fill('x'.repeat(101));
  assert.equal(await t.locator('[data-counter=title]').textContent(), '100/100');
  assert.equal([...(await title.inputValue())].length, 100);
  // 100 decomposed é: 200 code points typed, 100 after NFC; the server agrees
  await title.fill('e\u0301'.repeat(100));
  assert.equal(await t.locator('[data-counter=title]').textContent(), '100/100');
  await t.locator('input[name=name]').fill('Counter');
  await t.locator('textarea[name=body]').fill('b'.repeat(1005));
  assert.equal(await t.locator('[data-counter=body]').textContent(), '1000/1000');
  await t.locator('button[type=submit]').click();
  await comment(t, 'bbbb').waitFor();
  // a 101-code-point title sent from the page's own origin is refused by the server
  const code = await page.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url, 'parley.v1');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'post', id: 1, article: 'w-limits', name: 'x', title: 'é'.repeat(101), body: 'b' }));
    ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.id === 1) resolve(m.code); };
  }), srv.wsUrl);
  assert.equal(code, 'title_too_long');
  await ctx.close();
});

test('a held post shows "awaiting review" to its author only', async () => {
  const a = await open('premod-w'), b = await open('premod-w');
  await postVia(a.t, { title: 'Held', body: 'Waiting for a moderator.' });
  const mine = comment(a.t, 'Waiting for a moderator.');
  await mine.getByText('awaiting review').waitFor();
  await a.page.waitForTimeout(300);
  assert.equal(await comment(b.t, 'Waiting for a moderator.').count(), 0);
  // after a reload the author still sees it (guest key in localStorage)
  await a.page.reload();
  await comment(a.t, 'Waiting for a moderator.').getByText('awaiting review').waitFor();
  await a.ctx.close(); await b.ctx.close();
});

test('XSS payloads in title, body and name render as text', async () => {
  const { ctx, page, t } = await open('w-xss');
  const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  await postVia(t, { name: '<b onmouseover=alert(1)>Eve</b>', title: '<svg onload=alert(1)>', body: payload });
  const li = comment(t, 'onerror');
  await li.waitFor();
  assert.equal(await li.locator('.cbody').textContent(), payload);
  assert.equal(await li.locator('.author').textContent(), '<b onmouseover=alert(1)>Eve</b>');
  assert.equal(await li.locator('img, script, svg, b').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await ctx.close();
});

test('a dropped connection reconnects and misses nothing', async () => {
  const { ctx, page, t } = await open('w-drop');
  const writer = await Client.connect(srv.wsUrl);
  await writer.request({ type: 'post', article: 'w-drop', name: 'W', title: 'one', body: 'before the drop' });
  await comment(t, 'before the drop').waitFor();
  await ctx.setOffline(true);
  await page.evaluate(() => window.Parley.dropConnection());
  for (let i = 0; i < 3; i++)
    await writer.request({ type: 'post', article: 'w-drop', name: 'W', title: 'gap', body: `while offline ${i}` });
  await ctx.setOffline(false);
  for (let i = 0; i < 3; i++) await comment(t, `while offline ${i}`).waitFor({ timeout: 15000 });
  assert.equal(await t.locator('li.c').count(), 4, 'nothing twice');
  writer.close();
  await ctx.close();
});

test('a valid token posts as its user; an expired one falls back to guest', async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = signJwt({ sub: 'w-user', name: 'Signed Sam', exp: now + 600 }, { secret });
  const a = await open('w-sso', { token: good });
  await a.t.getByText('Signed in as Signed Sam').waitFor();
  assert.equal(await a.t.locator('input[name=name]').isVisible(), false);
  await postVia(a.t, { name: null, title: 'Signed', body: 'Posted with a token.' });
  assert.equal(await comment(a.t, 'Posted with a token.').locator('.author').textContent(), 'Signed Sam');
  const expired = signJwt({ sub: 'w-user', name: 'Signed Sam', exp: now - 3600 }, { secret });
  const b = await open('w-sso', { token: expired });
  await b.t.locator('input[name=name]').waitFor();
  assert.equal(await b.t.getByText('Signed in as').count(), 0);
  await postVia(b.t, { name: 'Guest Gil', title: 'Guest', body: 'Posted as a guest.' });
  assert.equal(await comment(b.t, 'Posted as a guest.').locator('.author').textContent(), 'Guest Gil');
  await a.ctx.close(); await b.ctx.close();
});

test('dark mode, French, replies and the counts script', async () => {
  const { ctx, page, t } = await open('w-live', { dark: true });
  await comment(t, 'Training fitters').waitFor();
  await t.locator('li.c button', { hasText: 'Reply' }).first().click();
  await t.locator('input[name=name]').fill('Rae');
  await t.locator('textarea[name=body]').fill('Agreed, and the grid queues too.');
  await t.locator('button[type=submit]').click();
  await t.locator('ol.replies li.c', { hasText: 'grid queues' }).waitFor();
  const bg = await t.locator('form').evaluate((f) => getComputedStyle(f).backgroundColor);
  assert.notEqual(bg, 'rgb(243, 245, 248)', 'dark palette');
  await screenshot(page, 'demo-dark');
  await ctx.close();
  // the counts script fills article lists once, on load (counts are cached for 10 s)
  const fresh = await browser.newContext();
  const p1 = await fresh.newPage();
  await p1.goto(`${srv.base}/demo/?article=w-live`);
  await p1.waitForFunction(() => document.querySelector('[data-parley-count]').textContent === '2');
  await fresh.close();
  const fr = await browser.newContext();
  const p2 = await fr.newPage();
  await p2.goto(`${srv.base}/demo/?article=w-fr&lang=fr`);
  await p2.locator('#parley-thread').getByText('Soyez le premier à donner votre avis.').waitFor();
  await fr.close();
});
