// The moderators' console in Chromium against the real server (issue 4): sign in, a held
// post arrives live, approve with the keyboard and see it on a reader's page, remove it
// and see it vanish there, and two consoles agree.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig, addModerator } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
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
  await page.locator('#conn').waitFor({ state: 'attached' });
  await page.waitForFunction(() => document.querySelector('#conn').textContent === '');
  return { ctx, page };
}

test('login page: wrong password is refused with a message', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${srv.base}/console/`);
  await page.locator('#login-name').fill('ana');
  await page.locator('#login-password').fill('nope');
  await page.locator('#login-form button[type=submit]').click();
  await page.getByText('Wrong name or password.').waitFor();
  await screenshot(page, 'console-login');
  await ctx.close();
});

test('held post arrives live, approved with "a", appears on a reader page; removed live', async () => {
  const { ctx, page } = await consolePage('ana', 'console password 1');
  const other = await consolePage('milo', 'console password 2');
  // a reader's page on a pre-moderated article
  const rctx = await browser.newContext();
  const reader = await rctx.newPage();
  await reader.goto(`${srv.base}/demo/?article=premod-console`);
  const thread = reader.locator('#parley-thread');
  await thread.getByText('Be the first').waitFor();

  const author = await Client.connect(srv.wsUrl);
  const ack = await author.request({ type: 'post', article: 'premod-console', name: 'Polly',
    title: 'Worth a look', body: 'Please check my page, it is about heat pumps.' });
  assert.equal(ack.comment.status, 'pending');
  const item = page.locator(`#item-${ack.comment.id}`);
  await item.waitFor();                                   // live, no reload
  await other.page.locator(`#item-${ack.comment.id}`).waitFor();
  await item.click();
  await page.locator('#detail mark').first().waitFor();   // the rules' spans are highlighted
  await page.locator('#detail', { hasText: 'self-promotion' }).waitFor();
  await page.keyboard.press('?');
  await page.locator('#help').waitFor();
  await screenshot(page, 'console-help');
  await page.keyboard.press('Escape');
  await screenshot(page, 'console-queue');
  await page.locator('#items').focus();
  await page.keyboard.press('a');
  await item.waitFor({ state: 'detached' });
  await other.page.locator(`#item-${ack.comment.id}`).waitFor({ state: 'detached' }); // left the other console too
  await thread.locator('li.c', { hasText: 'heat pumps' }).waitFor();                 // on the reader's page

  // remove it from the console's search, and it vanishes from the reader's page
  await page.locator('.tabs button[data-view=search]').click();
  await page.locator('#search-text').fill('heat pumps');
  await page.locator('#search-form button').click();
  await page.locator(`#item-${ack.comment.id}`).click();
  await page.locator('#items').focus();
  await page.keyboard.press('d');
  await page.locator('#ask').waitFor();
  await page.locator('#ask-picks button', { hasText: 'Off topic' }).click();
  await thread.locator('li.c', { hasText: 'heat pumps' }).waitFor({ state: 'detached' });

  assert.deepEqual(page.errors, []);
  author.close();
  await rctx.close(); await ctx.close(); await other.ctx.close();
});

test('two consoles: one rejects, the item leaves the other at once; undo brings it back', async () => {
  const a = await consolePage('ana', 'console password 1');
  const b = await consolePage('milo', 'console password 2');
  const author = await Client.connect(srv.wsUrl);
  const ack = await author.request({ type: 'post', article: 'premod-two', name: 'Sam', title: 'Second', body: 'Another post to review.' });
  await a.page.locator(`#item-${ack.comment.id}`).click();
  await b.page.locator(`#item-${ack.comment.id}`).waitFor();
  await a.page.locator('#items').focus();
  await a.page.keyboard.press('r');
  await a.page.locator('#ask-picks button', { hasText: 'Spam' }).click();
  await b.page.locator(`#item-${ack.comment.id}`).waitFor({ state: 'detached' });
  const dec = await author.next('decision');
  assert.equal(dec.comment.status, 'rejected');
  assert.equal(dec.comment.reason, 'Spam');
  await a.page.keyboard.press('u');
  await b.page.locator(`#item-${ack.comment.id}`).waitFor();
  author.close();
  await a.ctx.close(); await b.ctx.close();
});
