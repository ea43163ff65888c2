// The widget links its article's Atom feed (issue 15): real Chromium, real server. The
// link is found in the widget, followed, and the feed it gives has the comment posted.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { parseFeed } = require('@rowanmanning/feed-parser');
const { startServer, Client, relaxedConfig, httpGet } = require('../lib/server.js');
const { launch } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

test('the widget shows a link to its article feed, and the feed has the thread', async () => {
  const c = await Client.connect(srv.wsUrl);
  const ack = await c.request({ type: 'post', article: 'feed/linked-1', name: 'Ann', title: 'In the feed',
    body: 'This comment should be in the feed.' });
  assert.equal(ack.type, 'ack');
  c.close();
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${srv.base}/demo/?${new URLSearchParams({ article: 'feed/linked-1' })}`);
  const t = page.locator('#parley-thread');
  await t.locator('h2', { hasText: 'Discussion' }).waitFor();
  const link = t.locator('a.feed');
  assert.equal(await link.textContent(), 'Feed');
  assert.equal(await link.getAttribute('type'), 'application/atom+xml');
  const href = await link.getAttribute('href');
  assert.equal(href, `${srv.base}/api/feed?article=feed%2Flinked-1`);
  const r = await httpGet(href);
  assert.equal(r.status, 200);
  const feed = parseFeed(r.body);
  assert.deepEqual(feed.items.map((i) => i.title), ['In the feed']);
});
