// Readers' data in the console (issue 15): an admin exports a reader's data as a JSON
// download and erases the reader; a moderator sees neither button. Real Chromium, real
// server, the database checked afterwards.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, Client, relaxedConfig, addModerator } = require('../lib/server.js');
const { launch } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  addModerator(srv, 'ada', 'console password 1', 'admin');
  addModerator(srv, 'max', 'console password 2', 'moderator');
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function consolePage(name, password) {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 }, acceptDownloads: true });
  const page = await ctx.newPage();
  await page.goto(`${srv.base}/console/`);
  await page.locator('#login-name').fill(name);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#who', { hasText: name }).waitFor();
  await page.waitForFunction(() => document.querySelector('#conn').textContent === '');
  return { ctx, page };
}

test('an admin exports then erases a reader from the console', async () => {
  const author = await Client.connect(srv.wsUrl);
  await author.request({ type: 'hello', guest_key: 'console-reader-key-0123456789' });
  const ack = await author.request({ type: 'post', article: 'premod-gdpr', name: 'Quentin Private',
    title: 'Held for review', body: 'Quentin wants this forgotten later.' });
  assert.equal(ack.comment.status, 'pending');
  author.close();

  const mod = await consolePage('max', 'console password 2');
  await mod.page.locator(`#item-${ack.comment.id}`).click();
  await mod.page.locator('#detail', { hasText: 'Quentin Private' }).waitFor();
  assert.equal(await mod.page.locator('#reader-export').count(), 0, 'moderators do not get the buttons');
  await mod.ctx.close();

  const { ctx, page } = await consolePage('ada', 'console password 1');
  await page.locator(`#item-${ack.comment.id}`).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#reader-export').click()]);
  const data = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(data.reader, ack.comment.author.id);
  assert.equal(data.comments[0].body, 'Quentin wants this forgotten later.');

  await page.locator('#reader-erase').click();
  await page.locator('#ask-text').fill('ERASE');
  await page.locator('#ask-ok').click();
  await page.locator('#live', { hasText: 'Reader erased: 1 comments' }).waitFor();
  await page.locator(`#item-${ack.comment.id}`).waitFor({ state: 'detached' });
  await ctx.close();

  const db = path.join(srv.dir, 'data', 'parley.db');
  const dump = spawnSync('sqlite3', [db, 'SELECT * FROM comments; SELECT * FROM audit;'], { encoding: 'utf8' }).stdout;
  assert.ok(!dump.includes('Quentin'));
  assert.ok(!dump.includes(ack.comment.author.id));
  assert.match(dump, /ada\|reader\.erase\|reader:erased/);
});
