// The embedded widget in Debian's Chromium against the real server (issue 5).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt, addModerator, login, consoleClient } = require('../lib/server.js');
const { launch, screenshot } = require('../lib/browser.js');

const secret = crypto.randomBytes(32);
let srv, browser;

// The repo's config with a signing key, a rule that refuses a marker word, and optionally
// guests turned off.
function widgetConfig({ guests = true } = {}) {
  return relaxedConfig((t) => t
    .replace(/identity:\n  guests: true[^\n]*\n/,
      `identity:\n  guests: ${guests}\n  self_service: true\n  keys:\n    - {id: site, alg: HS256, secret: "${secret.toString('base64')}"}\n`)
    .replace(/^rules:\n/m, "rules:\n  - name: test-refuse\n    kind: pattern\n    pattern: 'zzrefuseme'\n" +
      '    action: reject\n    description: Refuses a marker word, for the widget tests.\n\n'));
}

before(async () => {
  srv = await startServer({ configText: widgetConfig() });
  addModerator(srv, 'mia', 'widget test password', 'moderator');
  browser = await launch();
});
after(async () => { await browser.close(); await srv.stop(); srv.cleanup(); });

async function open(article, { dark = false, token, server = srv, width = 420 } = {}) {
  const ctx = await browser.newContext({ colorScheme: dark ? 'dark' : 'light', viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const q = new URLSearchParams({ article });
  if (token) q.set('token', token);
  await page.goto(`${server.base}/demo/?${q}`);
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
  await screenshot(a.page, 'demo-mobile-light');
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

test('a server restart: the widget says so, reconnects with back-off and resumes', async () => {
  let one = await startServer({ configText: widgetConfig() });
  const { port, dir, config } = one;
  let two;
  try {
    const { ctx, t } = await open('w-restart', { server: one });
    const w1 = await Client.connect(one.wsUrl);
    await w1.request({ type: 'post', article: 'w-restart', name: 'W', title: 'a', body: 'before the restart' });
    await comment(t, 'before the restart').waitFor();
    await one.stop();
    await t.getByText('Reconnecting…').waitFor();
    two = await startServer({ port, dataDir: dir, config });
    const w2 = await Client.connect(two.wsUrl);
    await w2.request({ type: 'post', article: 'w-restart', name: 'W', title: 'b', body: 'after the restart' });
    await comment(t, 'after the restart').waitFor({ timeout: 20000 });
    await t.getByText('Reconnecting…').waitFor({ state: 'hidden' });
    assert.equal(await t.locator('li.c').count(), 2);
    assert.match(await t.locator('.count').textContent(), /^2 comments$/);
    w2.close();
    await ctx.close();
  } finally {
    if (two) await two.stop();
    one.cleanup();
  }
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

test('a signed-in reader downloads, then deletes their data from the widget', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tok = signJwt({ sub: 'w-self', name: 'Selma Self', exp: now + 600 }, { secret });
  const guest = await open('w-self');
  assert.equal(await guest.t.getByRole('button', { name: 'Download my data' }).isVisible(), false, 'not for guests');
  await guest.ctx.close();
  const a = await open('w-self', { token: tok });
  await a.t.getByText('Signed in as Selma Self').waitFor();
  await postVia(a.t, { name: null, title: 'Mine', body: 'Selma wrote this and may delete it.' });
  await comment(a.t, 'Selma wrote this and may delete it.').waitFor();
  const [download] = await Promise.all([a.page.waitForEvent('download'),
    a.t.getByRole('button', { name: 'Download my data' }).click()]);
  const file = await download.path();
  const data = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
  assert.ok(JSON.stringify(data).includes('Selma wrote this and may delete it.'), 'the download holds my comment');
  a.page.once('dialog', (d) => d.accept());
  await a.t.getByRole('button', { name: 'Delete my data' }).click();
  await a.t.getByText('Your data was deleted.').waitFor();
  const fresh = await open('w-self');
  await fresh.page.waitForTimeout(500);
  assert.equal(await fresh.t.getByText('Selma wrote this and may delete it.').count(), 0, 'the text is gone for everyone');
  await a.ctx.close(); await fresh.ctx.close();
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
  await screenshot(page, 'demo-mobile-dark');
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

// What the page counts is what the server stores: white space it trims (and the BOM it
// keeps), CR LF, blank-line runs and trailing spaces, combining marks.
test('the counters count exactly as the server cleans text', async () => {
  const { ctx, t } = await open('w-textrules');
  const cases = [
    { title: '\u00a0\u2003Heat\u3000', body: '  One   \r\n\r\n\r\n\r\n\r\n \t \nTwo\u00a0 \u2028' },
    { title: '\ufeffBOM kept', body: 'cafe\u0301 e\u0301te\u0301\n\n\n\n\n\n\nend' },
  ];
  await t.locator('input[name=name]').fill('Counter');
  for (const c of cases) {
    await t.locator('input[name=title]').fill(c.title);
    await t.locator('textarea[name=body]').fill(c.body);
    const tc = +(await t.locator('[data-counter=title]').textContent()).split('/')[0];
    const bc = +(await t.locator('[data-counter=body]').textContent()).split('/')[0];
    await t.locator('button[type=submit]').click();
    const li = t.locator('li.c').last();
    await li.locator('.ctitle', { hasText: c.title.trim().replace('\ufeff', '') }).waitFor();
    assert.equal([...await li.locator('.ctitle').textContent()].length, tc, JSON.stringify(c.title));
    assert.equal([...await li.locator('.cbody').textContent()].length, bc, JSON.stringify(c.body));
  }
  // at the limit after blank-line folding: what the counter allows, the server takes whole
  await t.locator('input[name=title]').fill('Long one');
  await t.locator('textarea[name=body]').fill('a'.repeat(990) + '\n'.repeat(8) + 'b'.repeat(20));
  assert.equal(await t.locator('[data-counter=body]').textContent(), '1000/1000');
  await t.locator('button[type=submit]').click();
  const body = await t.locator('li.c', { hasText: 'Long one' }).locator('.cbody').textContent();
  assert.equal([...body].length, 1000);
  assert.equal(body, 'a'.repeat(990) + '\n\n\n' + 'b'.repeat(7));
  // typing at the limit inserts nothing, even in the middle
  const title = t.locator('input[name=title]');
  await title.fill('y'.repeat(100));
  await title.press('Home');
  await title.press('z');
  assert.equal(await title.inputValue(), 'y'.repeat(100));
  await ctx.close();
});

test('edit and delete own comments, live for the other reader', async () => {
  const a = await open('w-edit'), b = await open('w-edit');
  await postVia(a.t, { title: 'Draft', body: 'Original wording.' });
  const theirs = comment(b.t, 'Original wording.');
  await theirs.waitFor();
  const mine = comment(a.t, 'Original wording.');
  assert.equal(await mine.getByRole('button', { name: 'Report', exact: true }).count(), 0, 'no report of your own');
  assert.equal(await theirs.getByRole('button', { name: 'Edit' }).count(), 0, 'no edit of others');
  await mine.getByRole('button', { name: 'Edit' }).click();
  await mine.locator('input[name=edit-title]').fill('Revised');
  await mine.locator('textarea[name=edit-body]').fill('Better wording.');
  await mine.getByRole('button', { name: 'Save' }).click();
  const edited = comment(b.t, 'Better wording.');
  await edited.locator('.badge', { hasText: 'edited' }).waitFor();
  assert.equal(await edited.locator('.ctitle').textContent(), 'Revised');
  assert.match(await b.t.locator('.count').textContent(), /^1 comment$/);
  await comment(a.t, 'Better wording.').getByRole('button', { name: 'Delete' }).click();
  await a.t.locator('[data-confirm=delete]').click();
  await comment(b.t, 'Better wording.').waitFor({ state: 'detached' });
  await comment(a.t, 'Better wording.').waitFor({ state: 'detached' });
  assert.match(await b.t.locator('.count').textContent(), /^0 comments$/);
  await b.t.getByText('Be the first to share your thoughts.').waitFor();
  await a.ctx.close(); await b.ctx.close();
});

test('report with a reason reaches the moderators', async () => {
  const writer = await Client.connect(srv.wsUrl);
  const ack = await writer.request({ type: 'post', article: 'w-report', name: 'Rex', title: 'Off course', body: 'Something about football.' });
  const { ctx, t } = await open('w-report');
  const li = comment(t, 'football');
  await li.getByRole('button', { name: 'Report' }).click();
  await li.locator('select[name=reason]').selectOption('off_topic');
  await li.locator('input[name=note]').fill('Not about heat pumps');
  await li.getByRole('button', { name: 'Send report' }).click();
  await li.getByText('Thank you, a moderator will look at it.').waitFor();
  assert.equal(await li.getByRole('button', { name: 'Report', exact: true }).count(), 0);
  const mod = await consoleClient(srv, await login(srv, 'mia', 'widget test password'));
  const q = await mod.request({ type: 'mod.queue', queue: 'reported' });
  const item = q.items.find((i) => i.comment.id === ack.comment.id);
  assert.ok(item, 'the report is in the queue');
  assert.deepEqual(item.reports.map((r) => [r.reason, r.note]), [['off_topic', 'Not about heat pumps']]);
  mod.close(); writer.close();
  await ctx.close();
});

test('load older, and replies find their thread when their parent arrives', async () => {
  const w = await Client.connect(srv.wsUrl);
  const post = async (m) => (await w.request({ type: 'post', article: 'w-older', name: 'Pat', title: 'T', ...m })).comment;
  const first = await post({ body: 'The very first comment.' });
  for (let i = 1; i < 55; i++) await post({ body: `Comment number ${i}.` });
  const reply = await post({ parent: first.id, title: '', body: 'A reply to the first.' });
  await post({ parent: reply.id, title: '', body: 'A reply to the reply.' });
  const { ctx, t } = await open('w-older');
  await t.locator('.cbody', { hasText: 'A reply to the reply.' }).waitFor();
  assert.match(await t.locator('.count').textContent(), /^57 comments$/);
  assert.equal(await t.locator('li.c').count(), 50);
  assert.equal(await comment(t, 'The very first comment.').count(), 0);
  await t.getByRole('button', { name: 'Load older comments' }).click();
  const top = t.locator(`li.c[data-id="${first.id}"]`);
  await top.waitFor();
  assert.equal(await t.locator('li.c').count(), 57);
  assert.equal(await top.locator('ol.replies > li.c').count(), 2, 'both replies under the first, one level deep');
  await top.locator('ol.replies li.c', { hasText: 'A reply to the reply.' }).getByText('in reply to Pat').waitFor();
  assert.equal(await t.getByRole('button', { name: 'Load older comments' }).isVisible(), false);
  assert.match(await t.locator('.count').textContent(), /^57 comments$/);
  w.close();
  await ctx.close();
});

test('comments arriving off screen show an "N new comments" pill', async () => {
  const { ctx, page, t } = await open('w-pill');
  await t.getByText('Be the first to share your thoughts.').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  const w = await Client.connect(srv.wsUrl);
  await w.request({ type: 'post', article: 'w-pill', name: 'Nia', title: 'One', body: 'First live one.' });
  const pill = t.locator('button.pill');
  await pill.filter({ hasText: '1 new comment' }).waitFor();
  await w.request({ type: 'post', article: 'w-pill', name: 'Nia', title: 'Two', body: 'Second live one.' });
  await pill.filter({ hasText: '2 new comments' }).waitFor();
  await pill.click();
  await pill.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => {
    const li = document.querySelector('#parley-thread').shadowRoot.querySelector('li.c');
    const r = li.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight;
  });
  w.close();
  await ctx.close();
});

test('moderators approve and reject held posts; the rules refuse with a reason', async () => {
  const a = await open('premod-decide'), b = await open('premod-decide');
  await postVia(a.t, { title: 'Approve me', body: 'A fair point about insulation.' });
  await comment(a.t, 'insulation').getByText('awaiting review').waitFor();
  await postVia(a.t, { title: 'Reject me', body: 'A point the moderator will not take.' });
  await comment(a.t, 'will not take').getByText('awaiting review').waitFor();
  const mod = await consoleClient(srv, await login(srv, 'mia', 'widget test password'));
  const held = (await mod.request({ type: 'mod.queue', queue: 'held' })).items.filter((i) => i.comment.article === 'premod-decide');
  const id = (text) => held.find((i) => i.comment.body.includes(text)).comment.id;
  assert.equal((await mod.request({ type: 'mod.approve', comment: id('insulation') })).type, 'mod.ok');
  await comment(b.t, 'A fair point about insulation.').waitFor();
  await a.t.locator('.count', { hasText: '1 comment' }).waitFor();
  assert.equal(await comment(a.t, 'insulation').getByText('awaiting review').count(), 0);
  assert.equal((await mod.request({ type: 'mod.reject', comment: id('will not take'), reason: 'Off topic here' })).type, 'mod.ok');
  await comment(a.t, 'will not take').getByText('not published: Off topic here').waitFor();
  assert.equal(await comment(b.t, 'will not take').count(), 0);
  mod.close();
  // refused by the rules: nothing is stored and the author reads why
  await postVia(b.t, { name: 'Bo', title: 'Spam', body: 'buy zzrefuseme now' });
  await b.t.getByRole('alert').filter({ hasText: /^not published: .+/ }).waitFor();
  assert.equal(await comment(b.t, 'zzrefuseme').count(), 0);
  await a.ctx.close(); await b.ctx.close();
});

test('without guests the form asks to sign in; Parley.setToken signs the reader in', async () => {
  const closed = await startServer({ configText: widgetConfig({ guests: false }) });
  try {
    const { ctx, page, t } = await open('w-members', { server: closed });
    await t.getByText('Sign in to join the discussion.').waitFor();
    assert.equal(await t.locator('form').isVisible(), false);
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt({ sub: 'm-1', name: 'Member Mo', exp: now + 600 }, { secret, kid: 'site' });
    await page.evaluate((tok) => window.Parley.setToken(tok), token);
    await t.getByText('Signed in as Member Mo').waitFor();
    assert.equal(await t.getByText('Sign in to join the discussion.').isVisible(), false);
    await postVia(t, { name: null, title: 'Members only', body: 'Posted after signing in.' });
    assert.equal(await comment(t, 'Posted after signing in.').locator('.author').textContent(), 'Member Mo');
    assert.deepEqual(page.errors, []);
    await ctx.close();
  } finally { await closed.stop(); closed.cleanup(); }
});

// The demo page as a reviewer sees it, light and dark, with a lived-in thread.
test('screenshots of the demo page, light and dark', async () => {
  const say = async (name, m) => {
    const c = await Client.connect(srv.wsUrl);
    const r = await c.request({ type: 'post', article: 'demo-shots', name, title: '', ...m });
    c.close();
    return r.comment;
  };
  const top = await say('Marta K.', { title: 'Installers are the bottleneck', body: 'We waited eleven weeks for a fitter last spring. Training places matter more than another round of grants.' });
  const re = await say('Jonas', { parent: top.id, body: 'Same here. The grid connection took longer than the install itself.' });
  await say('Marta K.', { parent: re.id, body: 'Which city? Ours publishes the queue monthly now, which at least helps planning.' });
  await say('Priya', { title: 'Tariffs decide it', body: 'If the electricity price stays where it is, flats with poor insulation will pay more than with gas.\n\nThe subsidy does not fix that.' });
  for (const dark of [false, true]) {
    const { ctx, page, t } = await open('demo-shots', { dark, width: 1100 });
    await comment(t, 'Tariffs decide it').waitFor();
    if (!dark) {
      await postVia(t, { name: 'Sam', title: 'Held for review', body: 'Pending posts show to their author only.' });
      await comment(t, 'Pending posts').waitFor();
    }
    await page.waitForTimeout(2100); // the highlight of new comments fades
    await screenshot(page, dark ? 'demo-dark' : 'demo-light');
    await ctx.close();
  }
});
