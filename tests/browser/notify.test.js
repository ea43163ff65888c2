// "Replies to you" in the widget (issue 14), in Chromium against the real server: a
// reader who comes back sees how many replies they got, opens the list and jumps to one
// (older pages load until it is there), and a new reply counts up live.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

let srv, browser;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function open(ctx, article) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${srv.base}/demo/?article=${article}`);
  const t = page.locator('#parley-thread');
  await t.locator('h2', { hasText: 'Discussion' }).waitFor();
  return { page, t };
}

test('coming back: "2 replies to you", jump to one on an older page, live count', async () => {
  const ctx = await browser.newContext({ viewport: { width: 800, height: 700 } });
  let { page, t } = await open(ctx, 'w-replies');
  await t.locator('input[name=name]').fill('Alice');
  await t.locator('input[name=title]').fill('A question');
  await t.locator('textarea[name=body]').fill('Who else saw the eclipse?');
  await t.locator('button[type=submit]').click();
  const mine = t.locator('li.c', { hasText: 'Who else saw the eclipse?' });
  await mine.waitFor();
  const aliceId = +(await mine.getAttribute('data-id'));
  assert.equal(await t.locator('.replies-btn').isVisible(), false, 'no replies yet');
  await page.close();

  // while she is away: two replies, then enough other comments to push them off the first page
  const bob = await Client.connect(srv.wsUrl);
  await bob.request({ type: 'hello', guest_key: 'bob-browser-guest-key-0001' });
  const r1 = await bob.request({ type: 'post', article: 'w-replies', name: 'Bob', parent: aliceId, body: 'I did, from the roof.' });
  const r2 = await bob.request({ type: 'post', article: 'w-replies', name: 'Bob', parent: aliceId, body: 'Clouds here, sadly.' });
  assert.equal(r2.comment.status, 'published');
  for (let i = 0; i < 55; i++)
    await bob.request({ type: 'post', article: 'w-replies', name: 'Bob', title: `Filler ${i}`, body: `Another topic entirely, number ${i}.` });

  ({ page, t } = await open(ctx, 'w-replies'));
  const btn = t.locator('.replies-btn');
  await btn.filter({ hasText: '2 replies to you' }).waitFor();
  assert.equal(await t.locator('li.c', { hasText: 'I did, from the roof.' }).count(), 0, 'the reply is on an older page');
  await screenshot(page, 'widget-replies-to-you');
  await btn.click();
  const items = t.locator('.replies-to-you li');
  assert.equal(await items.count(), 2);
  assert.match(await items.first().textContent(), /Bob replied: Clouds here, sadly\./);
  assert.match(await btn.textContent(), /Replies to you \(2\)/, 'opened: no longer unread');
  await t.locator(`.replies-to-you button[data-reply="${r1.comment.id}"]`).click();
  const target = t.locator(`li.c[data-id="${r1.comment.id}"]`);
  await target.waitFor();
  await page.waitForFunction((id) => {
    const li = document.querySelector('#parley-thread').shadowRoot.querySelector(`li.c[data-id="${id}"]`);
    const r = li && li.getBoundingClientRect();
    return r && r.top >= 0 && r.bottom <= window.innerHeight;
  }, r1.comment.id);
  assert.ok(await target.evaluate((e) => e.classList.contains('new')), 'the reply is highlighted');

  // live while she is there
  const r3 = await bob.request({ type: 'post', article: 'w-replies', name: 'Bob', parent: aliceId, body: 'One more thought.' });
  await btn.filter({ hasText: '1 reply to you' }).waitFor();
  // a reply to someone else changes nothing
  await bob.request({ type: 'post', article: 'w-replies', name: 'Bob', parent: r3.comment.id, body: 'To myself.' });
  await t.locator('.cbody', { hasText: 'To myself.' }).waitFor();
  assert.match(await btn.textContent(), /1 reply to you/);
  assert.deepEqual(page.errors, []);
  await page.close();

  // what she has looked at stays looked at
  ({ page, t } = await open(ctx, 'w-replies'));
  await t.locator('.replies-btn', { hasText: '1 reply to you' }).waitFor();
  await page.close();
  await bob.close();
  await ctx.close();
});

test('"Email me replies" under one\'s comment: double opt-in from the widget, then stop', async () => {
  const { startSmtp } = require('../lib/smtp.js');
  const { freePort, httpGet } = require('../lib/server.js');
  const smtp = await startSmtp();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const s = await startServer({ port, configText: relaxedConfig((t) => t.replace(/public_url: "[^"]*"/, `public_url: "${base}"`)
    .replace(/origins:\n/, `origins:\n    - "${base}"\n`)) +
    `\nnotifications:\n  poll_ms: 50\n  email_interval_seconds: 1\n  smtp:\n    url: "${smtp.url}"\n    from: "news@example.test"\n    starttls: false\n` });
  const ctx = await browser.newContext({ viewport: { width: 800, height: 900 } });
  try {
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    await page.goto(`${base}/demo/?article=w-mail`);
    const t = page.locator('#parley-thread');
    await t.locator('h2', { hasText: 'Discussion' }).waitFor();
    await t.locator('input[name=name]').fill('Dora');
    await t.locator('input[name=title]').fill('Mail me');
    await t.locator('textarea[name=body]').fill('Tell me when someone answers.');
    await t.locator('button[type=submit]').click();
    const mine = t.locator('li.c', { hasText: 'Tell me when someone answers.' });
    await mine.waitFor();
    const id = +(await mine.getAttribute('data-id'));
    await mine.getByRole('button', { name: 'Email me replies' }).click();
    await mine.locator('input[name=email]').fill('not an address');
    await mine.getByRole('button', { name: 'Send me a confirmation' }).click();
    await mine.getByText('That does not look like an email address.').waitFor();
    await mine.locator('input[name=email]').fill('dora@example.test');
    await mine.getByRole('button', { name: 'Send me a confirmation' }).click();
    await mine.getByText('Check your inbox and confirm to get replies by email.').waitFor();
    await screenshot(page, 'widget-email-pending');
    const [confirm] = await smtp.waitFor((m) => m.length >= 1, 15000, 'confirmation');
    assert.deepEqual(confirm.rcpt_tos, ['dora@example.test']);
    // the page the mails link to is the article page she subscribed from
    assert.equal((await httpGet(/Confirm: (\S+)/.exec(confirm.text)[1])).status, 200);
    await page.reload();
    await t.locator('li.c', { hasText: 'Tell me when someone answers.' }).getByText('Replies are emailed to you').waitFor();

    const bob = await Client.connect(s.wsUrl);
    await bob.request({ type: 'post', article: 'w-mail', name: 'Bob', parent: id, body: 'Here is an answer.' });
    const digest = (await smtp.waitFor((m) => m.length >= 2, 15000, 'digest'))[1];
    assert.ok(digest.text.includes(`Read the discussion: ${base}/demo/?article=w-mail`), digest.text);
    assert.ok(digest.text.includes('Here is an answer.'));

    await t.locator('li.c', { hasText: 'Tell me when someone answers.' }).first().getByRole('button', { name: 'Stop emails' }).first().click();
    await t.locator('li.c', { hasText: 'Tell me when someone answers.' }).first().getByRole('button', { name: 'Email me replies' }).waitFor();
    await bob.request({ type: 'post', article: 'w-mail', name: 'Bob', parent: id, body: 'Nobody mails this.' });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(smtp.messages().length, 2);
    assert.deepEqual(page.errors, []);
    await bob.close();
  } finally {
    await ctx.close();
    await s.stop();
    s.cleanup();
    await smtp.down();
    smtp.cleanup();
  }
});
