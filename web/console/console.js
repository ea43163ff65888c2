/* Parley moderation console: queues, decisions with one key, live updates from every
 * other console. No framework; reader text only ever goes in through textContent. */
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = {
  ws: null, reqId: 0, waiting: new Map(), me: null,
  view: 'queue', queue: 'all', items: [], index: 0, checked: new Set(),
  counts: { held: 0, reported: 0 }, backoff: 500,
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
    if (state.queue !== 'all' && state.queue !== q) return;
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
  document.querySelector('[data-count=all]').textContent = c.held + c.reported;
}

/* ---- Views ---- */

async function load() {
  $('#audit').hidden = true;
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
    if (state.view === 'audit') loadAudit(); else load();
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

async function loadAudit() {
  const q = { type: 'mod.audit' };
  if ($('#audit-moderator').value) q.moderator = $('#audit-moderator').value;
  if ($('#audit-action').value) q.action = $('#audit-action').value;
  const r = await request(q);
  $('#items').hidden = true;
  $('#empty').hidden = true;
  $('#detail').replaceChildren();
  const body = $('#audit tbody');
  body.replaceChildren();
  for (const e of r.entries || []) {
    body.append(el('tr', {}, [el('td', { text: new Date(e.at).toLocaleString() }), el('td', { text: e.moderator }),
      el('td', { text: e.action + (e.undone ? ' (undone)' : '') }), el('td', { text: e.target }),
      el('td', { text: `${JSON.stringify(e.before)} → ${JSON.stringify(e.after)}` })]));
  }
  $('#audit').hidden = false;
}
$('#audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });

$('#article-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await request({ type: 'mod.article', article: $('#article-id').value, mode: $('#article-mode').value });
  announce(r.type === 'mod.ok' ? `Article ${$('#article-id').value} is now ${$('#article-mode').value}` : r.message);
});

/* ---- Rendering ---- */

// The text with rule spans highlighted: spans are code point offsets into this field.
function highlighted(text, spans) {
  const cps = Array.from(text);
  const frag = document.createDocumentFragment();
  const marks = [...spans].sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [s, e] of marks) {
    if (s < at) continue;
    frag.append(cps.slice(at, s).join(''), el('mark', { text: cps.slice(s, e).join('') }));
    at = e;
  }
  frag.append(cps.slice(at).join(''));
  return frag;
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
        el('span', { class: 'score', text: `score ${c.score}` }), it.report_count ? el('span', { text: `${it.report_count} reports` }) : null]),
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
  const spans = (field) => c.rules.filter((r) => r.field === field).flatMap((r) => r.spans);
  d.append(
    el('p', { class: 'kbd', text: `${it.queue.toUpperCase()} · ${c.article} · #${c.id} · ${c.status}` }),
    c.title ? el('h2', {}, [highlighted(c.title, spans('title'))]) : null,
    el('div', { class: 'text' }, [highlighted(c.body, spans('body'))]),
  );
  if (c.rules.length) {
    d.append(el('h3', { text: `Rules (score ${c.score})` }),
      el('ul', { class: 'rules' }, c.rules.map((r) => el('li', {}, [
        el('strong', { text: r.name }), ' ', el('span', { class: 'score', text: r.action ? r.action : `+${r.score}` }),
        r.field ? ` in ${r.field}` : '']))));
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
async function ban() {
  const it = current();
  if (!it) return;
  const d = await ask('Ban the author for…', ['1 day', '7 days', 'forever'], true);
  if (d === null) return;
  const duration = d.startsWith('1 day') ? 86400 : d.startsWith('7') ? 7 * 86400 : null;
  const r = await request({ type: 'mod.ban', author: it.author.id, duration, ip: $('#ask-ip') ? $('#ask-ip').checked : false });
  announce(r.type === 'mod.ok' ? `Banned ${it.author.name}` : r.message);
  if (r.type === 'mod.ok') reject();
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
