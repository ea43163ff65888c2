// /widget.js is no file on disk: the server joins web/widget/text.js, socket.js and
// thread.js in that order (docs/architecture.md, "The widget's parts"), caches the result
// as it caches static files, and names its version in embed.js. The server here serves a
// copy of web/ so that a part can be changed under it.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const { startServer, baseConfig, httpGet, ROOT } = require('../lib/server.js');

const PARTS = ['text.js', 'socket.js', 'thread.js'];
const joined = (dir) => PARTS.map((p) => fs.readFileSync(path.join(dir, 'widget', p), 'utf8')).join('');

let srv, web;
before(async () => {
  web = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-web-'));
  fs.cpSync(path.join(ROOT, 'web'), web, { recursive: true });
  srv = await startServer({ configText: baseConfig((t) => t.replace(/web_root: \S+/, `web_root: ${web}`)) });
});
after(async () => {
  await srv.stop();
  srv.cleanup();
  fs.rmSync(web, { recursive: true, force: true });
});

const loaderVersion = async () => /\/widget\.js\?v=([0-9a-f]{16})'/.exec((await httpGet(`${srv.base}/embed.js`)).body)[1];

test('/widget.js is the parts joined in order, with the version embed.js names', async () => {
  const w = await httpGet(`${srv.base}/widget.js`);
  assert.equal(w.status, 200);
  assert.equal(w.body, joined(web));
  assert.match(w.headers['content-type'], /^text\/javascript/);
  assert.equal(w.headers['cache-control'], 'public, max-age=300');
  assert.match(w.headers['content-security-policy'], /script-src 'self'/);
  const v = await loaderVersion();
  assert.equal(w.headers.etag, `"${v}"`);
  const pinned = await httpGet(`${srv.base}/widget.js?v=${v}`);
  assert.equal(pinned.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await httpGet(`${srv.base}/widget.js`, { 'if-none-match': w.headers.etag })).status, 304);
});

test('the joined parts run as one scope: only window.Parley reaches the page', () => {
  const doc = { currentScript: null, readyState: 'complete', documentElement: {},
    querySelectorAll: () => [], addEventListener() {} };
  const ctx = { window: {}, document: doc, location: { href: 'http://h/', origin: 'http://h' }, URL };
  ctx.window = ctx;
  vm.createContext(ctx);
  const before = new Set(Object.keys(ctx));
  vm.runInContext(joined(path.join(ROOT, 'web')), ctx);
  assert.deepEqual(Object.keys(ctx).filter((k) => !before.has(k)), ['Parley']);
  assert.equal(typeof ctx.Parley.__w.mount, 'function');
  assert.equal(typeof ctx.Parley.setToken, 'function');
});

test('a changed part changes the widget, its ETag and the version in embed.js', async () => {
  const v1 = await loaderVersion();
  const sock = path.join(web, 'widget', 'socket.js');
  fs.appendFileSync(sock, '  // changed\n');
  const w = await httpGet(`${srv.base}/widget.js`);
  assert.equal(w.body, joined(web));
  assert.match(w.body, /\/\/ changed\n/);
  const v2 = await loaderVersion();
  assert.notEqual(v2, v1);
  assert.equal(w.headers.etag, `"${v2}"`);
  // the old version's URL is no longer cached for a year
  assert.doesNotMatch((await httpGet(`${srv.base}/widget.js?v=${v1}`)).headers['cache-control'], /immutable/);
});

test('a missing part: /widget.js is 404 and the server stays up', async () => {
  fs.rmSync(path.join(web, 'widget', 'thread.js'));
  assert.equal((await httpGet(`${srv.base}/widget.js`)).status, 404);
  assert.equal((await httpGet(`${srv.base}/embed.js`)).status, 200);
  assert.equal((await httpGet(`${srv.base}/healthz`)).status, 200);
});
