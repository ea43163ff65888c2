// make eval: runs the default rules over the labelled data in ../shared/data through
// `parley rules test` (the server's own code) and prints, per data set, precision,
// recall and the share of legitimate comments held or refused: first the rules alone,
// then the rules with the learned model (`kind: learned` rules), the model taught with
// `parley rules learn` on some of the data and judged on the rest:
//   youtube-spam: leave one video out (taught on two videos, judged on the third, for
//     each of the three; the totals add the three judged videos up);
//   abuse-tweets: taught on the even rows, judged on the odd rows.
// Nothing of a judged part is ever taught.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
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

// Scores rows with `parley rules test` (with the model under store when given). Each row
// is a different new-looking author; rows are posted one after another, so the duplicate
// memory sees repeated spam as a spammer would repeat it.
function score(rows, store) {
  const input = rows.map((r, i) => JSON.stringify({ body: r.text, article: `eval-${i}` })).join('\n') + '\n';
  const args = ['rules', 'test', '--config', config];
  if (store) args.push('--data', store);
  const out = spawnSync(bin, args, { input, encoding: 'utf8', maxBuffer: 1 << 28, cwd: root });
  if (out.status !== 0) { console.error(out.stderr); process.exit(1); }
  return out.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// Teaches a fresh store the rows (label 1 = label, 0 = ham); returns its directory.
function teach(rows, label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-eval-'));
  const input = rows.map((r) => JSON.stringify({ body: r.text, label: r.label === 1 ? label : 'ham' })).join('\n') + '\n';
  const out = spawnSync(bin, ['rules', 'learn', '--data', dir], { input, encoding: 'utf8', maxBuffer: 1 << 28, cwd: root });
  const bad = out.stdout.split('\n').filter((l) => l.includes('"error"'));
  if (bad.length) console.log(`  (${bad.length} training rows skipped: ${bad[0]})`);
  if (out.status !== 0 && !bad.length) { console.error(out.stderr); process.exit(1); }
  return dir;
}

function tally(rows, lines, acc = { tp: 0, fp: 0, fn: 0, tn: 0, refusedLegit: 0, fired: {} }) {
  lines.forEach((res, i) => {
    const flagged = res.decision === 'hold' || res.decision === 'reject';
    const label = rows[i].label === 1;
    if (flagged && label) acc.tp++; else if (flagged) acc.fp++; else if (label) acc.fn++; else acc.tn++;
    if (!label && res.decision === 'reject') acc.refusedLegit++;
    for (const r of res.rules || []) acc.fired[r.name] = (acc.fired[r.name] || 0) + 1;
  });
  return acc;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
function summary(a) {
  const legit = a.fp + a.tn;
  return { precision: a.tp / (a.tp + a.fp), recall: a.tp / (a.tp + a.fn), legit_held_or_refused: a.fp / legit,
    legit_refused: a.refusedLegit / legit, to_catch: a.tp + a.fn, legit };
}
function line(name, a) {
  const s = summary(a);
  return `  ${name.padEnd(34)} precision ${pct(s.precision)}  recall ${pct(s.recall)}  legitimate held or refused ${pct(s.legit_held_or_refused)} (refused ${pct(s.legit_refused)})  [${s.to_catch} to catch, ${s.legit} legitimate]`;
}

function show(rows, lines) {
  const want = process.env.EVAL_SHOW; // "fn" or "fp"
  if (!want) return;
  lines.forEach((res, i) => {
    const flagged = res.decision !== 'publish', label = rows[i].label === 1;
    if ((want === 'fn' && label && !flagged) || (want === 'fp' && !label && flagged))
      console.log(`    ${res.score} ${JSON.stringify(rows[i].text).slice(0, 150)} ${res.rules.map((r) => r.name).join(',')}`);
  });
}

const results = {};
for (const f of files.sort()) {
  const rows = fs.readFileSync(path.join(dataDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const t0 = process.hrtime.bigint();
  const lines = score(rows);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const all = tally(rows, lines);
  console.log(`${f}: ${rows.length} rows, ${ms.toFixed(0)} ms`);
  console.log(line('rules alone', all));
  results[f] = { rules: summary(all) };
  const bySource = {};
  rows.forEach((r, i) => { if (r.source) (bySource[r.source] = bySource[r.source] || []).push(i); });
  for (const [src, idx] of Object.entries(bySource)) {
    const a = tally(idx.map((i) => rows[i]), idx.map((i) => lines[i]));
    console.log(line(`rules alone, ${src}`, a));
    results[f][`rules ${src}`] = summary(a);
  }
  console.log(`  rules fired: ${Object.entries(all.fired).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (process.env.EVAL_SHOW && process.env.EVAL_PART !== 'model') show(rows, lines);

  // The learned model: taught on one part, judged on another.
  const folds = [];
  const label = f.includes('spam') ? 'spam' : 'abuse';
  if (Object.keys(bySource).length > 1) {
    for (const src of Object.keys(bySource))
      folds.push({ name: src, train: rows.filter((r) => r.source !== src), test: rows.filter((r) => r.source === src) });
  } else {
    folds.push({ name: 'odd rows', train: rows.filter((_, i) => i % 2 === 0), test: rows.filter((_, i) => i % 2 === 1) });
  }
  const pooled = tally([], []), pooledRules = tally([], []);
  for (const fold of folds) {
    const store = teach(fold.train, label);
    const withModel = score(fold.test, store);
    fs.rmSync(store, { recursive: true, force: true });
    const a = tally(fold.test, withModel);
    tally(fold.test, withModel, pooled);
    tally(fold.test, score(fold.test), pooledRules);
    console.log(line(`rules + model, judged on ${fold.name}`, a));
    results[f][`model ${fold.name}`] = summary(a);
    if (process.env.EVAL_SHOW && process.env.EVAL_PART === 'model') show(fold.test, withModel);
  }
  console.log(line('rules alone, judged parts', pooledRules));
  console.log(line('rules + model, judged parts', pooled));
  console.log(`  learned rules fired: ${Object.entries(pooled.fired).filter(([k]) => k.startsWith('learned')).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  results[f].model = summary(pooled);
}
if (process.env.EVAL_JSON) fs.writeFileSync(process.env.EVAL_JSON, JSON.stringify(results, null, 2));
