  /* ---- widget/socket.js: part 2 of 3 of /widget.js, inside the scope text.js opens ----
   * The connection (hello, subscribe, back-off, heartbeat, requests), the thread's state
   * (history, events, upsert), replies to you and reply emails. */

  /* ---- Connection: hello, subscribe (with since after a drop), back-off, heartbeat ---- */

  Thread.prototype.connect = function () {
    var self = this, ws;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    try { ws = new WebSocket(wsUrl, 'parley.v1'); } catch (e) { return this.retry(); }
    this.ws = ws;
    ws.onopen = function () { if (self.ws === ws) { self.refused = 0; self.opened(); } };
    ws.onmessage = function (ev) { if (self.ws === ws) self.onMessage(ev.data); };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      if (ws.__opened === undefined && !ev.wasClean) self.checkRefused();
      self.lost();
    };
    ws.addEventListener('open', function () { ws.__opened = true; });
  };

  // A socket closed before it opened, while the server answers HTTP: the handshake was
  // refused (this page's origin is not listed). Twice in a row: say so, keep retrying.
  Thread.prototype.checkRefused = function () {
    var self = this;
    fetch(origin + '/healthz', { mode: 'no-cors', cache: 'no-store' }).then(function () {
      if (++self.refused >= 2 && !self.ws) {
        self.statusEl.textContent = '';
        self.unavailEl.hidden = false;
        self.form.hidden = true;
      }
    }, function () { /* the server is down: "Reconnecting…" says it */ });
  };

  Thread.prototype.opened = function () {
    var self = this;
    this.hello().then(function (m) {
      if (m.type === 'welcome') self.welcome(m);
      else if (m.code === 'unavailable') return;
      var sub = { type: 'subscribe', article: self.article };
      if (self.lastId !== null) sub.since = self.lastId;
      else if (self.order !== 'oldest') sub.order = self.order;
      if (/^https?:/.test(location.protocol)) sub.url = location.href.split('#')[0];
      self.send_(sub, function (h) {
        if (h.type !== 'history') return;
        self.onHistory(h, sub.since === undefined ? 'first' : 'resume');
        if (!h.more) { self.backoff = 500; self.statusEl.textContent = ''; self.flushQueued(); self.loadReplies(); }
      });
      self.request({ type: 'featured', article: self.article }).then(function (f) {
        if (f.type !== 'featured') return;
        self.featured = new Map();
        f.comments.slice().reverse().forEach(function (c) { self.featured.set(c.id, c); });
        self.drawFeatured();
      });
      self.ping();
    });
  };

  // hello with the token, or the guest key; a refused token falls back to a guest.
  Thread.prototype.hello = function () {
    var self = this, key = guestKey();
    var guest = key ? { type: 'hello', guest_key: key } : { type: 'hello' };
    if (!this.token) return this.request(guest);
    return this.request({ type: 'hello', token: this.token }).then(function (m) {
      if (m.type !== 'error' || m.code === 'unavailable') return m;
      self.token = null; // expired or forged: carry on as a guest
      return self.request(guest);
    });
  };

  Thread.prototype.lost = function () {
    var ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    if (this.unavailEl.hidden) this.statusEl.textContent = this.t.offline;
    var w = this.waiting;
    this.waiting = new Map();
    // lost: the request may have reached the server (a post is then repeated with its nonce)
    w.forEach(function (cb) { cb({ type: 'error', code: 'unavailable', lost: true }); });
    this.retry();
  };

  Thread.prototype.retry = function () {
    var self = this;
    if (this.retryTimer) return;
    var delay = this.backoff * (0.75 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.retryTimer = setTimeout(function () { self.connect(); }, delay);
  };

  Thread.prototype.wake = function () {
    if (this.ws) return this.ping();
    if (this.opts.lazy && (!this.near || document.hidden)) return;
    this.backoff = 500;
    this.connect();
  };

  // data-load="visible": the socket opens when the thread comes near the viewport, and
  // closes once the tab has been hidden for data-close-after seconds (default 60); when
  // the tab shows again and the thread is near, it reopens and resumes with since.
  Thread.prototype.watch = function () {
    var self = this, after = parseFloat(this.host.getAttribute('data-close-after'));
    after = after >= 0 ? after * 1000 : 60000;
    this.near = false;
    new IntersectionObserver(function (es) {
      self.near = es[es.length - 1].isIntersecting;
      self.wake();
    }, { rootMargin: '600px 0px' }).observe(this.host);
    document.addEventListener('visibilitychange', function () {
      clearTimeout(self.sleepTimer);
      if (document.hidden) self.sleepTimer = setTimeout(function () { self.sleep(); }, after);
    });
  };

  // Closes the socket on purpose: no "Reconnecting…", no retry; wake() reopens it.
  Thread.prototype.sleep = function () {
    var ws = this.ws;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(1000); } catch (e) { /* already closed */ }
    }
    var w = this.waiting;
    this.waiting = new Map();
    w.forEach(function (cb) { cb({ type: 'error', code: 'unavailable', lost: true }); });
  };

  // Heartbeat: a connection that does not answer a ping in 10 s is dead (a phone that
  // changed networks keeps a half-open socket for minutes); drop it and resume.
  Thread.prototype.ping = function () {
    var self = this, ws = this.ws, sent = Date.now();
    if (!ws || ws.readyState !== 1 || this.pinging) return;
    this.pinging = true;
    var timer = setTimeout(function () { self.pinging = false; if (self.ws === ws) self.lost(); }, 10000);
    this.send_({ type: 'ping' }, function (m) {
      clearTimeout(timer);
      self.pinging = false;
      if (m.type === 'pong' && m.time) self.skew = Date.parse(m.time) - (sent + Date.now()) / 2;
    });
  };

  Thread.prototype.tick = function () {
    this.ping();
    var self = this;
    this.root.querySelectorAll('time').forEach(function (e) { e.textContent = self.relTime(e.getAttribute('datetime')); });
    // the edit button goes when the 5 minutes have passed
    this.comments.forEach(function (c) { if (c.__editable && !self.editable(c)) self.draw(c); });
  };

  Thread.prototype.send_ = function (msg, cb) {
    msg.id = ++this.reqId;
    if (this.ws && this.ws.readyState === 1) {
      if (cb) this.waiting.set(msg.id, cb);
      this.ws.send(JSON.stringify(msg));
    } else if (cb) cb({ type: 'error', code: 'unavailable' });
  };

  Thread.prototype.request = function (msg) {
    var self = this;
    return new Promise(function (resolve) { self.send_(msg, resolve); });
  };

  Thread.prototype.onMessage = function (data) {
    var m;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    if (m.id !== undefined && this.waiting.has(m.id)) {
      var cb = this.waiting.get(m.id);
      if (!m.more) this.waiting.delete(m.id);
      cb(m);
    } else if (m.id === undefined) {
      this.onEvent(m);
    }
  };

  // Saves everything Parley keeps about the signed-in reader as a JSON file.
  Thread.prototype.downloadMine = function () {
    var self = this;
    this.request({ type: 'my_data' }).then(function (m) {
      if (m.type !== 'my_data') { self.selfNote.textContent = self.errorText(m); return; }
      var blob = new Blob([JSON.stringify(m.data, null, 2)], { type: 'application/json' });
      var a = el('a', { href: URL.createObjectURL(blob), download: 'my-comments.json' });
      a.hidden = true;
      self.selfEl.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
  };

  // Erases the signed-in reader's data after they confirm; the thread then reloads.
  Thread.prototype.eraseMine = function () {
    var self = this;
    if (!window.confirm(this.t.eraseConfirm)) return;
    this.request({ type: 'erase_me', confirm: true }).then(function (m) {
      self.selfNote.textContent = m.type === 'erased' ? self.t.erased : self.errorText(m);
      if (m.type === 'erased' && self.ws) self.ws.close();
    });
  };

  Thread.prototype.errorText = function (m) {
    var e = this.t.errors;
    if (m.code === 'rejected') return this.t.rejected + (m.message ? ': ' + m.message : '');
    return e[m.code] || e.other;
  };

  Thread.prototype.welcome = function (m) {
    this.unavailEl.hidden = true;
    this.user = m.user;
    this.guests = m.guests !== false;
    this.replyEmails = !!m.reply_emails;
    this.selfEl.hidden = !m.self_service;
    this.reactGuests = !(m.reactions && m.reactions.guests === false);
    if (m.limits) for (var k in this.limits) if (m.limits[k] > 0) this.limits[k] = m.limits[k];
    var signed = !m.user.guest;
    this.nameRow.hidden = signed;
    this.signedEl.hidden = !signed;
    this.signedEl.textContent = signed ? this.t.signedIn + ' ' + m.user.name : '';
    this.form.hidden = !signed && !this.guests;
    this.signInEl.hidden = !this.form.hidden;
    [this.titleIn, this.bodyIn, this.nameIn].forEach(function (i) { i.__sync(); });
    // own comments may have been drawn before the identity was known
    var self = this;
    this.comments.forEach(function (c) { self.draw(c); });
  };

  /* ---- Thread state: every comment goes through upsert, which keeps the count ---- */

  // A history reply of one kind: 'first' (the newest page), 'resume' (all since lastId)
  // or 'older' (the page before the oldest loaded). Its comments are already in the count.
  Thread.prototype.onHistory = function (m, kind) {
    var self = this, resume = kind === 'resume';
    var threaded = !resume && typeof m.order === 'string';
    this.paging = !resume;
    m.comments.forEach(function (c) {
      var known = self.comments.has(c.id);
      self.upsert(c, { counted: true, highlight: resume });
      if (resume && !known && c.status === 'published' && !self.mine(c)) self.bumpNew(c.id);
      if (!resume && !threaded && c.status === 'published' && (self.oldest === null || c.id < self.oldest)) self.oldest = c.id;
    });
    this.paging = false;
    if (threaded) {
      // newest / liked: pages of threads, "load more" below
      this.next = m.next || null;
      this.moreBtn.hidden = !this.next;
      this.olderBtn.hidden = true;
      this.rehome();
    } else if (!resume) {
      this.hasOlder = !!m.has_older;
      this.olderBtn.hidden = !this.hasOlder;
      this.moreBtn.hidden = true;
      this.rehome();
    }
    if (typeof m.count === 'number') this.count = m.count;
    this.loaded = true;
    this.updateCount();
    // a permalink (#comment-ID) the loader passed on: show that comment once it is drawn
    var id = this.opts.permalink || (!resume && !this.linkSeen && this.linked());
    this.linkSeen = true;
    if (id) { this.opts.permalink = null; this.goTo(id); }
  };

  // The comment id the page's fragment names, or 0.
  Thread.prototype.linked = function () {
    var h = location.hash.slice(1), f = this.pfx, n = h.slice(f[0].length, h.length - f[1].length);
    return h.indexOf(f[0]) === 0 && h.slice(h.length - f[1].length) === f[1] && /^\d+$/.test(n) ? +n : 0;
  };

  // The host page's address that opens this thread at comment id.
  Thread.prototype.permalink = function (id) {
    return location.href.split('#')[0] + '#' + this.pfx[0] + id + this.pfx[1];
  };

  // Scrolls to comment id and highlights it; when it is not loaded, its thread is
  // fetched first (the `thread` message) and drawn in place.
  Thread.prototype.goTo = function (id) {
    var self = this, li = this.nodes.get(id);
    var show = function (e) {
      self.root.querySelectorAll('li.target').forEach(function (x) { x.classList.remove('target'); });
      e.classList.add('target');
      e.scrollIntoView({ block: 'center' });
    };
    if (li && li.isConnected) return show(li);
    this.request({ type: 'thread', article: this.article, comment: id }).then(function (m) {
      if (m.type !== 'thread') { self.statusEl.textContent = self.errorText(m); return; }
      self.paging = true;
      m.comments.forEach(function (c) { if (!self.comments.has(c.id)) self.upsert(c, { counted: true }); });
      self.paging = false;
      self.rehome();
      var e = self.nodes.get(id);
      if (e && e.isConnected) show(e);
    });
  };

  // The badge the author's token gave (staff, verified, moderator), or null.
  Thread.prototype.badge = function (a) {
    var label = a && a.badge && this.t.badges[a.badge];
    return label ? el('span', { class: 'badge role role-' + a.badge, text: label }) : null;
  };

  // The moderators' picks, newest pick first, above the form; each leads to its place.
  Thread.prototype.drawFeatured = function () {
    var self = this, t = this.t;
    clear(this.featList);
    Array.from(this.featured.values()).reverse().forEach(function (c) {
      var a = c.author || {};
      self.featList.appendChild(el('li', { 'data-id': String(c.id) }, [
        el('div', { class: 'meta' }, [el('span', { class: 'author', text: a.name || '' }), self.badge(a),
          el('a', { class: 'when', href: self.permalink(c.id), text: t.goTo, onclick: function (e) { e.preventDefault(); self.goTo(c.id); } })]),
        c.title ? el('div', { class: 'ctitle', text: c.title }) : null,
        linkify(el('div', { class: 'cbody' }), c.body),
      ]));
    });
    this.featEl.hidden = !this.featured.size;
  };

  Thread.prototype.share = function (c, btn) {
    var self = this, url = this.permalink(c.id);
    var done = function () { btn.textContent = self.t.copied; setTimeout(function () { btn.textContent = self.t.share; }, 2000); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, function () { window.prompt(self.t.link, url); });
    else window.prompt(this.t.link, url);
  };

  Thread.prototype.loadOlder = function () {
    var self = this;
    if (this.oldest === null) return;
    this.olderBtn.disabled = true;
    this.request({ type: 'history', article: this.article, before: this.oldest }).then(function (m) {
      self.olderBtn.disabled = false;
      if (m.type === 'history') self.onHistory(m, 'older');
    });
  };

  Thread.prototype.loadMore = function () {
    var self = this;
    if (!this.next) return;
    this.moreBtn.disabled = true;
    this.request({ type: 'history', article: this.article, order: this.order, after: this.next }).then(function (m) {
      self.moreBtn.disabled = false;
      if (m.type === 'history') self.onHistory(m, 'more');
    });
  };

  // Another order: the list is drawn again from its first page (kept for next visits).
  Thread.prototype.setOrder = function (o) {
    var self = this;
    this.order = o;
    this.sortSel.value = o;
    try { localStorage.setItem('parley.order', o); } catch (e) { /* storage blocked */ }
    clear(this.list);
    this.comments = new Map();
    this.nodes = new Map();
    this.parked = new Set();
    this.oldest = null;
    this.next = null;
    this.hasOlder = false;
    this.clearNew();
    var req = { type: 'history', article: this.article };
    if (o === 'oldest') req.before = 9007199254740991; else req.order = o;
    this.request(req).then(function (m) { if (m.type === 'history' && self.order === o) self.onHistory(m, 'first'); });
  };

  Thread.prototype.onEvent = function (m) {
    var c = m.comment;
    if (m.type === 'removed') {
      if (m.article === this.article) this.remove(m.comment);
      if (this.featured.delete(m.comment)) this.drawFeatured();
    } else if (m.type === 'reply') {
      if (m.article === this.article && c && typeof c === 'object') { this.myReplies.set(c.id, c); this.showReplies(); }
      return;
    } else if (m.type === 'feature') {
      if (m.article === this.article && c) {
        if (m.featured) this.featured.set(c.id, c); else this.featured.delete(c.id);
        this.drawFeatured();
      }
    } else if (m.type === 'likes') {
      if (m.article === this.article && m.counts) for (var k in m.counts) this.setLikes(+k, m.counts[k], undefined, m.seq && m.seq[k]);
    } else if (m.type === 'presence') {
      if (m.article === this.article) this.presenceEl.textContent = m.reading > 1 ? this.t.reading(m.reading) : '';
    } else if (c && typeof c === 'object' && c.article === this.article) {
      var known = this.comments.has(c.id);
      // an edit to a comment older than the pages loaded shows up when they are loaded
      // (in the thread orders any comment not loaded comes with its page)
      if (m.type === 'edited' && !known && (this.order !== 'oldest' || (this.hasOlder && c.id < this.oldest))) return;
      if (m.type === 'comment' || m.type === 'edited' || m.type === 'decision') {
        this.upsert(c, { highlight: !known });
        if (!known && c.status === 'published' && !this.mine(c)) this.bumpNew(c.id);
      }
    }
    this.updateCount();
  };

  Thread.prototype.mine = function (c) { return !!(this.user && c.author && c.author.id === this.user.id); };
  Thread.prototype.editable = function (c) {
    return this.mine(c) && c.status !== 'rejected' && this.now() - Date.parse(c.created_at) < EDIT_MS - 5000;
  };

  // Stores c and draws it. opts.counted: the count already includes it (history pages).
  Thread.prototype.upsert = function (c, opts) {
    opts = opts || {};
    if (c.status === 'removed') return this.remove(c.id);
    // someone else's comment that is no longer public (an edit held for review)
    if (c.status !== 'published' && !this.mine(c)) return this.remove(c.id);
    var old = this.comments.get(c.id);
    // live events carry no like state: keep what the reader had
    if (old && c.likes === undefined) { c.likes = old.likes; c.liked = old.liked; c.likes_seq = old.likes_seq; }
    if (old) c.__rank = old.__rank;
    if (c.__rank === undefined) c.__rank = c.likes || 0;
    if (!opts.counted) this.count += (c.status === 'published') - !!(old && old.status === 'published');
    this.comments.set(c.id, c);
    if (c.status === 'published' && (this.lastId === null || c.id > this.lastId)) this.lastId = c.id;
    var li = this.draw(c);
    if (opts.highlight && !old) li.classList.add('new');
  };

  Thread.prototype.remove = function (id) {
    var c = this.comments.get(id), li = this.nodes.get(id);
    if (c && c.status === 'published') this.count = Math.max(0, this.count - 1);
    this.comments.delete(id);
    this.parked.delete(id);
    if (this.newIds.delete(id)) this.showPill();
    if (!li) return;
    if (li.contains(this.form)) this.cancelReply();
    var replies = li.querySelector(':scope > ol.replies');
    if (replies && replies.children.length) {
      // replies stay readable under a placeholder
      var content = li.querySelector(':scope > .content');
      clear(content);
      content.appendChild(el('p', { class: 'gone', text: this.t.removedText }));
      li.querySelectorAll(':scope > .box').forEach(function (b) { b.remove(); });
    } else {
      this.nodes.delete(id);
      li.remove();
    }
    this.updateCount();
  };

  /* ---- Replies to you: listed when the reader comes back, counted live ---- */

  Thread.prototype.loadReplies = function () {
    var self = this;
    this.request({ type: 'replies', article: this.article }).then(function (m) {
      if (m.type !== 'replies') return;
      self.myReplies = new Map();
      m.replies.forEach(function (c) { self.myReplies.set(c.id, c); });
      self.showReplies();
      self.setEmailState(m.email || null);
    });
  };

  Thread.prototype.unseenReplies = function () {
    var n = 0, seen = this.repliesSeen;
    this.myReplies.forEach(function (c, id) { if (id > seen) n++; });
    return n;
  };

  // The button in the head: "3 replies to you" while some are unseen; the list when open.
  Thread.prototype.showReplies = function () {
    var n = this.unseenReplies(), total = this.myReplies.size;
    this.repliesBtn.hidden = total === 0;
    this.repliesBtn.textContent = n ? this.t.repliesNew(n) : this.t.repliesAll(total);
    this.repliesBtn.classList.toggle('unread', n > 0);
    if (!this.repliesList.hidden) this.drawReplies();
  };

  Thread.prototype.drawReplies = function () {
    var self = this, seen = this.repliesSeen;
    clear(this.repliesList);
    Array.from(this.myReplies.values()).sort(function (a, b) { return b.id - a.id; }).forEach(function (c) {
      var text = (c.author && c.author.name || '') + ' ' + self.t.replied + ': ' + (c.body.length > 80 ? c.body.slice(0, 80) + '…' : c.body);
      self.repliesList.appendChild(el('li', { class: c.id > seen ? 'unread' : '' }, [
        el('button', { type: 'button', 'data-reply': String(c.id), text: text, onclick: function () { self.jumpTo(c.id); } })]));
    });
  };

  // Opening the list marks every reply in it as seen (kept per article in localStorage).
  Thread.prototype.toggleReplies = function () {
    var open = this.repliesList.hidden;
    this.repliesList.hidden = !open;
    this.repliesBtn.setAttribute('aria-expanded', String(open));
    if (!open) return;
    this.drawReplies();
    var max = this.repliesSeen;
    this.myReplies.forEach(function (c, id) { if (id > max) max = id; });
    this.repliesSeen = max;
    try { localStorage.setItem('parley.replies.' + this.article, String(max)); } catch (e) { /* storage blocked */ }
    this.showReplies();
  };

  // Scrolls to comment id and flashes it, loading older pages until it is there.
  Thread.prototype.jumpTo = function (id, pages) {
    var self = this, li = this.nodes.get(id);
    if (li) {
      li.classList.remove('new');
      void li.offsetWidth; // restart the highlight
      li.classList.add('new');
      li.scrollIntoView({ behavior: 'smooth', block: 'center' });
      li.setAttribute('tabindex', '-1');
      li.focus({ preventScroll: true });
      return;
    }
    if (!this.hasOlder || this.oldest === null || (pages || 0) > 20) return;
    this.request({ type: 'history', article: this.article, before: this.oldest }).then(function (m) {
      if (m.type !== 'history') return;
      self.onHistory(m, 'older');
      self.jumpTo(id, (pages || 0) + 1);
    });
  };

  /* ---- Reply emails: opt in under one's comment ---- */

  Thread.prototype.setEmailState = function (state) {
    if (state === this.emailState) return;
    this.emailState = state;
    var self = this;
    this.comments.forEach(function (c) { if (self.mine(c)) self.draw(c); });
  };

  // A reader signed in with an email is subscribed at once; anyone else gives an address
  // and confirms it from the mail (double opt-in).
  Thread.prototype.optIn = function (c, li) {
    var self = this, t = this.t;
    var send = function (email, err) {
      // the page the mails link to, without a sign-in token some sites pass in the URL
      var page = new URL(location.href);
      page.hash = '';
      page.searchParams.delete('token');
      var r = { type: 'notify.email', article: self.article, page: page.toString() };
      if (email !== undefined) r.email = email;
      return self.request(r).then(function (m) {
        if (m.type === 'notify.email') { self.setEmailState(m.state); return true; }
        if (err) err.textContent = m.message || self.errorText(m);
        return false;
      });
    };
    if (this.user && this.user.email) { send(); return; }
    var input = el('input', { type: 'email', name: 'email', autocomplete: 'email', 'aria-label': t.emailAddr, placeholder: t.emailAddr });
    var err = el('div', { class: 'error', role: 'alert' });
    var b = box(li, 'email', [el('label', {}, [t.emailAddr]), input, err, el('div', { class: 'row' }, [
      el('button', { class: 'primary', type: 'button', text: t.emailSend, onclick: function () {
        send(input.value.trim(), err).then(function (ok) { if (ok) b.remove(); });
      } }),
      el('button', { class: 'link', type: 'button', text: t.cancel, onclick: function () { b.remove(); } }),
    ])]);
    input.focus();
  };

  Thread.prototype.optOut = function () {
    var self = this;
    this.request({ type: 'notify.email.off', article: this.article }).then(function (m) {
      if (m.type === 'notify.email') self.setEmailState(null);
    });
  };

