// An independent probe of scenario b's shape, in Node over `ws` (not the C load generator):
// ARTICLES articles x READERS readers each, RATE posts/s in total from POSTERS posting
// connections (round robin, each on its own timer), for SECONDS; prints p50/p99/max of
// post -> delivery latency (process.hrtime, CLOCK_MONOTONIC) as one JSON line.
//   node bench/probe.js PORT [--articles 100] [--readers 100] [--posters 10] [--rate 10]
//        [--seconds 20] [--timeline FILE]
// Speaks parley.v1 (Parley and bench/peers/ws-room.js). --timeline writes the same lines
// as loadgen --timeline: "P seq send_ns ack_ns" per post, "D seq send_ns recv_ns reader"
// per delivery, "S recv_ns reader" per presence event. Posting starts as soon as every
// reader has its history (no settling), as the probe did.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require(path.resolve(__dirname, '..', 'tests', 'node_modules', 'ws'));

const args = process.argv.slice(2);
const port = Number(args[0]);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i < 0 ? dflt : args[i + 1]; };
const ARTICLES = Number(opt('articles', 100)), READERS = Number(opt('readers', 100));
const POSTERS = Number(opt('posters', 10)), RATE = Number(opt('rate', 10)), SECONDS = Number(opt('seconds', 20));
const timelineFile = opt('timeline', null);
if (!port) { console.error('usage: node bench/probe.js PORT [options]'); process.exit(2); }

const prefix = `probe-${process.pid}-${Date.now() % 100000}`;
const url = `ws://127.0.0.1:${port}/ws`;
const open = () => new WebSocket(url, 'parley.v1', { origin: `http://127.0.0.1:${port}`, perMessageDeflate: false });
const lat = [];
const timeline = [];
let deliveries = 0, acks = 0, sent = 0, errors = 0;

// Opens one reader on article a; resolves once its history (the subscription) arrives.
function reader(a, idx) {
  return new Promise((resolve, reject) => {
    const ws = open();
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 1, article: `${prefix}-${a}` })));
    ws.on('message', (data) => {
      const now = process.hrtime.bigint();
      const s = data.toString();
      if (s.startsWith('{"type":"history"')) return resolve(ws);
      if (s.startsWith('{"type":"presence"')) { if (timelineFile) timeline.push(`S ${now} ${idx}`); return; }
      const m = /"body":"seq=(\d+) ts=(\d+)"/.exec(s);
      if (!m || !s.startsWith('{"type":"comment"')) return;
      deliveries++;
      const t = BigInt(m[2]);
      lat.push(Number(now - t) / 1e6);
      if (timelineFile) timeline.push(`D ${m[1]} ${t} ${now} ${idx}`);
    });
  });
}

// Opens one posting connection; counts acks and errors.
function poster() {
  return new Promise((resolve, reject) => {
    const ws = open();
    ws.on('error', reject);
    ws.on('open', () => resolve(ws));
    ws.on('message', (data) => {
      const now = process.hrtime.bigint();
      const s = data.toString();
      const m = /"body":"seq=(\d+) ts=(\d+)"/.exec(s);
      if (m && timelineFile && s.includes('"type":"ack"')) timeline.push(`P ${m[1]} ${m[2]} ${now}`);
      if (s.includes('"type":"ack"')) acks++;
      else if (s.includes('"type":"error"')) errors++;
    });
  });
}

async function main() {
  const readers = [];
  for (let i = 0; i < ARTICLES * READERS; i += 500) { // in batches: the listen backlog is finite
    const batch = [];
    for (let j = i; j < Math.min(i + 500, ARTICLES * READERS); j++) batch.push(reader(j % ARTICLES, j));
    readers.push(...await Promise.all(batch));
  }
  const posters = await Promise.all(Array.from({ length: POSTERS }, poster));
  // each poster posts every POSTERS/RATE seconds, the posters staggered evenly
  const period = 1000 * POSTERS / RATE;
  const timers = posters.map((ws, k) => setTimeout(() => {
    const tick = () => {
      const seq = ++sent;
      ws.send(JSON.stringify({ type: 'post', id: seq, article: `${prefix}-${seq % ARTICLES}`, name: `probe${k}`,
        title: `t${seq}`, body: `seq=${seq} ts=${process.hrtime.bigint()}` }));
    };
    tick();
    timers[k] = setInterval(tick, period);
  }, (k * period) / POSTERS));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
  const expected = sent * READERS;
  const until = Date.now() + 5000; // drain
  while (deliveries < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? Number(lat[Math.floor((lat.length - 1) * p)].toFixed(2)) : 0);
  console.log(JSON.stringify({ articles: ARTICLES, readers: READERS, posters: POSTERS, rate: RATE, seconds: SECONDS,
    posts: sent, acks, errors, deliveries, expected, latency_ms: { p50: pct(0.5), p99: pct(0.99), max: pct(1) } }));
  if (timelineFile) fs.writeFileSync(timelineFile, timeline.join('\n') + '\n');
  for (const ws of [...readers, ...posters]) ws.terminate();
  process.exit(deliveries === expected && !errors ? 0 : 1);
}
main().catch((e) => { console.error(`probe: ${e.message}`); process.exit(2); });
