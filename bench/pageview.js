#!/usr/bin/env node
// What one article page view costs the comment server, collapsed ("Show comments") against
// expanded, measured in Debian's Chromium on a host page from another origin against the
// real server: HTTP requests and bytes on the wire (headers included, as Chromium's network
// layer counts them), WebSockets opened and their frame bytes. First view (empty cache) and
// a second view in the same tab (warm cache). Prints a markdown table.
//   node bench/pageview.js [--comments N]     (default 50 comments on the article)
'use strict';
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const fs = require('node:fs');
const { startServer, Client, relaxedConfig, httpGet } = require(path.join(__dirname, '..', 'tests', 'lib', 'server.js'));
const { launch } = require(path.join(__dirname, '..', 'tests', 'lib', 'browser.js'));

const N = Number((process.argv.includes('--comments') && process.argv[process.argv.indexOf('--comments') + 1]) || 50);

function page(parley, attrs) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Article</title></head>
<body><h1>Article</h1><p>Text.</p><div id="parley-thread" data-article="bench-pageview" ${attrs}></div>
<script src="${parley}/embed.js" async></script></body></html>`;
}

// Loads url in the tab behind cdp and counts what went to the parley origin until the page
// has been quiet for a moment after ready() holds.
async function measure(tab, cdp, url, parley, ready) {
  const reqs = new Map(), sockets = new Set();
  const out = { requests: 0, cached: 0, bytes: 0, sockets: 0, wsBytes: 0 };
  const on = (ev, fn) => { cdp.on(ev, fn); return () => cdp.off(ev, fn); };
  const offs = [
    on('Network.requestWillBeSent', (e) => { if (e.request.url.startsWith(parley)) reqs.set(e.requestId, e.request.url); }),
    // a response from the browser's cache crosses no wire: 0 bytes
    on('Network.loadingFinished', (e) => {
      if (!reqs.has(e.requestId)) return;
      out.requests++;
      out.bytes += e.encodedDataLength;
      if (!e.encodedDataLength) out.cached++;
    }),
    on('Network.webSocketCreated', (e) => { if (e.url.startsWith(parley.replace(/^http/, 'ws'))) { sockets.add(e.requestId); out.sockets++; } }),
    on('Network.webSocketFrameReceived', (e) => { if (sockets.has(e.requestId)) out.wsBytes += Buffer.byteLength(e.response.payloadData); }),
    on('Network.webSocketFrameSent', (e) => { if (sockets.has(e.requestId)) out.wsBytes += Buffer.byteLength(e.response.payloadData); }),
  ];
  await tab.goto(url);
  await ready();
  await tab.waitForTimeout(1000);
  offs.forEach((f) => f());
  return out;
}

async function main() {
  let parley;
  const host = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(parley.base, u.searchParams.get('collapsed') ? 'data-collapsed' : ''));
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const hostBase = `http://127.0.0.1:${host.address().port}`;
  parley = await startServer({ configText: relaxedConfig((t) => t.replace(/origins:\n/, `origins:\n    - "${hostBase}"\n`)), logLevel: 'warn' });
  const browser = await launch();
  try {
    const w = await Client.connect(parley.wsUrl);
    for (let i = 0; i < N; i++)
      await w.request({ type: 'post', article: 'bench-pageview', name: `Reader ${i % 7}`, title: `Point ${i}`,
        body: `A comment of ordinary length, number ${i}, about what the article says and what it leaves out.` });
    await w.close();

    const rows = [];
    const run = async (label, query, ready, click) => {
      const ctx = await browser.newContext();
      const tab = await ctx.newPage();
      const cdp = await ctx.newCDPSession(tab);
      await cdp.send('Network.enable');
      const t = tab.locator('#parley-thread');
      for (const view of ['first view', 'second view']) {
        const m = await measure(tab, cdp, `${hostBase}/?${query}`, parley.base, async () => {
          await ready(t);
          if (click) {
            await t.getByRole('button', { name: /Show comments/ }).click();
            await t.locator('li.c').first().waitFor();
          }
        });
        rows.push({ label: `${label}, ${view}`, ...m });
        // the second view of a collapsed page must not remember an opened thread
        await tab.evaluate(() => sessionStorage.clear());
      }
      await ctx.close();
    };
    const button = (t) => t.getByRole('button', { name: /Show comments \(\d+\)/ }).waitFor();
    const thread = (t) => t.locator('li.c').first().waitFor();
    await run('expanded', 'x=1', thread, false);
    await run('collapsed, not opened', 'collapsed=1', button, false);
    await run('collapsed, then opened', 'collapsed=1', button, true);

    const loader = await httpGet(`${parley.base}/embed.js`);
    const widget = Buffer.from((await httpGet(`${parley.base}/widget.js`)).body); // the parts, joined
    const metrics = (await httpGet(`${parley.base}/metrics`)).body;
    const views = /^parley_page_views_total (\d+)$/m.exec(metrics)[1];

    console.log(`### Page view cost (article with ${N} comments, host page on another origin)\n`);
    console.log('| page view | HTTP requests to Parley | of which from cache | HTTP bytes | WebSockets | WebSocket bytes | total bytes |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows)
      console.log(`| ${r.label} | ${r.requests} | ${r.cached} | ${r.bytes} | ${r.sockets} | ${r.wsBytes} | ${r.bytes + r.wsBytes} |`);
    console.log(`\nembed.js ${Buffer.byteLength(loader.body)} bytes (${zlib.gzipSync(Buffer.from(loader.body)).length} gzipped); ` +
      `widget.js ${widget.length} bytes (${zlib.gzipSync(widget).length} gzipped). Parley serves them uncompressed; ` +
      `a CDN or proxy in front compresses. Counts page views recorded in /metrics: ${views}.`);
  } finally {
    await browser.close();
    await parley.stop();
    parley.cleanup();
    host.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
