// A real SMTP server for tests: Debian's aiosmtpd (/usr/bin/python3) on a free loopback
// port, writing each message it accepts to a directory (tests/lib/smtp_sink.py). It can
// be stopped and started again on the same port.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./server.js');

async function startSmtp() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-smtp-'));
  let proc;
  const up = async () => {
    proc = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'smtp_sink.Sink', dir],
      { env: { ...process.env, PYTHONPATH: __dirname }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const deadline = Date.now() + 10000;
    for (;;) {
      const ok = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`aiosmtpd did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
  // Every message received so far, oldest first, with headers parsed and the text and
  // HTML parts decoded.
  const messages = () => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))));
  const waitFor = async (pred, ms = 15000, what = 'mail') => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = messages();
      if (pred(m)) return m;
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; have ${m.length}: ${JSON.stringify(m.map((x) => x.headers.subject))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await up();
  return { port, url: `smtp://127.0.0.1:${port}`, dir, up, down, messages, waitFor,
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); } };
}

// A small MIME reader for what parley sends: headers, then multipart/alternative parts
// in base64.
function parse(rec) {
  const raw = rec.content.replace(/\r\n/g, '\n');
  const [head, ...rest] = raw.split('\n\n');
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = rest.join('\n\n');
  const parts = {};
  const b = /boundary="([^"]+)"/.exec(headers['content-type'] || '');
  if (b) {
    for (const chunk of body.split(`--${b[1]}`)) {
      const [ph, ...pb] = chunk.replace(/^\n/, '').split('\n\n');
      const type = /content-type:\s*([^;\n]+)/i.exec(ph);
      if (!type) continue;
      const data = pb.join('\n\n');
      parts[type[1].trim()] = /base64/i.test(ph) ? Buffer.from(data.replace(/\s+/g, ''), 'base64').toString('utf8') : data;
    }
  }
  return { ...rec, headers, text: parts['text/plain'], html: parts['text/html'] };
}

module.exports = { startSmtp };
