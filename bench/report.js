// Turns bench/run.sh's results into docs/BENCHMARKS.md and docs/BENCHMARKS.json.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const { execSync } = require('node:child_process');

const [resultsFile, mdFile, jsonFile] = process.argv.slice(2);
// results.jsonl from a run, or a BENCHMARKS.json written before (to regenerate the text)
const rows = resultsFile.endsWith('.json') ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')).runs
  : fs.readFileSync(resultsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const sh = (c) => { try { return execSync(c, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const machine = {
  date: new Date().toISOString(),
  cpu: (os.cpus()[0] || {}).model, cores: os.cpus().length,
  memory_gib: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
  commit: sh('git rev-parse --short HEAD'),
};
if (!resultsFile.endsWith('.json')) fs.writeFileSync(jsonFile, JSON.stringify({ machine, runs: rows }, null, 2) + '\n');
else Object.assign(machine, JSON.parse(fs.readFileSync(resultsFile, 'utf8')).machine);

const find = (scenario, server) => rows.filter((r) => r.scenario === scenario && r.server === server);
const lg = (r) => r.result.loadgen || r.result;
const f1 = (x) => (x === undefined ? '—' : Number(x).toFixed(1));
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '—');
const out = [];
out.push('# Benchmarks', '',
  `Measured by \`make bench\` (bash bench/run.sh) on ${machine.date.slice(0, 10)}, commit ${machine.commit}: ` +
  `${machine.cores} cores (${machine.cpu}), ${machine.memory_gib} GiB, Linux ${machine.kernel}. The load generator ` +
  '(bench/loadgen.c, epoll) runs on the same two cores as the server, over loopback. The peer is ' +
  'bench/peers/ws-room.js: Node\'s `ws`, the same protocol subset, no rules and no storage. Raw figures: ' +
  '[BENCHMARKS.json](BENCHMARKS.json).', '');

out.push('## a. Idle capacity', '', '| server | connections held | RSS per connection | kernel socket memory per connection |', '| --- | --- | --- | --- |');
const perConn = {};
for (const s of ['parley', 'peer']) for (const r of find('a_idle', s)) {
  const l = lg(r), res = r.result;
  const kib = (res.rss_after_kib - res.rss_before_kib) / Math.max(1, l.ready);
  const kpages = (res.kernel_pages_after - res.kernel_pages_before) * 4 / Math.max(1, l.ready);
  perConn[s] = kib;
  out.push(`| ${s} | ${l.ready} of ${l.conns} | ${kib.toFixed(2)} KiB | ${kpages.toFixed(2)} KiB (both ends of loopback) |`);
}
out.push('', `Parley/peer memory per connection: ${ratio(perConn.parley, perConn.peer)} (lower is better).`, '');

out.push('## b. Fan-out', '', '| scenario | server | posts/s | subscribers | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | losses |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const best = {};
for (const sc of ['b_1x', 'b_many']) for (const s of ['parley', 'peer']) for (const r of find(sc, s)) {
  const l = lg(r);
  best[s] = Math.max(best[s] || 0, l.deliveries_per_second);
  out.push(`| ${sc === 'b_1x' ? '1 article' : `${l.articles} articles`} | ${s} | ${l.rate} | ${l.ready} | ${f1(l.deliveries_per_second)} | ${l.latency_ms.p50} | ${l.latency_ms.p99} | ${l.latency_ms.p999} | ${l.latency_ms.max} | ${l.losses} |`);
}
out.push('', `Best deliveries/s: Parley ${f1(best.parley)}, peer ${f1(best.peer)}; ratio ${ratio(best.parley, best.peer)}.`, '');
const tenk = find('b_1x', 'parley').map(lg).find((l) => l.rate === 10);
const tenkPeer = find('b_1x', 'peer').map(lg).find((l) => l.rate === 10);
if (tenk && tenkPeer) out.push(`p99 at 10,000 subscribers and 10 posts/s: Parley ${tenk.latency_ms.p99} ms, peer ${tenkPeer.latency_ms.p99} ms (Parley/peer ${ratio(tenk.latency_ms.p99, tenkPeer.latency_ms.p99)}).`, '');

out.push('## c. Write path', '');
for (const r of find('c_write', 'parley')) {
  const l = lg(r);
  out.push(`${l.posters} connections posting as fast as acks return (${l.posters * 16} in flight), each post scored by the default rules and committed durably (WAL, synchronous=FULL, group commit) before its ack: **${f1(l.acks_per_second)} posts/s acknowledged**, ack latency p50 ${l.latency_ms.p50} ms (send → delivery to a subscriber), ${l.losses} lost.`, '');
}

out.push('## d. Slow readers', '', '| server | readers | never read | others\' p99 ms | others lost | server RSS before → after |', '| --- | --- | --- | --- | --- | --- |');
for (const s of ['parley', 'peer']) for (const r of find('d_slow', s)) {
  const l = lg(r), res = r.result;
  out.push(`| ${s} | ${l.conns} | ${l.slow} (${l.slow_still_open} still open at the end) | ${l.latency_ms.p99} | ${l.losses} | ${(res.rss_before_kib / 1024).toFixed(1)} → ${(res.rss_after_kib / 1024).toFixed(1)} MiB |`);
}
out.push('', 'Parley closes a reader whose queue passes its bound (1013) so its memory stays flat; the peer buffers for every reader without a bound.', '');

out.push('## e. Two processes and Redis', '');
for (const r of find('e_redis', 'parley')) {
  const l = lg(r);
  out.push(`Posts on process A, ${l.ready} subscribers on process B (one SQLite file, one redis-server): cross-process delivery p50 ${l.latency_ms.p50} ms, p99 ${l.latency_ms.p99} ms, ${l.losses} lost.`, '');
}

out.push('## f. Rule time per post', '', '| input | posts | median µs | p99 µs | max µs |', '| --- | --- | --- | --- | --- |');
for (const r of find('f_rules', 'parley')) for (const [k, v] of Object.entries(r.result))
  out.push(`| ${k} | ${v.posts} | ${v.median_us} | ${v.p99_us} | ${v.max_us} |`);
out.push('', 'adversarial_1..7: 1000 characters of one repeated shape each: a long run of one letter, letters spelled out with dots, near-miss spam phrases, many links, stacked combining marks, unbalanced brackets, an emoji wall.', '');

out.push('## Targets', '', fs.existsSync('bench/TARGETS.md') ? fs.readFileSync('bench/TARGETS.md', 'utf8') : '');
fs.writeFileSync(mdFile, out.join('\n') + '\n');
