// Bad input of every kind, limits at and over their edges, floods, slow readers, crashes
// and shutdown (issue 2). The server must answer each with a clear error, lose nothing
// acknowledged, and stay up.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer, Client, relaxedConfig } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t
    .replace(/queue_max_messages: \d+/, 'queue_max_messages: 64')
    .replace(/queue_max_bytes: \d+/, 'queue_max_bytes: 65536')
    .replace(/max_connections_per_ip: \d+/, 'max_connections_per_ip: 40')) });
});
after(async () => { await srv.stop(); srv.cleanup(); });

const ok = (c) => c.request({ type: 'ping' }).then((m) => assert.equal(m.type, 'pong', 'the connection still works'));
const post = (c, fields) => c.request({ type: 'post', article: 'limits', name: 'Ann', title: 'T', body: 'B', ...fields });
const settle = (ms = 250) => new Promise((r) => setTimeout(r, ms));

test('text limits at and over their edges, counted in code points after NFC', async () => {
  const c = await Client.connect(srv.wsUrl);
  const e = 'e\u0301'; // two code points that NFC composes into one (é)
  const cases = [
    [{ title: 'x'.repeat(100) }, 'ack'],
    [{ title: 'x'.repeat(101) }, 'title_too_long'],
    [{ title: 'é'.repeat(100) }, 'ack'],
    [{ title: e.repeat(100) }, 'ack'],               // 200 code points before NFC, 100 after
    [{ title: '😀'.repeat(100) }, 'ack'],             // astral: one code point each
    [{ title: '😀'.repeat(101) }, 'title_too_long'],
    [{ title: `  ${'x'.repeat(100)}  ` }, 'ack'],    // trimmed before counting
    [{ title: '   ' }, 'title_empty'],
    [{ body: 'b'.repeat(1000) }, 'ack'],
    [{ body: 'b'.repeat(1001) }, 'body_too_long'],
    [{ body: ' \n\t ' }, 'body_empty'],
    [{ name: 'n'.repeat(40) }, 'ack'],
    [{ name: 'n'.repeat(41) }, 'name_too_long'],
    [{ name: '' }, 'name_empty'],
    [{ body: 'tab\there' }, 'ack'],                 // a tab is a space, as the widget makes it
    [{ body: 'bell\u0007' }, 'invalid_text'],
    [{ title: 'new\nline' }, 'invalid_text'],
    [{ body: 'evil \u202Eoverride' }, 'invalid_text'],
    [{ body: 'isolate \u2066x\u2069' }, 'invalid_text'],
    [{ body: 'noncharacter \uFFFF' }, 'invalid_text'],
  ];
  for (const [fields, want] of cases) {
    const r = await post(c, fields);
    assert.equal(r.type === 'ack' ? 'ack' : r.code, want, JSON.stringify(fields).slice(0, 80));
    if (r.type === 'error') assert.ok(r.message.length > 0);
  }
  assert.equal((await post(c, { body: 'tab\there' })).comment.body, 'tab here');
  const blank = await post(c, { body: 'a\n\n\n\n\n\nb' });
  assert.equal(blank.comment.body, 'a\n\n\nb', 'runs of blank lines are cut to two');
  c.close();
});

test('malformed input gets typed errors and the connection stays open', async () => {
  const c = await Client.connect(srv.wsUrl);
  const cases = [
    ['{not json', 'bad_json'],
    ['[1,2,3]', 'bad_json'],
    ['"a string"', 'bad_json'],
    ['{}', 'unknown_type'],
    ['{"type":"teleport","id":5}', 'unknown_type'],
    ['{"type":42}', 'unknown_type'],
    ['{"type":"subscribe","id":1}', 'bad_request'],
    ['{"type":"subscribe","id":1,"article":"has spaces"}', 'bad_request'],
    [`{"type":"subscribe","id":1,"article":"${'a'.repeat(129)}"}`, 'bad_request'],
    ['{"type":"subscribe","id":1,"article":"ok","since":"yesterday"}', 'bad_request'],
    ['{"type":"post","id":1,"article":"ok","name":"A","title":"T","body":42}', 'bad_request'],
    ['{"type":"post","id":1,"article":"ok","name":"A","title":"T","body":"b","parent":"x"}', 'bad_request'],
    ['{"type":"report","id":1,"comment":1}', 'bad_request'],
    ['{"type":"ping","id":{"nested":true}}', 'bad_request'],
  ];
  for (const [frame, code] of cases) {
    c.send(frame);
    const r = await c.next((m) => m.type === 'error');
    assert.equal(r.code, code, frame.slice(0, 60));
  }
  // an id is echoed on errors
  c.send({ type: 'nope', id: 'abc' });
  assert.equal((await c.next('error')).id, 'abc');
  await ok(c);
  c.close();
});

test('invalid UTF-8 of every class is invalid_text, with the id recovered', async () => {
  const c = await Client.connect(srv.wsUrl);
  const bad = [
    Buffer.from([0xC0, 0xAF]),             // overlong '/'
    Buffer.from([0xE0, 0x80, 0xAF]),       // overlong
    Buffer.from([0xED, 0xA0, 0x80]),       // surrogate U+D800
    Buffer.from([0xF4, 0x90, 0x80, 0x80]), // above U+10FFFF
    Buffer.from([0xE2, 0x82]),             // truncated
    Buffer.from([0x80]),                   // lone continuation
    Buffer.from([0xFF]),
  ];
  let i = 0;
  for (const b of bad) {
    const frame = Buffer.concat([Buffer.from(`{"type":"post","id":${++i},"article":"u","name":"A","title":"T","body":"x`), b, Buffer.from('"}')]);
    // ws would refuse to send invalid UTF-8 as text; write the frame through the raw socket API
    c.ws._sender.send(frame, { binary: false, fin: true, mask: true, rsv1: false, opcode: 1, readOnly: false }, () => {});
    const r = await c.next('error');
    assert.equal(r.code, 'invalid_text', b.toString('hex'));
    assert.equal(r.id, i);
  }
  await ok(c);
  c.close();
});

test('a binary frame closes with 1003, a frame over 16 KiB with 1009; others unaffected', async () => {
  const bystander = await Client.connect(srv.wsUrl);
  const a = await Client.connect(srv.wsUrl);
  a.ws.send(Buffer.from([1, 2, 3]));
  assert.equal((await a.closed).code, 1003);
  const b = await Client.connect(srv.wsUrl);
  b.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(16 * 1024) }));
  assert.equal((await b.closed).code, 1009);
  // fragmented under the limit is fine
  const f = await Client.connect(srv.wsUrl);
  const big = JSON.stringify({ type: 'ping', id: 1, pad: 'y'.repeat(12000) });
  f.ws.send(big.slice(0, 6000), { fin: false });
  f.ws.send(big.slice(6000), { fin: true });
  assert.equal((await f.next('pong')).id, 1);
  await ok(bystander);
  bystander.close(); f.close();
});

test('a flood gets one rate_limited error, is slowed, and loses nothing', async () => {
  const s = await startServer({ configText: relaxedConfig((t) => t
    .replace(/client_rate: \d+/, 'client_rate: 5').replace(/client_burst: \d+/, 'client_burst: 10')) });
  const flood = await Client.connect(s.wsUrl), calm = await Client.connect(s.wsUrl);
  const N = 40;
  for (let i = 1; i <= N; i++) flood.send({ type: 'ping', id: i });
  const t0 = Date.now();
  const got = [];
  for (let i = 1; i <= N; i++) got.push((await flood.next((m) => m.type === 'pong' && m.id === i, 15000)).id);
  assert.equal(got.length, N, 'every request answered');
  assert.ok(Date.now() - t0 > 2000, 'the flood was slowed (5/s after a burst of 10)');
  const limited = flood.queue.filter((m) => m.code === 'rate_limited');
  assert.equal(limited.length, 1, 'told once for the whole flood, not at every pause');
  await ok(calm);
  flood.close(); calm.close();
  await s.stop();
  s.cleanup();
});

test('connections per address are capped (503)', async () => {
  const open = [];
  let refused = null;
  for (let i = 0; i < 45 && !refused; i++) {
    try { open.push(await Client.connect(srv.wsUrl)); } catch (e) { refused = e; }
  }
  assert.ok(refused, 'the 41st connection from one address is refused');
  assert.match(refused.message, /503/);
  for (const c of open) c.close();
});

test('a WebSocket from an origin not listed is refused (403); wrong path 404', async () => {
  await assert.rejects(Client.connect(srv.wsUrl, { headers: { origin: 'https://evil.example' } }), /403/);
  await assert.rejects(Client.connect(srv.wsUrl.replace('/ws', '/other')), /404/);
  const good = await Client.connect(srv.wsUrl, { headers: { origin: 'http://localhost:8080' } });
  await ok(good);
  good.close();
});

test('a reader that never reads is cut off; the others keep receiving every comment', async () => {
  const writer = await Client.connect(srv.wsUrl);
  const good = await Client.connect(srv.wsUrl);
  const slow = await Client.connect(srv.wsUrl);
  await good.request({ type: 'subscribe', article: 'slow-1' });
  await slow.request({ type: 'subscribe', article: 'slow-1' });
  const body = 'z'.repeat(990);
  for (let i = 0; i < 50; i++)
    await writer.request({ type: 'post', article: 'slow-1', name: 'W', title: `t${i}`, body: `${body} ${i}` });
  slow.ws._socket.pause(); // stops reading: the kernel buffers fill, then the server's queue
  // ask for far more than any buffer holds: 200 pages of ~50 KiB each
  for (let i = 0; i < 200; i++) slow.send({ type: 'history', article: 'slow-1', before: 1e9, id: i });
  const ids = [];
  for (let i = 0; i < 20; i++)
    ids.push((await writer.request({ type: 'post', article: 'slow-1', name: 'W', title: 'after', body: `later ${i}` })).comment.id);
  for (const id of ids) await good.next((m) => m.type === 'comment' && m.comment.id === id);
  slow.ws._socket.resume();
  const closed = await Promise.race([slow.closed, new Promise((r) => setTimeout(() => r(null), 10000))]);
  assert.ok(closed, 'the slow reader was disconnected');
  assert.ok(closed.code === 1013 || closed.code === 1006, `close code ${closed.code}`);
  await ok(good);
  writer.close(); good.close();
});

test('GET /metrics counts what happened', async () => {
  const r = await fetch(`${srv.base}/metrics`).then((x) => x.text());
  for (const name of ['parley_connections', 'parley_frames_in_total', 'parley_posts_total{outcome="published"}',
    'parley_errors_total{code="bad_json"}', 'parley_storage_commit_seconds_bucket', 'parley_slow_readers_closed_total',
    'parley_rate_limited_total'])
    assert.ok(r.includes(name), name);
  const bad = Number(r.match(/parley_errors_total\{code="bad_json"\} (\d+)/)[1]);
  assert.ok(bad >= 3);
  assert.ok(Number(r.match(/parley_slow_readers_closed_total (\d+)/)[1]) >= 1);
});

test('kill -9 right after acks: every acknowledged comment is there after restart', async () => {
  const s = await startServer({ configText: relaxedConfig() });
  const c = await Client.connect(s.wsUrl);
  const acked = [];
  const pending = [];
  for (let i = 0; i < 200; i++)
    pending.push(c.request({ type: 'post', article: 'crash-1', name: 'K', title: 't', body: `durable ${i}` }, 20000)
      .then((m) => { if (m.type === 'ack') acked.push(m.comment.id); }, () => {}));
  // kill as soon as some acks are in, while more are in flight
  while (acked.length < 50) await settle(5);
  s.proc.kill('SIGKILL');
  await s.exited;
  await Promise.allSettled(pending);
  const s2 = await startServer({ dataDir: s.dir, config: s.config, port: undefined });
  const r = await Client.connect(s2.wsUrl);
  const h = await r.request({ type: 'subscribe', article: 'crash-1', since: 0 });
  const have = new Set(h.comments.map((x) => x.id));
  for (const id of acked) assert.ok(have.has(id), `acked comment ${id} survived`);
  r.close();
  await s2.stop();
  s.cleanup();
});

test('restart keeps history; SIGTERM closes clients with 1001 and exits 0', async () => {
  const s = await startServer({ configText: relaxedConfig() });
  const c = await Client.connect(s.wsUrl);
  await c.request({ type: 'subscribe', article: 'restart-1' });
  const ack = await c.request({ type: 'post', article: 'restart-1', name: 'R', title: 't', body: 'survives restarts' });
  const exited = s.stop('SIGTERM');
  assert.equal((await c.closed).code, 1001);
  assert.equal((await exited).code, 0);
  const s2 = await startServer({ dataDir: s.dir, config: s.config });
  const c2 = await Client.connect(s2.wsUrl);
  const h = await c2.request({ type: 'subscribe', article: 'restart-1' });
  assert.deepEqual(h.comments.map((x) => x.id), [ack.comment.id]);
  c2.close();
  await s2.stop();
  s.cleanup();
});
