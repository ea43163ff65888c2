// make eval: runs the default rules over the labelled data in ../shared/data through
// `parley rules test` (the server's own code) and prints, per data set, precision,
// recall and the share of legitimate comments held or refused.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dataDir = process.env.PARLEY_DATA || path.resolve(root, '..', 'shared', 'data');
const bin = process.env.PARLEY_BIN || path.join(root, 'build', 'parley');
const config = process.env.PARLEY_CONFIG || path.join(root, 'moderation.yml');

const files = fs.existsSync(dataDir) ? fs.readdirSync(dataDir).filter((f) => f.endsWith('.jsonl')) : [];
if (!files.length) {
  console.log(`eval: no labelled data under ${dataDir}`);
  process.exit(0);
}
const results = {};
for (const f of files.sort()) {
  const rows = fs.readFileSync(path.join(dataDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  // Each row is a different new-looking author; rows are posted one after another, so the
  // duplicate memory sees repeated spam as a spammer would repeat it.
  const input = rows.map((r, i) => JSON.stringify({ body: r.text, article: `eval-${i}` })).join('\n') + '\n';
  const t0 = process.hrtime.bigint();
  const out = spawnSync(bin, ['rules', 'test', '--config', config], { input, encoding: 'utf8', maxBuffer: 1 << 28, cwd: root });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (out.status !== 0) { console.error(out.stderr); process.exit(1); }
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
  let tp = 0, fp = 0, fn = 0, tn = 0, refusedLegit = 0;
  const fired = {};
  lines.forEach((res, i) => {
    const flagged = res.decision === 'hold' || res.decision === 'reject';
    const label = rows[i].label === 1;
    if (flagged && label) tp++; else if (flagged) fp++; else if (label) fn++; else tn++;
    if (!label && res.decision === 'reject') refusedLegit++;
    for (const r of res.rules || []) fired[r.name] = (fired[r.name] || 0) + 1;
  });
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  const legit = fp + tn;
  results[f] = { rows: rows.length, precision: tp / (tp + fp), recall: tp / (tp + fn),
    legit_held_or_refused: fp / legit, legit_refused: refusedLegit / legit };
  console.log(`${f}: ${rows.length} rows (${tp + fn} to catch, ${legit} legitimate), ${ms.toFixed(0)} ms`);
  console.log(`  precision ${pct(tp / (tp + fp))}  recall ${pct(tp / (tp + fn))}  legitimate held or refused ${pct(fp / legit)} (refused ${pct(refusedLegit / legit)})`);
  console.log(`  rules fired: ${Object.entries(fired).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (process.env.EVAL_SHOW) {
    const want = process.env.EVAL_SHOW; // "fn" or "fp"
    lines.forEach((res, i) => {
      const flagged = res.decision !== 'publish', label = rows[i].label === 1;
      if ((want === 'fn' && label && !flagged) || (want === 'fp' && !label && flagged))
        console.log(`    ${res.score} ${JSON.stringify(rows[i].text).slice(0, 150)} ${res.rules.map((r) => r.name).join(',')}`);
    });
  }
}
if (process.env.EVAL_JSON) fs.writeFileSync(process.env.EVAL_JSON, JSON.stringify(results, null, 2));
