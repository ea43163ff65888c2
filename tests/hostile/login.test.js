// Login throttling (issue 10 item 5, issue 11 fix 7): wrong passwords slow down the
// (name, address) pair and the address with growing delays; a real moderator logging in
// from elsewhere is never locked out; parallel guesses cannot each buy a password hash.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, httpRequest, baseConfig, addModerator } = require('../lib/server.js');

let srv;
const NAME = 'mara', PASS = 'a long moderator secret';
before(async () => {
  srv = await startServer({ configText: baseConfig((t) => t.replace(/trust_proxy: \w+/, 'trust_proxy: true')) });
  addModerator(srv, NAME, PASS, 'moderator');
});
after(async () => { await srv.stop(); srv.cleanup(); });

const attempt = (addr, name, password) => httpRequest(`${srv.base}/api/mod/login`, { method: 'POST',
  headers: { 'content-type': 'application/json', 'x-forwarded-for': addr }, body: JSON.stringify({ name, password }) });

test('five wrong passwords for a moderator from one address do not lock out the moderator elsewhere', async () => {
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push((await attempt('203.0.113.5', NAME, `guess ${i}`)).status);
  assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.ok(codes.slice(5).every((c) => c === 429), `then delayed: ${codes}`);
  const r = await attempt('198.51.100.77', NAME, PASS);
  assert.equal(r.status, 200, 'the real moderator, from another address, signs in');
  const again = await attempt('203.0.113.5', NAME, PASS);
  assert.equal(again.status, 429, 'the attacking address still waits');
  assert.ok(Number(again.headers['retry-after']) >= 1);
});

test('delays grow and expire: the pair may try again after its delay', async () => {
  const addr = '203.0.113.6';
  for (let i = 0; i < 5; i++) assert.equal((await attempt(addr, NAME, 'wrong')).status, 401);
  const locked = await attempt(addr, NAME, PASS);
  assert.equal(locked.status, 429);
  const wait = Number(locked.headers['retry-after']);
  assert.ok(wait >= 1 && wait <= 3, `first delay ~2 s: ${wait}`);
  await new Promise((r) => setTimeout(r, wait * 1000 + 300));
  assert.equal((await attempt(addr, NAME, PASS)).status, 200, 'after the delay the right password works');
});

test('twenty failures from one address across names slow that address only', async () => {
  const addr = '203.0.113.7';
  const codes = [];
  for (let i = 0; i < 24; i++) codes.push((await attempt(addr, `user${i}`, 'x')).status);
  assert.equal(codes.filter((c) => c === 401).length, 20, `${codes}`);
  assert.ok(codes.slice(20).every((c) => c === 429), `${codes}`);
  assert.equal((await attempt('198.51.100.78', NAME, PASS)).status, 200, 'other addresses unaffected');
});

test('parallel guesses from one pair: one hash at a time, the rest refused', async () => {
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt('203.0.113.8', NAME, `p${i}`)));
  const codes = rs.map((r) => r.status);
  assert.ok(codes.filter((c) => c === 401).length <= 3, `few reached the hash: ${codes}`);
  assert.ok(codes.filter((c) => c === 429).length >= 9, `${codes}`);
  assert.ok(Date.now() - t0 < 10000);
});
