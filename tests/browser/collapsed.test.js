// "Show comments" (issue 18): the loader on a host page from another origin, in Debian's
// Chromium against the real server. Counts the page's requests and WebSockets.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zlib = require('node:zlib');
const { startServer, Client, relaxedConfig, httpGet } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser, host, hostBase;

// The host site: /article?article=ID&attrs=... is a long article page whose thread element
// carries the given attributes, with the script tag pointing at the parley server.
function hostPage(q) {
  const article = q.get('article') || 'c-default';
  const attrs = (q.get('attrs') || '').split(' ').filter(Boolean).map((a) => {
    const [k, v] = a.split('=');
    return /^data-[a-z-]+$/.test(k) ? ` ${k}${v !== undefined ? `="${v.replace(/[^\w.-]/g, '')}"` : ''}` : '';
  }).join('');
  const lang = q.get('lang') === 'fr' ? 'fr' : 'en';
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Host article</title></head>
<body><h1>An article on another site</h1>
<div id="filler" style="height:${Number(q.get('filler') || 200)}px">Article text.</div>
<div id="parley-thread" data-article="${article.replace(/[^\w.-]/g, '')}"${attrs}></div>
<div style="height:1500px"></div>
<script src="${srv.base}/${q.get('script') === 'widget' ? 'widget' : 'embed'}.js" async></script></body></html>`;
}

before(async () => {
  host = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname !== '/article') { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(hostPage(u.searchParams));
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  hostBase = `http://127.0.0.1:${host.address().port}`;
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/origins:\n/, `origins:\n    - "${hostBase}"\n`)) });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); host.close(); });

async function seed(article, n) {
  const w = await Client.connect(srv.wsUrl);
  const ids = [];
  for (let i = 1; i <= n; i++) {
    const r = await w.request({ type: 'post', article, name: 'Seed', title: `Seeded ${i}`, body: `Seeded comment number ${i}.` });
    assert.equal(r.type, 'ack');
    assert.equal(r.comment.status, 'published');
    ids.push(r.comment.id);
  }
  await w.close();
  return ids;
}

// Opens the host page; records every request to the parley server and every WebSocket.
async function open(query, { hash = '', ctx } = {}) {
  ctx = ctx || await browser.newContext({ viewport: { width: 800, height: 700 } });
  const page = await ctx.newPage();
  const seen = { requests: [], sockets: [], errors: [] };
  page.on('request', (r) => { if (r.url().startsWith(srv.base)) seen.requests.push(new URL(r.url()).pathname); });
  page.on('websocket', (ws) => {
    const s = { ws, sent: [], closed: false };
    ws.on('framesent', (f) => s.sent.push(String(f.payload)));
    ws.on('close', () => { s.closed = true; });
    seen.sockets.push(s);
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  await page.goto(`${hostBase}/article?${new URLSearchParams(query)}${hash}`);
  return { ctx, page, seen, t: page.locator('#parley-thread') };
}

async function metric(name) {
  const r = await httpGet(`${srv.base}/metrics`);
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(r.body)[1]);
}

// Waits until cond() holds, polling; fails with what was last seen.
async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('collapsed: a button with the count, no widget and no WebSocket until it is pressed', async () => {
  await seed('c-news', 3);
  const views = await metric('parley_page_views_total'), sockets = await metric('parley_websockets_opened_total');
  const { ctx, page, seen, t } = await open({ article: 'c-news', attrs: 'data-collapsed' });
  const button = t.getByRole('button', { name: 'Show comments (3)' });
  await button.waitFor();
  await page.waitForTimeout(700); // anything the loader would still fetch has had time
  assert.deepEqual(seen.requests.sort(), ['/api/counts', '/embed.js']);
  assert.equal(seen.sockets.length, 0);
  assert.equal(await t.locator('h2').count(), 0);
  assert.equal(await metric('parley_page_views_total'), views + 1);
  assert.equal(await metric('parley_websockets_opened_total'), sockets);

  await button.click();
  await t.locator('li.c', { hasText: 'Seeded comment number 3.' }).waitFor();
  assert.match(await t.locator('.count').textContent(), /3 comments/);
  assert.equal(seen.sockets.length, 1);
  assert.equal(seen.requests.filter((p) => p === '/widget.js').length, 1);
  // focus moved into the thread, to its heading
  assert.deepEqual(await page.evaluate(() => [document.activeElement.id, document.activeElement.shadowRoot.activeElement.textContent]),
    ['parley-thread', 'Discussion']);
  assert.equal(await metric('parley_websockets_opened_total'), sockets + 1);
  await screenshot(page, 'collapsed-opened');

  // remembered for the session: the next article in this tab opens without a click
  await page.goto(`${hostBase}/article?article=c-news&attrs=data-collapsed`);
  await t.locator('li.c', { hasText: 'Seeded comment number 1.' }).waitFor();
  assert.equal(await t.getByRole('button', { name: /Show comments/ }).count(), 0);
  assert.deepEqual(seen.errors, []);
  await ctx.close();
});

test('collapsed and empty: the button says 0, then the empty thread as the article page shows it; French', async () => {
  const { ctx, page, seen, t } = await open({ article: 'c-empty', attrs: 'data-collapsed' });
  await t.getByRole('button', { name: 'Show comments (0)' }).click();
  await t.getByText('Be the first to share your thoughts.').waitFor();
  assert.equal(await t.locator('h2').textContent(), 'Discussion');
  assert.equal(await t.locator('[data-counter=title]').textContent(), '0/100');
  assert.equal(await t.locator('[data-counter=body]').textContent(), '0/1000');
  assert.equal(seen.sockets.length, 1);
  await screenshot(page, 'collapsed-empty-opened');
  await ctx.close();

  const fr = await open({ article: 'c-empty', attrs: 'data-collapsed', lang: 'fr' });
  await fr.t.getByRole('button', { name: 'Afficher les commentaires (0)' }).waitFor();
  await screenshot(fr.page, 'collapsed-button-fr');
  assert.equal(fr.seen.sockets.length, 0);
  await fr.ctx.close();
});

test('a permalink opens a collapsed thread at its comment', async () => {
  const ids = await seed('c-link', 4);
  const { ctx, page, seen, t } = await open({ article: 'c-link', attrs: 'data-collapsed', filler: 2500 }, { hash: `#comment-${ids[1]}` });
  const li = t.locator(`li.c[data-id="${ids[1]}"]`);
  await li.waitFor();
  await until(async () => (await li.getAttribute('class')).includes('target'), 'the highlighted comment');
  assert.equal(await t.getByRole('button', { name: /Show comments/ }).count(), 0);
  assert.equal(seen.sockets.length, 1);
  const box = await li.boundingBox();
  assert.ok(box.y >= 0 && box.y < 700, `the comment is on screen (y=${box.y})`);
  await ctx.close();

  // a link followed on the page itself opens it too
  const b = await open({ article: 'c-link', attrs: 'data-collapsed' });
  await b.t.getByRole('button', { name: 'Show comments (4)' }).waitFor();
  assert.equal(b.seen.sockets.length, 0);
  await b.page.evaluate((id) => { location.hash = `#comment-${id}`; }, ids[0]);
  await b.t.locator(`li.c[data-id="${ids[0]}"].target`).waitFor();
  assert.equal(b.seen.sockets.length, 1);
  await b.ctx.close();
});

test('the widget unreachable: the button works again, and a later press opens the thread', async () => {
  await seed('c-flaky', 1);
  const ctx = await browser.newContext();
  // the network fails for the widget only, as a flaky mobile connection would
  await ctx.route(/\/widget\.js/, (route) => route.abort('connectionfailed'));
  const { page, seen, t } = await open({ article: 'c-flaky', attrs: 'data-collapsed' }, { ctx });
  const button = t.getByRole('button', { name: 'Show comments (1)' });
  await button.click();
  await until(async () => seen.requests.includes('/widget.js') && await button.isEnabled(), 'the button to come back');
  assert.equal(seen.sockets.length, 0);
  await ctx.unroute(/\/widget\.js/);
  await button.click();
  await t.locator('li.c', { hasText: 'Seeded comment number 1.' }).waitFor();
  assert.equal(seen.sockets.length, 1);
  await ctx.close();
});

test('widget.js loaded on its own, without the loader, opens the thread at once', async () => {
  await seed('c-direct', 1);
  const { ctx, seen, t } = await open({ article: 'c-direct', script: 'widget' });
  await t.locator('li.c', { hasText: 'Seeded comment number 1.' }).waitFor();
  assert.deepEqual(seen.requests, ['/widget.js']);
  assert.equal(seen.sockets.length, 1);
  assert.deepEqual(seen.errors, []);
  await ctx.close();
});

// Page Visibility cannot be switched from outside in headless Chromium (every Playwright
// page stays "visible"), so the tab's visibility is set at the page's edge, as a clock is
// faked: document.hidden and visibilityState answer what the test says, and the browser's
// own visibilitychange event is dispatched.
async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('data-load="visible": the socket opens near the viewport, closes when the tab stays hidden, resumes with since', async () => {
  await seed('c-lazy', 2);
  const { ctx, page, seen, t } = await open({ article: 'c-lazy', attrs: 'data-load=visible data-close-after=0.5', filler: 3000 });
  await page.waitForTimeout(800);
  assert.equal(seen.sockets.length, 0);
  assert.equal(seen.requests.includes('/widget.js'), false);
  await page.mouse.wheel(0, 2900);
  await t.locator('li.c', { hasText: 'Seeded comment number 2.' }).waitFor();
  assert.equal(seen.sockets.length, 1);

  await setHidden(page, true);
  await until(() => seen.sockets[0].closed, 'the socket to close while hidden');
  const w = await Client.connect(srv.wsUrl);
  await w.request({ type: 'post', article: 'c-lazy', name: 'W', title: 'gap', body: 'Posted while the tab was hidden.' });
  await w.close();
  await page.waitForTimeout(300);
  assert.equal(seen.sockets.length, 1, 'no reconnect while hidden');
  assert.equal(await t.getByText('Reconnecting').count(), 0);

  await setHidden(page, false);
  await t.locator('li.c', { hasText: 'Posted while the tab was hidden.' }).waitFor();
  assert.equal(seen.sockets.length, 2);
  const sub = seen.sockets[1].sent.map((s) => JSON.parse(s)).find((m) => m.type === 'subscribe');
  assert.equal(typeof sub.since, 'number', `resumed with since: ${JSON.stringify(sub)}`);
  assert.match(await t.locator('.count').textContent(), /3 comments/);
  assert.deepEqual(seen.errors, []);
  await ctx.close();
});

test('the loader is at most 3 KB gzipped, names the widget by version; caching of loader, widget and counts', async () => {
  const origin = { origin: hostBase };
  const loader = await httpGet(`${srv.base}/embed.js`, origin);
  assert.equal(loader.status, 200);
  const gz = zlib.gzipSync(Buffer.from(loader.body)).length;
  assert.ok(gz <= 3072, `embed.js is ${gz} bytes gzipped`);
  assert.equal(loader.headers['access-control-allow-origin'], hostBase);
  assert.match(loader.headers['cache-control'], /max-age=300/);
  const v = /\/widget\.js\?v=([0-9a-f]{16})'/.exec(loader.body)[1];
  assert.equal((await httpGet(`${srv.base}/embed.js`, { 'if-none-match': loader.headers.etag })).status, 304);

  const widget = await httpGet(`${srv.base}/widget.js?v=${v}`, origin);
  assert.equal(widget.status, 200);
  assert.equal(widget.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(widget.headers.etag, `"${v}"`);
  const wgz = zlib.gzipSync(Buffer.from(widget.body)).length;
  assert.ok(wgz < 30 * 1024, `widget.js is ${wgz} bytes gzipped`);
  // an old version's URL is not cached for a year with today's file
  const stale = await httpGet(`${srv.base}/widget.js?v=0123456789abcdef`);
  assert.doesNotMatch(stale.headers['cache-control'], /immutable/);

  const counts = await httpGet(`${srv.base}/api/counts?article=c-news&article=c-none`, origin);
  assert.equal(counts.status, 200);
  assert.deepEqual(JSON.parse(counts.body), { 'c-news': 3, 'c-none': 0 });
  assert.equal(counts.headers['cache-control'], 'public, max-age=10, stale-while-revalidate=30');
  assert.equal(counts.headers['access-control-allow-origin'], hostBase);
  assert.match(counts.headers.etag, /^"[0-9a-f]{16}"$/);
  const again = await httpGet(`${srv.base}/api/counts?article=c-news&article=c-none`, { 'if-none-match': counts.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  const other = await httpGet(`${srv.base}/api/counts?article=c-lazy`, { 'if-none-match': counts.headers.etag });
  assert.equal(other.status, 200);
  // a foreign origin gets no CORS grant; bad input a typed error
  assert.equal((await httpGet(`${srv.base}/api/counts?article=c-news`, { origin: 'http://evil.example' }))
    .headers['access-control-allow-origin'], undefined);
  const bad = await httpGet(`${srv.base}/api/counts?article=${'x'.repeat(300)}&view=1`);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /article=ID/);
});
