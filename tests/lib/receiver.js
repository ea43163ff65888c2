// A real webhook receiver on 127.0.0.1, as a newsroom would write one: it checks the
// Parley-Signature header (HMAC-SHA256 of "t.body" with the shared secret, constant-time
// compare, timestamp within a tolerance), answers 401 to anything forged, and keeps what
// it accepted in arrival order. It can go down and come back on the same port.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

// Returns null when the signature header is valid for body, else why not.
function verify(secret, header, body, toleranceS = 300, nowS = Math.floor(Date.now() / 1000)) {
  if (!header) return 'no signature';
  const parts = Object.fromEntries(header.split(',').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
  }));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(parts.v1 || '')) return 'malformed';
  if (Math.abs(nowS - t) > toleranceS) return 'stale';
  const want = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return crypto.timingSafeEqual(want, got) ? null : 'bad signature';
}

async function startReceiver(secret) {
  const rx = { events: [], refused: [], requests: 0, port: 0, server: null, failNext: 0 };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      rx.requests++;
      const body = Buffer.concat(chunks);
      const why = verify(secret, req.headers['parley-signature'], body);
      if (why) {
        rx.refused.push({ why, headers: req.headers, body: body.toString('utf8') });
        res.writeHead(401).end(why);
        return;
      }
      if (rx.failNext > 0) { rx.failNext--; res.writeHead(503).end('busy'); return; }
      const ev = JSON.parse(body.toString('utf8'));
      rx.events.push({ ...ev, headerId: req.headers['parley-event-id'],
        headerType: req.headers['parley-event-type'] });
      res.writeHead(204).end();
    });
  };
  rx.up = () => new Promise((resolve, reject) => {
    rx.server = http.createServer(handler);
    rx.server.keepAliveTimeout = 1;
    rx.server.on('error', reject);
    rx.server.listen(rx.port, '127.0.0.1', () => { rx.port = rx.server.address().port; resolve(); });
  });
  rx.down = () => new Promise((resolve) => {
    rx.server.closeAllConnections?.();
    rx.server.close(() => resolve());
  });
  await rx.up();
  rx.url = `http://127.0.0.1:${rx.port}/hook`;
  // Resolves once pred holds for the accepted events, polling.
  rx.waitFor = async (pred, ms = 15000, what = 'events') => {
    const deadline = Date.now() + ms;
    while (!pred(rx.events)) {
      if (Date.now() > deadline)
        throw new Error(`timeout waiting for ${what}; got ${JSON.stringify(rx.events.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return rx.events;
  };
  return rx;
}

module.exports = { startReceiver, verify };
