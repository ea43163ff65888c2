// Hostile clients, issue 10 items 1 and 6: handshakes without our subprotocol, sockets
// that never speak, and oversized requests. Every attack runs against a real server on
// loopback with bounded loops; each assertion fails on the code before the fix.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer, Client, httpGet, baseConfig } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: baseConfig((t) => t
    .replace(/max_connections_per_ip: \d+/, 'max_connections_per_ip: 8')
    .replace(/max_sockets_per_ip: \d+/, 'max_sockets_per_ip: 20')) });
});
after(async () => { await srv.stop(); srv.cleanup(); });

// Sends raw bytes on a fresh socket; resolves with everything the server sent before it
// closed (or before timeoutMs).
function raw(port, text, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (d) => { got += d.toString('latin1'); if (/\r\n\r\n/.test(got) && !/^HTTP\/1.1 101/.test(got)) done(); });
    s.on('error', done);
    s.on('close', done);
    s.write(text);
  });
}

const upgrade = (port, protoHeader) => 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
  'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  (protoHeader ? `Sec-WebSocket-Protocol: ${protoHeader}\r\n` : '') + '\r\n';

// Read from another loopback address (127.0.0.2): the test's own address is at its cap.
function getFromOther(url) {
  return new Promise((resolve, reject) => {
    const req = require('node:http').get(url, { localAddress: '127.0.0.2', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  });
}

async function metric(name) {
  const r = await getFromOther(`${srv.base}/metrics`);
  const m = r.body.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

test('a WebSocket handshake without parley.v1 gets 403, with another subprotocol too', async () => {
  const none = await raw(srv.port, upgrade(srv.port, null));
  assert.match(none, /^HTTP\/1.[01] 403/, `no subprotocol: ${none.slice(0, 80)}`);
  const other = await raw(srv.port, upgrade(srv.port, 'chat, superchat'));
  assert.match(other, /^HTTP\/1.[01] 403/, `other subprotocol: ${other.slice(0, 80)}`);
  const listed = await raw(srv.port, upgrade(srv.port, 'chat, parley.v1'), 1000);
  assert.match(listed, /^HTTP\/1.1 101/, 'parley.v1 among others is accepted');
  assert.match(listed, /Sec-WebSocket-Protocol: parley.v1/i);
});

test('sockets are counted from accept on and capped per address', async () => {
  const before = await metric('parley_sockets');
  const socks = [];
  try {
    for (let i = 0; i < 40; i++) {   // bounded: twice the per-address cap
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, 500));
    const refused = await metric('parley_sockets_refused_total');
    assert.ok(refused >= 15, `sockets over the per-address cap are refused at accept (${refused})`);
    // silent sockets are counted, and the cap holds (plus the /metrics request itself)
    const open = await metric('parley_sockets');
    assert.ok(open <= 21 && open >= 15, `open sockets counted: ${open}`);
  } finally {
    for (const s of socks) s.destroy();
  }
  // closed sockets are uncounted again
  for (let i = 0; i < 50; i++) {
    if (await metric('parley_sockets') <= before) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(await metric('parley_sockets') <= Math.max(before, 1), 'sockets uncounted when closed');
  const h = await getFromOther(`${srv.base}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(typeof JSON.parse(h.body).sockets, 'number');
});

test('refused sockets are logged without flooding the log', async () => {
  const socks = [];
  // the log's budget is per second: start in a fresh one, and span more than one
  await new Promise((r) => setTimeout(r, 1100));
  const logBefore = srv.log.length;
  try {
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        const s = net.connect(srv.port, '127.0.0.1');
        s.on('error', () => {});
        socks.push(s);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    for (const s of socks) s.destroy();
  }
  await new Promise((r) => setTimeout(r, 1200));
  const lines = srv.log.slice(logBefore).split('\n').filter((l) => /refused a socket at accept/.test(l));
  assert.ok(lines.length > 0 && lines.length <= 30, `refusals logged, rate-limited: ${lines.length} lines`);
  // the server still serves readers
  const c = await Client.connect(srv.wsUrl);
  assert.equal((await c.request({ type: 'ping' })).type, 'pong');
  await c.close();
});

test('a 4.5 KB cookie is served; headers over 16 KiB get 431 and URIs over 8 KiB get 414', async () => {
  const cookie = 'site=' + 'a'.repeat(4500);
  const ok = await httpGet(`${srv.base}/healthz`, { cookie });
  assert.equal(ok.status, 200);
  const ws = await Client.connect(srv.wsUrl, { headers: { cookie } });
  assert.equal((await ws.request({ type: 'ping' })).type, 'pong', 'a WebSocket with a big cookie works');
  await ws.close();
  const big = await httpGet(`${srv.base}/healthz`, { cookie: 'x=' + 'b'.repeat(20000) });
  assert.equal(big.status, 431);
  const long = await httpGet(`${srv.base}/demo/?q=${'c'.repeat(9000)}`);
  assert.equal(long.status, 414);
  const h = await httpGet(`${srv.base}/healthz`);
  assert.equal(h.status, 200, 'still up');
});
