// Starts a real parley binary on a free loopback port with a temporary data dir and
// polls /healthz until it answers. Shared by the integration, browser and bench tests.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const WebSocket = require('ws');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.PARLEY_BIN || path.join(ROOT, 'build', 'parley');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time. A kept-alive socket that the server
    // closed while this process was blocked (execFileSync of the CLI) would otherwise be
    // reused and fail with ECONNRESET.
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  });
}

function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  if (body !== undefined) headers = { 'content-length': Buffer.byteLength(body), ...headers };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The repo's moderation.yml with its relative rule paths pointed at the repo, so it
// works from a temporary directory. edit(text) may change it (string replaces).
function baseConfig(edit = (t) => t) {
  let base = fs.readFileSync(path.join(ROOT, 'moderation.yml'), 'utf8');
  base = base.replace(/([\s\["',])rules\//g, `$1${path.join(ROOT, 'rules')}/`);
  return edit(base);
}

// The repo's config with the flood rules opened up, for tests that post a lot from one
// address on purpose.
function relaxedConfig(edit = (t) => t) {
  return baseConfig((t) => edit(t.replace(/(kind: rate\n(\s+)per: \w+\n\s+max: )\d+/g, '$110000')
    .replace(/client_rate: \d+/, 'client_rate: 1000').replace(/client_burst: \d+/, 'client_burst: 2000')
    .replace(/(author_posts_per_minute|address_posts_per_minute|pending_per_author|pending_per_address): \d+/g, '$1: 0')));
}

// Writes a config into dir: `text` as given, or the repo's moderation.yml.
function writeConfig(dir, { text } = {}) {
  const file = path.join(dir, 'moderation.yml');
  fs.writeFileSync(file, text !== undefined ? text : baseConfig());
  return file;
}

// ---- PostgreSQL ----

// PARLEY_TEST_STORE=postgres runs every server of the suite on PostgreSQL.
const ON_PG = process.env.PARLEY_TEST_STORE === 'postgres';

// One throwaway cluster per test process (scripts/pg-cluster.sh: initdb into a temporary
// directory, unix socket only), stopped and removed when the process exits. Resolves
// with {dir, conninfo, stop(), start(), restart(), createDatabase()}; createDatabase() makes a fresh
// database and returns its conninfo.
let pgCluster = null;
function startPostgres() {
  if (pgCluster) return pgCluster;
  const { execFileSync } = require('node:child_process');
  const script = path.join(ROOT, 'scripts', 'pg-cluster.sh');
  // Clusters of test processes that died without their exit handler (killed by a
  // timeout) are found by the pid in their name, stopped and removed.
  for (const old of fs.readdirSync(os.tmpdir())) {
    const m = old.match(/^parley-pg-(\d+)-/);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (e) { if (e.code === 'EPERM') continue; }
    const stale = path.join(os.tmpdir(), old);
    try { execFileSync('bash', [script, 'stop', stale], { stdio: 'ignore' }); } catch (_) { /* not running */ }
    fs.rmSync(stale, { recursive: true, force: true });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `parley-pg-${process.pid}-`));
  const run = (cmd) => execFileSync('bash', [script, cmd, dir], { encoding: 'utf8' }).trim();
  const conninfo = run('start');
  let n = 0;
  pgCluster = {
    dir, conninfo,
    stop() { run('stop'); },
    start() { run('start'); },
    restart() { run('restart'); }, // pg_ctl stop -m fast, then start: sessions are cut
    createDatabase() {
      const name = `t${process.pid}_${++n}`;
      execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', `CREATE DATABASE ${name}`]);
      return conninfo.replace(/dbname=\S+/, `dbname=${name}`);
    },
  };
  process.on('exit', () => {
    try { execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore' }); } catch (_) { /* stopped */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return pgCluster;
}

// The database of a server's data dir (made on first use, kept in dir/.pgdb so a
// restart with the same dir finds its data), written into its config file as
// storage.postgres.
function pgConfigFor(dir, config) {
  let text = fs.readFileSync(config, 'utf8');
  const given = text.match(/^\s+postgres:\s*"([^"]*)"/m);
  if (given) return given[1];
  const marker = path.join(dir, '.pgdb');
  let conninfo;
  if (fs.existsSync(marker)) conninfo = fs.readFileSync(marker, 'utf8');
  else {
    conninfo = startPostgres().createDatabase();
    fs.writeFileSync(marker, conninfo);
  }
  const line = `  postgres: "${conninfo}"\n`;
  text = /^storage:\n/m.test(text) ? text.replace(/^storage:\n/m, `storage:\n${line}`)
    : `${text}\nstorage:\n${line}`;
  fs.writeFileSync(config, text);
  return conninfo;
}

// Runs SQL on a server's database, whichever it is: sqlite3 on dir/data/parley.db, or
// psql on the storage.postgres of its config. Rows come back as sqlite3 prints them by
// default (columns joined by |, one row a line). dialects = {sqlite, postgres} gives a
// statement per dialect where they differ.
function dbQuery(dir, config, query) {
  const { execFileSync } = require('node:child_process');
  const m = fs.readFileSync(config, 'utf8').match(/^\s+postgres:\s*"([^"]*)"/m);
  if (typeof query === 'object') query = m ? query.postgres : query.sqlite;
  if (m) {
    return execFileSync('psql', ['-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1', m[1]],
      { input: query, encoding: 'utf8' });
  }
  return execFileSync('sqlite3', [path.join(dir, 'data', 'parley.db')], { input: query, encoding: 'utf8' });
}

// For tests that need SQLite's file or tools: on PostgreSQL, the reason to skip.
function sqliteOnly(what) {
  if (!ON_PG) return false;
  const reason = `SQLite only (${what}): skipped on PostgreSQL`;
  console.log(`# ${reason}`);
  return reason;
}

async function startServer(opts = {}) {
  const port = opts.port || await freePort();
  const dir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
  const config = opts.config || writeConfig(dir, { text: opts.configText });
  if (ON_PG && !opts.sqlite) pgConfigFor(dir, config);
  const args = ['serve', '--config', config, '--listen', `127.0.0.1:${port}`,
    '--data', path.join(dir, 'data'), '--log-level', opts.logLevel || 'info'];
  const proc = spawn(BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) } });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  let stopping = false;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    // a server that dies on its own explains itself in the test output
    if (!stopping && (code || signal)) console.error(`parley exited unexpectedly (${code ?? signal}):\n${log.slice(-4000)}`);
    resolve({ code, signal });
  }));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`parley exited early (${proc.exitCode ?? proc.signalCode}):\n${log}`);
    try {
      const r = await httpGet(`${base}/healthz`);
      if (r.status === 200) break;
    } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`parley did not answer /healthz:\n${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const server = {
    port, dir, config, base, proc, exited,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get log() { return log; },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      stopping = true;
      // PARLEY_TEST_LOG=1: every server's log errors and warnings at its stop (debugging a suite)
      if (process.env.PARLEY_TEST_LOG) console.error(log.split('\n').filter((l) => / (error|warn) /.test(l)).join('\n'));
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const r = await exited;
      clearTimeout(t);
      // Under the sanitizers a report is a failure of whichever test stopped the server.
      const report = log.match(/(ERROR: (Address|Leak)Sanitizer|runtime error:)[^\n]*/);
      if (report) throw new Error(`sanitizer report from parley:\n${log.slice(log.indexOf(report[0]) - 200, log.indexOf(report[0]) + 3000)}`);
      return r;
    },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
    // SQL on this server's database (dbQuery): sqlite3 or psql
    sql(query) { return dbQuery(dir, config, query); },
  };
  return server;
}

// A WebSocket client that queues every message so tests can await them in order.
class Client {
  constructor(url, opts = {}) {
    this.ws = new WebSocket(url, opts.protocol === null ? undefined : (opts.protocol || 'parley.v1'),
      { headers: opts.headers || {}, maxPayload: 64 * 1024 * 1024 });
    this.queue = [];
    this.waiters = [];
    this.nextId = 1;
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      this.closeCode = code;
      resolve({ code, reason: reason.toString() });
      for (const w of this.waiters.splice(0)) w.reject(new Error(`closed ${code} while waiting`));
    }));
    this.ws.on('message', (data, isBinary) => {
      const msg = isBinary ? { binary: data } : JSON.parse(data.toString('utf8'));
      this.queue.push(msg);
      this.flush();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.ws.on('error', () => {});
  }
  static async connect(url, opts) { const c = new Client(url, opts); await c.opened; return c; }
  flush() {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.queue.findIndex(w.pred);
      if (idx >= 0) {
        const [m] = this.queue.splice(idx, 1);
        this.waiters.splice(i, 1); i--;
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  }
  // Resolves with the first queued or future message matching pred.
  next(pred = () => true, timeoutMs = 5000) {
    if (typeof pred === 'string') { const t = pred; pred = (m) => m.type === t; }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting; queue: ${JSON.stringify(this.queue).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(w);
      this.flush();
    });
  }
  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  // Sends a request with a fresh id and resolves with the reply carrying that id.
  request(obj, timeoutMs) {
    const id = this.nextId++;
    this.send({ ...obj, id });
    return this.next((m) => m.id === id, timeoutMs);
  }
  close() { this.ws.close(); return this.closed; }
}

// Runs `parley moderator add NAME --role ROLE` against a server's config and data dir,
// with the password on stdin.
function addModerator(server, name, password, role = 'moderator') {
  const { execFileSync } = require('node:child_process');
  return execFileSync(BIN, ['moderator', 'add', name, '--role', role, '--config', server.config,
    '--data', path.join(server.dir, 'data')], { input: `${password}\n`, encoding: 'utf8' });
}

// Logs a moderator in over HTTP; resolves with the cookie ("parley_session=...").
async function login(server, name, password) {
  const r = await httpRequest(`${server.base}/api/mod/login`, { method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.base },
    body: JSON.stringify({ name, password }) });
  if (r.status !== 200) throw new Error(`login ${r.status}: ${r.body}`);
  return r.headers['set-cookie'][0].split(';')[0];
}

// A console connection: a WebSocket with the session cookie, after mod.hello.
async function consoleClient(server, cookie) {
  const c = await Client.connect(server.wsUrl, { headers: { cookie, origin: server.base } });
  const w = await c.request({ type: 'mod.hello' });
  if (w.type !== 'mod.welcome') throw new Error(`mod.hello: ${JSON.stringify(w)}`);
  c.welcome = w;
  return c;
}

module.exports = { startServer, Client, freePort, httpGet, httpRequest, writeConfig, baseConfig, relaxedConfig,
  addModerator, login, consoleClient, ROOT, BIN, startPostgres, pgConfigFor, sqliteOnly, dbQuery, ON_PG };

// Starts a real redis-server on a free loopback port (no persistence). Resolves with
// {port, url, stop(), restart()}: restart() starts it again on the same port.
async function startRedis() {
  const { spawn } = require('node:child_process');
  const port = await freePort();
  let proc;
  const launch = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10000;
    for (;;) {
      const ok = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: launch };
}

module.exports.startRedis = startRedis;

// Signs a JWT as a host site would: HS256 with a shared secret (Buffer) or EdDSA with a
// node:crypto Ed25519 private key.
function signJwt(claims, { secret, privateKey, kid } = {}) {
  const crypto = require('node:crypto');
  const b64 = (x) => Buffer.from(x).toString('base64url');
  const header = { alg: secret ? 'HS256' : 'EdDSA', typ: 'JWT', ...(kid ? { kid } : {}) };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const sig = secret ? crypto.createHmac('sha256', secret).update(input).digest()
    : crypto.sign(null, Buffer.from(input), privateKey);
  return `${input}.${b64(sig)}`;
}
module.exports.signJwt = signJwt;
