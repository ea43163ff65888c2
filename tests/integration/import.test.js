// Migration (issue 15): `parley import disqus|wordpress|parley`, `parley export` and
// `parley backup`, run as the real binary on real SQLite files, then checked through a
// real server over WebSocket. The fixtures are written here from the formats' public
// documentation (Disqus's export schema, WordPress's WXR 1.2), broken ones included.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, Client, relaxedConfig, writeConfig, BIN, ON_PG, pgConfigFor, sqliteOnly } = require('../lib/server.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-import-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let nDir = 0;
// A fresh directory with a config (relaxed flood rules) and an empty data dir inside.
function newSite() {
  const dir = path.join(tmp, `site-${++nDir}`);
  fs.mkdirSync(dir);
  const config = writeConfig(dir, { text: relaxedConfig() });
  if (ON_PG) pgConfigFor(dir, config); // PARLEY_TEST_STORE=postgres: a database per site
  return { dir, config, data: path.join(dir, 'data') };
}
function run(args, opts = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const imp = (site, format, file, ...extra) => run(['import', format, file, '--config', site.config,
  '--data', site.data, ...extra]);
const exportLines = (site, ...extra) => {
  const r = run(['export', '--config', site.config, '--data', site.data, ...extra]);
  assert.equal(r.code, 0, r.err);
  return r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
const write = (name, text) => { const f = path.join(tmp, name); fs.writeFileSync(f, text); return f; };
const num = (out, label) => Number((out.match(new RegExp(`${label}:\\s+(\\d+)`)) || [])[1]);

// Everything a fresh reader sees of an article through a real server: history since 0.
async function readThread(srv, article) {
  const c = await Client.connect(srv.wsUrl);
  const id = c.nextId;
  c.send({ type: 'subscribe', id, article, since: 0 });
  c.nextId++;
  const comments = [];
  for (;;) {
    const h = await c.next((m) => m.type === 'history' && m.id === id);
    comments.push(...h.comments);
    if (!h.more) break;
  }
  c.close();
  return comments;
}

const DISQUS_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" ' +
  'xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">\n';
const dqThread = (id, ident, link, title) => `<thread dsq:id="${id}"><id>${ident}</id><forum>news</forum>` +
  `<category dsq:id="1"/><link>${link}</link><title>${title}</title><message/>` +
  '<createdAt>2012-01-01T00:00:00Z</createdAt><author><name>Editor</name><isAnonymous>false</isAnonymous></author>' +
  '<isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n';
const dqPost = (id, thread, { parent, msg = '<p>hello</p>', at = '2012-05-01T10:00:00Z', deleted = false,
  spam = false, name = 'Ann', email = 'ann@example.com', user = 'ann', ip = '203.0.113.9' } = {}) =>
  `<post dsq:id="${id}"><id/><message><![CDATA[${msg}]]></message><createdAt>${at}</createdAt>` +
  `<isDeleted>${deleted}</isDeleted><isSpam>${spam}</isSpam><author>${email ? `<email>${email}</email>` : ''}` +
  `<name>${name}</name><isAnonymous>false</isAnonymous>${user ? `<username>${user}</username>` : ''}</author>` +
  `${ip ? `<ipAddress>${ip}</ipAddress>` : ''}<thread dsq:id="${thread}"/>` +
  `${parent ? `<parent dsq:id="${parent}"/>` : ''}</post>\n`;

// Posts before the threads they belong to, a reply before its parent, a deleted parent
// with replies, spam, an unknown thread, an empty identifier, HTML and entities.
const disqusFile = () => write('disqus.xml', DISQUS_HEAD +
  '<category dsq:id="1"><forum>news</forum><title>General</title><isDefault>true</isDefault></category>\n' +
  dqPost('503', '10', { parent: '501', at: '2012-05-01T12:00:00Z', name: 'Cy', email: 'cy@example.com', user: 'cy',
    msg: 'Reply to a <i>deleted</i> comment' }) +
  dqThread('10', 'story-42', 'https://news.example/2012/05/story-42/', 'Story &amp; more') +
  dqThread('11', '', 'https://news.example/world/elections%202012/?utm_source=x#comments', 'Elections') +
  dqPost('501', '10', { deleted: true, at: '2012-05-01T10:00:00Z', msg: '<p>I will be deleted</p>' }) +
  dqPost('502', '10', { parent: '501', at: '2012-05-01T11:00:00+02:00', name: 'Bo', email: 'BO@Example.com', user: 'bo',
    msg: '<p>First &amp; <b>bold</b> paragraph with <a href="https://example.org/x?a=1&amp;b=2">a link</a>.</p>' +
      '<p>Second&nbsp;paragraph<br>line two &lt;not a tag&gt; caf&eacute; &#8364;</p><script>alert(1)</script>' }) +
  dqPost('504', '10', { spam: true, at: '2012-05-02T10:00:00Z', name: 'Spammer', email: 'spam@example.com',
    msg: 'buy <a href="http://spam.example/">http://spam.example/</a>' }) +
  dqPost('505', '11', { at: '2012-06-01T10:00:00.250Z', name: 'Di', email: '', user: '', ip: '',
    msg: '<p>Elections thread</p>' }) +
  dqPost('506', '99', { msg: 'thread 99 does not exist' }) +
  dqPost('507', '11', { parent: '999', at: '2012-06-02T10:00:00Z', msg: 'parent missing' }) +
  '</disqus>\n');

test('disqus: threads, tree, statuses, HTML to text, hashes; seen through a real server', async () => {
  const site = newSite();
  const file = disqusFile();
  const r = imp(site, 'disqus', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 6);
  assert.equal(num(r.out, 'unknown_thread'), 1);
  assert.equal(num(r.out, 'replies'), 2, 'two replies to the deleted comment');
  assert.match(r.out, /articles:\s+2 \(2 new\)/);
  assert.match(r.out, /parent is missing[^:]*: 1/);

  const rows = exportLines(site);
  const bySrc = Object.fromEntries(rows.map((c) => [c.source.id, c]));
  assert.equal(bySrc['501'].status, 'removed');
  assert.equal(bySrc['504'].status, 'rejected');
  assert.equal(bySrc['502'].status, 'published');
  assert.equal(bySrc['502'].parent, bySrc['501'].id, 'reply kept under its deleted parent');
  assert.equal(bySrc['503'].parent, bySrc['501'].id, 'reply seen before its parent still finds it');
  assert.equal(bySrc['507'].parent, null);
  assert.equal(bySrc['502'].article, 'story-42');
  assert.equal(bySrc['505'].article, '/world/elections-202012/', 'empty identifier: the link path, mapped');
  assert.equal(bySrc['502'].created, '2012-05-01T09:00:00.000Z', 'offset honoured');
  assert.equal(bySrc['505'].created, '2012-06-01T10:00:00.250Z');
  assert.equal(bySrc['502'].body, 'First & bold paragraph with a link (https://example.org/x?a=1&b=2).\n\n' +
    'Second paragraph\nline two <not a tag> café €');
  assert.equal(bySrc['504'].body, 'buy http://spam.example/', 'a link whose text is its url is kept once');
  assert.equal(bySrc['502'].name, 'Bo');
  assert.equal(bySrc['505'].name, 'Di');
  // one reader, one author id: the address is compared case-insensitively, then hashed
  assert.match(bySrc['502'].author_id, /^i:[0-9a-f]{32}$/);
  assert.notEqual(bySrc['502'].author_id, bySrc['503'].author_id);
  assert.match(bySrc['502'].ip_hash, /^[0-9a-f]{32}$/);
  assert.equal(bySrc['505'].ip_hash, null);
  // comments were inserted oldest first
  const ids = rows.slice().sort((a, b) => a.created.localeCompare(b.created)).map((c) => c.id);
  assert.deepEqual(ids, rows.map((c) => c.id).sort((a, b) => a - b));
  // never raw: no address, e-mail or IP anywhere in the database files
  const raw = fs.readdirSync(site.data).map((f) => fs.readFileSync(path.join(site.data, f)).toString('latin1')).join('');
  for (const s of ['ann@example.com', 'bo@example.com', 'BO@Example.com', '203.0.113.9', 'cy@example.com'])
    assert.ok(!raw.includes(s), `${s} stored raw`);

  const srv = await startServer({ dataDir: site.dir, config: site.config });
  try {
    const thread = await readThread(srv, 'story-42');
    assert.deepEqual(thread.map((c) => c.id), [bySrc['502'].id, bySrc['503'].id], 'published only, oldest first');
    assert.equal(thread[0].parent, bySrc['501'].id);
    assert.equal(thread[0].author.name, 'Bo');
    assert.equal(thread[0].created_at, '2012-05-01T09:00:00.000Z');
    assert.equal(thread[0].body, bySrc['502'].body);
    const el = await readThread(srv, '/world/elections-202012/');
    assert.equal(el.length, 2);
    // the server goes on working: a new post lands after the imported ones
    const c = await Client.connect(srv.wsUrl);
    await c.request({ type: 'subscribe', article: 'story-42' });
    const ack = await c.request({ type: 'post', article: 'story-42', parent: bySrc['503'].id, name: 'New',
      title: 'Late reply', body: 'Replying to an imported comment.' });
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.ok(ack.comment.id > Math.max(...rows.map((x) => x.id)));
    c.close();
  } finally { await srv.stop(); }

  // re-running adds nothing
  const again = imp(site, 'disqus', file);
  assert.equal(again.code, 0, again.err);
  assert.equal(num(again.out, 'comments'), 0);
  assert.equal(num(again.out, 'already_imported'), 6);
  assert.equal(exportLines(site).length, 7);
});

test('disqus: --dry-run counts and stores nothing; --article-map overrides the ids', () => {
  const site = newSite();
  const file = disqusFile();
  const d = imp(site, 'disqus', file, '--dry-run');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /dry run/);
  assert.equal(num(d.out, 'comments'), 6);
  assert.equal(exportLines(site).length, 0, 'dry run stored nothing');

  const map = write('map.txt', '# thread -> article\nstory-42 news/story-42\n' +
    'https://news.example/world/elections%202012/?utm_source=x#comments   elections-2012\n');
  const r = imp(site, 'disqus', file, '--article-map', map);
  assert.equal(r.code, 0, r.err);
  const arts = new Set(exportLines(site).map((c) => c.article));
  assert.deepEqual([...arts].sort(), ['elections-2012', 'news/story-42']);

  const bad = write('badmap.txt', 'story-42 not valid!\n');
  const b = imp(newSite(), 'disqus', file, '--article-map', bad);
  assert.equal(b.code, 1);
  assert.match(b.err, /badmap\.txt:1:\d+: 'valid!' is not an article id/);
});

test('disqus: a malformed file stops at file:line:column and imports nothing', () => {
  const site = newSite();
  // valid posts first, then a broken tag: nothing of the valid part may land
  const broken = write('broken.xml', DISQUS_HEAD + dqThread('1', 'a', 'https://x/a', 'A') +
    dqPost('1', '1') + dqPost('2', '1') + '<post dsq:id="3"><message>x</mesage></post>\n</disqus>\n');
  const r = imp(site, 'disqus', broken);
  assert.equal(r.code, 1);
  assert.match(r.err, /broken\.xml:\d+:\d+: malformed XML: Opening and ending tag mismatch/);
  assert.match(r.err, /nothing was imported/);
  assert.equal(exportLines(site).length, 0);

  const badDate = write('baddate.xml', DISQUS_HEAD + dqThread('1', 'a', 'https://x/a', 'A') + dqPost('1', '1') +
    dqPost('2', '1', { at: 'yesterday' }) + '</disqus>');
  const d = imp(site, 'disqus', badDate);
  assert.equal(d.code, 1);
  assert.match(d.err, /baddate\.xml:\d+: post 2: createdAt is not an ISO 8601 time/);
  assert.equal(exportLines(site).length, 0);

  const truncated = write('trunc.xml', DISQUS_HEAD + dqThread('1', 'a', 'https://x/a', 'A') + dqPost('1', '1'));
  const t = imp(site, 'disqus', truncated);
  assert.equal(t.code, 1);
  assert.match(t.err, /trunc\.xml:\d+:\d+: malformed XML/);

  const notDisqus = write('other.xml', '<?xml version="1.0"?><rss><channel/></rss>');
  const o = imp(site, 'disqus', notDisqus);
  assert.equal(o.code, 1);
  assert.match(o.err, /not a Disqus export/);

  const entity = write('bomb.xml', '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
    '<disqus><thread dsq:id="1"><id>a</id></thread><post dsq:id="1"><message>&x;</message>' +
    '<createdAt>2012-01-01T00:00:00Z</createdAt><thread dsq:id="1"/></post></disqus>');
  const e = imp(site, 'disqus', entity);
  if (e.code === 0) assert.ok(!exportLines(site).some((c) => c.body.includes('root:')), 'no external entity read');

  assert.equal(imp(site, 'nosuch', broken).code, 2);
  assert.equal(imp(site, 'disqus', path.join(tmp, 'missing.xml')).code, 1);
});

test('a DTD is refused: its entities could expand a small file without bound (disqus, wordpress)', () => {
  // 100 kB of entity referenced 20,000 times: a 2 MB file that would expand to 2 GB of text
  const dtd = `<!DOCTYPE d [<!ENTITY e "${'x'.repeat(100000)}">]>`;
  const refs = '&e;'.repeat(20000);
  const files = {
    disqus: write('dtd-disqus.xml', `<?xml version="1.0"?>${dtd}<disqus xmlns:dsq="x"><thread dsq:id="1"><id>a</id></thread>` +
      `<post dsq:id="1"><message>${refs}</message><createdAt>2012-01-01T00:00:00Z</createdAt><thread dsq:id="1"/></post></disqus>`),
    wordpress: write('dtd-wp.xml', `<?xml version="1.0"?>${dtd}<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel>` +
      `<item><link>https://b/p</link><wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_date_gmt>2020-01-01 00:00:00` +
      `</wp:comment_date_gmt><wp:comment_content>${refs}</wp:comment_content></wp:comment></item></channel></rss>`),
  };
  for (const [format, file] of Object.entries(files)) {
    const site = newSite();
    const r = run(['import', format, file, '--config', site.config, '--data', site.data], { timeout: 20000 });
    assert.equal(r.code, 1, `${format}: ${r.err}`);
    assert.match(r.err, /has a DTD \(<!DOCTYPE \.\.\.>\), which no export has: refused/);
    assert.match(r.err, /nothing was imported/);
    assert.equal(exportLines(site).length, 0);
  }
});

test('disqus edge cases: over-limit kept whole, duplicates, shared ids, sparse elements, undeclared prefix', () => {
  const site = newSite();
  const long = 'x'.repeat(1500);
  const file = write('edge.xml', DISQUS_HEAD +
    // two threads whose identifiers map to one article id; one with no link or title
    '<thread dsq:id="1"><id>a b</id></thread>\n<thread dsq:id="2"><id>a-b</id><link>https://x/ab</link></thread>\n' +
    // identifier given as <identifiers><identifier> (the API's list form)
    '<thread dsq:id="3"><identifiers><identifier>listed-id</identifier></identifiers></thread>\n' +
    dqPost('1', '1', { msg: `<p>${long}</p>` }) +
    dqPost('1', '2', { msg: 'same source id again' }) +
    dqPost('2', '2', { msg: '', name: '', email: '', user: '', ip: '' }) +
    // no author element at all, no message element
    '<post dsq:id="3"><createdAt>2013-01-01T00:00:00Z</createdAt><thread dsq:id="3"/></post>\n' +
    '</disqus>');
  const r = imp(site, 'disqus', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 3);
  assert.equal(num(r.out, 'over limits kept'), 1);
  assert.equal(num(r.out, 'duplicate_id'), 1);
  assert.match(r.out, /articles shared by several threads: 1/);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by['1'].body, long, 'kept whole');
  assert.equal(by['1'].article, 'a-b');
  assert.equal(by['2'].name, 'Anonymous');
  assert.equal(by['2'].body, '');
  assert.equal(by['3'].article, 'listed-id');

  // a dsq: prefix nobody declared is a namespace error, not a malformed file
  const loose = write('loose.xml', '<disqus><thread dsq:id="7"><id>loose</id></thread>' +
    '<post dsq:id="8"><message>ok</message><createdAt>2013-01-01T00:00:00Z</createdAt><thread dsq:id="7"/></post></disqus>');
  const l = imp(newSite(), 'disqus', loose);
  assert.equal(l.code, 0, l.err);
  assert.equal(num(l.out, 'comments'), 1);
});

test('disqus: parents in a loop are cut, so walking up from any comment ends', () => {
  const site = newSite();
  // 1 -> 2 -> 3 -> 1 (a loop of three, with 4 hanging under it), 5 <-> 6, 7 under itself
  const at = (n) => `2012-05-01T10:0${n}:00Z`;
  const file = write('loops.xml', DISQUS_HEAD + dqThread('10', 'loops', 'https://x/loops', 'Loops') +
    dqPost('1', '10', { parent: '2', at: at(1) }) + dqPost('2', '10', { parent: '3', at: at(2) }) +
    dqPost('3', '10', { parent: '1', at: at(3) }) + dqPost('4', '10', { parent: '3', at: at(4) }) +
    dqPost('5', '10', { parent: '6', at: at(5) }) + dqPost('6', '10', { parent: '5', at: at(6) }) +
    dqPost('7', '10', { parent: '7', at: at(7) }) + '</disqus>\n');
  const r = imp(site, 'disqus', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 7);
  assert.match(r.out, /parents form a loop \(kept at top level\): 2/);
  const rows = exportLines(site);
  const byId = new Map(rows.map((c) => [c.id, c]));
  const by = Object.fromEntries(rows.map((c) => [c.source.id, c]));
  for (const c of rows) {
    let p = c, steps = 0;
    while (p.parent !== null && steps <= rows.length) { p = byId.get(p.parent); steps++; }
    assert.ok(steps <= rows.length, `comment ${c.source.id} is in a loop of parents`);
  }
  // only the links that closed a loop were cut: the oldest of each loop is its root
  assert.deepEqual(['1', '2', '3', '4', '5', '6', '7'].map((k) => by[k].parent === null ? null : byId.get(by[k].parent).source.id),
    [null, '3', '1', '3', null, '5', null]);
});

test('disqus: a deleted thread\'s posts are kept removed; a post with <id> but no dsq:id is kept', () => {
  const site = newSite();
  const deleted = dqThread('20', 'gone', 'https://x/gone', 'Gone').replace('<isDeleted>false</isDeleted>', '<isDeleted>true</isDeleted>');
  const file = write('deleted-thread.xml', DISQUS_HEAD + dqThread('10', 'live', 'https://x/live', 'Live') +
    dqPost('1', '20', { msg: 'in a deleted thread' }) + dqPost('2', '20', { spam: true, msg: 'spam in a deleted thread' }) +
    dqPost('3', '10', { msg: 'live post' }) + deleted +
    // an export's post without the dsq:id attribute, named by its <id> only
    '<post><id>12345678890</id><message>This comment had no dsq:id</message><createdAt>2011-08-31T22:49:43Z</createdAt>' +
    '<isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Blah</name></author><thread dsq:id="10"/></post>\n' +
    '</disqus>\n');
  const r = imp(site, 'disqus', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 4);
  assert.match(r.out, /comments of deleted threads \(kept removed\): 1/);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by['1'].status, 'removed', 'the thread was deleted in Disqus: not shown again here');
  assert.equal(by['2'].status, 'rejected');
  assert.equal(by['3'].status, 'published');
  assert.equal(by['12345678890'].body, 'This comment had no dsq:id');
  assert.equal(by['12345678890'].article, 'live');
});

const WXR_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" ' +
  'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" ' +
  'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" ' +
  'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel><title>Blog</title><link>https://blog.example</link>' +
  '<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://blog.example</wp:base_site_url>\n';
const wpComment = (id, { parent = 0, approved = '1', type = '', gmt = '2020-01-02 10:00:00', local = gmt,
  author = 'Ann', email = 'ann@example.com', ip = '192.0.2.1', content = 'Nice post' } = {}) =>
  `<wp:comment><wp:comment_id>${id}</wp:comment_id><wp:comment_author><![CDATA[${author}]]></wp:comment_author>` +
  `<wp:comment_author_email><![CDATA[${email}]]></wp:comment_author_email><wp:comment_author_url>https://ann.example</wp:comment_author_url>` +
  `<wp:comment_author_IP><![CDATA[${ip}]]></wp:comment_author_IP><wp:comment_date><![CDATA[${local}]]></wp:comment_date>` +
  `<wp:comment_date_gmt><![CDATA[${gmt}]]></wp:comment_date_gmt><wp:comment_content><![CDATA[${content}]]></wp:comment_content>` +
  `<wp:comment_approved><![CDATA[${approved}]]></wp:comment_approved><wp:comment_type><![CDATA[${type}]]></wp:comment_type>` +
  `<wp:comment_parent>${parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id>` +
  '<wp:commentmeta><wp:meta_key>akismet_result</wp:meta_key><wp:meta_value>false</wp:meta_value></wp:commentmeta></wp:comment>\n';
const wpItem = (postId, slug, link, comments, title = 'Post') => `<item><title>${title}</title>` +
  `${link ? `<link>${link}</link>` : ''}<dc:creator><![CDATA[admin]]></dc:creator>` +
  '<content:encoded><![CDATA[<p>The post itself, not a comment.</p>]]></content:encoded>' +
  `<wp:post_id>${postId}</wp:post_id><wp:post_date>2020-01-01 00:00:00</wp:post_date><wp:post_name>${slug}</wp:post_name>` +
  `<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>${comments}</item>\n`;

// Disqus keeps the links of a message as it shows them: through its redirector, the
// target percent-encoded in "url" with ":<hash>" appended.
test('disqus: links through disq.us are unwrapped to their target', () => {
  const site = newSite();
  const hash = '%3AzjHJ9CS7YTS6D6-FWtZRTF8swk4';
  const msgs = {
    r1: '<p>See <a href="https://disq.us/url?url=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1%26q%3Da%2Bb' + hash +
      '&amp;cuid=5002428" rel="nofollow noopener" target="_blank" title="https://example.org/a?b=1&amp;q=a+b">this page</a>.</p>',
    r2: '<a href="http://disq.us/?url=http%3A%2F%2Fold.example%2Fx' + hash + '&amp;cuid=1">http://old.example/x</a>',
    r3: '<a href="https://disq.us/url?url=http%3A%2F%2Fhost.example%3A8080%2Fwiki%2FSpecial%3APage%3AlCXtetgf9YHMt7wShspF19n5pMw&amp;cuid=2">wiki</a>',
    r4: '<a href="https://example.net/url?url=https%3A%2F%2Fexample.org%2F">not disqus</a> ' +
      '<a href="https://disq.us/url?cuid=3">no url</a>',
  };
  const file = write('disqus-links.xml', DISQUS_HEAD + dqThread('1', 'links', 'https://news.example/links', 'Links') +
    Object.entries(msgs).map(([id, msg]) => dqPost(id, '1', { msg })).join('') + '</disqus>\n');
  const r = imp(site, 'disqus', file);
  assert.equal(r.code, 0, r.err);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by.r1.body, 'See this page (https://example.org/a?b=1&q=a+b).');
  assert.equal(by.r2.body, 'http://old.example/x', 'the text is the target: shown once');
  assert.equal(by.r3.body, 'wiki (http://host.example:8080/wiki/Special:Page)', 'only the hash is cut, not a port or a colon of the target');
  assert.equal(by.r4.body, 'not disqus (https://example.net/url?url=https%3A%2F%2Fexample.org%2F) no url (https://disq.us/url?cuid=3)');
});

test('wordpress (WXR): tree, approval states, pingbacks, newlines, dates; seen through a real server', async () => {
  const site = newSite();
  const file = write('wp.xml', WXR_HEAD +
    wpItem(5, 'first-post', 'https://blog.example/2020/01/first-post/',
      wpComment(7, { parent: 6, gmt: '2020-01-02 11:00:00', author: 'Zoë', email: 'zoe@example.com',
        content: 'A reply\nwith two lines &amp; <em>emphasis</em> & an <a href="https://wordpress.org">link</a>\n\nNew paragraph' }) +
      wpComment(6, { content: 'Top comment' }) +
      wpComment(8, { type: 'pingback', content: 'ping' }) +
      wpComment(9, { approved: 'spam', gmt: '0000-00-00 00:00:00', local: '2020-01-04 10:00:00', content: 'junk' }) +
      wpComment(10, { approved: '0', content: 'held' }) +
      wpComment(11, { approved: 'trash', parent: 6, content: 'trashed' }) +
      wpComment(12, { parent: 11, gmt: '2020-01-05 10:00:00', content: 'reply to trashed' })) +
    wpItem(20, 'no-link-page', '', wpComment(21, { content: 'on a page without a link' }), 'Page') +
    '<item><title>Attachment</title><wp:post_type>attachment</wp:post_type></item>\n<item/>\n' +
    '</channel></rss>\n');
  const r = imp(site, 'wordpress', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 7);
  assert.equal(num(r.out, 'pingback'), 1);
  const rows = exportLines(site);
  const by = Object.fromEntries(rows.map((c) => [c.source.id, c]));
  assert.equal(by['7'].parent, by['6'].id);
  assert.equal(by['12'].parent, by['11'].id);
  assert.equal(by['7'].body, 'A reply\nwith two lines & emphasis & an link (https://wordpress.org)\n\nNew paragraph');
  assert.equal(by['7'].name, 'Zoë');
  assert.equal(by['7'].created, '2020-01-02T11:00:00.000Z');
  assert.equal(by['9'].created, '2020-01-04T10:00:00.000Z', 'zero GMT date falls back to the local one');
  assert.deepEqual([by['6'].status, by['9'].status, by['10'].status, by['11'].status],
    ['published', 'rejected', 'pending', 'removed']);
  assert.equal(by['6'].article, '/2020/01/first-post/');
  assert.equal(by['21'].article, 'no-link-page', 'no link: the slug');
  assert.equal(by['6'].author_id, by['10'].author_id, 'same e-mail, same author');

  const srv = await startServer({ dataDir: site.dir, config: site.config });
  try {
    const thread = await readThread(srv, '/2020/01/first-post/');
    assert.deepEqual(thread.map((c) => c.body), ['Top comment', by['7'].body, 'reply to trashed']);
  } finally { await srv.stop(); }
  assert.equal(num(imp(site, 'wordpress', file).out, 'already_imported'), 7);

  const bad = write('wpbad.xml', WXR_HEAD + wpItem(5, 'p', 'https://b/p', wpComment(1)) + '<item><title>x</item></channel></rss>');
  const b = imp(newSite(), 'wordpress', bad);
  assert.equal(b.code, 1);
  assert.match(b.err, /wpbad\.xml:\d+:\d+: malformed XML/);
});

test('wordpress: plain permalinks (?p=N) keep posts apart; notes and order notes are not published', () => {
  const site = newSite();
  const file = write('wp-plain.xml', WXR_HEAD +
    wpItem(1, 'hello', 'https://blog.example/?p=1', wpComment(11, { type: 'comment', content: 'on post 1' }) +
      wpComment(12, { type: 'review', content: 'five stars' }) +
      wpComment(13, { type: 'note', content: 'Editor note: fix the typo before publishing' })) +
    wpItem(2, 'second', 'https://blog.example/?p=2#more', wpComment(21, { content: 'on post 2' })) +
    wpItem(9, '', 'https://blog.example/?post_type=shop_order&amp;p=9',
      wpComment(91, { type: 'order_note', author: 'WooCommerce', content: 'Payment received from Ann, card ending 4242' })) +
    '</channel></rss>\n');
  const r = imp(site, 'wordpress', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 3);
  assert.equal(num(r.out, 'other_comment_type'), 2);
  assert.doesNotMatch(r.out, /shared by several threads/);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by['11'].article, '/-p-1', 'the query names the page when the path is only /');
  assert.equal(by['12'].article, '/-p-1');
  assert.equal(by['21'].article, '/-p-2');
  assert.equal(by['13'], undefined, 'an editor note is private');
  assert.equal(by['91'], undefined, 'an order note is private');
});

test('xml formats: a gzipped Disqus or WXR file imports as the plain one; a truncated or corrupt one imports nothing', () => {
  const zlib = require('node:zlib');
  const rows = (site) => exportLines(site).map(({ author_id, ip_hash, ...c }) => c);
  const wxr = fs.readFileSync(write('gz-wp.xml', WXR_HEAD + wpItem(5, 'first-post', 'https://blog.example/2020/01/first-post/',
    wpComment(6, { content: 'Top comment' }) + wpComment(7, { parent: 6, content: 'A reply' })) + '</channel></rss>\n'));
  for (const [format, plain] of [['disqus', fs.readFileSync(disqusFile())], ['wordpress', wxr]]) {
    const gz = zlib.gzipSync(plain);
    const a = newSite(), b = newSite();
    const pa = imp(a, format, write(`gz-${format}.xml`, plain));
    assert.equal(pa.code, 0, `${format}: ${pa.err}`);
    const pb = imp(b, format, write(`gz-${format}.export`, gz));
    assert.equal(pb.code, 0, `${format} gzipped: ${pb.err}`);
    assert.ok(num(pb.out, 'comments') >= 2, format);
    assert.equal(pb.out.replace(/gz-\w+\.\w+|[\d.]+ s/g, ''), pa.out.replace(/gz-\w+\.\w+|[\d.]+ s/g, ''), format);
    assert.deepEqual(rows(b), rows(a), format);
    const damaged = Buffer.from(gz);
    for (let i = 20; i < 40; i++) damaged[i] ^= 0x55;
    for (const [what, bytes, why] of [['half', gz.subarray(0, gz.length >> 1), /: the gzip data ends early: the file is truncated/],
      ['trailer', gz.subarray(0, gz.length - 4), /: the gzip data ends early: the file is truncated/],
      ['damaged', damaged, /: the gzip data is corrupt/]]) {
      const site = newSite();
      const r = imp(site, format, write(`gz-${format}-${what}.gz`, bytes));
      assert.equal(r.code, 1, `${format} ${what}: ${r.out}`);
      assert.match(r.err, why, `${format} ${what}`);
      assert.doesNotMatch(r.err, /malformed XML|I\/O error/, `${format} ${what}: the gzip error, not what libxml2 made of it`);
      assert.match(r.err, /nothing was imported/);
      assert.equal(exportLines(site).length, 0, `${format} ${what}`);
    }
  }
});

test('export then import parley: a lossless round trip', () => {
  const a = newSite();
  assert.equal(imp(a, 'disqus', disqusFile()).code, 0);
  const first = exportLines(a);
  const file = write('export.jsonl', first.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const b = newSite();
  const r = imp(b, 'parley', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), first.length);
  const second = exportLines(b);
  // ids are the new database's; map them back and everything else must match
  const idMap = new Map(second.map((c, i) => [c.id, first[i].id]));
  const norm = second.map((c) => ({ ...c, id: idMap.get(c.id), parent: c.parent === null ? null : idMap.get(c.parent) }));
  assert.deepEqual(norm, first);
  // the original source ids came along: the Disqus file adds nothing to the copy
  assert.equal(num(imp(b, 'disqus', disqusFile()).out, 'already_imported'), 6);
  assert.equal(num(imp(b, 'parley', file).out, 'already_imported'), first.length);
  // one article only
  assert.ok(exportLines(a, '--article', 'story-42').every((c) => c.article === 'story-42'));
  // a broken line names its line
  const broken = write('broken.jsonl', JSON.stringify(first[0]) + '\n{"id": 5, "article": "x"\n');
  const e = imp(newSite(), 'parley', broken);
  assert.equal(e.code, 1);
  assert.match(e.err, /broken\.jsonl:2:\d+: /);
  const badStatus = write('badstatus.jsonl', JSON.stringify({ ...first[0], status: 'weird' }) + '\n');
  assert.match(imp(newSite(), 'parley', badStatus).err, /unknown status 'weird'/);
});

// 50 MB with the plain build; 10 MB under the sanitizers, which run it five times slower.
const SAN = /build\/san\//.test(BIN);
const BIG_MB = SAN ? 10 : 50;

// Writes a Disqus export of about mb megabytes; resolves with the number of posts.
async function genDisqus(file, mb) {
  const out = fs.createWriteStream(file);
  const w = (s) => (out.write(s) ? null : new Promise((r) => out.once('drain', r)));
  await w(DISQUS_HEAD);
  const threads = 500;
  for (let t = 1; t <= threads; t++) await w(dqThread(t, `big-${t}`, `https://news.example/big/${t}`, `Big ${t}`));
  const filler = 'Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing elit &amp; more. '.repeat(5);
  let n = 0, size = 0;
  while (size < mb * 1024 * 1024) {
    n++;
    const p = dqPost(`p${n}`, String((n % threads) + 1), { parent: n > threads && n % 3 === 0 ? `p${n - threads}` : undefined,
      msg: `<p>${n} ${filler}</p>`, at: new Date(Date.UTC(2015, 0, 1) + n * 1000).toISOString(),
      email: `reader${n % 1000}@example.com`, user: `reader${n % 1000}` });
    size += p.length;
    const wait = w(p);
    if (wait) await wait;
  }
  await w('</disqus>\n');
  await new Promise((r) => out.end(r));
  return n;
}

// Imports file into a new site under /usr/bin/time -v; returns {n, rss kB, out}.
function importTimed(file) {
  const site = newSite();
  // Under AddressSanitizer freed memory sits in quarantine: keep that small.
  const r = spawnSync('/usr/bin/time', ['-v', BIN, 'import', 'disqus', file, '--config', site.config,
    '--data', site.data], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ASAN_OPTIONS: 'quarantine_size_mb=16:malloc_context_size=5' } });
  assert.equal(r.status, 0, r.stderr);
  return { n: num(r.stdout, 'comments'), rss: Number(r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)[1]), out: r.stdout };
}

test(`a generated ${BIG_MB} MB Disqus export imports in bounded memory`, { timeout: 180000 }, async () => {
  const small = path.join(tmp, 'small.xml'), big = path.join(tmp, 'big.xml');
  const nSmall = await genDisqus(small, BIG_MB / 5);
  const nBig = await genDisqus(big, BIG_MB);
  assert.ok(fs.statSync(big).size >= BIG_MB * 1024 * 1024);
  const a = importTimed(small), b = importTimed(big);
  fs.rmSync(small);
  fs.rmSync(big);
  assert.equal(a.n, nSmall);
  assert.equal(b.n, nBig);
  console.log(`${BIG_MB / 5} MB: max RSS ${a.rss} kB; ${BIG_MB} MB (${nBig} posts): max RSS ${b.rss} kB; ${b.out.match(/time:.*/)[0]}`);
  // The parse holds one element at a time; staging and writing go through SQLite, whose
  // caches are capped (32 MB for the database, 8 MB for the staging tables). Five times
  // the file may grow memory by at most those caches filling up (about 28 -> 57 MB
  // measured), never by the file: holding 50 MB of posts would take far more.
  assert.ok(b.rss < a.rss + 48 * 1024, `memory grew with the file: ${a.rss} kB -> ${b.rss} kB`);
  if (!SAN) assert.ok(b.rss < 100 * 1024, `max RSS ${b.rss} kB`);
});

test('backup while posts stream in; a server on the restored copy has every acknowledged comment', { skip: sqliteOnly('parley backup copies the SQLite file; PostgreSQL uses pg_dump') }, async () => {
  const site = newSite();
  const srv = await startServer({ dataDir: site.dir, config: site.config });
  const backup = path.join(tmp, 'backup.db');
  const acked = [];
  let backupStarted = 0, stop = false;
  try {
    const writers = await Promise.all([0, 1, 2].map(() => Client.connect(srv.wsUrl)));
    const storm = writers.map(async (c, k) => {
      for (let i = 0; !stop; i++) {
        // generous: under the sanitizers a post may wait while the backup copies pages
        const a = await c.request({ type: 'post', article: `storm-${k}`, name: `W${k}`, title: `t ${k} ${i}`,
          body: `storm writer ${k} post ${i} ${Math.random()}` }, 30000).catch(() => ({ type: 'error' }));
        if (a.type === 'ack') acked.push({ id: a.comment.id, article: `storm-${k}`, at: Date.now() });
      }
    });
    while (acked.length < 100) await new Promise((r) => setTimeout(r, 20));
    backupStarted = Date.now();
    const b = await new Promise((resolve) => {
      const p = spawn(BIN, ['backup', backup, '--config', site.config, '--data', site.data]);
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => resolve({ code, err }));
    });
    assert.equal(b.code, 0, b.err);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(storm);
    writers.forEach((c) => c.close());
  } finally { await srv.stop(); }
  const before = acked.filter((a) => a.at <= backupStarted); // acked by the time it started
  assert.ok(before.length >= 100);

  // refuses to overwrite
  assert.equal(run(['backup', backup, '--config', site.config, '--data', site.data]).code, 1);

  // restore: the copy becomes the database of a new site (with the same address key)
  const restored = newSite();
  fs.mkdirSync(restored.data);
  fs.copyFileSync(backup, path.join(restored.data, 'parley.db'));
  fs.copyFileSync(path.join(site.data, 'ip-hash.key'), path.join(restored.data, 'ip-hash.key'));
  const srv2 = await startServer({ dataDir: restored.dir, config: restored.config });
  try {
    const have = new Set();
    for (const k of [0, 1, 2]) for (const c of await readThread(srv2, `storm-${k}`)) have.add(c.id);
    const missing = before.filter((a) => !have.has(a.id));
    assert.deepEqual(missing, [], 'every comment acknowledged before the backup is in it');
  } finally { await srv2.stop(); }
});

// Isso's own schema (isso/db/threads.py, isso/db/comments.py), for Python's sqlite3
const ISSO_SCHEMA = `c.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256))")
c.execute("""CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
  created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR, author VARCHAR,
  email VARCHAR, website VARCHAR, likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
  notification INTEGER DEFAULT 0)""")
`;

test('isso: its SQLite database (threads, comments, modes), read-only', async () => {
  const site = newSite();
  const db = path.join(tmp, 'isso.db');
  // Isso's own schema (isso/db/threads.py, isso/db/comments.py), built with Python's sqlite3
  const py = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
${ISSO_SCHEMA}c.execute("INSERT INTO threads VALUES (1, '/blog/hello-world/', 'Hello')")
c.execute("INSERT INTO threads VALUES (2, '/blog/second/', NULL)")
rows = [(1, 1, None, 1500000000.5, 1, '192.168.1.0', 'First *markdown* [link](https://isso.example)', 'Ann', 'ann@example.com'),
        (1, 2, 1, 1500000100.0, 4, '192.168.1.0', '', None, None),
        (1, 3, 2, 1500000200.0, 1, '10.0.0.0', 'Reply to a deleted one', 'Bo', None),
        (1, 4, None, 1500000300.0, 2, '10.0.0.0', 'Waiting', 'Cy', None),
        (2, 5, None, 1500000400.0, 1, '10.0.0.0', 'Second thread', None, None),
        (7, 6, None, 1500000500.0, 1, '10.0.0.0', 'Thread 7 is gone', 'X', None)]
for r in rows:
    c.execute("INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, voters) VALUES (?,?,?,?,?,?,?,?,?,x'00')", r)
c.execute("UPDATE comments SET modified = 1500003600.25 WHERE id = 1")  # edited an hour later
c.execute("UPDATE comments SET modified = 'soon' WHERE id = 3")  # no time: no edit
c.commit()
`;
  const mk = spawnSync('/usr/bin/python3', ['-c', py, db], { encoding: 'utf8' });
  assert.equal(mk.status, 0, mk.stderr);
  const r = imp(site, 'isso', db);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 5);
  assert.equal(num(r.out, 'unknown_thread'), 1);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by['1'].article, '/blog/hello-world/');
  assert.equal(by['1'].body, 'First *markdown* [link](https://isso.example)');
  assert.equal(by['1'].created, '2017-07-14T02:40:00.500Z');
  assert.equal(by['1'].edited, '2017-07-14T03:40:00.250Z', "Isso's modified is the edit time");
  assert.equal(by['3'].edited, null);
  assert.equal(by['4'].edited, null);
  assert.deepEqual([by['1'].status, by['2'].status, by['4'].status], ['published', 'removed', 'pending']);
  assert.equal(by['3'].parent, by['2'].id);
  assert.equal(by['2'].name, 'Anonymous');
  const srv = await startServer({ dataDir: site.dir, config: site.config });
  try {
    assert.deepEqual((await readThread(srv, '/blog/hello-world/')).map((c) => c.body),
      [by['1'].body, 'Reply to a deleted one']);
  } finally { await srv.stop(); }
  assert.equal(num(imp(site, 'isso', db).out, 'already_imported'), 5);
  const notIsso = imp(newSite(), 'isso', disqusFile());
  assert.equal(notIsso.code, 1);
  assert.match(notIsso.err, /not an Isso database|cannot open as SQLite/);
});

test('isso: a creation time that is no time stops the import; nothing is stored', () => {
  // Isso's schema; the second comment's created is out of range, negative, or a text
  const py = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
${ISSO_SCHEMA}c.execute("INSERT INTO threads VALUES (1, '/a/', 'A')")
bad = {'huge': 1e300, 'negative': -5.0, 'text': 'yesterday'}[sys.argv[2]]
for i, created in ((1, 1500000000.0), (2, bad)):
    c.execute("INSERT INTO comments (tid, id, created, mode, text, voters) VALUES (1, ?, ?, 1, 'x', x'00')", (i, created))
c.commit()
`;
  for (const kind of ['huge', 'negative', 'text']) {
    const db = path.join(tmp, `isso-${kind}.db`);
    const mk = spawnSync('/usr/bin/python3', ['-c', py, db, kind], { encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    const site = newSite();
    const r = imp(site, 'isso', db);
    assert.equal(r.code, 1, `${kind}: ${r.out}`);
    assert.match(r.err, /comment 2: 'created' is not a time/);
    assert.equal(exportLines(site).length, 0);
  }
});

test('remark42: backup lines (metadata line skipped), HTML, deleted, tree', () => {
  const site = newSite();
  const loc = (url) => ({ site: 'remark', url });
  const lines = [
    { version: 1, users: [{ id: 'github_1', blocked: { status: false } }], posts: [{ url: 'https://r.example/p/1', count: 2 }] },
    { id: 'c1', pid: '', text: '<p>Hello <a href="https://r.example" rel="nofollow">there</a> &amp; welcome</p>\n',
      orig: 'Hello [there](https://r.example) & welcome', user: { name: 'Ann', id: 'github_1', picture: '', ip: 'abcdef0123', admin: false },
      locator: loc('https://r.example/p/1?x=1'), score: 2, vote: 0, time: '2019-03-04T05:06:07.123456789-05:00', title: 'Post 1',
      edit: { time: '2019-03-04T11:00:00.5Z', summary: 'typo' } },
    { id: 'c2', pid: 'c1', text: '', user: { name: 'Bo', id: 'google_2', ip: 'x' }, locator: loc('https://r.example/p/1?x=1'),
      time: '2019-03-04T10:06:08Z', delete: true },
    { id: 'c3', pid: 'c2', text: '<p>under deleted</p>', user: { name: 'Cy', id: 'email_3' }, locator: loc('https://r.example/p/1?x=1'),
      time: '2019-03-05T00:00:00Z', edit: { time: '0001-01-01T00:00:00Z', summary: '' } },
  ];
  const file = write('remark.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const r = imp(site, 'remark42', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 3);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by.c1.article, '/p/1');
  assert.equal(by.c1.body, 'Hello there (https://r.example) & welcome');
  assert.equal(by.c1.created, '2019-03-04T10:06:07.123Z');
  assert.equal(by.c1.edited, '2019-03-04T11:00:00.500Z', "Remark42's edit.time is the edit time");
  assert.equal(by.c2.edited, null);
  assert.equal(by.c3.edited, null, "Go's zero time is no edit");
  assert.equal(by.c1.ip_hash, null, "Remark42's own ip hash is not an address");
  assert.equal(by.c2.status, 'removed');
  assert.equal(by.c3.parent, by.c2.id);
  const bad = write('remark-bad.jsonl', JSON.stringify(lines[1]) + '\n{"id": "c9", \n');
  const b = imp(newSite(), 'remark42', bad);
  assert.equal(b.code, 1);
  assert.match(b.err, /remark-bad\.jsonl:2:\d+: /);
});

test('commento: JSON export with commenters, root parents, states, deleted', () => {
  const site = newSite();
  const doc = { version: 1,
    comments: [
      { commentHex: 'b2', domain: 'c.example', path: '/post/1', commenterHex: 'p2', markdown: 'reply', html: '<p>reply</p>',
        parentHex: 'a1', score: 0, state: 'approved', creationDate: '2020-02-02T00:00:01Z', deleted: false },
      { commentHex: 'a1', domain: 'c.example', path: '/post/1', commenterHex: 'p1', markdown: 'first **bold**',
        html: '<p>first <b>bold</b></p>', parentHex: 'root', score: 3, state: 'approved', creationDate: '2020-02-01T00:00:00Z', deleted: false },
      { commentHex: 'c3', domain: 'c.example', path: '/post/1', commenterHex: 'anonymous', markdown: 'held',
        parentHex: 'root', state: 'unapproved', creationDate: '2020-02-03T00:00:00Z', deleted: false },
      { commentHex: 'd4', domain: 'c.example', path: '/post/2', commenterHex: 'p1', markdown: '[deleted]',
        parentHex: 'root', state: 'approved', creationDate: '2020-02-04T00:00:00Z', deleted: true },
    ],
    commenters: [
      { commenterHex: 'p1', email: 'p1@example.com', name: 'Pat', link: 'undefined', photo: 'undefined', provider: 'commento', joinDate: '2020-01-01T00:00:00Z', isModerator: false },
      { commenterHex: 'p2', email: 'p2@example.com', name: 'Quinn', provider: 'google' },
    ] };
  const file = write('commento.json', JSON.stringify(doc));
  const r = imp(site, 'commento', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 4);
  assert.match(r.out, /articles:\s+2/);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by.a1.body, 'first **bold**');
  assert.equal(by.a1.name, 'Pat');
  assert.equal(by.b2.parent, by.a1.id);
  assert.equal(by.c3.status, 'pending');
  assert.equal(by.c3.name, 'Anonymous');
  assert.equal(by.d4.status, 'removed');
  assert.equal(by.d4.article, '/post/2');
  if (!ON_PG) {
    const raw = fs.readFileSync(path.join(site.data, 'parley.db')).toString('latin1');
    assert.ok(!raw.includes('p1@example.com'));
  }
  const b = imp(newSite(), 'commento', write('commento-bad.json', '{"version":1,\n"comments": [}'));
  assert.equal(b.code, 1);
  assert.match(b.err, /commento-bad\.json:2:\d+: /);
});

test('json formats: a byte order mark and CRLF line ends are read; a file of another format is refused', () => {
  const BOM = '\ufeff';
  const meta = { version: 1, users: null, posts: [{ url: 'https://r.example/p/1', count: 1 }] };
  const rk = { id: 'c1', pid: '', text: '<p>hi</p>', user: { name: 'Ann', id: 'github_1' },
    locator: { site: 'remark', url: 'https://r.example/p/1' }, time: '2019-03-04T05:06:07Z' };
  const remark = write('bom-remark.jsonl', BOM + [meta, rk].map((l) => JSON.stringify(l)).join('\r\n') + '\r\n');
  const commento = write('bom-commento.json', BOM + JSON.stringify({ version: 1, commenters: [], comments: [
    { commentHex: 'a1', domain: 'c.example', path: '/p', commenterHex: 'anonymous', markdown: 'hi', parentHex: 'root',
      state: 'approved', creationDate: '2020-02-01T00:00:00Z', deleted: false }] }, null, 2).replace(/\n/g, '\r\n'));
  for (const [format, file] of [['remark42', remark], ['commento', commento]]) {
    const site = newSite();
    const r = imp(site, format, file);
    assert.equal(r.code, 0, `${format}: ${r.err}`);
    assert.equal(num(r.out, 'comments'), 1, format);
    assert.equal(exportLines(site)[0].body, 'hi');
  }
  const a = newSite();
  assert.equal(imp(a, 'remark42', remark).code, 0);
  const exported = write('bom-export.jsonl', BOM + exportLines(a).map((c) => JSON.stringify(c)).join('\r\n') + '\r\n');
  const p = imp(newSite(), 'parley', exported);
  assert.equal(p.code, 0, p.err);
  assert.equal(num(p.out, 'comments'), 1);

  // a Commento export on one line is JSON lines too, but no Remark42 backup; nor is an empty file
  const oneLine = write('commento-one-line.json', JSON.stringify({ version: 1, comments: [], commenters: [] }) + '\n');
  for (const file of [oneLine, write('empty.jsonl', '')]) {
    const site = newSite();
    const r = imp(site, 'remark42', file);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /not a Remark42 backup/);
  }
});

// Remark42 writes its backups gzipped (backup-{site}-{YYYYMMDD}.gz) and Commento's export
// is a gzipped JSON file: the content tells, not the name.
test('json formats: gzipped files import as the plain ones; a truncated or corrupt one imports nothing', () => {
  const zlib = require('node:zlib');
  const rkLines = [{ version: 1, users: [], posts: [{ url: 'https://r.example/p/1', count: 300 }] }];
  for (let i = 1; i <= 300; i++) {
    rkLines.push({ id: `c${i}`, pid: i > 1 && i % 4 === 0 ? `c${i - 1}` : '', text: `<p>comment ${i} <b>${(i * 7919).toString(36)}</b></p>`,
      user: { name: `User ${i % 17}`, id: `github_${i % 17}` }, locator: { site: 'remark', url: `https://r.example/p/${i % 5}` },
      time: new Date(Date.UTC(2019, 0, 1) + i * 60000).toISOString() });
  }
  const remark = rkLines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  const commento = JSON.stringify({ version: 1, commenters: [{ commenterHex: 'p1', email: 'p1@example.com', name: 'Pat' }],
    comments: Array.from({ length: 200 }, (_, i) => ({ commentHex: `h${i}`, domain: 'c.example', url: `/p/${i % 3}`,
      commenterHex: i % 2 ? 'p1' : 'anonymous', markdown: `text ${i} ${(i * 104729).toString(36)}`, parentHex: i % 5 ? 'root' : `h${i - 1}`,
      state: 'approved', creationDate: new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString(), deleted: false })) }, null, 2);
  // an export of its own, for the parley format
  const src = newSite();
  assert.equal(imp(src, 'remark42', write('gz-src.jsonl', remark)).code, 0);
  const parley = exportLines(src).map((c) => JSON.stringify(c)).join('\n') + '\n';
  // the keyed hashes differ from one data directory to another: the rest must be equal
  const rows = (site) => exportLines(site).map(({ author_id, ip_hash, ...c }) => c);
  for (const [format, text, ext] of [['remark42', remark, 'jsonl'], ['commento', commento, 'json'], ['parley', parley, 'jsonl']]) {
    const gz = zlib.gzipSync(Buffer.from(text));
    const a = newSite(), b = newSite();
    const pa = imp(a, format, write(`gz-${format}.${ext}`, text));
    assert.equal(pa.code, 0, `${format}: ${pa.err}`);
    // no .gz in the name: the first bytes tell
    const pb = imp(b, format, write(`gz-${format}.${ext}.backup`, gz));
    assert.equal(pb.code, 0, `${format} gzipped: ${pb.err}`);
    assert.ok(num(pb.out, 'comments') >= 200, format);
    assert.equal(num(pb.out, 'comments'), num(pa.out, 'comments'), format);
    assert.deepEqual(rows(b), rows(a), format);

    // cut in the middle, cut in the trailer (the data is whole, its check and length are
    // not), or damaged: an error naming the file, and nothing imported
    const bad = gz.subarray(0, 40);
    const damaged = Buffer.from(gz);
    for (let i = 20; i < 40; i++) damaged[i] ^= 0x55;
    for (const [what, bytes, why] of [['half', gz.subarray(0, gz.length >> 1), /gzip data ends early: the file is truncated/],
      ['trailer', gz.subarray(0, gz.length - 4), /gzip data ends early: the file is truncated/],
      ['head', bad, /gzip data ends early/], ['damaged', damaged, /gzip data is corrupt/]]) {
      const site = newSite();
      const r = imp(site, format, write(`gz-${format}-${what}.gz`, bytes));
      assert.equal(r.code, 1, `${format} ${what}: ${r.out}`);
      assert.match(r.err, new RegExp(`gz-${format}-${what}\\.gz: `), `${format} ${what}`);
      assert.match(r.err, why, `${format} ${what}`);
      assert.match(r.err, /nothing was imported/);
      assert.equal(exportLines(site).length, 0, `${format} ${what}`);
    }
  }
});

test('commento: the export names the page by "url" (as Commento writes it); HTML when the markdown is empty', () => {
  const site = newSite();
  // the fields of Commento's comment struct as it encodes them: Path is tagged json:"url"
  const doc = { version: 1,
    comments: [
      { commentHex: 'e7', domain: 'example.com', url: '/blog/post/1', commenterHex: 'anonymous', markdown: 'First',
        html: '', parentHex: 'root', score: 1, state: 'approved', creationDate: '2021-03-12T11:21:56Z', direction: 0, deleted: false },
      { commentHex: 'e8', domain: 'example.com', url: '/blog/post/1', commenterHex: 'a1', markdown: '',
        html: '<p>Only <b>HTML</b></p>', parentHex: 'e7', score: 0, state: 'approved', creationDate: '2021-03-17T12:09:47.722181Z',
        direction: 0, deleted: false },
      { commentHex: 'e9', domain: 'example.com', url: '/blog/post/2', commenterHex: 'a1', markdown: 'Other page',
        html: '', parentHex: 'root', score: 0, state: 'flagged', creationDate: '2021-05-11T15:43:01.852651Z', direction: 0, deleted: false },
    ],
    commenters: [{ commenterHex: 'a1', email: 'a1@example.com', name: 'User5276', link: 'https://example.com/profile/257',
      photo: 'https://secure.gravatar.com/avatar/x', provider: 'sso:example.com', joinDate: '2021-03-19T19:27:25.954285Z', isModerator: false }] };
  const r = imp(site, 'commento', write('commento-url.json', JSON.stringify(doc, null, 2)));
  assert.equal(r.code, 0, r.err);
  assert.equal(num(r.out, 'comments'), 3);
  const by = Object.fromEntries(exportLines(site).map((c) => [c.source.id, c]));
  assert.equal(by.e7.article, '/blog/post/1');
  assert.equal(by.e9.article, '/blog/post/2');
  assert.equal(by.e8.parent, by.e7.id);
  assert.equal(by.e8.body, 'Only HTML');
  assert.equal(by.e8.name, 'User5276');
  assert.equal(by.e8.created, '2021-03-17T12:09:47.722Z');
  assert.equal(by.e9.status, 'pending');
});

test('a progress line on a terminal only', () => {
  const file = disqusFile();
  const plain = imp(newSite(), 'disqus', file);
  assert.equal(plain.code, 0, plain.err);
  assert.ok(!plain.err.includes('import:'), 'no progress when stderr is not a terminal');
  // util-linux's script gives the command a pseudo-terminal
  const site = newSite();
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  const cmd = [BIN, 'import', 'disqus', file, '--config', site.config, '--data', site.data].map(q).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\rimport: 100\.0% of 0\.0 MB, 2 threads, 7 comments/);
  assert.match(r.stdout, /comments:\s+6/);
});
