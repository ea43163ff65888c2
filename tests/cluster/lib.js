// Helpers for the several-machine tests (issue 12): a throwaway PostgreSQL cluster
// (scripts/pg-cluster.sh: initdb into a temporary directory, unix socket only), one
// redis-server, and parley nodes that share nothing on disk: each has its own --data
// directory and points storage.postgres at one database.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../lib/server.js');

const PG_CLUSTER = path.join(lib.ROOT, 'scripts', 'pg-cluster.sh');

// Starts a PostgreSQL cluster and creates database `db` in it. Resolves with
// { dir, conninfo, psql(sql), restart(), stop(), cleanup() }.
async function startPg(db = 'parley') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pg-'));
  const admin = execFileSync('bash', [PG_CLUSTER, 'start', dir], { encoding: 'utf8' }).trim();
  const psqlAt = (conninfo, sql) => execFileSync('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1',
    '-d', conninfo, '-c', sql], { encoding: 'utf8' }).trim();
  psqlAt(admin, `CREATE DATABASE ${db}`);
  const conninfo = admin.replace('dbname=postgres', `dbname=${db}`);
  let stopped = false;
  return {
    dir,
    conninfo,
    psql: (sql) => psqlAt(conninfo, sql),
    // pg_ctl restart -m fast: every session is cut, the data stays
    restart: () => execFileSync('bash', [PG_CLUSTER, 'restart', dir], { encoding: 'utf8' }),
    stopServer: () => execFileSync('bash', [PG_CLUSTER, 'stop', dir], { encoding: 'utf8' }),
    startServer: () => execFileSync('bash', [PG_CLUSTER, 'start', dir], { encoding: 'utf8' }),
    stop() {
      if (stopped) return;
      stopped = true;
      try { execFileSync('bash', [PG_CLUSTER, 'stop', dir], { stdio: 'ignore' }); } catch (_) { /* gone */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A node's moderation.yml: the repo's relaxed config (flood rules opened up unless
// strict), PostgreSQL, Redis, and whatever edit() changes.
function nodeConfig({ pg, redis, prefix, catchupMs = 1000, strict = false, edit = (t) => t }) {
  const base = strict ? lib.baseConfig() : lib.relaxedConfig();
  const withPg = base.replace(/^storage:\n/m, `storage:\n  postgres: "${pg.conninfo}"\n`);
  if (withPg === base) throw new Error('moderation.yml has no storage: section');
  return edit(`${withPg}\nredis:\n  url: "${redis.url}"\n  prefix: "${prefix}"\n  catchup_ms: ${catchupMs}\n`);
}

// Starts n nodes, one after another (the first migrates the schema), each with its own
// temporary directory. Resolves with the servers (tests/lib/server.js).
async function startNodes(n, opts) {
  const text = nodeConfig(opts);
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(await lib.startServer({ configText: text }));
  return nodes;
}

async function stopNodes(nodes) {
  for (const s of nodes) {
    try { await s.stop(); } finally { s.cleanup(); }
  }
}

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const commentIds = (c) => c.queue.filter((m) => m.type === 'comment').map((m) => m.comment.id);

// Subscribes a fresh client on server to article (after `since` when given); resolves
// with the client and the ids its history (every page) held.
async function follow(server, article, since) {
  const c = await lib.Client.connect(server.wsUrl);
  const h = await c.request({ type: 'subscribe', article, ...(since !== undefined ? { since } : {}) }, 30000);
  if (h.type !== 'history') throw new Error(`subscribe: ${JSON.stringify(h)}`);
  const pages = [h];
  while (pages[pages.length - 1].more) pages.push(await c.next('history', 30000));
  c.history = pages.flatMap((p) => p.comments.map((cm) => cm.id));
  return c;
}

// Every comment of article, replayed from the start on server: ids in the order sent.
async function replay(server, article) {
  const c = await follow(server, article, 0);
  c.close();
  return c.history;
}

// Waits until pred() is true, polling; fails with what() after ms.
async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await settle(100);
  }
}

async function health(server) {
  return JSON.parse((await lib.httpGet(`${server.base}/healthz`)).body);
}

module.exports = { startPg, nodeConfig, startNodes, stopNodes, settle, commentIds, follow, replay, until, health };
