  /* ---- widget/thread.js: part 3 of 3 of /widget.js, inside the scope text.js opens ----
   * The thread's view (Thread, drawing), posting, replying, editing, deleting, reporting,
   * and the boot; it closes the scope. */

  /* ---- One thread ---- */

  // opts (from the loader): focus (move focus to the thread once drawn), permalink (a
  // comment id to scroll to), lazy (data-load="visible": connect only near the viewport),
  // count (the published comments the button showed, until the history says).
  function Thread(host, opts) {
    this.host = host;
    this.opts = opts;
    this.article = host.getAttribute('data-article');
    var lang = (host.getAttribute('data-lang') || document.documentElement.lang || 'en').slice(0, 2).toLowerCase();
    this.lang = STRINGS[lang] ? lang : 'en';
    this.t = STRINGS[this.lang];
    this.rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(this.lang, { numeric: 'auto' }) : null;
    this.token = host.getAttribute('data-sso-token') || P.__token || null;
    this.limits = { title: 100, body: 1000, name: 40 };
    this.comments = new Map();  // id -> COMMENT as last received
    this.nodes = new Map();     // id -> li
    this.lastId = null;         // newest published id received: the `since` of a resume
    this.oldest = null;         // oldest id of the history pages: the `before` of "load older"
    this.hasOlder = false;
    this.count = opts.count || 0; // published comments on the article (the loader knew it)
    this.newCount = 0;
    this.reqId = 0;
    this.waiting = new Map();   // request id -> callback
    this.backoff = 500;
    this.skew = 0;              // server clock minus ours, from pong
    this.user = null;
    this.guests = true;
    this.replyTo = null;
    this.myReplies = new Map(); // id -> COMMENT: others' replies to this reader's comments
    this.repliesSeen = 0;       // the newest of them the reader has looked at
    this.emailState = null;     // reply emails for this article: null, 'pending', 'active'
    this.replyEmails = false;   // the server can send them
    try { this.repliesSeen = +localStorage.getItem('parley.replies.' + this.article) || 0; } catch (e) { /* storage blocked */ }
    this.order = 'oldest';      // oldest | newest | liked (the reader's choice, kept)
    try { var o = localStorage.getItem('parley.order'); if (o === 'newest' || o === 'liked') this.order = o; } catch (e) { /* storage blocked */ }
    this.next = null;           // thread orders: the cursor of the next page
    this.parked = new Set();    // ids drawn but not in the list: their page is not loaded
    this.newIds = new Set();    // live comments the pill counts
    this.reactGuests = true;
    // the host page's fragment for a comment: data-permalink="PREFIX{id}SUFFIX"
    var pf = (host.getAttribute('data-permalink') || 'comment-{id}').split('{id}');
    this.pfx = pf.length === 2 ? pf : ['comment-', ''];
    this.render();
    if (opts.focus) { this.heading.tabIndex = -1; this.heading.focus(); }
    if (opts.lazy) this.watch(); else this.connect();
  }

  Thread.prototype.now = function () { return Date.now() + this.skew; };

  Thread.prototype.relTime = function (iso) {
    var s = (this.now() - Date.parse(iso)) / 1000, t = this.t;
    if (s < 60) return t.now;
    var u = s < 3600 ? ['minute', 60] : s < 86400 ? ['hour', 3600] : s < 86400 * 30 ? ['day', 86400] : null;
    if (!u) return new Date(iso).toLocaleDateString(this.lang);
    var n = Math.floor(s / u[1]);
    return this.rtf ? this.rtf.format(-n, u[0]) : n + ' ' + u[0] + (n === 1 ? '' : 's') + ' ago';
  };

  Thread.prototype.render = function () {
    var t = this.t, self = this;
    // the loader may have drawn its button in the shadow root already
    var root = this.root = this.host.shadowRoot || (this.host.attachShadow ? this.host.attachShadow({ mode: 'open' }) : this.host);
    clear(root);
    root.appendChild(el('style', { text: CSS }));
    this.countEl = el('span', { class: 'count' });
    this.presenceEl = el('span', { class: 'presence' });
    this.statusEl = el('span', { class: 'status', role: 'status' });
    this.heading = el('h2', { text: t.discussion });
    // the article's Atom feed (GET /api/feed?article=ID); data-feed="off" leaves it out
    this.feedEl = this.host.getAttribute('data-feed') === 'off' ? null : el('a', { class: 'feed',
      href: origin + '/api/feed?article=' + encodeURIComponent(this.article), type: 'application/atom+xml',
      rel: 'alternate', text: t.feed || 'Feed' });
    this.repliesBtn = el('button', { class: 'link replies-btn', type: 'button', hidden: '', 'aria-expanded': 'false',
      onclick: function () { self.toggleReplies(); } });
    this.repliesList = el('ul', { class: 'replies-to-you', hidden: '', 'aria-label': t.repliesAll(0).replace(/ \(.*/, '') });
    this.sortSel = el('select', { name: 'order', onchange: function () { self.setOrder(self.sortSel.value); } });
    ['oldest', 'newest', 'liked'].forEach(function (k) { self.sortSel.appendChild(el('option', { value: k, text: t.orders[k] })); });
    this.sortSel.value = this.order;
    var head = el('div', { class: 'head' }, [this.heading, this.countEl, this.presenceEl, this.statusEl, this.repliesBtn,
      el('label', { class: 'sort' }, [t.sort, this.sortSel]), this.feedEl]);

    this.nameIn = el('input', { name: 'name', id: 'p-name', autocomplete: 'nickname' });
    this.titleIn = el('input', { name: 'title', id: 'p-title' });
    this.bodyIn = el('textarea', { name: 'body', id: 'p-body', rows: '4' });
    this.titleCount = el('span', { class: 'counter', 'data-counter': 'title' });
    this.bodyCount = el('span', { class: 'counter', 'data-counter': 'body' });
    this.nameCount = el('span', { class: 'counter', 'data-counter': 'name', hidden: '' });
    this.titleLabel = el('span', { text: t.title });
    this.titleReq = el('abbr', { class: 'req', title: t.required, text: ' *' });
    this.titleIn.setAttribute('aria-required', 'true');
    this.nameRow = el('div', {}, [el('label', { for: 'p-name' }, [t.name, this.nameCount]), this.nameIn]);
    this.replyRow = el('div', { class: 'row', hidden: '' });
    this.signedEl = el('div', { class: 'status', hidden: '' });
    this.formError = el('div', { class: 'error', role: 'alert' });
    this.submit = el('button', { class: 'primary', type: 'submit', text: t.post });
    this.form = el('form', { novalidate: '' }, [
      this.signedEl, this.replyRow, this.nameRow,
      el('div', {}, [el('label', { for: 'p-title' }, [el('span', {}, [this.titleLabel, this.titleReq]), this.titleCount]), this.titleIn]),
      el('div', {}, [el('label', { for: 'p-body' }, [el('span', {}, [t.body, el('abbr', { class: 'req', title: t.required, text: ' *' })]), this.bodyCount]), this.bodyIn]),
      this.formError, el('div', { class: 'row' }, [this.submit]),
    ]);
    this.signInEl = el('p', { class: 'empty', text: t.signIn, hidden: '' });
    this.unavailEl = el('p', { class: 'empty unavailable', role: 'alert', text: t.unavailable, hidden: '' });
    this.refused = 0;
    try { this.nameIn.value = localStorage.getItem('parley.name') || ''; } catch (e) { /* storage blocked */ }
    limitInput(this.titleIn, this.titleCount, function () { return self.limits.title; }, false);
    limitInput(this.bodyIn, this.bodyCount, function () { return self.limits.body; }, true);
    limitInput(this.nameIn, this.nameCount, function () { return self.limits.name; }, false);
    this.form.addEventListener('submit', function (e) { e.preventDefault(); self.post(); });
    this.bodyIn.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); self.post(); }
    });

    this.pill = el('button', { class: 'pill', type: 'button', hidden: '', onclick: function () {
      var first = self.firstNew || self.list;
      first.scrollIntoView({ behavior: 'smooth', block: 'center' });
      self.clearNew();
    } });
    this.olderBtn = el('button', { class: 'link', type: 'button', hidden: '', text: t.older, onclick: function () { self.loadOlder(); } });
    this.emptyEl = el('p', { class: 'empty', text: t.empty, hidden: '' });
    this.list = el('ol', { class: 'comments' });
    this.moreBtn = el('button', { class: 'link', type: 'button', hidden: '', text: t.more, onclick: function () { self.loadMore(); } });
    this.formHome = document.createComment('form');
    this.featList = el('ol');
    this.featEl = el('section', { class: 'feat', hidden: '', 'aria-label': t.featured }, [el('h3', { text: t.featured }), this.featList]);
    this.featured = new Map();  // id -> COMMENT picked by the moderators
    // a signed-in reader's own data, where the site enables it (welcome.self_service)
    this.selfNote = el('span', { class: 'status', role: 'status' });
    this.selfEl = el('div', { class: 'row self', hidden: '', 'aria-label': t.myData }, [
      el('button', { class: 'link', type: 'button', text: t.download, onclick: function () { self.downloadMine(); } }),
      el('button', { class: 'link', type: 'button', text: t.eraseMe, onclick: function () { self.eraseMine(); } }),
      this.selfNote]);
    root.appendChild(el('section', { 'aria-label': t.discussion }, [head, this.repliesList, this.unavailEl, this.signInEl, this.featEl, this.form, this.formHome, this.pill, this.olderBtn, this.emptyEl, this.list, this.moreBtn, this.selfEl]));
    this.updateCount();
    window.addEventListener('scroll', function () { if (self.newCount && self.seen()) self.clearNew(); }, { passive: true });
    // a phone coming back: retry now rather than at the end of a long back-off
    window.addEventListener('online', function () { self.wake(); });
    // a permalink followed on this page: go to that comment
    window.addEventListener('hashchange', function () { var id = self.linked(); if (id) self.goTo(id); });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) self.wake(); });
    setInterval(function () { self.tick(); }, 25000);
  };

  Thread.prototype.updateCount = function () {
    this.countEl.textContent = this.t.comments(this.count);
    // count.js on the same page keeps the article's other counts in step
    if (this.count !== this.sentCount && this.loaded) {
      this.sentCount = this.count;
      document.dispatchEvent(new CustomEvent('parley:count', { detail: { article: this.article, count: this.count } }));
    }
    this.emptyEl.hidden = !this.loaded || this.list.children.length > 0;
  };

  /* ---- Drawing (reader text only through textContent) ---- */

  Thread.prototype.draw = function (c) {
    var self = this, t = this.t;
    var li = this.nodes.get(c.id), fresh = !li;
    if (fresh) {
      li = el('li', { class: 'c', 'data-id': String(c.id) }, [el('div', { class: 'content' })]);
      this.nodes.set(c.id, li);
    }
    var content = li.firstChild;
    clear(content);
    var meta = el('div', { class: 'meta' });
    var a = c.author || {};
    if (a.avatar && /^https:\/\//.test(a.avatar))
      meta.appendChild(el('img', { class: 'avatar', src: a.avatar, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' }));
    meta.appendChild(el('span', { class: 'author', text: a.name || '' }));
    var bd = this.badge(a);
    if (bd) meta.appendChild(bd);
    var parent = c.parent && this.comments.get(c.parent);
    if (parent && parent.parent) meta.appendChild(el('span', { class: 're', text: '↪ ' + t.inReplyTo + ' ' + (parent.author && parent.author.name) }));
    meta.appendChild(el('a', { class: 'when', href: this.permalink(c.id), title: t.link }, [
      el('time', { datetime: c.created_at, title: new Date(c.created_at).toLocaleString(this.lang), text: this.relTime(c.created_at) })]));
    if (c.edited_at) meta.appendChild(el('span', { class: 'badge edited', text: t.edited }));
    if (c.status === 'pending') meta.appendChild(el('span', { class: 'badge pending', title: t.pendingNote, text: t.pending }));
    if (c.status === 'rejected') meta.appendChild(el('span', { class: 'badge rejected', text: t.rejected + (c.reason ? ': ' + c.reason : '') }));
    content.appendChild(meta);
    if (c.title) content.appendChild(el('div', { class: 'ctitle', text: c.title }));
    content.appendChild(linkify(el('div', { class: 'cbody' }), c.body));
    var actions = el('div', { class: 'row actions' });
    if (c.status === 'published') {
      var canLike = !this.mine(c) && !!this.user && (!this.user.guest || this.reactGuests);
      actions.appendChild(el('button', { class: 'link like', type: 'button', 'aria-pressed': String(!!c.liked),
        disabled: canLike ? null : '', title: t.like, 'aria-label': t.like + ' (' + t.likes(c.likes || 0) + ')',
        text: '♥ ' + (c.likes || 0), onclick: function () { self.react(c); } }));
    }
    if (c.status === 'published' && this.form && !this.form.hidden)
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.reply, onclick: function () { self.startReply(c); } }));
    if (c.status === 'published') {
      var sb = el('button', { class: 'link share', type: 'button', text: t.share, onclick: function () { self.share(c, sb); } });
      actions.appendChild(sb);
    }
    if (c.status === 'published' && !this.mine(c) && !c.__reported)
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.report, onclick: function () { self.openReport(c, li); } }));
    c.__editable = this.editable(c);
    if (c.__editable)
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.edit, onclick: function () { self.openEdit(c, li); } }));
    if (this.mine(c))
      actions.appendChild(el('button', { class: 'link', type: 'button', text: t.del, onclick: function () { self.confirmDelete(c, li, actions); } }));
    if (this.mine(c) && this.replyEmails && c.status !== 'rejected') {
      if (!this.emailState)
        actions.appendChild(el('button', { class: 'link', type: 'button', 'data-email': 'on', text: t.emailMe, onclick: function () { self.optIn(c, li); } }));
      else
        actions.appendChild(el('span', { class: 'status email-state', text: this.emailState === 'active' ? t.emailOn : t.emailCheck }, [
          el('button', { class: 'link', type: 'button', 'data-email': 'off', text: t.emailStop, onclick: function () { self.optOut(); } })]));
    }
    content.appendChild(actions);
    if (fresh || this.parked.has(c.id)) this.place(c, li);
    return li;
  };

  // The like button of comment id shows its count and whether this reader likes it.
  // seq: the count's change number; an older count (from another server process, late)
  // never replaces a newer one.
  Thread.prototype.setLikes = function (id, n, liked, seq) {
    var c = this.comments.get(id), li = this.nodes.get(id);
    if (!c || (seq !== undefined && c.likes_seq > seq)) return;
    if (seq !== undefined) c.likes_seq = seq;
    c.likes = n;
    if (liked !== undefined) c.liked = liked;
    var b = li && li.querySelector(':scope > .content .like');
    if (!b) return;
    b.textContent = '♥ ' + n;
    b.setAttribute('aria-pressed', String(!!c.liked));
    b.setAttribute('aria-label', this.t.like + ' (' + this.t.likes(n) + ')');
  };

  Thread.prototype.react = function (c) {
    var self = this;
    this.request({ type: 'react', comment: c.id, like: !c.liked }).then(function (m) {
      if (m.type === 'reacted') self.setLikes(c.id, m.likes, m.liked, m.seq);
      else self.statusEl.textContent = self.errorText(m);
    });
  };

  // Whether comment a comes before b at the top level in the reader's order. In "liked"
  // the rank is the count when the comment was first drawn: counts change live, places
  // do not, so nothing jumps under the reader's eyes.
  Thread.prototype.before = function (a, b) {
    if (this.order === 'newest') return a.id > b.id;
    if (this.order === 'liked') return a.__rank !== b.__rank ? a.__rank > b.__rank : a.id > b.id;
    return a.id < b.id;
  };

  // Top-level comments by id; every reply under its top-level ancestor, by id. A reply whose
  // parent is not loaded waits at the top level until an older page brings the parent.
  // In the thread orders (newest, liked) top-level comments follow the order, and a comment
  // that arrives live for a part of the thread not loaded yet is parked (drawn, not shown)
  // until its page comes.
  Thread.prototype.place = function (c, li) {
    var container = this.list, p = c.parent ? this.nodes.get(c.parent) : null, self = this;
    var threaded = this.order !== 'oldest';
    if (p && !p.isConnected) p = null;
    if (p && p.parentNode && p.parentNode.classList.contains('replies')) p = p.parentNode.parentNode;
    this.parked.delete(c.id);
    if (threaded && !this.paging && !p && (c.parent || this.next)) {
      // a reply to a thread not loaded, or a top-level comment past the loaded pages
      var last = this.list.lastElementChild, lc = last && this.comments.get(+last.getAttribute('data-id'));
      if (c.parent || (lc && !this.before(c, lc))) {
        if (li.parentNode) li.remove();
        this.parked.add(c.id);
        return;
      }
    }
    if (p) {
      container = p.querySelector(':scope > ol.replies');
      if (!container) { container = el('ol', { class: 'replies' }); p.appendChild(container); }
    }
    li.classList.toggle('orphan', !!c.parent && !p);
    var next = null, top = container === this.list;
    for (var n = container.firstElementChild; n; n = n.nextElementSibling) {
      var nid = +n.getAttribute('data-id'), nc = this.comments.get(nid);
      if (top && threaded ? nc && self.before(c, nc) : nid > c.id) { next = n; break; }
    }
    container.insertBefore(li, next);
  };

  Thread.prototype.rehome = function () {
    var self = this;
    this.list.querySelectorAll(':scope > li.orphan').forEach(function (li) {
      var c = self.comments.get(+li.getAttribute('data-id'));
      if (!c || !self.nodes.has(c.parent)) return;
      li.remove();
      self.place(c, li);
      self.draw(c);
      // its own replies join the thread it now belongs to, one level deep
      var sub = li.querySelector(':scope > ol.replies');
      if (!sub) return;
      Array.from(sub.children).forEach(function (r) {
        var rc = self.comments.get(+r.getAttribute('data-id'));
        r.remove();
        if (rc) { self.place(rc, r); self.draw(rc); }
      });
      sub.remove();
    });
  };

  // Whether e (by default the first new comment) is on screen.
  Thread.prototype.seen = function (e) {
    var r = (e || this.firstNew || this.list).getBoundingClientRect();
    return r.top < window.innerHeight && r.bottom > 0;
  };
  // A comment arrived live: the pill counts those that arrive off screen.
  Thread.prototype.bumpNew = function (id) {
    var li = this.nodes.get(id);
    if (!li || !li.isConnected || this.seen(li)) return;
    this.newIds.add(id);
    this.showPill();
  };
  // The pill counts the new comments still there (a deleted one no longer counts).
  Thread.prototype.showPill = function () {
    var self = this, first = null;
    this.newIds.forEach(function (id) { var li = self.nodes.get(id); if (!first && li) first = li; });
    this.newCount = this.newIds.size;
    this.firstNew = first;
    this.pill.textContent = this.t.newPill(this.newCount);
    this.pill.hidden = !this.newCount;
  };
  Thread.prototype.clearNew = function () { this.newIds.clear(); this.newCount = 0; this.firstNew = null; this.pill.hidden = true; };

  /* ---- Posting, replying, editing, deleting, reporting ---- */

  Thread.prototype.startReply = function (c) {
    var self = this;
    this.replyTo = c;
    clear(this.replyRow);
    this.replyRow.appendChild(el('span', { class: 'status', text: this.t.replyTo + ' ' + c.author.name }));
    this.replyRow.appendChild(el('button', { class: 'link', type: 'button', text: this.t.cancel, onclick: function () { self.cancelReply(); } }));
    this.replyRow.hidden = false;
    this.titleLabel.textContent = this.t.titleOpt;
    this.titleReq.hidden = true;
    this.titleIn.setAttribute('aria-required', 'false');
    // the form opens under the comment answered (before its replies)
    var li = this.nodes.get(c.id);
    if (li) li.insertBefore(this.form, li.querySelector(':scope > ol.replies'));
    this.form.scrollIntoView({ block: 'nearest' });
    this.bodyIn.focus();
  };
  Thread.prototype.cancelReply = function () {
    this.replyTo = null;
    this.replyRow.hidden = true;
    this.titleLabel.textContent = this.t.title;
    this.titleReq.hidden = false;
    this.titleIn.setAttribute('aria-required', 'true');
    if (this.form.parentNode !== this.formHome.parentNode) this.formHome.parentNode.insertBefore(this.form, this.formHome);
  };

  // The post typed while offline, sent now that the thread is back; or the post whose
  // connection dropped before its reply, sent again as it was, with the same nonce.
  Thread.prototype.flushQueued = function () {
    var msg = this.queued;
    if (!msg) return;
    this.queued = null;
    this.submit.disabled = false;
    this.formError.textContent = '';
    if (msg.nonce) this.sendPost(msg);
    else this.post();
  };

  // A fresh nonce for a new post: 128 random bits in hex (docs/protocol.md, post).
  function newNonce() {
    var b = new Uint8Array(16), s = '';
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    for (var k = 0; k < 16; k++) s += (b[k] < 16 ? '0' : '') + b[k].toString(16);
    return s;
  }

  Thread.prototype.post = function () {
    var self = this, t = this.t;
    if (this.submit.disabled) return;
    var msg = { type: 'post', article: this.article, title: this.titleIn.value, body: this.bodyIn.value };
    if (!this.user || this.user.guest) {
      msg.name = this.nameIn.value;
      try { localStorage.setItem('parley.name', this.nameIn.value); } catch (e) { /* storage blocked */ }
    }
    if (this.replyTo) msg.parent = this.replyTo.id;
    // what the server would refuse at once is marked before sending
    var bad = !msg.parent && !count(msg.title, false) ? [this.titleIn, 'title_empty'] : !count(msg.body, true) ? [this.bodyIn, 'body_empty'] : null;
    [this.titleIn, this.bodyIn].forEach(function (i) { i.removeAttribute('aria-invalid'); });
    if (bad) {
      bad[0].setAttribute('aria-invalid', 'true');
      this.formError.textContent = t.errors[bad[1]];
      bad[0].focus();
      return;
    }
    this.formError.textContent = '';
    if (!this.ws || this.ws.readyState !== 1) {
      // offline: the post leaves once the thread is back (never sent: nothing to repeat)
      this.queued = msg;
      this.formError.textContent = t.queued;
      this.submit.disabled = true;
      return;
    }
    // One nonce per post: the same text sent again after an unanswered attempt (the
    // server busy, the reader pressing Post again) keeps it, so it is stored once.
    var key = JSON.stringify([msg.article, msg.parent || null, msg.title, msg.body, msg.name || null]);
    if (!this.unanswered || this.unanswered.key !== key) this.unanswered = { key: key, nonce: newNonce() };
    msg.nonce = this.unanswered.nonce;
    this.sendPost(msg);
  };

  // Sends a post and handles its reply. A connection lost before the reply queues it
  // to be sent again, unchanged, once the thread is back: the server answers a repeat
  // of the nonce with the comment the first attempt stored, if it did.
  Thread.prototype.sendPost = function (msg) {
    var self = this, t = this.t;
    this.submit.disabled = true;
    this.submit.textContent = t.posting;
    this.request(msg).then(function (m) {
      self.submit.textContent = t.post;
      if (m.type === 'error' && m.lost) {
        self.queued = msg;
        self.formError.textContent = t.queued;
        return;
      }
      self.submit.disabled = false;
      if (m.type !== 'error' || m.code !== 'unavailable') self.unanswered = null;
      if (m.type !== 'ack') { self.formError.textContent = m.code === 'unavailable' ? t.lostPost : self.errorText(m); return; }
      // what the reader typed while it was being posted stays
      [[self.titleIn, msg.title], [self.bodyIn, msg.body]].forEach(function (x) {
        if (x[0].value === x[1]) { x[0].value = ''; x[0].__sync(); }
      });
      self.cancelReply();
      self.upsert(m.comment, { highlight: true });
      self.updateCount();
      var li = self.nodes.get(m.comment.id);
      if (li) li.scrollIntoView({ block: 'nearest' });
    });
  };

  // A small box inside a comment (edit, report); one of each kind at a time.
  function box(li, kind, kids) {
    var old = li.querySelector(':scope > .box.' + kind);
    if (old) old.remove();
    var b = el('div', { class: 'box ' + kind }, kids);
    li.insertBefore(b, li.querySelector(':scope > ol.replies'));
    return b;
  }

  Thread.prototype.openEdit = function (c, li) {
    var self = this, t = this.t, lim = this.limits;
    var title = c.parent === null || c.title ? el('input', { name: 'edit-title', 'aria-label': t.title }) : null;
    var body = el('textarea', { name: 'edit-body', 'aria-label': t.body, rows: '3' });
    var tc = el('span', { class: 'counter' }), bc = el('span', { class: 'counter' });
    var err = el('div', { class: 'error', role: 'alert' });
    body.value = c.body;
    if (title) { title.value = c.title; limitInput(title, tc, function () { return lim.title; }, false); }
    limitInput(body, bc, function () { return lim.body; }, true);
    // the edit box takes the place of the text
    var content = li.querySelector(':scope > .content');
    var done = function () { b.remove(); content.hidden = false; };
    var b = box(li, 'edit', [title && el('label', {}, [t.title, tc]), title, el('label', {}, [t.body, bc]), body, err, el('div', { class: 'row' }, [
      el('button', { class: 'primary', type: 'button', text: t.save, onclick: function () {
        var r = { type: 'edit', comment: c.id, body: body.value };
        if (title) r.title = title.value;
        self.request(r).then(function (m) {
          if (m.type === 'ack') { done(); self.upsert(m.comment); self.updateCount(); } else err.textContent = self.errorText(m);
        });
      } }),
      el('button', { class: 'link', type: 'button', text: t.cancel, onclick: done }),
    ])]);
    li.insertBefore(b, content);
    content.hidden = true;
    body.focus();
  };

  Thread.prototype.confirmDelete = function (c, li, actions) {
    var self = this, t = this.t;
    clear(actions);
    var err = el('span', { class: 'error', role: 'alert' });
    [el('span', { class: 'status', text: t.confirmDelete }),
      el('button', { class: 'link', type: 'button', text: t.yes, 'data-confirm': 'delete', onclick: function () {
        self.request({ type: 'delete', comment: c.id }).then(function (m) {
          if (m.type === 'ack') { self.remove(c.id); self.updateCount(); } else err.textContent = self.errorText(m);
        });
      } }),
      el('button', { class: 'link', type: 'button', text: t.cancel, onclick: function () { self.draw(c); } }), err,
    ].forEach(function (e) { actions.appendChild(e); });
  };

  Thread.prototype.openReport = function (c, li) {
    var self = this, t = this.t;
    var sel = el('select', { 'aria-label': t.reportWhy, name: 'reason' });
    Object.keys(t.reasons).forEach(function (k) { sel.appendChild(el('option', { value: k, text: t.reasons[k] })); });
    var note = el('input', { name: 'note', 'aria-label': t.reportNote, placeholder: t.reportNote, maxlength: '500' });
    var msg = el('div', { class: 'status', role: 'status' });
    var send = el('button', { class: 'primary', type: 'button', text: t.send, onclick: function () {
      var r = { type: 'report', comment: c.id, reason: sel.value };
      if (note.value.trim()) r.note = note.value;
      send.disabled = true;
      self.request(r).then(function (m) {
        if (m.type === 'reported' || m.code === 'conflict') {
          // done: the form goes, the thanks stay a moment, the Report button is gone
          c.__reported = true;
          self.draw(c);
          clear(b);
          b.appendChild(el('div', { class: 'status', role: 'status', text: m.type === 'reported' ? t.reported : self.errorText(m) }));
          setTimeout(function () { b.remove(); }, 3000);
        } else { send.disabled = false; msg.textContent = self.errorText(m); }
      });
    } });
    var b = box(li, 'report', [el('span', { text: t.reportWhy }), sel, note, msg, el('div', { class: 'row' }, [
      send, el('button', { class: 'link', type: 'button', text: t.cancel, onclick: function () { b.remove(); } }),
    ])]);
    sel.focus();
  };

  // A new identity: reconnect now, say hello with it and resume where the thread was.
  Thread.prototype.setToken = function (token) {
    this.token = token || null;
    if (this.ws) this.lost();
    this.backoff = 500;
    this.connect();
  };

  /* ---- Boot ---- */

  var threads = [];
  function mount(host, opts) {
    if (host.__parley || !host.getAttribute('data-article')) return;
    host.__parley = new Thread(host, opts || {});
    threads.push(host.__parley);
  }
  P.__w = {
    mount: mount,
    setToken: function (token) { threads.forEach(function (t) { t.setToken(token); }); },
    // test hook: drops the connection as a phone losing its network would
    dropConnection: function () { threads.forEach(function (t) { if (t.ws) t.lost(); }); },
  };
  P.setToken = function (token) { P.__token = token; P.__w.setToken(token); };
  P.dropConnection = P.__w.dropConnection;
  // threads the loader queued while this file was on its way
  (P.__queue || []).splice(0).forEach(function (a) { mount(a[0], a[1]); });
  if (!P.__loader) {
    // loaded without the loader: every thread on the page, as embed.js used to
    var boot = function () {
      document.querySelectorAll('#parley-thread, [data-parley-thread]').forEach(function (h) { mount(h); });
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
    else boot();
  }
})();
