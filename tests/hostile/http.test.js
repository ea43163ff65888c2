// Hostile HTTP: requests pipelined around a POST, which libwebsockets 4.1 mishandles
// (server/net_http.c, LWS_CALLBACK_HTTP_BODY_COMPLETION). Each attack runs on a raw socket
// against a real server with a time bound; every assertion fails on the code before the fix.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer, httpGet, baseConfig } = require('../lib/server.js');

let srv;
before(async () => { srv = await startServer({ configText: baseConfig((t) => t.replace(/^server:\n/m, 'server:\n  http_body_seconds: 2\n')) }); });
after(async () => { await srv.stop(); srv.cleanup(); });

const H = 'Host: 127.0.0.1\r\n';
const logout = (body) => `POST /api/mod/logout HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}`;

// Writes bytes on a new connection and reads (as a client that keeps reading) until the
// server closes it or limitMs passes. Resolves {data, closed}.
function raw(bytes, limitMs = 1500) {
  return new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    const chunks = [];
    let size = 0;
    const done = (closed) => { clearTimeout(timer); s.destroy(); resolve({ data: Buffer.concat(chunks), closed }); };
    const timer = setTimeout(() => done(false), limitMs);
    s.on('data', (c) => { if (size < 1 << 20) chunks.push(c); size += c.length; });
    s.on('close', () => done(true));
    s.on('error', () => {});
    s.write(bytes);
  });
}

const statusLines = (r) => r.data.toString('latin1').match(/HTTP\/1\.[01] \d{3}/g) || [];

// /healthz from another connection within ms, else the server is busy elsewhere.
async function healthzWithin(ms) {
  const t0 = Date.now();
  const r = await Promise.race([httpGet(`${srv.base}/healthz`),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no /healthz in ${ms} ms`)), ms))]);
  assert.equal(r.status, 200);
  return Date.now() - t0;
}

test('a POST pipelined after a GET is answered once, and the server serves others meanwhile', async () => {
  // lws read the POST from its buffer, handed its own first bytes over as its body and
  // called BODY_COMPLETION in a loop that never returned: one answer per turn, for ever
  const attack = raw(`GET /healthz HTTP/1.1\r\n${H}\r\n${logout('xyz')}`);
  await new Promise((r) => setTimeout(r, 200));
  await healthzWithin(1000);
  const r = await attack;
  assert.ok(statusLines(r).length <= 2, `${statusLines(r).length} answers to two requests`);
  assert.ok(r.closed, 'the connection is dropped');
  await healthzWithin(1000);
});

test('bytes pipelined after a POST body: the POST is answered once, then the connection closes', async () => {
  for (const tail of ['c', `GET /healthz HTTP/1.1\r\n${H}\r\n`, logout('xyz')]) {
    const r = await raw(logout('ab') + tail);
    assert.deepEqual(statusLines(r), ['HTTP/1.1 204'], `one answer (then ${JSON.stringify(tail.slice(0, 20))})`);
  }
  await healthzWithin(1000);
});

test('keep-alive without pipelining still works: a POST, then each next request after the answer', async () => {
  const s = net.connect(srv.port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  const answers = (n) => new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => ((got.match(/HTTP\/1\.1 \d{3}/g) || []).length >= n ? resolve()
      : Date.now() - t0 > 3000 ? reject(new Error(`only: ${got.slice(0, 200)}`)) : setTimeout(poll, 20));
    poll();
  });
  s.write(logout('abc'));
  await answers(1);
  s.write(logout('xyz'));
  await answers(2);
  s.write(`GET /healthz HTTP/1.1\r\n${H}\r\n`);
  await answers(3);
  s.destroy();
  assert.deepEqual(got.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 204', 'HTTP/1.1 204', 'HTTP/1.1 200']);
});

test('a CONNECT request is closed at once, not kept as a raw socket without a timeout', async () => {
  // lws 4.1 turned it into a raw socket with no timeout: held open for good
  for (const req of [`CONNECT 127.0.0.1:22 HTTP/1.1\r\n${H}\r\n`,
    `GET /healthz HTTP/1.1\r\n${H}\r\nCONNECT 127.0.0.1:22 HTTP/1.1\r\n${H}\r\nraw bytes`]) {
    const t0 = Date.now();
    const r = await raw(req, 3000);
    assert.ok(r.closed, `closed (${JSON.stringify(req.slice(0, 30))})`);
    assert.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
    assert.ok(statusLines(r).length <= 1, 'nothing answered for the CONNECT');
  }
  await healthzWithin(1000);
});

test('a POST body sent a byte at a time is cut off at server.http_body_seconds (2 s here)', async () => {
  const s = net.connect(srv.port, '127.0.0.1');
  let closed = false, data = '';
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  s.on('data', (c) => { data += c.toString('latin1'); });
  await new Promise((r) => s.once('connect', r));
  s.write(`POST /api/mod/logout HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n`);
  const t0 = Date.now();
  for (let i = 0; i < 20 && !closed; i++) { // a byte every 400 ms: 8 s for the whole body
    await new Promise((r) => setTimeout(r, 400));
    if (!closed) s.write('x');
  }
  const took = Date.now() - t0;
  s.destroy();
  assert.ok(closed, 'the connection was still open after 8 s of trickled body');
  assert.ok(took < 4500, `closed after ${took} ms`);
  assert.ok(!/HTTP\/1\.1 204/.test(data), 'the POST was not answered as if complete');
});
