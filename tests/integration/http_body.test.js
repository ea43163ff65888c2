// Requests that carry a body where none is expected (found by tests/fuzz/fuzz_http): the
// server answers the request once and drops the connection, and never spins on it.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startServer, httpGet, ROOT } = require('../lib/server.js');

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); srv.cleanup(); });

// Writes raw bytes on a new connection and collects what comes back until the server
// closes it. Resolves {data, closed}; closed is false when limitMs passed first.
function raw(bytes, limitMs = 8000) {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => { s.destroy(); resolve({ data: Buffer.concat(chunks), closed: false }); }, limitMs);
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => { clearTimeout(timer); resolve({ data: Buffer.concat(chunks), closed: true }); });
    s.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    s.write(bytes);
  });
}

const statusLines = (buf) => (buf.toString('latin1').match(/HTTP\/1\.[01] \d{3}/g) || []);

test('a GET with a body is answered once, then the connection is dropped', async () => {
  const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
  assert.ok(r.closed, 'the server closed the connection');
  assert.deepEqual(statusLines(r.data), ['HTTP/1.1 200'], 'exactly one response');
  const h = await httpGet(`${srv.base}/healthz`);
  assert.equal(h.status, 200);
});

test('the pipelined request that made lws call back for ever leaves the server responsive', async () => {
  const bytes = fs.readFileSync(path.join(ROOT, 'tests/fuzz/regress/fuzz_http/pipelined-get-with-body-spin'));
  const conns = await Promise.all([1, 2, 3, 4].map(() => raw(bytes)));
  for (const r of conns) assert.ok(r.closed, 'the server closed the connection');
  const t0 = Date.now();
  const h = await httpGet(`${srv.base}/healthz`);
  assert.equal(h.status, 200);
  assert.ok(Date.now() - t0 < 3000, `healthz answered in ${Date.now() - t0} ms`);
});

test('a pipelined POST without a length gets 411 and the connection is dropped before its bytes are read', async () => {
  const r = await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/mod/login HTTP/1.1\r\nHost: x\r\n\r\n{"name":"a"}');
  assert.ok(r.closed, 'the server closed the connection');
  assert.deepEqual(statusLines(r.data), ['HTTP/1.1 302', 'HTTP/1.1 411'], 'the redirect, then 411 only');
  const h = await httpGet(`${srv.base}/healthz`);
  assert.equal(h.status, 200);
});

test('a POST whose Content-Length is not a number gets 411 and the connection is dropped', async () => {
  const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/mod/logout HTTP/1.1\r\nContent-Length: 1x\r\n\r\no');
  assert.ok(r.closed, 'the server closed the connection');
  assert.deepEqual(statusLines(r.data), ['HTTP/1.1 200', 'HTTP/1.1 411']);
  const h = await httpGet(`${srv.base}/healthz`);
  assert.equal(h.status, 200);
});
