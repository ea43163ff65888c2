// The widget's post nonce (issue 12) in Chromium against the real server: every post
// carries a fresh nonce, and a post whose connection drops after the server stored it,
// before the ack arrives, is sent again with the same nonce after the reconnect and
// stored once. The drop is made by routing the page's WebSocket through Playwright and
// closing it instead of forwarding the ack.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer, relaxedConfig } = require('../lib/server.js');
const { launch } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

const sql = (q) => execFileSync('sqlite3', [path.join(srv.dir, 'data', 'parley.db'), q], { encoding: 'utf8' }).trim();

// Opens the demo page with its WebSocket routed through onSocket(page side, server side,
// sent frames); returns the page and the thread.
async function open(article, drop) {
  const ctx = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const posts = [];
  let dropped = false;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'post') posts.push(msg);
      server.send(m);
    });
    server.onMessage((m) => {
      const msg = JSON.parse(m);
      // the first post's ack never arrives: the connection dies after the commit
      if (drop && !dropped && msg.type === 'ack') {
        dropped = true;
        ws.close({ code: 1006 });
        server.close();
        return;
      }
      ws.send(m);
    });
  });
  await page.goto(`${srv.base}/demo/?${new URLSearchParams({ article })}`);
  const t = page.locator('#parley-thread');
  await t.locator('h2', { hasText: 'Discussion' }).waitFor();
  return { ctx, page, t, posts, errors, wasDropped: () => dropped };
}

async function postVia(t, title, body) {
  await t.locator('input[name=name]').fill('Nonce Reader');
  await t.locator('input[name=title]').fill(title);
  await t.locator('textarea[name=body]').fill(body);
  await t.locator('button[type=submit]').click();
}

test('each post carries a fresh nonce', async () => {
  const { ctx, t, posts, errors } = await open('wn-fresh', false);
  await postVia(t, 'First', 'The first of two posts.');
  await t.locator('li.c', { hasText: 'The first of two posts.' }).waitFor();
  await postVia(t, 'Second', 'The second of two posts.');
  await t.locator('li.c', { hasText: 'The second of two posts.' }).waitFor();
  assert.equal(posts.length, 2);
  for (const p of posts) assert.match(p.nonce, /^[0-9a-f]{32}$/);
  assert.notEqual(posts[0].nonce, posts[1].nonce);
  assert.equal(sql("SELECT COUNT(DISTINCT nonce) FROM comments WHERE article = 'wn-fresh'"), '2');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a post whose ack is lost with the connection is sent again with its nonce and stored once', async () => {
  const { ctx, t, posts, errors, wasDropped } = await open('wn-drop', true);
  await postVia(t, 'Lost ack', 'Stored, but the ack never came back.');
  // the widget reconnects, resumes, sends the post again and gets the first comment's ack
  await t.locator('li.c', { hasText: 'Stored, but the ack never came back.' }).waitFor({ timeout: 20000 });
  await t.locator('button[type=submit]:not([disabled])').waitFor({ timeout: 20000 });
  assert.ok(wasDropped(), 'the first ack was dropped');
  assert.equal(posts.length, 2, 'sent twice');
  assert.equal(posts[1].nonce, posts[0].nonce, 'with the same nonce');
  assert.equal(sql("SELECT COUNT(*) FROM comments WHERE article = 'wn-drop'"), '1', 'stored once');
  assert.equal(await t.locator('li.c').count(), 1, 'shown once');
  assert.equal(await t.locator('textarea[name=body]').inputValue(), '', 'the form is cleared by the ack');
  assert.deepEqual(errors, []);
  await ctx.close();
});
