// Post floods (issue 10 item 3): past the hard per-author and per-address limits posts
// are refused with rate_limited and nothing is stored; only a few held posts per author
// and per address reach the moderators' queue.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client, baseConfig } = require('../lib/server.js');

let srv;
before(async () => { srv = await startServer({ configText: baseConfig() }); });
after(async () => { await srv.stop(); srv.cleanup(); });

const stored = () => Number(srv.sql("SELECT COUNT(*) FROM comments WHERE article = 'flood'").trim());

test('thirty connections from one address posting for 3 s: refused past the limits, a handful stored', async () => {
  const conns = [];
  for (let i = 0; i < 30; i++) conns.push(await Client.connect(srv.wsUrl));
  const outcomes = { published: 0, pending: 0, rate_limited: 0, other: 0 };
  const until = Date.now() + 3000;
  let n = 0;
  await Promise.all(conns.map(async (c, i) => {
    while (Date.now() < until && n < 5000) {          // bounded
      n++;
      const r = await c.request({ type: 'post', article: 'flood', name: `Spammer ${i}`,
        title: `Buy now ${n}`, body: `Cheap watches, visit my shop ${n}` }, 10000).catch(() => null);
      if (!r) continue;
      if (r.type === 'ack') outcomes[r.comment.status] = (outcomes[r.comment.status] || 0) + 1;
      else if (r.code === 'rate_limited') { outcomes.rate_limited++; await new Promise((s) => setTimeout(s, 20)); }
      else outcomes.other++;
    }
  }));
  const acked = outcomes.published + outcomes.pending;
  assert.ok(outcomes.rate_limited > 50, `refusals: ${JSON.stringify(outcomes)}`);
  assert.ok(acked <= 30, `at most 30 posts a minute from one address: ${JSON.stringify(outcomes)}`);
  assert.ok(outcomes.pending <= 10, `at most 10 held from one address: ${JSON.stringify(outcomes)}`);
  assert.ok(stored() <= 30 + 1, `stored: ${stored()}`);
  // a reader elsewhere is unaffected (a different author, same address: over the limit)
  const r = await conns[0].request({ type: 'ping' });
  assert.equal(r.type, 'pong');
  await Promise.all(conns.map((c) => c.close()));
});

test('one author bursting: at most 10 a minute stored, at most 3 held, the rest refused', async () => {
  const own = await startServer({ configText: baseConfig() });
  try {
    const c = await Client.connect(own.wsUrl);
    const codes = [];
    for (let i = 0; i < 25; i++) {
      const r = await c.request({ type: 'post', article: 'burst', name: 'Burst', title: `T ${i}`, body: `Same shop, visit www.cheap-shop.example ${i}` });
      codes.push(r.type === 'ack' ? r.comment.status : r.code);
    }
    const count = (x) => codes.filter((y) => y === x).length;
    assert.ok(count('rate_limited') >= 15, `refused: ${codes}`);
    assert.ok(count('pending') <= 3, `held: ${codes}`);
    assert.ok(count('published') + count('pending') <= 10, `stored: ${codes}`);
    assert.deepEqual(codes.slice(-5), Array(5).fill('rate_limited'));
    await c.close();
  } finally { await own.stop(); own.cleanup(); }
});
