/* Parley moderation console: queues, decisions with one key, live updates from every
 * other console. No framework; reader text only ever goes in through textContent. */
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = {
  ws: null, reqId: 0, waiting: new Map(), me: null,
  view: 'queue', queue: 'all', items: [], index: 0, checked: new Set(),
  counts: { held: 0, reported: 0, refused: 0 }, backoff: 500,
};

function el(tag, attrs = {}, kids = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of kids) if (c) e.append(c);
  return e;
}

function announce(text) { $('#live').textContent = text; }
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/* ---- Sign in ---- */

async function boot() {
  const r = await fetch('/api/mod/me', { credentials: 'same-origin' });
  if (r.ok) { state.me = await r.json(); start(); } else showLogin();
}

function showLogin() {
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-name').focus();
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#login-error').textContent = '';
  const r = await fetch('/api/mod/login', {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: $('#login-name').value, password: $('#login-password').value }),
  });
  const body = await r.json().catch(() => ({}));
  if (r.ok) { state.me = body; $('#login-password').value = ''; start(); return; }
  $('#login-error').textContent = r.status === 429 ? `Too many attempts; try again in ${body.retry_after} s.`
    : r.status === 401 ? 'Wrong name or password.' : `Sign-in failed (${r.status}).`;
});

$('#logout').addEventListener('click', async () => {
  await fetch('/api/mod/logout', { method: 'POST', credentials: 'same-origin' });
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  showLogin();
});

function start() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#who').textContent = `${state.me.name} (${state.me.role})`;
  for (const e of document.querySelectorAll('[data-admin]')) e.hidden = state.me.role !== 'admin';
  connect();
  $('#items').focus();
}

/* ---- The WebSocket ---- */

function connect() {
  const ws = state.ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, 'parley.v1');
  ws.onopen = async () => {
    $('#conn').textContent = '';
    state.backoff = 500;
    const w = await request({ type: 'mod.hello' });
    if (w.type !== 'mod.welcome') { showLogin(); return; }
    setCounts(w.counts);
    load();
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id !== undefined && state.waiting.has(m.id)) { state.waiting.get(m.id)(m); state.waiting.delete(m.id); return; }
    onEvent(m);
  };
  ws.onclose = () => {
    $('#conn').textContent = 'Reconnecting…';
    for (const w of state.waiting.values()) w({ type: 'error', code: 'unavailable', message: 'Connection lost' });
    state.waiting.clear();
    setTimeout(connect, state.backoff * (0.75 + Math.random() / 2));
    state.backoff = Math.min(state.backoff * 2, 15000);
  };
}

function request(msg) {
  return new Promise((resolve) => {
    msg.id = ++state.reqId;
    state.waiting.set(msg.id, resolve);
    if (state.ws.readyState === 1) state.ws.send(JSON.stringify(msg));
    else { state.waiting.delete(msg.id); resolve({ type: 'error', code: 'unavailable', message: 'Not connected' }); }
  });
}

function onEvent(m) {
  if (m.type === 'mod.counts') setCounts(m.counts);
  else if (m.type === 'mod.item') {
    if (state.view !== 'queue') return;
    const q = m.item.queue;
    // "All pending" is held + reported; refused posts have their own queue
    if (state.queue === 'all' ? q === 'refused' : state.queue !== q) return;
    const at = state.items.findIndex((x) => x.comment.id === m.item.comment.id);
    if (at >= 0) state.items[at] = m.item;
    else { state.items.push(m.item); announce(`New ${q} item from ${m.item.author.name}`); }
    render(m.item.comment.id);
  } else if (m.type === 'mod.resolved') {
    drop(m.comment, m.by && m.by !== state.me.name ? `Decided by ${m.by}` : null);
  }
}

function setCounts(c) {
  state.counts = c;
  document.querySelector('[data-count=held]').textContent = c.held;
  document.querySelector('[data-count=reported]').textContent = c.reported;
  document.querySelector('[data-count=refused]').textContent = c.refused || 0;
  document.querySelector('[data-count=all]').textContent = c.held + c.reported;
}

/* ---- Views ---- */

async function load() {
  $('#audit').hidden = true;
  $('#rules-table').hidden = true;
  $('#webhooks').hidden = true;
  $('#items').hidden = false;
  if (state.view === 'queue') {
    const r = await request({ type: 'mod.queue', queue: state.queue, limit: 100 });
    if (r.type !== 'mod.queue') return;
    state.items = r.items;
    setCounts(r.counts);
  } else if (state.view === 'search') {
    state.items = [];
  }
  state.index = 0;
  state.checked.clear();
  render();
}

for (const tab of document.querySelectorAll('.tabs button')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('.tabs button')) t.setAttribute('aria-selected', String(t === tab));
    state.view = tab.dataset.view || 'queue';
    if (tab.dataset.queue) state.queue = tab.dataset.queue;
    $('#search-form').hidden = state.view !== 'search';
    $('#audit-form').hidden = state.view !== 'audit';
    if (state.view === 'audit') loadAudit();
    else if (state.view === 'rules') loadRules();
    else if (state.view === 'webhooks') loadWebhooks();
    else load();
  });
}

$('#search-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = { type: 'mod.search' };
  if ($('#search-author').value) q.author = $('#search-author').value;
  if ($('#search-article').value) q.article = $('#search-article').value;
  if ($('#search-text').value) q.text = $('#search-text').value;
  const r = await request(q);
  state.items = r.type === 'mod.search' ? r.items : [];
  state.index = 0;
  render();
});

// The Rules page: per-rule quality (mod.rules), most overturned first.
async function loadRules() {
  $('#webhooks').hidden = true;
  const r = await request({ type: 'mod.rules' });
  $('#items').hidden = true;
  $('#empty').hidden = true;
  $('#audit').hidden = true;
  $('#detail').replaceChildren();
  const body = $('#rules-table tbody');
  body.replaceChildren();
  const pct = (n, of) => (of ? ` (${Math.round((100 * n) / of)}%)` : '');
  const rows = (r.rules || []).slice().sort((a, b) => (b.approved_held + b.rejected_passed) - (a.approved_held + a.rejected_passed) || b.hits - a.hits);
  for (const q of rows) {
    body.append(el('tr', { 'data-rule': q.rule }, [el('td', { text: q.rule }), el('td', { text: String(q.hits) }),
      el('td', { text: String(q.holds) }), el('td', { class: q.approved_held ? 'warn' : '', text: `${q.approved_held}${pct(q.approved_held, q.holds)}` }),
      el('td', { class: q.rejected_passed ? 'warn' : '', text: String(q.rejected_passed) })]));
  }
  if (!rows.length) body.append(el('tr', {}, [el('td', { colspan: '5', text: 'No rule has fired yet.' })]));
  $('#rules-table').hidden = false;
}

async function loadAudit() {
  $('#rules-table').hidden = true;
  const q = { type: 'mod.audit' };
  if ($('#audit-moderator').value) q.moderator = $('#audit-moderator').value;
  if ($('#audit-action').value) q.action = $('#audit-action').value;
  const r = await request(q);
  $('#items').hidden = true;
  $('#empty').hidden = true;
  $('#detail').replaceChildren();
  $('#webhooks').hidden = true;
  const body = $('#audit tbody');
  body.replaceChildren();
  for (const e of r.entries || []) {
    body.append(el('tr', {}, [el('td', { text: when(e.at) }), el('td', { text: e.moderator }),
      el('td', { text: e.action + (e.undone ? ' (undone)' : '') }), el('td', { text: e.target }),
      el('td', { class: 'sentence', text: auditSentence(e) })]));
  }
  $('#audit').hidden = false;
}
// A date and time as people read them, from an ISO string or epoch milliseconds.
function when(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// One audit entry as a sentence: "ana banned g:troll for 7 days (until 2 Dec 2026, 10:00)".
function auditSentence(e) {
  const who = e.moderator, b = e.before || {}, a = e.after || {};
  const target = e.target.startsWith('comment:') ? `comment #${e.target.slice(8)}`
    : e.target.startsWith('author:') ? `author ${e.target.slice(7)}`
    : e.target.startsWith('article:') ? `article ${e.target.slice(8)}` : e.target;
  const verbs = { approve: 'approved', reject: 'rejected', remove: 'removed' };
  let s;
  if (verbs[e.action]) {
    s = `${who} ${verbs[e.action]} ${target}` + (b.status ? ` (it was ${b.status})` : '') + (a.reason ? `, reason: “${a.reason}”` : '');
  } else if (e.action === 'ban' || e.action === 'shadowban') {
    const days = a.until ? Math.round((a.until - Date.parse(e.at)) / 86400000) : null;
    s = `${who} ${e.action === 'ban' ? 'banned' : 'shadow-banned'} ${target}` +
      (a.until ? ` for ${days} day${days === 1 ? '' : 's'} (until ${when(a.until)})` : ' for good') +
      (a.ip ? ', and their address' : '') + (e.note ? `, reason: “${e.note}”` : '');
  } else if (e.action === 'unban') {
    s = `${who} lifted the bans on ${target}`;
  } else if (e.action === 'article') {
    s = `${who} set ${target} to ${a.mode} (it was ${b.mode})`;
  } else if (e.action === 'note') {
    s = `${who} noted on ${target}: “${a.text}”`;
  } else if (e.action === 'undo') {
    s = `${who} undid ${(a.entries || []).map((x) => `${x.action} of ${x.target.replace('comment:', 'comment #')}`).join(' and ')}`;
  } else {
    s = `${who}: ${e.action} ${target}`;
  }
  return `${s}, ${when(e.at)}${e.undone ? ' — since undone' : ''}.`;
}

// Admins: the webhook outbox, its backlog and the newest failing or dead deliveries.
async function loadWebhooks() {
  const r = await request({ type: 'mod.webhooks' });
  $('#items').hidden = true;
  $('#rules-table').hidden = true;
  $('#empty').hidden = true;
  $('#audit').hidden = true;
  $('#detail').replaceChildren();
  if (r.type !== 'mod.webhooks') { announce(r.message || 'Webhooks unavailable'); return; }
  const c = r.counts;
  $('#webhooks-summary').textContent = `${r.endpoints.length} endpoint(s) · ${c.pending} waiting` +
    (c.oldest_pending ? ` (oldest ${ago(c.oldest_pending)})` : '') + ` · ${c.delivered} delivered · ${c.dead} dead`;
  const body = $('#webhooks tbody');
  body.replaceChildren();
  for (const f of r.failures) {
    body.append(el('tr', { class: f.state === 'dead' ? 'dead' : '' }, [el('td', { text: f.event }), el('td', { text: f.type }),
      el('td', { text: f.endpoint }), el('td', { text: f.state }), el('td', { text: String(f.attempts) }),
      el('td', { text: f.error }), el('td', { text: f.state === 'pending' ? new Date(f.next_attempt).toLocaleString() : '' })]));
  }
  $('#webhooks').hidden = false;
}


$('#audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });

$('#article-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await request({ type: 'mod.article', article: $('#article-id').value, mode: $('#article-mode').value });
  announce(r.type === 'mod.ok' ? `Article ${$('#article-id').value} is now ${$('#article-mode').value}` : r.message);
});

/* ---- Rendering ---- */

// The text with rule spans highlighted: marks are [start, end, rule] in code points of
// this field; each mark names its rule (title, data-rule) so hovering a rule in the list
// lights up what it matched.
function highlighted(text, marks) {
  const cps = Array.from(text);
  const frag = document.createDocumentFragment();
  const sorted = [...marks].sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [s, e, rule] of sorted) {
    if (s < at) continue;
    frag.append(cps.slice(at, s).join(''), el('mark', { text: cps.slice(s, e).join(''), title: rule, 'data-rule': rule }));
    at = e;
  }
  frag.append(cps.slice(at).join(''));
  return frag;
}

// What a rule hit added, in words: "+5", "hold", "+0 (counted once, in title)",
// "−3 (looks like approved posts)", with the learned model's probability.
function ruleScore(r, all) {
  if (r.action) return r.action === 'hold' ? 'holds the post' : 'refuses the post';
  const p = r.probability !== undefined ? `, probability ${(r.probability * 100).toFixed(1)}%` : '';
  if (r.score > 0) return `+${r.score}${p ? ` (${p.slice(2)})` : ''}`;
  if (r.score < 0) return `${r.score} (in the post's favour${p})`;
  const first = all.find((x) => x.name === r.name && x.score !== 0);
  if (first && first !== r) return `+0 (a rule counts once: its score was added in ${first.field || 'the post'})`;
  return `+0 (its score is 0${p}: shown for information)`;
}

function lightRule(name, on) {
  for (const m of document.querySelectorAll('#detail mark')) m.classList.toggle('lit', on && m.dataset.rule === name);
}

function render(focusId) {
  const list = $('#items');
  list.replaceChildren();
  if (focusId !== undefined && !state.items[state.index]) state.index = Math.max(0, state.items.length - 1);
  state.items.forEach((it, i) => {
    const c = it.comment;
    const li = el('li', { role: 'option', id: `item-${c.id}`, 'aria-selected': String(i === state.index),
      onclick: () => { state.index = i; render(); } }, [
      el('div', { class: 'line1' }, [el('span', { class: `q-${it.queue}`, text: it.queue }),
        el('span', { text: c.author.name }), el('span', { text: c.article }), el('span', { text: ago(c.created_at) }),
        el('span', { class: 'score', text: `score ${c.score}` }), it.report_count ? el('span', { class: 'reasons', text: `${it.report_count} ${it.report_count === 1 ? 'report' : 'reports'}: ${[...new Set(it.reports.map((r) => r.reason))].join(', ')}` }) : null]),
      el('div', { class: 'line2', text: c.title ? `${c.title} — ${c.body}` : c.body }),
    ]);
    if (state.checked.has(c.id)) li.classList.add('checked');
    if (c.id === focusId) li.classList.add('fresh');
    list.append(li);
  });
  $('#empty').hidden = state.items.length > 0 || state.view === 'audit';
  list.setAttribute('aria-activedescendant', state.items[state.index] ? `item-${state.items[state.index].comment.id}` : '');
  const sel = list.querySelector('[aria-selected=true]');
  if (sel) sel.scrollIntoView({ block: 'nearest' });
  $('#selected-info').textContent = state.checked.size ? `${state.checked.size} selected` : '';
  $('#bulk-approve').disabled = $('#bulk-reject').disabled = !state.checked.size;
  renderDetail();
}

function renderDetail() {
  const d = $('#detail');
  d.replaceChildren();
  const it = state.items[state.index];
  if (!it) return;
  const c = it.comment, a = it.author;
  const spans = (field) => c.rules.filter((r) => r.field === field).flatMap((r) => r.spans.map(([s, e]) => [s, e, r.name]));
  d.append(
    el('p', { class: 'kbd', text: `${it.queue.toUpperCase()} · ${c.article} · #${c.id} · ${c.status}` }),
    c.title ? el('h2', {}, [highlighted(c.title, spans('title'))]) : null,
    el('div', { class: 'text' }, [highlighted(c.body, spans('body'))]),
  );
  if (c.rules.length) {
    d.append(el('h3', { text: `Rules (score ${c.score})` }),
      el('ul', { class: 'rules' }, c.rules.map((r) => el('li', {
        'data-rule': r.name, tabindex: '-1',
        onmouseenter: () => lightRule(r.name, true), onmouseleave: () => lightRule(r.name, false),
      }, [
        el('strong', { text: r.name }), ' ', el('span', { class: 'score', text: ruleScore(r, c.rules) }),
        r.field ? ` in ${r.field}` : '', r.spans.length ? el('span', { class: 'muted', text: ` · ${r.spans.length} highlighted` }) : '']))));
  }
  if (it.reports.length) {
    d.append(el('h3', { text: `Reports (${it.report_count})` }),
      el('ul', { class: 'reports' }, it.reports.map((r) => el('li', {}, [el('strong', { text: r.reason }), r.note ? ` — ${r.note}` : '', ` · ${ago(r.at)}`]))));
  }
  d.append(el('h3', { text: 'Author' }), el('ul', { class: 'record' }, [
    el('li', {}, [el('strong', { text: a.name }), ` · ${a.guest ? 'guest' : 'signed in'} · ${a.id}`]),
    el('li', { text: `${a.published} published · ${a.rejected} rejected · ${a.pending} pending · first seen ${ago(a.first_seen)}` }),
    a.banned ? el('li', { class: 'q-reported', text: 'banned' }) : null,
    a.shadowbanned ? el('li', { class: 'q-held', text: 'shadow-banned' }) : null,
    ...(a.notes || []).map((n) => el('li', { text: `Note by ${n.by}: ${n.text}` })),
  ]));
  const btn = (label, key, fn) => el('button', { type: 'button', onclick: fn }, [label, ' ', el('span', { class: 'kbd', text: key })]);
  // the comment on its article page (the page the widget was last read on)
  if (it.article_url && /^https?:\/\//.test(it.article_url))
    d.append(el('p', {}, [el('a', { class: 'on-page', href: `${it.article_url}#comment-${c.id}`, target: '_blank', rel: 'noopener noreferrer', text: 'Open on the article page' })]));
  const featBtn = c.status === 'published'
    ? btn(c.featured ? 'Unfeature' : 'Feature', 'f', () => feature(!c.featured)) : null;
  d.append(el('div', { class: 'actions' }, [
    btn('Approve', 'a', approve), btn('Reject', 'r', reject), btn('Remove', 'd', removeIt), featBtn,
    btn('Ban', 'b', ban), btn('Shadow-ban', 's', shadowban), btn('Note', 'n', note), btn('Undo', 'u', undo),
  ]));
  // readers' own data (GDPR): admins export or erase everything of this author
  if (state.me.role === 'admin') {
    d.append(el('div', { class: 'actions reader-data' }, [
      el('button', { type: 'button', id: 'reader-export', onclick: exportReader, text: 'Export reader data' }),
      el('button', { type: 'button', id: 'reader-erase', onclick: eraseReader, text: 'Erase reader…' }),
    ]));
  }
}

/* ---- Readers' data (admins) ---- */

async function exportReader() {
  const it = current();
  if (!it) return;
  const r = await fetch(`/api/mod/reader?id=${encodeURIComponent(it.author.id)}`, { credentials: 'same-origin' });
  if (!r.ok) { announce(`Export failed (${r.status}).`); return; }
  const blob = new Blob([await r.text()], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `reader-${it.author.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  announce('Reader data exported.');
}

async function eraseReader() {
  const it = current();
  if (!it) return;
  const typed = await ask(`Erase every comment, report and note of ${it.author.name}? Type ERASE to confirm.`, []);
  if (typed !== 'ERASE') { announce('Nothing erased.'); return; }
  const r = await fetch('/api/mod/reader/erase', { method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: it.author.id }) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) { announce(`Erase failed: ${j.error || r.status}.`); return; }
  drop(it.comment.id, `Reader erased: ${j.erased.comments} comments kept as empty placeholders.`);
}

/* ---- Decisions ---- */

function current() { return state.items[state.index]; }

function drop(id, why) {
  const at = state.items.findIndex((x) => x.comment.id === id);
  if (at < 0) return;
  state.items.splice(at, 1);
  state.checked.delete(id);
  if (state.index > at || state.index >= state.items.length) state.index = Math.max(0, state.index - 1);
  if (why) announce(why);
  render();
}

// Removes the item at once and puts it back if the server says no.
async function decide(msg, label) {
  const it = current();
  if (!it) return;
  const saved = state.items.slice();
  drop(it.comment.id);
  const r = await request({ ...msg, comment: it.comment.id });
  if (r.type !== 'mod.ok') { state.items = saved; render(); announce(r.message || r.code); return; }
  announce(`${label} #${it.comment.id}`);
}

const approve = () => decide({ type: 'mod.approve' }, 'Approved');
// Features (or unfeatures) the current comment: shown first in the widget, audited.
async function feature(on) {
  const it = current();
  if (!it) return;
  const r = await request({ type: on ? 'mod.feature' : 'mod.unfeature', comment: it.comment.id });
  if (r.type !== 'mod.ok') { announce(r.message || r.code); return; }
  it.comment.featured = on;
  announce(`${on ? 'Featured' : 'Unfeatured'} #${it.comment.id}`);
  renderDetail();
}
async function reject() {
  const reason = await ask('Reject: reason shown to the author', ['Spam', 'Personal attack', 'Off topic', 'Hate speech', 'Harassment']);
  if (reason) decide({ type: 'mod.reject', reason }, 'Rejected');
}
async function removeIt() {
  const reason = await ask('Remove: reason (optional)', ['Off topic', 'Personal attack', 'Spam']);
  if (reason !== null) decide({ type: 'mod.remove', reason: reason || undefined }, 'Removed');
}
// Bans the author and decides the item in one action (one undo reverts both).
async function ban() {
  const it = current();
  if (!it) return;
  const d = await ask('Ban the author for…', ['1 day', '7 days', 'forever'], true);
  if (d === null) return;
  const duration = d.startsWith('1 day') ? 86400 : d.startsWith('7') ? 7 * 86400 : null;
  const ip = $('#ask-ip') ? $('#ask-ip').checked : false;
  const reason = await ask('Reason shown to the author', ['Spam', 'Personal attack', 'Hate speech', 'Harassment']);
  if (reason === null) return;
  const r = await request({ type: 'mod.ban', author: it.author.id, duration, ip, comment: it.comment.id, reason: reason || undefined });
  announce(r.type === 'mod.ok' ? `Banned ${it.author.name} and decided #${it.comment.id}` : r.message);
  if (r.type === 'mod.ok') drop(it.comment.id);
}
async function shadowban() {
  const it = current();
  if (!it) return;
  const r = await request({ type: 'mod.shadowban', author: it.author.id });
  announce(r.type === 'mod.ok' ? `Shadow-banned ${it.author.name}` : r.message);
}
async function note() {
  const it = current();
  if (!it) return;
  const text = await ask('Note for other moderators', []);
  if (text) { await request({ type: 'mod.note', comment: it.comment.id, text }); announce('Note saved'); }
}
async function undo() {
  const r = await request({ type: 'mod.undo' });
  announce(r.type === 'mod.ok' ? `Undone: ${r.undone.map((u) => u.action).join(', ')}` : r.message);
  if (r.type === 'mod.ok' && state.view === 'queue') load();
}
async function bulk(action) {
  const ids = [...state.checked];
  let reason;
  if (action === 'reject') { reason = await ask(`Reject ${ids.length}: reason`, ['Spam', 'Off topic']); if (!reason) return; }
  const r = await request({ type: 'mod.bulk', action, comments: ids, reason });
  if (r.type === 'mod.ok') { for (const id of r.done) drop(id); announce(`${action}d ${r.done.length}`); }
}
$('#bulk-approve').addEventListener('click', () => bulk('approve'));
$('#bulk-reject').addEventListener('click', () => bulk('reject'));

// A small modal question; resolves with the text, '' for an empty answer, null if cancelled.
function ask(title, picks, withIp = false) {
  return new Promise((resolve) => {
    const dlg = $('#ask');
    $('#ask-title').textContent = title;
    $('#ask-text').value = '';
    $('#ask-picks').replaceChildren(...picks.map((p) => el('button', { type: 'button', onclick: () => { $('#ask-text').value = p; dlg.close('ok'); } }, [p])));
    $('#ask-extra').replaceChildren(withIp ? el('label', {}, [el('input', { type: 'checkbox', id: 'ask-ip' }), ' also ban the address']) : '');
    dlg.onclose = () => resolve(dlg.returnValue === 'ok' ? $('#ask-text').value : null);
    dlg.returnValue = '';
    dlg.showModal();
    $('#ask-text').focus();
  });
}

/* ---- Keyboard ---- */

$('#help-btn').addEventListener('click', () => $('#help').showModal());
document.addEventListener('keydown', (e) => {
  if (e.target.closest('input, textarea, select, dialog') || e.ctrlKey || e.metaKey || e.altKey || $('#app').hidden) return;
  const keys = {
    j: () => { state.index = Math.min(state.index + 1, state.items.length - 1); render(); },
    k: () => { state.index = Math.max(state.index - 1, 0); render(); },
    a: approve, r: reject, d: removeIt, b: ban, s: shadowban, n: note, u: undo,
    f: () => { const it = current(); if (it && it.comment.status === 'published') feature(!it.comment.featured); },
    x: () => { const it = current(); if (!it) return; const id = it.comment.id; if (state.checked.has(id)) state.checked.delete(id); else state.checked.add(id); render(); },
    '?': () => $('#help').showModal(),
  };
  const fn = keys[e.key];
  if (fn) { e.preventDefault(); fn(); }
});

boot();
