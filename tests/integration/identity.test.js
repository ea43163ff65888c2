// Sign-in from the host site (issue 5): JWTs signed HS256 or EdDSA, verified by the
// server; expired, forged, unsigned or mis-keyed tokens are refused and the connection
// stays a guest.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, Client, relaxedConfig, signJwt } = require('../lib/server.js');

const secret = crypto.randomBytes(32);
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
let srv;

before(async () => {
  srv = await startServer({ configText: relaxedConfig((t) => t.replace(/identity:\n  guests: true[^\n]*\n/,
    `identity:\n  guests: true\n  keys:\n    - id: site-hmac\n      alg: HS256\n      secret: "${secret.toString('base64')}"\n` +
    `    - id: site-ed\n      alg: EdDSA\n      public_key: "${rawPublic.toString('base64')}"\n`)) });
});
after(async () => { await srv.stop(); srv.cleanup(); });

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ sub: 'user-42', name: 'Dana Reader', exp: now() + 600, ...extra });

async function hello(token) {
  const c = await Client.connect(srv.wsUrl);
  return [c, await c.request({ type: 'hello', token })];
}

test('a valid HS256 token posts as its user', async () => {
  const [c, w] = await hello(signJwt(claims({ avatar: 'https://img.example/d.png' }), { secret, kid: 'site-hmac' }));
  assert.equal(w.type, 'welcome');
  assert.deepEqual(w.user, { id: 'u:user-42', guest: false, name: 'Dana Reader', avatar: 'https://img.example/d.png' });
  const ack = await c.request({ type: 'post', article: 'sso-1', name: 'Ignored', title: 'Signed in', body: 'Posting as myself.' });
  assert.equal(ack.comment.author.name, 'Dana Reader');
  assert.equal(ack.comment.author.id, 'u:user-42');
  assert.equal(ack.comment.author.guest, false);
  c.close();
});

test('a valid EdDSA token posts as its user', async () => {
  const [c, w] = await hello(signJwt(claims({ sub: 'ed-7', name: 'Eddie' }), { privateKey }));
  assert.equal(w.type, 'welcome');
  assert.equal(w.user.id, 'u:ed-7');
  c.close();
});

test('expired, forged, unsigned and mis-keyed tokens are refused; the guest remains', async () => {
  const other = crypto.randomBytes(32);
  const bad = {
    expired: signJwt(claims({ exp: now() - 3600 }), { secret }),
    forged: signJwt(claims(), { secret: other }),
    tampered: (() => { const t = signJwt(claims(), { secret }).split('.'); t[1] = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url'); return t.join('.'); })(),
    none: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
    // alg confusion: an HS256 token whose "secret" is the Ed25519 public key
    confusion: signJwt(claims(), { secret: rawPublic }),
    noexp: signJwt({ sub: 'x', name: 'y' }, { secret }),
    garbage: 'not.a.token',
  };
  for (const [what, token] of Object.entries(bad)) {
    const [c, r] = await hello(token);
    assert.equal(r.code, 'unauthorized', what);
    const ack = await c.request({ type: 'post', article: 'sso-2', name: 'Guest', title: 'Still a guest', body: `after ${what}` });
    assert.equal(ack.comment.author.guest, true, what);
    c.close();
  }
});
