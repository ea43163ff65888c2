// The rules in the server (issue 3): a held post is pending for its author only, a
// refused one gets `rejected`, SIGHUP reloads a changed rule without dropping anyone,
// and a reload that fails keeps the running rules.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServer, Client, relaxedConfig, httpGet } = require('../lib/server.js');

let srv;
const extra = `  - name: test-banned-word
    kind: pattern
    pattern: '\\bzorglub\\b'
    action: reject
    message: "That word is not allowed here."
`;
before(async () => { srv = await startServer({ configText: relaxedConfig((t) => t.replace(/\nrules:\n/, `\nrules:\n${extra}`)) }); });
after(async () => { await srv.stop(); srv.cleanup(); });

const post = (c, body, extraFields = {}) =>
  c.request({ type: 'post', article: 'rules-1', name: 'Tester', title: 'A title', body, ...extraFields });
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

test('held: acked pending to the author, never delivered to others', async () => {
  const author = await Client.connect(srv.wsUrl), reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'rules-1' });
  await author.request({ type: 'subscribe', article: 'rules-1' });
  const ack = await post(author, 'Please check my page');
  assert.equal(ack.type, 'ack');
  assert.equal(ack.comment.status, 'pending');
  await settle();
  assert.equal(reader.queue.filter((m) => m.type === 'comment').length, 0);
  assert.equal(author.queue.filter((m) => m.type === 'comment').length, 0);
  const fine = await post(author, 'A thoughtful, polite remark about the article.');
  assert.equal(fine.comment.status, 'published');
  assert.equal((await reader.next('comment')).comment.id, fine.comment.id);
  author.close(); reader.close();
});

test('refused: rejected with a message safe to show', async () => {
  const c = await Client.connect(srv.wsUrl);
  const r = await post(c, 'zorglub is my favourite word');
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'rejected');
  assert.equal(r.message, 'That word is not allowed here.');
  c.close();
});

test('SIGHUP reloads a changed rule without dropping connections; a bad file keeps the old', async () => {
  const c = await Client.connect(srv.wsUrl);
  await c.request({ type: 'subscribe', article: 'rules-1' });
  assert.equal((await post(c, 'I like frobnicate a lot')).comment.status, 'published');
  const text = fs.readFileSync(srv.config, 'utf8');
  fs.writeFileSync(srv.config, text.replace("'\\bzorglub\\b'", "'\\b(zorglub|frobnicate)\\b'"));
  srv.proc.kill('SIGHUP');
  for (let i = 0; i < 100 && !/reload: /.test(srv.log); i++) await settle(50);
  assert.match(srv.log, /reload: .*rules/);
  assert.equal((await post(c, 'I like frobnicate a lot')).code, 'rejected');
  // a broken file: the running rules stay
  fs.writeFileSync(srv.config, text.replace("'\\bzorglub\\b'", "'(unclosed'"));
  srv.proc.kill('SIGHUP');
  for (let i = 0; i < 100 && !/kept the running/.test(srv.log); i++) await settle(50);
  assert.match(srv.log, /kept the running rules: .*moderation\.yml:\d+:\d+: bad pattern/);
  assert.equal((await post(c, 'frobnicate again')).code, 'rejected');
  assert.equal((await c.request({ type: 'ping' })).type, 'pong', 'the connection survived both reloads');
  assert.ok(JSON.parse((await httpGet(`${srv.base}/healthz`)).body).connections >= 1);
  c.close();
});
