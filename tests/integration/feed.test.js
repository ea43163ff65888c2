// Atom feeds (issue 15): GET /api/feed?article=ID and GET /api/feed, from a real server,
// parsed by a real feed parser (@rowanmanning/feed-parser) and checked well-formed by
// libxml2 (xmllint), with hostile text in every field.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseFeed } = require('@rowanmanning/feed-parser');
const { startServer, Client, relaxedConfig, httpGet, BIN } = require('../lib/server.js');

let srv;
before(async () => {
  srv = await startServer({ configText: relaxedConfig() });
});
after(async () => { await srv.stop(); srv.cleanup(); });

const xmllint = (xml) => spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
const nasty = 'Tags <b>&amp; "quotes" \'apos\' ]]> </content> & done';

test('per-article and site-wide feeds: escaped, parsed by a feed parser and by libxml2', async () => {
  const c = await Client.connect(srv.wsUrl);
  const ids = [];
  for (const [article, title, body, name] of [
    ['feed-a', 'First <title>', `${nasty}\nsecond line`, 'Ann & <Bob>'],
    ['feed-a', 'Second', 'plain body two', 'Cy'],
    ['feed-b', 'Other article', 'body b', 'Di'],
  ]) {
    const a = await c.request({ type: 'post', article, title, body, name });
    assert.equal(a.type, 'ack', JSON.stringify(a));
    assert.equal(a.comment.status, 'published');
    ids.push(a.comment.id);
  }
  c.close();

  const r = await httpGet(`${srv.base}/api/feed?article=feed-a`);
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/atom\+xml/);
  const lint = xmllint(r.body);
  assert.equal(lint.status, 0, lint.stderr);
  const feed = parseFeed(r.body);
  assert.equal(feed.meta.type, 'atom');
  assert.equal(feed.title, 'Comments on feed-a');
  assert.equal(feed.items.length, 2);
  const [newest, oldest] = feed.items;
  assert.equal(newest.title, 'Second');
  assert.equal(oldest.title, 'First <title>');
  // the feed parser decodes entities in text once more, as feed readers do; libxml2 reads
  // the exact text back
  assert.equal(oldest.content, `${nasty.replace('&amp;', '&')}\nsecond line`);
  const exact = spawnSync('xmllint', ['--xpath', `string(//*[local-name()='entry'][2]/*[local-name()='content'])`, '-'],
    { input: r.body, encoding: 'utf8' });
  assert.equal(exact.stdout.replace(/\n$/, ""), `${nasty}\nsecond line`, "xmllint prints a newline after");
  assert.equal(oldest.authors[0].name, 'Ann & <Bob>');
  assert.equal(oldest.id, `urn:parley:comment:${ids[0]}`);
  assert.ok(!r.body.includes('<b>'), 'text escaped, never markup');

  const site = await httpGet(`${srv.base}/api/feed?n=2`);
  assert.equal(site.status, 200);
  assert.equal(xmllint(site.body).status, 0);
  const sf = parseFeed(site.body);
  assert.equal(sf.title, 'Latest comments');
  assert.deepEqual(sf.items.map((i) => i.id), [ids[2], ids[1]].map((x) => `urn:parley:comment:${x}`));

  const empty = await httpGet(`${srv.base}/api/feed?article=nothing-here`);
  assert.equal(empty.status, 200);
  assert.equal(parseFeed(empty.body).items.length, 0);

  for (const q of ['article=bad%20id!', 'n=0', 'n=201', 'n=abc'])
    assert.equal((await httpGet(`${srv.base}/api/feed?${q}`)).status, 400, q);
});

test('imported articles give the feed its link and each entry a permalink', async () => {
  const dir = fs.mkdtempSync(path.join(srv.dir, 'imp-'));
  const file = path.join(dir, 'd.xml');
  fs.writeFileSync(file, '<?xml version="1.0"?><disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">' +
    '<thread dsq:id="1"><id>feed-imported</id><link>https://news.example/a?x=1&amp;y=2</link><title>Imported &amp; titled</title></thread>' +
    '<post dsq:id="9"><message><![CDATA[<p>old comment</p>]]></message><createdAt>2011-01-01T00:00:00Z</createdAt>' +
    '<author><name>Old</name></author><thread dsq:id="1"/></post></disqus>');
  const r = spawnSync(BIN, ['import', 'disqus', file, '--config', srv.config, '--data', path.join(srv.dir, 'data')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const f = await httpGet(`${srv.base}/api/feed?article=feed-imported`);
  assert.equal(xmllint(f.body).status, 0);
  const feed = parseFeed(f.body);
  assert.equal(feed.title, 'Comments on Imported & titled');
  assert.equal(feed.url, 'https://news.example/a?x=1&y=2');
  assert.equal(feed.items[0].url, 'https://news.example/a?x=1&y=2#comment-' + feed.items[0].id.split(':').pop());
  assert.equal(feed.items[0].content, 'old comment');
  assert.equal(feed.items[0].published.toISOString(), '2011-01-01T00:00:00.000Z');
});
