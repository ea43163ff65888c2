// The admins' view of the webhook outbox in the console (issue 14), in Chromium against
// the real server: an endpoint that is down shows as waiting with its last error; a
// moderator who is not an admin has no such tab.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig, addModerator, freePort } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  const deadPort = await freePort(); // nothing listens there
  srv = await startServer({ configText: relaxedConfig() + `
webhooks:
  - url: "http://127.0.0.1:${deadPort}/hook"
    secret: "console-test-secret-123"
    events: ["comment.published"]
notifications:
  retry_initial_ms: 200
  retry_max_ms: 1000
` });
  addModerator(srv, 'ana', 'console password 1', 'admin');
  addModerator(srv, 'milo', 'console password 2', 'moderator');
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function consolePage(name, password) {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${srv.base}/console/`);
  await page.locator('#login-name').fill(name);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#who', { hasText: name }).waitFor();
  return { ctx, page };
}

test('an admin sees the backlog and the failing delivery; a moderator has no tab', async () => {
  const c = await Client.connect(srv.wsUrl);
  const ack = await c.request({ type: 'post', article: 'hooks-console', name: 'Reader', title: 'Hello', body: 'A comment nobody can receive.' });
  assert.equal(ack.comment.status, 'published');
  await c.close();
  const { ctx, page } = await consolePage('ana', 'console password 1');
  const tab = page.getByRole('tab', { name: 'Webhooks' });
  // the first attempt fails at once (connection refused); wait until it is recorded
  for (let i = 0; ; i++) {
    await tab.click();
    await page.locator('#webhooks').waitFor();
    if (await page.locator('#webhooks tbody tr').count() > 0) break;
    assert.ok(i < 50, 'a failure row appears');
    await page.waitForTimeout(100);
  }
  await page.locator('#webhooks-summary', { hasText: '1 waiting' }).waitFor();
  const row = page.locator('#webhooks tbody tr').first();
  assert.match(await row.textContent(), /comment\.published/);
  assert.match(await row.textContent(), /Couldn't connect|Connection refused/);
  assert.match(await row.textContent(), /pending/);
  await screenshot(page, 'console-webhooks');
  assert.deepEqual(page.errors, []);
  await ctx.close();

  const mod = await consolePage('milo', 'console password 2');
  assert.equal(await mod.page.getByRole('tab', { name: 'Webhooks' }).isVisible(), false);
  await mod.ctx.close();
});
