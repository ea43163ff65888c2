// The WebSocket and HTTP transport keeps libwebsockets' rule (issue 11, fix 8): every
// lws_write happens in the socket's writeable callback, and a connection is closed through
// lws_close_reason() with the wire contract's code and a reason the client reads. The
// server counts any write made elsewhere in /metrics (parley_ws_writes_outside_writeable,
// parley_http_writes_outside_writeable); both must stay 0 whatever the traffic.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, relaxedConfig, httpGet } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t
    .replace(/queue_max_messages: \d+/, 'queue_max_messages: 64')
    .replace(/queue_max_bytes: \d+/, 'queue_max_bytes: 65536')) });
});
after(async () => { await srv.stop(); srv.cleanup(); });

const metric = async (name) => {
  const r = await httpGet(`${srv.base}/metrics`);
  const m = r.body.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
};
const until = async (fn, ms = 15000) => {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('posts, fan-out, errors, history and HTTP answers (sync and async) write only when writeable', async () => {
  const a = await Client.connect(srv.wsUrl);
  const b = await Client.connect(srv.wsUrl);
  await a.request({ type: 'subscribe', article: 'tw-1' });
  await b.request({ type: 'subscribe', article: 'tw-1' });
  const ids = [];
  for (let i = 0; i < 30; i++) {
    const ack = await a.request({ type: 'post', article: 'tw-1', name: 'Ann', title: `T${i}`, body: `body ${i}` });
    assert.equal(ack.type, 'ack');
    ids.push(ack.comment.id);
  }
  for (const id of ids) await b.next((m) => m.type === 'comment' && m.comment.id === id);
  // bursts: many requests sent at once, many replies queued in one loop turn
  for (let i = 0; i < 40; i++) b.send({ type: 'ping', id: `p${i}` });
  for (let i = 0; i < 40; i++) assert.equal((await b.next((m) => m.id === `p${i}`)).type, 'pong');
  assert.equal((await a.request({ type: 'nonsense' })).code, 'unknown_type');
  a.send('{not json');
  assert.equal((await a.next((m) => m.type === 'error')).code, 'bad_json');
  const h = await b.request({ type: 'subscribe', article: 'tw-1', since: 0 });
  assert.equal(h.type, 'history');
  // HTTP: answered in the request's callback, and later from a storage callback
  assert.equal((await httpGet(`${srv.base}/healthz`)).status, 200);
  assert.equal((await httpGet(`${srv.base}/no-such-file`)).status, 404);
  const counts = await httpGet(`${srv.base}/api/counts?article=tw-1`);
  assert.equal(counts.status, 200);
  assert.match(counts.body, /"tw-1"/);
  const big = await httpGet(`${srv.base}/widget.js`); // larger than one write
  assert.equal(big.status, 200);
  assert.ok(big.body.length > 16384, `widget.js is ${big.body.length} bytes`);
  assert.equal(await metric('parley_ws_writes_outside_writeable'), 0);
  assert.equal(await metric('parley_http_writes_outside_writeable'), 0);
  a.close(); b.close();
});

// Frames queued behind each other leave in one write (one send() for the lot, framed by
// net.c into one buffer): the client must still read each one whole and in order, short
// frames (2-byte header) and longer ones (4-byte header) mixed.
test('frames queued together go out in one write, whole and in order', async () => {
  const writer = await Client.connect(srv.wsUrl);
  const reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'tw-batch' });
  const frames0 = await metric('parley_frames_out_total');
  const rounds0 = await metric('parley_ws_write_rounds_total');
  // 40 pings in one burst: 40 pongs queued in one loop turn
  for (let i = 0; i < 40; i++) reader.send({ type: 'ping', id: `b${i}` });
  for (let i = 0; i < 40; i++) assert.equal((await reader.next((m) => m.id === `b${i}`)).type, 'pong');
  // 20 posts sent at once: their comments (over 125 bytes each) reach the reader together
  for (let i = 0; i < 20; i++)
    writer.send({ type: 'post', article: 'tw-batch', name: 'W', title: `t${i}`, body: `${'z'.repeat(300)} ${i}`, id: `w${i}` });
  const seen = [];
  while (seen.length < 20) {
    const m = await reader.next((x) => x.type === 'comment');
    seen.push(Number(m.comment.body.split(' ')[1]));
  }
  assert.deepEqual(seen, [...seen].sort((x, y) => x - y), 'comments in id order');
  assert.deepEqual([...seen].sort((x, y) => x - y), [...Array(20).keys()]);
  const frames = (await metric('parley_frames_out_total')) - frames0;
  const rounds = (await metric('parley_ws_write_rounds_total')) - rounds0;
  assert.ok(frames >= 80, `${frames} frames`);
  assert.ok(rounds < frames, `${frames} frames in ${rounds} writes: some writes carried several`);
  assert.equal(await metric('parley_ws_writes_outside_writeable'), 0);
  writer.close(); reader.close();
});

test('a connection that has just received is read on: pipelined and fragmented posts, 128 bytes a read', async () => {
  // lws reads 128 bytes of a WebSocket a readable event; the server reads a connection
  // that has just received again at the next loop turn (net.c read_on) instead of waiting
  // for the poll to come round to it behind every other ready socket (issue 17).
  const writer = await Client.connect(srv.wsUrl);
  const reader = await Client.connect(srv.wsUrl);
  await reader.request({ type: 'subscribe', article: 'tw-readon' });
  const on0 = await metric('parley_ws_reads_on_total');
  const sock = writer.ws._socket;
  let bytes = 0;
  sock.cork(); // one write: twelve posts of about 1 KB, the sixth in three fragments
  for (let i = 0; i < 12; i++) {
    const m = JSON.stringify({ type: 'post', article: 'tw-readon', name: 'R', title: `r${i}`, body: `${'y'.repeat(900)} ${i}`, id: `r${i}` });
    bytes += m.length;
    if (i === 5) {
      writer.ws.send(m.slice(0, 300), { fin: false });
      writer.ws.send(m.slice(300, 700), { fin: false });
      writer.ws.send(m.slice(700), { fin: true });
    } else {
      writer.ws.send(m);
    }
  }
  sock.uncork();
  for (let i = 0; i < 12; i++) assert.equal((await writer.next((m) => m.id === `r${i}`)).type, 'ack');
  const seen = [];
  while (seen.length < 12) seen.push(Number((await reader.next((x) => x.type === 'comment')).comment.body.split(' ')[1]));
  assert.deepEqual(seen, [...Array(12).keys()], 'every post whole, in the order sent');
  const reads = (await metric('parley_ws_reads_on_total')) - on0;
  assert.ok(reads >= bytes / 128 / 2, `${reads} reads on for ${bytes} bytes`);
  // the connection is still usable and not throttled
  assert.equal((await writer.request({ type: 'ping' })).type, 'pong');
  assert.equal(await metric('parley_ws_writes_outside_writeable'), 0);
  writer.close(); reader.close();
});

test('a reader that stops reading is closed with 1013 and the reason, once it reads again', async () => {
  const writer = await Client.connect(srv.wsUrl);
  const slow = await Client.connect(srv.wsUrl);
  await slow.request({ type: 'subscribe', article: 'tw-slow' });
  const body = 'q'.repeat(990);
  for (let i = 0; i < 40; i++)
    await writer.request({ type: 'post', article: 'tw-slow', name: 'W', title: `t${i}`, body: `${body} ${i}` });
  const before = await metric('parley_slow_readers_closed_total');
  slow.ws._socket.pause();
  // pages of ~40 KiB each, far past the kernel's buffers and the 64 KiB queue bound
  for (let i = 0; i < 200; i++) slow.send({ type: 'history', article: 'tw-slow', before: 1e9, id: `h${i}` });
  await until(async () => (await metric('parley_slow_readers_closed_total')) > before);
  slow.ws._socket.resume();
  const closed = await Promise.race([slow.closed, new Promise((r) => setTimeout(() => r(null), 15000))]);
  assert.ok(closed, 'the slow reader was disconnected');
  assert.equal(closed.code, 1013);
  assert.equal(closed.reason, 'reader too slow: resume with since');
  assert.equal((await writer.request({ type: 'ping' })).type, 'pong', 'the others stay');
  assert.equal(await metric('parley_ws_writes_outside_writeable'), 0);
  writer.close();
});

test('SIGTERM closes every connection with 1001 and its reason', async () => {
  const c = await Client.connect(srv.wsUrl);
  await c.request({ type: 'subscribe', article: 'tw-1' });
  assert.equal(await metric('parley_ws_writes_outside_writeable'), 0);
  assert.equal(await metric('parley_http_writes_outside_writeable'), 0);
  const exited = srv.stop();
  const closed = await c.closed;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, 'server shutting down');
  assert.equal((await exited).code, 0);
});
