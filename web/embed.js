/* Parley comment widget. A host page embeds a live discussion with:
 *   <div id="parley-thread" data-article="ID"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * Optional attributes on the div: data-lang="fr", data-sso-token="JWT", data-title-max,
 * data-body-max. Parley.setToken(jwt) signs a reader in later. The widget lives in a
 * Shadow DOM; user text only ever reaches the page through textContent. */
(function () {
  'use strict';
  if (window.Parley && window.Parley.__loaded) return;

  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var wsUrl = origin.replace(/^http/, 'ws') + '/ws';

  var STRINGS = {
    en: {
      discussion: 'Discussion', comments: function (n) { return n === 1 ? '1 comment' : n + ' comments'; },
      empty: 'Be the first to share your thoughts.', title: 'Title', body: 'Your comment',
      name: 'Your name', post: 'Post comment', posting: 'Posting…', reply: 'Reply', cancel: 'Cancel',
      report: 'Report', edit: 'Edit', del: 'Delete', save: 'Save', edited: 'edited',
      pending: 'awaiting review', rejected: 'not published', older: 'Load older comments',
      newPill: function (n) { return n === 1 ? '1 new comment' : n + ' new comments'; },
      reading: function (n) { return n + ' reading now'; }, reasons: { spam: 'Spam', abuse: 'Abuse', off_topic: 'Off topic', other: 'Other' },
      reportWhy: 'Why are you reporting this comment?', reportNote: 'Note (optional)', send: 'Send report',
      reported: 'Thank you, a moderator will look at it.', offline: 'Reconnecting…', signedIn: 'Signed in as',
      replyTo: 'Replying to', confirmDelete: 'Delete this comment?', now: 'just now',
      ago: function (n, u) { return n + ' ' + u + (n === 1 ? '' : 's') + ' ago'; },
      units: { minute: 'minute', hour: 'hour', day: 'day' },
    },
    fr: {
      discussion: 'Discussion', comments: function (n) { return n <= 1 ? n + ' commentaire' : n + ' commentaires'; },
      empty: 'Soyez le premier à donner votre avis.', title: 'Titre', body: 'Votre commentaire',
      name: 'Votre nom', post: 'Publier', posting: 'Publication…', reply: 'Répondre', cancel: 'Annuler',
      report: 'Signaler', edit: 'Modifier', del: 'Supprimer', save: 'Enregistrer', edited: 'modifié',
      pending: 'en attente de modération', rejected: 'non publié', older: 'Commentaires précédents',
      newPill: function (n) { return n === 1 ? '1 nouveau commentaire' : n + ' nouveaux commentaires'; },
      reading: function (n) { return n + ' en train de lire'; }, reasons: { spam: 'Spam', abuse: 'Abus', off_topic: 'Hors sujet', other: 'Autre' },
      reportWhy: 'Pourquoi signalez-vous ce commentaire ?', reportNote: 'Note (facultatif)', send: 'Envoyer',
      reported: 'Merci, un modérateur va l’examiner.', offline: 'Reconnexion…', signedIn: 'Connecté en tant que',
      replyTo: 'En réponse à', confirmDelete: 'Supprimer ce commentaire ?', now: 'à l’instant',
      ago: function (n, u) { return 'il y a ' + n + ' ' + u + (n === 1 || u === 'min' ? '' : 's'); },
      units: { minute: 'min', hour: 'heure', day: 'jour' },
    },
  };

  var CSS = [
    ':host{--parley-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--parley-bg:#fff;--parley-fg:#1b1f24;',
    '--parley-muted:#5b6573;--parley-border:#d9dee5;--parley-accent:#1456d8;--parley-accent-fg:#fff;--parley-soft:#f3f5f8;',
    '--parley-warn:#8a5a00;--parley-danger:#b3261e;--parley-radius:8px;display:block;font-family:var(--parley-font);',
    'color:var(--parley-fg);background:var(--parley-bg);line-height:1.5;font-size:16px}',
    '@media (prefers-color-scheme:dark){:host{--parley-bg:#14171c;--parley-fg:#e8ebef;--parley-muted:#9aa4b1;',
    '--parley-border:#2c323b;--parley-accent:#6ea0ff;--parley-accent-fg:#0b0d10;--parley-soft:#1d2127;--parley-warn:#e0b341;--parley-danger:#ff8a80}}',
    '[hidden]{display:none!important}*{box-sizing:border-box}h2{font-size:1.35em;margin:0 0 .2em}.head{display:flex;align-items:baseline;gap:.75em;flex-wrap:wrap;margin-bottom:.75em}',
    '.count,.presence,.status{color:var(--parley-muted);font-size:.9em}',
    'form{display:grid;gap:.5em;margin:0 0 1.25em;padding:1em;border:1px solid var(--parley-border);border-radius:var(--parley-radius);background:var(--parley-soft)}',
    'label{font-size:.85em;color:var(--parley-muted);display:flex;justify-content:space-between}',
    'input,textarea{width:100%;font:inherit;color:var(--parley-fg);background:var(--parley-bg);border:1px solid var(--parley-border);border-radius:6px;padding:.55em .65em}',
    'textarea{min-height:6em;resize:vertical}input:focus,textarea:focus,button:focus-visible{outline:2px solid var(--parley-accent);outline-offset:1px}',
    '.counter.full{color:var(--parley-danger);font-weight:600}.row{display:flex;gap:.5em;align-items:center;flex-wrap:wrap}',
    'button{font:inherit;border:1px solid var(--parley-border);background:var(--parley-bg);color:var(--parley-fg);border-radius:6px;padding:.4em .9em;cursor:pointer;min-height:2.5em}',
    'button.primary{background:var(--parley-accent);color:var(--parley-accent-fg);border-color:var(--parley-accent)}button:disabled{opacity:.6;cursor:default}',
    'button.link{border:0;background:none;color:var(--parley-muted);padding:.2em .4em;min-height:2em;font-size:.88em}button.link:hover{color:var(--parley-accent)}',
    '.error{color:var(--parley-danger);font-size:.9em;min-height:1.2em}',
    'ol{list-style:none;margin:0;padding:0}li.c{border-top:1px solid var(--parley-border);padding:.85em 0}',
    'ol.replies{margin:.5em 0 0 1.1em;padding-left:.9em;border-left:2px solid var(--parley-border)}ol.replies li.c{border-top:0;padding:.5em 0}',
    '.meta{display:flex;gap:.5em;flex-wrap:wrap;align-items:baseline;font-size:.88em;color:var(--parley-muted)}.author{color:var(--parley-fg);font-weight:600}',
    '.ctitle{font-weight:650;margin:.15em 0}.cbody{white-space:pre-wrap;overflow-wrap:anywhere;margin:.15em 0}',
    '.badge{font-size:.78em;border-radius:999px;padding:.05em .55em;background:var(--parley-soft);border:1px solid var(--parley-border)}',
    '.badge.pending{color:var(--parley-warn)}.badge.rejected{color:var(--parley-danger)}.new{animation:fade 2s ease-out}',
    '@keyframes fade{from{background:color-mix(in srgb,var(--parley-accent) 15%,transparent)}to{background:transparent}}',
    '.pill{position:sticky;top:.5em;z-index:2;display:block;margin:0 auto .5em;background:var(--parley-accent);color:var(--parley-accent-fg);border:0;border-radius:999px}',
    '.empty{color:var(--parley-muted);padding:1em 0}.reportbox{margin:.4em 0;padding:.6em;border:1px solid var(--parley-border);border-radius:6px;display:grid;gap:.4em}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}',
  ].join('');

  /* ---- Text: the same rules as the server (docs/protocol.md, "Text rules") ---- */

  var TRIM = /^[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
  function clean(s, body) {
    s = s.normalize('NFC');
    if (body) s = s.replace(/\r\n?/g, '\n');
    return s.replace(TRIM, '');
  }
  function cpLen(s) { var n = 0; for (var _ of s) n++; return n; } // eslint-disable-line no-unused-vars
  function cutTo(s, max, body) {
    // keeps what the user typed, but never more than max code points once cleaned
    if (cpLen(clean(s, body)) <= max) return s;
    var out = '', arr = Array.from(s.normalize('NFC'));
    for (var i = 0; i < arr.length; i++) {
      if (cpLen(clean(out + arr[i], body)) > max) break;
      out += arr[i];
    }
    return out;
  }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function relTime(iso, t) {
    var s = (Date.now() - Date.parse(iso)) / 1000;
    if (s < 60) return t.now;
    if (s < 3600) return t.ago(Math.floor(s / 60), t.units.minute);
    if (s < 86400) return t.ago(Math.floor(s / 3600), t.units.hour);
    if (s < 86400 * 30) return t.ago(Math.floor(s / 86400), t.units.day);
    return new Date(iso).toLocaleDateString();
  }

  function guestKey() {
    try {
      var k = localStorage.getItem('parley.guest');
      if (!k) {
        var a = new Uint8Array(24);
        crypto.getRandomValues(a);
        k = Array.from(a, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
        localStorage.setItem('parley.guest', k);
      }
      return k;
    } catch (e) { return null; }
  }

  /* ---- One thread ---- */

  function Thread(host) {
    this.host = host;
    this.article = host.getAttribute('data-article');
    var lang = (host.getAttribute('data-lang') || document.documentElement.lang || 'en').slice(0, 2);
    this.t = STRINGS[lang] || STRINGS.en;
    this.token = host.getAttribute('data-sso-token') || null;
    this.limits = { title: +host.getAttribute('data-title-max') || 100, body: +host.getAttribute('data-body-max') || 1000, name: 40 };
    this.comments = new Map();  // id -> comment
    this.nodes = new Map();     // id -> li
    this.lastId = null;         // newest comment id seen: the `since` of a reconnect
    this.count = 0;
    this.newCount = 0;
    this.reqId = 0;
    this.waiting = new Map();
    this.backoff = 500;
    this.user = null;
    this.guests = true;
    this.replyTo = null;
    this.render();
    this.connect();
  }

  Thread.prototype.render = function () {
    var t = this.t, self = this;
    var root = this.root = this.host.attachShadow ? this.host.attachShadow({ mode: 'open' }) : this.host;
    root.appendChild(el('style', { text: CSS }));
    this.countEl = el('span', { class: 'count' });
    this.presenceEl = el('span', { class: 'presence', 'aria-live': 'polite' });
    this.statusEl = el('span', { class: 'status', role: 'status' });
    var head = el('div', { class: 'head' }, [el('h2', { text: t.discussion }), this.countEl, this.presenceEl, this.statusEl]);

    this.nameIn = el('input', { name: 'name', autocomplete: 'nickname', 'aria-label': t.name });
    this.titleIn = el('input', { name: 'title', 'aria-label': t.title });
    this.bodyIn = el('textarea', { name: 'body', 'aria-label': t.body, rows: '4' });
    this.titleCount = el('span', { class: 'counter', 'data-counter': 'title', 'aria-live': 'polite' });
    this.bodyCount = el('span', { class: 'counter', 'data-counter': 'body', 'aria-live': 'polite' });
    this.nameRow = el('div', {}, [el('label', {}, [t.name]), this.nameIn]);
    this.replyRow = el('div', { class: 'row', hidden: '' });
    this.signedEl = el('div', { class: 'status', hidden: '' });
    this.formError = el('div', { class: 'error', role: 'alert' });
    this.submit = el('button', { class: 'primary', type: 'submit', text: t.post });
    this.form = el('form', { novalidate: '' }, [
      this.signedEl, this.nameRow, this.replyRow,
      el('div', {}, [el('label', {}, [t.title, this.titleCount]), this.titleIn]),
      el('div', {}, [el('label', {}, [t.body, this.bodyCount]), this.bodyIn]),
      this.formError, el('div', { class: 'row' }, [this.submit]),
    ]);
    [[this.titleIn, 'title', false], [this.bodyIn, 'body', true], [this.nameIn, 'name', false]].forEach(function (x) {
      x[0].addEventListener('input', function () {
        var cut = cutTo(x[0].value, self.limits[x[1]], x[2]);
        if (cut !== x[0].value) x[0].value = cut;
        self.updateCounters();
      });
    });
    this.form.addEventListener('submit', function (e) { e.preventDefault(); self.send(); });
    try { this.nameIn.value = localStorage.getItem('parley.name') || ''; } catch (e) { /* private mode */ }

    this.pill = el('button', { class: 'pill', type: 'button', hidden: '', onclick: function () { self.list.scrollIntoView({ behavior: 'smooth' }); self.clearNew(); } });
    this.olderBtn = el('button', { class: 'link', type: 'button', hidden: '', text: t.older, onclick: function () { self.loadOlder(); } });
    this.emptyEl = el('p', { class: 'empty', text: t.empty });
    this.list = el('ol', { class: 'comments', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    root.appendChild(el('section', { 'aria-label': t.discussion }, [head, this.form, this.pill, this.olderBtn, this.emptyEl, this.list]));
    this.updateCounters();
    this.updateCount();
    window.addEventListener('scroll', function () { if (self.listVisible()) self.clearNew(); }, { passive: true });
    setInterval(function () { self.refreshTimes(); }, 30000);
  };

  Thread.prototype.updateCounters = function () {
    var tl = cpLen(clean(this.titleIn.value, false)), bl = cpLen(clean(this.bodyIn.value, true));
    this.titleCount.textContent = tl + '/' + this.limits.title;
    this.bodyCount.textContent = bl + '/' + this.limits.body;
    this.titleCount.classList.toggle('full', tl >= this.limits.title);
    this.bodyCount.classList.toggle('full', bl >= this.limits.body);
  };

  Thread.prototype.updateCount = function () {
    this.countEl.textContent = this.t.comments(this.count);
    this.emptyEl.hidden = this.comments.size > 0;
  };

  /* ---- Connection ---- */

  Thread.prototype.connect = function () {
    var self = this;
    var ws = this.ws = new WebSocket(wsUrl, 'parley.v1');
    ws.onopen = function () {
      self.backoff = 500;
      self.statusEl.textContent = '';
      var hello = self.token ? { type: 'hello', token: self.token } : { type: 'hello', guest_key: guestKey() };
      if (!hello.token && !hello.guest_key) delete hello.guest_key;
      self.request(hello).then(function (m) {
        if (m.type === 'error' && self.token) { // expired or forged: carry on as a guest
          self.token = null;
          return self.request({ type: 'hello', guest_key: guestKey() });
        }
        return m;
      }).then(function (m) { if (m && m.type === 'welcome') self.welcome(m); });
      var sub = { type: 'subscribe', article: self.article };
      if (self.lastId !== null) sub.since = self.lastId;
      self.send_(sub, function (m) { self.onHistory(m, true); });
    };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.id !== undefined && self.waiting.has(m.id)) {
        var w = self.waiting.get(m.id);
        if (!m.more) self.waiting.delete(m.id);
        w(m);
        return;
      }
      self.onEvent(m);
    };
    ws.onclose = function () {
      self.statusEl.textContent = self.t.offline;
      self.waiting.forEach(function (w) { w({ type: 'error', code: 'unavailable', message: self.t.offline }); });
      self.waiting.clear();
      var delay = Math.min(self.backoff, 30000) * (0.75 + Math.random() / 2);
      self.backoff = Math.min(self.backoff * 2, 30000);
      setTimeout(function () { self.connect(); }, delay);
    };
  };

  Thread.prototype.send_ = function (msg, cb) {
    msg.id = ++this.reqId;
    if (cb) this.waiting.set(msg.id, cb);
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
    else if (cb) { this.waiting.delete(msg.id); cb({ type: 'error', code: 'unavailable', message: this.t.offline }); }
  };

  Thread.prototype.request = function (msg) {
    var self = this;
    return new Promise(function (resolve) { self.send_(msg, resolve); });
  };

  Thread.prototype.welcome = function (m) {
    this.user = m.user;
    this.guests = m.guests;
    if (m.limits) this.limits = m.limits;
    var signed = !m.user.guest;
    this.nameRow.hidden = signed;
    this.signedEl.hidden = !signed;
    this.signedEl.textContent = signed ? this.t.signedIn + ' ' + m.user.name : '';
    this.updateCounters();
    // own comments may have been shown before the identity was known
    var self = this;
    this.comments.forEach(function (c) { self.upsert(c, false); });
  };

  Thread.prototype.onHistory = function (m, live) {
    if (m.type !== 'history') return;
    var self = this;
    var fresh = this.lastId !== null && live;
    if (typeof m.count === 'number') this.count = m.count;
    m.comments.forEach(function (c) { self.upsert(c, fresh); });
    if (!fresh || m.has_older === false) this.olderBtn.hidden = !m.has_older;
    this.updateCount();
  };

  Thread.prototype.loadOlder = function () {
    var self = this, min = Infinity;
    this.comments.forEach(function (c) { if (c.id < min) min = c.id; });
    if (min === Infinity) return;
    this.request({ type: 'history', article: this.article, before: min }).then(function (m) { self.onHistory(m, false); });
  };

  Thread.prototype.onEvent = function (m) {
    if (m.article && m.article !== this.article) return;
    var c = m.comment;
    if (c && typeof c === 'object' && c.article !== this.article) return;
    if (m.type === 'comment') {
      var isNew = !this.comments.has(c.id);
      if (isNew && c.status === 'published') this.count++;
      this.upsert(c, true);
      if (isNew && !this.mine(c) && !this.listVisible()) this.bumpNew();
    } else if (m.type === 'edited') {
      this.upsert(c, false);
    } else if (m.type === 'decision') {
      if (c.status === 'published') this.count++;
      this.upsert(c, false);
    } else if (m.type === 'removed') {
      this.remove(m.comment);
    } else if (m.type === 'presence') {
      this.presenceEl.textContent = m.reading > 1 ? this.t.reading(m.reading) : '';
    }
    this.updateCount();
  };

  Thread.prototype.mine = function (c) { return this.user && c.author && c.author.id === this.user.id; };

  /* ---- Rendering comments (text only through textContent) ---- */

  Thread.prototype.upsert = function (c, highlight) {
    var self = this, t = this.t;
    this.comments.set(c.id, c);
    if (this.lastId === null || c.id > this.lastId) this.lastId = c.id;
    var li = this.nodes.get(c.id);
    var fresh = !li;
    if (!li) {
      li = el('li', { class: 'c', 'data-id': String(c.id) });
      this.nodes.set(c.id, li);
    }
    while (li.firstChild && li.firstChild.tagName !== 'OL') li.removeChild(li.firstChild);
    var replies = li.firstChild;
    var time = el('time', { datetime: c.created_at, text: relTime(c.created_at, t) });
    var meta = el('div', { class: 'meta' }, [el('span', { class: 'author', text: c.author.name }), time]);
    if (c.edited_at) meta.appendChild(el('span', { class: 'badge', text: t.edited }));
    if (c.status === 'pending') meta.appendChild(el('span', { class: 'badge pending', text: t.pending }));
    if (c.status === 'rejected') meta.appendChild(el('span', { class: 'badge rejected', text: t.rejected + (c.reason ? ': ' + c.reason : '') }));
    var parts = [meta];
    if (c.title) parts.push(el('div', { class: 'ctitle', text: c.title }));
    parts.push(el('div', { class: 'cbody', text: c.body }));
    var actions = el('div', { class: 'row actions' });
    if (c.status === 'published') {
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.reply, onclick: function () { self.startReply(c); } }));
      if (!this.mine(c)) actions.appendChild(el('button', { class: 'link', type: 'button', text: t.report, onclick: function () { self.openReport(c, li); } }));
    }
    if (this.mine(c) && c.status !== 'rejected') {
      if (Date.now() - Date.parse(c.created_at) < 5 * 60 * 1000)
        actions.appendChild(el('button', { class: 'link', type: 'button', text: t.edit, onclick: function () { self.openEdit(c, li); } }));
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.del, onclick: function () {
        if (window.confirm(t.confirmDelete)) self.request({ type: 'delete', comment: c.id });
      } }));
    }
    parts.push(actions);
    parts.forEach(function (p) { li.insertBefore(p, replies || null); });
    if (fresh) {
      this.place(c, li);
      if (highlight) li.classList.add('new');
    }
  };

  // Top-level comments newest last; replies under their top-level ancestor.
  Thread.prototype.place = function (c, li) {
    var parentLi = c.parent ? this.nodes.get(c.parent) : null;
    if (parentLi && parentLi.parentNode && parentLi.parentNode.classList.contains('replies')) parentLi = parentLi.parentNode.parentNode;
    var container = this.list;
    if (parentLi) {
      container = parentLi.querySelector(':scope > ol.replies');
      if (!container) { container = el('ol', { class: 'replies' }); parentLi.appendChild(container); }
    }
    var next = null;
    for (var n = container.firstElementChild; n; n = n.nextElementSibling)
      if (+n.getAttribute('data-id') > c.id) { next = n; break; }
    container.insertBefore(li, next);
  };

  Thread.prototype.remove = function (id) {
    var li = this.nodes.get(id);
    var c = this.comments.get(id);
    if (c && c.status === 'published') this.count = Math.max(0, this.count - 1);
    this.comments.delete(id);
    this.nodes.delete(id);
    if (li && li.parentNode) li.parentNode.removeChild(li);
  };

  Thread.prototype.refreshTimes = function () {
    var t = this.t;
    this.root.querySelectorAll('time').forEach(function (e) { e.textContent = relTime(e.getAttribute('datetime'), t); });
  };

  Thread.prototype.listVisible = function () {
    var r = this.list.getBoundingClientRect();
    return r.top < window.innerHeight && r.bottom > 0;
  };
  Thread.prototype.bumpNew = function () {
    this.newCount++;
    this.pill.textContent = this.t.newPill(this.newCount);
    this.pill.hidden = false;
  };
  Thread.prototype.clearNew = function () { this.newCount = 0; this.pill.hidden = true; };

  /* ---- Posting, replying, editing, reporting ---- */

  Thread.prototype.startReply = function (c) {
    var self = this;
    this.replyTo = c;
    while (this.replyRow.firstChild) this.replyRow.removeChild(this.replyRow.firstChild);
    this.replyRow.appendChild(el('span', { class: 'status', text: this.t.replyTo + ' ' + c.author.name }));
    this.replyRow.appendChild(el('button', { class: 'link', type: 'button', text: this.t.cancel, onclick: function () { self.cancelReply(); } }));
    this.replyRow.hidden = false;
    this.bodyIn.focus();
  };
  Thread.prototype.cancelReply = function () { this.replyTo = null; this.replyRow.hidden = true; };

  Thread.prototype.send = function () {
    var self = this, t = this.t;
    var msg = { type: 'post', article: this.article, title: this.titleIn.value, body: this.bodyIn.value };
    if (!this.user || this.user.guest) {
      msg.name = this.nameIn.value;
      try { localStorage.setItem('parley.name', this.nameIn.value); } catch (e) { /* private mode */ }
    }
    if (this.replyTo) msg.parent = this.replyTo.id;
    this.formError.textContent = '';
    this.submit.disabled = true;
    this.submit.textContent = t.posting;
    this.request(msg).then(function (m) {
      self.submit.disabled = false;
      self.submit.textContent = t.post;
      if (m.type === 'ack') {
        self.titleIn.value = '';
        self.bodyIn.value = '';
        self.cancelReply();
        self.updateCounters();
        self.upsert(m.comment, true);
        self.updateCount();
      } else {
        self.formError.textContent = m.message || m.code;
      }
    });
  };

  Thread.prototype.openEdit = function (c, li) {
    var self = this, t = this.t;
    var body = el('textarea', { 'aria-label': t.body, rows: '3' });
    body.value = c.body;
    var err = el('div', { class: 'error', role: 'alert' });
    var box = el('div', { class: 'reportbox' }, [body, err, el('div', { class: 'row' }, [
      el('button', { class: 'primary', type: 'button', text: t.save, onclick: function () {
        self.request({ type: 'edit', comment: c.id, title: c.title || undefined, body: body.value }).then(function (m) {
          if (m.type === 'ack') { box.remove(); self.upsert(m.comment, false); } else err.textContent = m.message || m.code;
        });
      } }),
      el('button', { class: 'link', type: 'button', text: t.cancel, onclick: function () { box.remove(); } }),
    ])]);
    li.insertBefore(box, li.querySelector(':scope > ol.replies'));
    body.focus();
  };

  Thread.prototype.openReport = function (c, li) {
    var self = this, t = this.t;
    if (li.querySelector('.reportbox')) return;
    var sel = el('select', { 'aria-label': t.reportWhy });
    Object.keys(t.reasons).forEach(function (k) { sel.appendChild(el('option', { value: k, text: t.reasons[k] })); });
    var note = el('input', { 'aria-label': t.reportNote, placeholder: t.reportNote, maxlength: '500' });
    var msg = el('div', { class: 'status', role: 'status' });
    var box = el('div', { class: 'reportbox' }, [el('span', { text: t.reportWhy }), sel, note, msg, el('div', { class: 'row' }, [
      el('button', { class: 'primary', type: 'button', text: t.send, onclick: function () {
        var r = { type: 'report', comment: c.id, reason: sel.value };
        if (note.value.trim()) r.note = note.value;
        self.request(r).then(function (m) {
          msg.textContent = m.type === 'reported' ? t.reported : (m.message || m.code);
          if (m.type === 'reported') setTimeout(function () { box.remove(); }, 2500);
        });
      } }),
      el('button', { class: 'link', type: 'button', text: t.cancel, onclick: function () { box.remove(); } }),
    ])]);
    li.insertBefore(box, li.querySelector(':scope > ol.replies'));
  };

  Thread.prototype.setToken = function (token) {
    this.token = token || null;
    if (this.ws) this.ws.close(); // reconnects, says hello with the token, resumes with since
  };

  /* ---- Boot ---- */

  var threads = [];
  function boot() {
    document.querySelectorAll('#parley-thread, [data-parley-thread]').forEach(function (host) {
      if (host.__parley || !host.getAttribute('data-article')) return;
      host.__parley = new Thread(host);
      threads.push(host.__parley);
    });
  }
  window.Parley = {
    __loaded: true,
    setToken: function (token) { threads.forEach(function (t) { t.setToken(token); }); },
    // test hook: drops the connection as a phone losing its network would
    dropConnection: function () { threads.forEach(function (t) { if (t.ws) t.ws.close(); }); },
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
