// The console's new parts in Chromium against the real server (issue 16): the Refused
// queue (a refused post arrives live, Approve rescues it onto a reader's page), rule
// explanations tied to their highlights, readers' report reasons in the list, the Rules
// page, and the audit log as dated sentences.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig, addModerator } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/report_hide_at: \d+/, 'report_hide_at: 0').replace(/trust_proxy: \w+/, 'trust_proxy: true')) });
  addModerator(srv, 'ana', 'console password 1', 'admin');
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function consolePage() {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${srv.base}/console/`);
  await page.locator('#login-name').fill('ana');
  await page.locator('#login-password').fill('console password 1');
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#who', { hasText: 'ana' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#conn').textContent === '');
  return { ctx, page };
}

test('Refused queue: a refused post arrives live, Approve publishes it on a reader\'s page', async () => {
  const { ctx, page } = await consolePage();
  await page.locator('.tabs button[data-queue=refused]').click();
  const rctx = await browser.newContext();
  const reader = await rctx.newPage();
  await reader.goto(`${srv.base}/demo/?article=open-refused`);
  const thread = reader.locator('#parley-thread');
  await thread.getByText('Be the first').waitFor();

  const author = await Client.connect(srv.wsUrl);
  const body = 'Buy followers and make money fast: check out my channel http://bit.ly/x';
  const r = await author.request({ type: 'post', article: 'open-refused', name: 'Seller', title: 'Deal', body });
  assert.equal(r.code, 'rejected');
  await page.locator('[data-count=refused]', { hasText: '1' }).waitFor();
  const items = page.locator('#items li');
  await items.first().waitFor();
  await items.first().click();
  await page.locator('#detail', { hasText: 'REFUSED' }).waitFor();
  // each highlight names its rule, and hovering a rule lights its own marks
  const mark = page.locator('#detail mark[data-rule=links]').first();
  await mark.waitFor();
  assert.equal(await mark.getAttribute('title'), 'links');
  await page.locator('#detail li[data-rule=links]').hover();
  await page.locator('#detail mark.lit[data-rule=links]').first().waitFor();
  assert.equal(await page.locator('#detail mark.lit:not([data-rule=links])').count(), 0);
  await screenshot(page, 'console-refused');
  // "All pending" does not mix refused posts in
  await page.locator('.tabs button[data-queue=all]').click();
  await page.locator('#empty').waitFor();
  await page.locator('.tabs button[data-queue=refused]').click();
  await items.first().click();
  await page.locator('#items').focus();
  await page.keyboard.press('a');
  await thread.locator('li.c', { hasText: 'Buy followers' }).waitFor();
  await page.locator('[data-count=refused]', { hasText: '0' }).waitFor();
  assert.deepEqual(page.errors, []);
  author.close();
  await rctx.close(); await ctx.close();
});

test('report reasons in the list, rule scores explained, the Rules page and the audit log', async () => {
  const { ctx, page } = await consolePage();
  const author = await Client.connect(srv.wsUrl);
  // insults in the title and the body: the rule counts once; the second reads +0 with why
  const ack = await author.request({ type: 'post', article: 'premod-expl', name: 'Rude', title: 'You idiot',
    body: 'What an idiot you are' });
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  // a published comment reported by two readers
  const pub = await author.request({ type: 'post', article: 'open-expl', name: 'Rude', title: 'Hello', body: 'A plain comment' });
  for (const reason of ['spam', 'abuse']) {
    const rd = await Client.connect(srv.wsUrl, { headers: { 'x-forwarded-for': reason } });
    const rr = await rd.request({ type: 'report', comment: pub.comment.id, reason });
    assert.notEqual(rr.type, 'error', JSON.stringify(rr));
    rd.close();
  }
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#conn').textContent === '');
  const reported = page.locator(`#item-${pub.comment.id} .reasons`);
  await reported.waitFor();
  assert.match(await reported.textContent(), /2 reports: (spam, abuse|abuse, spam)/);
  await page.locator(`#item-${ack.comment.id}`).click();
  const rules = page.locator('#detail ul.rules');
  await rules.waitFor();
  assert.match(await rules.textContent(), /insults \+\d+.* in title/);
  assert.match(await rules.textContent(), /insults \+0 \(a rule counts once: its score was added in title\) in body/);
  // decide it, then see the Rules page and the audit log
  await page.locator('#items').focus();
  await page.keyboard.press('a');
  await page.locator(`#item-${ack.comment.id}`).waitFor({ state: 'detached' });
  await page.locator('.tabs button[data-view=rules]').click();
  const row = page.locator('#rules-table tr[data-rule=insults]');
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[0], 'insults');
  assert.ok(Number(cells[1]) >= 1, cells.join('|'));
  assert.match(cells[3], /^1 \(\d+%\)$/, 'held, then approved');
  await screenshot(page, 'console-rules');
  await page.locator('.tabs button[data-view=audit]').click();
  const sentence = page.locator('#audit td.sentence').first();
  await sentence.waitFor();
  const text = await sentence.textContent();
  assert.match(text, new RegExp(`^ana approved comment #${ack.comment.id} \\(it was pending\\), .*\\d{4}.*\\.$`));
  assert.doesNotMatch(await page.locator('#audit').textContent(), /\{"|\d{13}/, 'no raw JSON or epoch milliseconds');
  await screenshot(page, 'console-audit');
  assert.deepEqual(page.errors, []);
  author.close();
  await ctx.close();
});
