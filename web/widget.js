/* Parley comment widget. A host page embeds a live discussion with:
 *   <div id="parley-thread" data-article="ID"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * embed.js (the loader) fetches this file when a thread is to be shown and calls
 * Parley.__w.mount(host, opts); loaded on its own, this file mounts every thread itself.
 * Optional attributes on the div: data-lang="en|fr", data-sso-token="JWT",
 * data-theme="light|dark" (default: the reader's prefers-color-scheme),
 * data-load="visible" with data-close-after="SECONDS" (docs/embedding.md). Parley.setToken(jwt)
 * signs a reader in later. The widget lives in a Shadow DOM; reader text only ever reaches
 * the page through textContent. Wire protocol: docs/protocol.md (parley.v1). */
(function () {
  'use strict';
  var P = window.Parley = window.Parley || {};
  if (P.__w) return;

  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var wsUrl = origin.replace(/^http/, 'ws') + '/ws';
  var EDIT_MS = 5 * 60 * 1000;

  var STRINGS = {
    en: {
      discussion: 'Discussion', comments: function (n) { return n === 1 ? '1 comment' : n + ' comments'; },
      empty: 'Be the first to share your thoughts.', title: 'Title', titleOpt: 'Title (optional)',
      body: 'Your comment', name: 'Your name', post: 'Post comment', posting: 'Posting…', reply: 'Reply',
      cancel: 'Cancel', report: 'Report', edit: 'Edit', del: 'Delete', save: 'Save', edited: 'edited',
      pending: 'awaiting review', pendingNote: 'Your comment is awaiting review by a moderator.',
      rejected: 'not published', older: 'Load older comments', removedText: 'This comment was removed.',
      newPill: function (n) { return n === 1 ? '1 new comment' : n + ' new comments'; },
      reading: function (n) { return n + ' reading now'; },
      reasons: { spam: 'Spam', abuse: 'Abuse', off_topic: 'Off topic', other: 'Other' },
      reportWhy: 'Why are you reporting this comment?', reportNote: 'Note (optional)', send: 'Send report',
      reported: 'Thank you, a moderator will look at it.', offline: 'Reconnecting…', signedIn: 'Signed in as',
      replyTo: 'Replying to', inReplyTo: 'in reply to', confirmDelete: 'Delete this comment?', yes: 'Delete',
      now: 'just now', signIn: 'Sign in to join the discussion.',
      repliesNew: function (n) { return n === 1 ? '1 reply to you' : n + ' replies to you'; },
      repliesAll: function (n) { return 'Replies to you (' + n + ')'; }, replied: 'replied',
      emailMe: 'Email me replies', emailAddr: 'Your email address', emailSend: 'Send me a confirmation',
      emailCheck: 'Check your inbox and confirm to get replies by email.', emailOn: 'Replies are emailed to you',
      emailStop: 'Stop emails',
      myData: 'Your data', download: 'Download my data', eraseMe: 'Delete my data',
      eraseConfirm: 'Delete your name and the text of all your comments here? Replies to you stay in place. This cannot be undone.',
      erased: 'Your data was deleted.',
      sort: 'Sort by', orders: { oldest: 'Oldest', newest: 'Newest', liked: 'Most liked' }, more: 'Load more comments',
      badges: { staff: 'Staff', verified: 'Verified', moderator: 'Moderator' },
      required: 'required', queued: 'You are offline: your comment will be sent as soon as the connection is back.',
      lostPost: 'The connection dropped before your comment was confirmed. If it is not in the thread, press Post again.',
      featured: 'Featured', goTo: 'Go to comment', unavailable: 'The discussion is unavailable on this page.',
      share: 'Share', copied: 'Link copied', link: 'Link to this comment',
      like: 'Like', likes: function (n) { return n === 1 ? '1 like' : n + ' likes'; },
      errors: {
        title_empty: 'Please give your comment a title.', title_too_long: 'The title is too long.',
        body_empty: 'Please write a comment.', body_too_long: 'The comment is too long.',
        name_empty: 'Please enter your name.', name_too_long: 'The name is too long.',
        name_reserved: 'That name belongs to a registered reader; please choose another.',
        invalid_text: 'The text contains characters that cannot be posted.',
        rate_limited: 'You are posting too fast; please wait a moment.',
        unauthorized: 'Please sign in to do that.', forbidden: 'You cannot do that here.',
        edit_window_passed: 'Comments can only be edited for 5 minutes.',
        conflict: 'You have already reported this comment.', not_found: 'That comment no longer exists.',
        unavailable: 'Not connected; trying again…', other: 'Something went wrong; please try again.',
      },
    },
    fr: {
      discussion: 'Discussion', comments: function (n) { return n <= 1 ? n + ' commentaire' : n + ' commentaires'; },
      empty: 'Soyez le premier à donner votre avis.', title: 'Titre', titleOpt: 'Titre (facultatif)',
      body: 'Votre commentaire', name: 'Votre nom', post: 'Publier', posting: 'Publication…', reply: 'Répondre',
      cancel: 'Annuler', report: 'Signaler', edit: 'Modifier', del: 'Supprimer', save: 'Enregistrer', edited: 'modifié',
      pending: 'en attente de modération', pendingNote: 'Votre commentaire attend la validation d’un modérateur.',
      rejected: 'non publié', older: 'Commentaires précédents', removedText: 'Ce commentaire a été supprimé.',
      newPill: function (n) { return n === 1 ? '1 nouveau commentaire' : n + ' nouveaux commentaires'; },
      reading: function (n) { return n + ' lecteurs en ce moment'; },
      reasons: { spam: 'Spam', abuse: 'Propos abusifs', off_topic: 'Hors sujet', other: 'Autre' },
      reportWhy: 'Pourquoi signalez-vous ce commentaire ?', reportNote: 'Note (facultatif)', send: 'Envoyer',
      reported: 'Merci, un modérateur va l’examiner.', offline: 'Reconnexion…', signedIn: 'Connecté en tant que',
      replyTo: 'En réponse à', inReplyTo: 'en réponse à', confirmDelete: 'Supprimer ce commentaire ?', yes: 'Supprimer',
      now: 'à l’instant', signIn: 'Connectez-vous pour participer à la discussion.',
      repliesNew: function (n) { return n === 1 ? '1 réponse pour vous' : n + ' réponses pour vous'; },
      repliesAll: function (n) { return 'Réponses pour vous (' + n + ')'; }, replied: 'a répondu',
      emailMe: 'M’envoyer les réponses par e-mail', emailAddr: 'Votre adresse e-mail', emailSend: 'Envoyer une confirmation',
      emailCheck: 'Confirmez depuis votre boîte de réception pour recevoir les réponses.', emailOn: 'Les réponses vous sont envoyées par e-mail',
      emailStop: 'Arrêter les e-mails',
      myData: 'Vos données', download: 'Télécharger mes données', eraseMe: 'Supprimer mes données',
      eraseConfirm: 'Supprimer votre nom et le texte de tous vos commentaires ici ? Les réponses restent en place. C’est définitif.',
      erased: 'Vos données ont été supprimées.',
      sort: 'Trier par', orders: { oldest: 'Plus anciens', newest: 'Plus récents', liked: 'Plus appréciés' }, more: 'Plus de commentaires',
      badges: { staff: 'Rédaction', verified: 'Vérifié', moderator: 'Modérateur' },
      required: 'obligatoire', queued: 'Vous êtes hors ligne : votre commentaire partira dès le retour de la connexion.',
      lostPost: 'La connexion a été perdue avant la confirmation. Si votre commentaire n’apparaît pas, publiez-le à nouveau.',
      featured: 'À la une', goTo: 'Voir le commentaire', unavailable: 'La discussion n’est pas disponible sur cette page.',
      share: 'Partager', copied: 'Lien copié', link: 'Lien vers ce commentaire',
      like: 'J’aime', likes: function (n) { return n <= 1 ? n + ' j’aime' : n + ' j’aime'; },
      errors: {
        title_empty: 'Donnez un titre à votre commentaire.', title_too_long: 'Le titre est trop long.',
        body_empty: 'Écrivez un commentaire.', body_too_long: 'Le commentaire est trop long.',
        name_empty: 'Indiquez votre nom.', name_too_long: 'Le nom est trop long.',
        name_reserved: 'Ce nom appartient à un lecteur inscrit ; choisissez-en un autre.',
        invalid_text: 'Le texte contient des caractères qui ne peuvent pas être publiés.',
        rate_limited: 'Vous publiez trop vite ; patientez un instant.',
        unauthorized: 'Connectez-vous pour faire cela.', forbidden: 'Action impossible ici.',
        edit_window_passed: 'Un commentaire ne peut être modifié que pendant 5 minutes.',
        conflict: 'Vous avez déjà signalé ce commentaire.', not_found: 'Ce commentaire n’existe plus.',
        unavailable: 'Connexion perdue ; nouvel essai…', other: 'Une erreur est survenue ; réessayez.',
      },
    },
  };

  // Light palette, dark palette, then the rules; var(--parley-*) is the theming surface.
  var DARK = '--parley-bg:#14171c;--parley-fg:#e8ebef;--parley-muted:#9aa4b1;--parley-border:#2c323b;' +
    '--parley-accent:#6ea0ff;--parley-accent-fg:#0b0d10;--parley-soft:#1d2127;--parley-warn:#e0b341;--parley-danger:#ff8a80';
  var CSS = [
    ':host{--parley-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--parley-bg:#fff;--parley-fg:#1b1f24;',
    '--parley-muted:#5b6573;--parley-border:#d9dee5;--parley-accent:#1456d8;--parley-accent-fg:#fff;--parley-soft:#f3f5f8;',
    '--parley-warn:#8a5a00;--parley-danger:#b3261e;--parley-radius:8px;display:block;font-family:var(--parley-font);',
    'color:var(--parley-fg);background:var(--parley-bg);line-height:1.5;font-size:16px;color-scheme:light}',
    '@media (prefers-color-scheme:dark){:host(:not([data-theme=light])){' + DARK + ';color-scheme:dark}}',
    ':host([data-theme=dark]){' + DARK + ';color-scheme:dark}',
    '[hidden]{display:none!important}*{box-sizing:border-box}h2{font-size:1.35em;margin:0}',
    '.head{display:flex;align-items:baseline;gap:.75em;flex-wrap:wrap;margin-bottom:.75em}',
    '.count,.presence,.status{color:var(--parley-muted);font-size:.9em}',
    '.feed{margin-left:auto;font-size:.85em;color:var(--parley-muted)}',
    'form{display:grid;gap:.6em;margin:0 0 1.25em;padding:1em;border:1px solid var(--parley-border);border-radius:var(--parley-radius);background:var(--parley-soft)}',
    'label{font-size:.85em;color:var(--parley-muted);display:flex;justify-content:space-between;gap:1em;margin-bottom:.2em}',
    'input,textarea,select{width:100%;font:inherit;color:var(--parley-fg);background:var(--parley-bg);border:1px solid var(--parley-border);border-radius:6px;padding:.55em .65em}',
    'textarea{min-height:6em;resize:vertical}input:focus,textarea:focus,select:focus,button:focus-visible{outline:2px solid var(--parley-accent);outline-offset:1px}',
    '.counter{font-variant-numeric:tabular-nums}.counter.full{color:var(--parley-danger);font-weight:600}.row{display:flex;gap:.5em;align-items:center;flex-wrap:wrap}',
    'button{font:inherit;border:1px solid var(--parley-border);background:var(--parley-bg);color:var(--parley-fg);border-radius:6px;padding:.4em .9em;cursor:pointer;min-height:2.5em}',
    'button.primary{background:var(--parley-accent);color:var(--parley-accent-fg);border-color:var(--parley-accent)}button:disabled{opacity:.6;cursor:default}',
    'button.link{border:0;background:none;color:var(--parley-muted);padding:.2em .4em;min-height:2em;font-size:.88em}button.link:hover{color:var(--parley-accent)}',
    '.error{color:var(--parley-danger);font-size:.9em}.error:empty{display:none}',
    'ol{list-style:none;margin:0;padding:0}li.c{border-top:1px solid var(--parley-border);padding:.85em 0}',
    'ol.replies{margin:.5em 0 0 1.1em;padding-left:.9em;border-left:2px solid var(--parley-border)}ol.replies li.c{border-top:0;padding:.5em 0}',
    '.meta{display:flex;gap:.5em;flex-wrap:wrap;align-items:center;font-size:.88em;color:var(--parley-muted)}.author{color:var(--parley-fg);font-weight:600}',
    '.avatar{width:1.6em;height:1.6em;border-radius:50%;object-fit:cover}',
    '.req{color:var(--parley-danger)}input[aria-invalid=true],textarea[aria-invalid=true]{border-color:var(--parley-danger)}li.c>form{margin:.6em 0}',
    '.feat{margin:0 0 1.25em;padding:.75em 1em;border:1px solid var(--parley-accent);border-radius:var(--parley-radius);background:color-mix(in srgb,var(--parley-accent) 6%,var(--parley-bg))}.feat h3{margin:0 0 .3em;font-size:1em;color:var(--parley-accent)}.feat li{padding:.5em 0;border-top:1px solid var(--parley-border)}.feat li:first-child{border-top:0}',
    '.ctitle{font-weight:650;margin:.15em 0;overflow-wrap:anywhere}.author{overflow-wrap:anywhere}.sort{margin-left:auto;align-items:center;gap:.4em}.sort select{width:auto;padding:.25em .4em}',
    'button.like[aria-pressed=true]{color:var(--parley-accent);font-weight:600}.cbody a{color:var(--parley-accent)}.host{color:var(--parley-muted);font-size:.85em}',
    '.ctitle{font-weight:650;margin:.15em 0}.cbody{white-space:pre-wrap;overflow-wrap:anywhere;margin:.15em 0}.gone{color:var(--parley-muted);font-style:italic}',
    '.badge{font-size:.8em;border-radius:999px;padding:.05em .55em;background:var(--parley-soft);border:1px solid var(--parley-border)}',
    '.badge.role{color:var(--parley-accent);border-color:currentColor;font-weight:600}',
    '.badge.pending{color:var(--parley-warn);border-color:currentColor}.badge.rejected{color:var(--parley-danger);border-color:currentColor}',
    '.new{animation:fade 2s ease-out}@keyframes fade{from{background:color-mix(in srgb,var(--parley-accent) 15%,transparent)}to{background:transparent}}',
    '@media (prefers-reduced-motion:reduce){.new{animation:none}}',
    '.pill{position:fixed;bottom:1em;left:50%;transform:translateX(-50%);z-index:2147483000;background:var(--parley-accent);color:var(--parley-accent-fg);border:0;border-radius:999px;box-shadow:0 2px 8px rgba(0,0,0,.2)}',
    '.replies-btn.unread{color:var(--parley-accent);font-weight:650}',
    '.replies-to-you{margin:0 0 1em;padding:.4em;border:1px solid var(--parley-border);border-radius:6px;background:var(--parley-soft)}',
    '.replies-to-you button{width:100%;text-align:left;border:0;background:none;color:var(--parley-fg);padding:.35em .5em}.replies-to-you button:hover{color:var(--parley-accent)}',
    '.replies-to-you .unread{font-weight:650}',
    'li.target>.content{outline:2px solid var(--parley-accent);outline-offset:4px;border-radius:4px;background:color-mix(in srgb,var(--parley-accent) 8%,transparent)}a.when{color:inherit;text-decoration:none}a.when:hover{text-decoration:underline}h2:focus{outline:0}',
    '.empty{color:var(--parley-muted);padding:1em 0}.box{margin:.4em 0;padding:.6em;border:1px solid var(--parley-border);border-radius:6px;display:grid;gap:.4em}',
  ].join('');

  /* ---- Text: the same rules as the server (docs/protocol.md, "Text rules") ---- */

  // White space the server trims: Unicode separators (Zs, Zl, Zp), tab to CR, and NEL.
  var SPACE = /^[\p{Z}\t-\r\x85]$/u;
  function sp(c) { return SPACE.test(c); }

  // Returns the field as the server stores it, as an array of code points: NFC, CR LF and
  // lone CR as LF, trimmed, and in the body at most two blank lines in a row, with the
  // trailing spaces of lines and the spaces of blank lines dropped. Its length is what
  // the server counts against the limit.
  function clean(s, body) {
    var a = Array.from(s.normalize('NFC')), o = [], i, j;
    for (i = 0; i < a.length; i++) {
      if (a[i] !== '\r') o.push(a[i]);
      else if (a[i + 1] !== '\n') o.push('\n');
    }
    var st = 0, en = o.length;
    while (st < en && sp(o[st])) st++;
    while (en > st && sp(o[en - 1])) en--;
    o = o.slice(st, en);
    if (!body) return o;
    var w = [], lf = 0;
    for (i = 0; i < o.length; i++) {
      var c = o[i];
      if (c === '\n') {
        while (w.length && w[w.length - 1] !== '\n' && sp(w[w.length - 1])) w.pop();
        if (++lf > 3) continue;
        w.push(c);
      } else {
        if (lf && sp(c)) {
          for (j = i; j < o.length && o[j] !== '\n' && sp(o[j]); j++);
          if (j < o.length && o[j] === '\n') { i = j - 1; continue; }
        }
        lf = 0;
        w.push(c);
      }
    }
    return w;
  }
  function count(s, body) { return clean(s, body).length; }

  // The input refuses what would pass the limit: of what was inserted since `prev`, it
  // keeps the longest start that fits (typing at the limit inserts nothing, a long paste
  // is cut). Returns {value, caret}, or null when v fits as it is.
  function fit(prev, v, max, body) {
    if (count(v, body) <= max) return null;
    var p = 0, q = 0, hs = /[\uD800-\uDBFF]/, ls = /[\uDC00-\uDFFF]/;
    while (p < prev.length && p < v.length && prev[p] === v[p]) p++;
    if (p && hs.test(v[p - 1])) p--;
    while (q < prev.length - p && q < v.length - p && prev[prev.length - 1 - q] === v[v.length - 1 - q]) q++;
    if (q && ls.test(v[v.length - q])) q--;
    var head = v.slice(0, p), tail = v.slice(v.length - q), ins = Array.from(v.slice(p, v.length - q));
    var lo = 0, hi = ins.length;
    while (lo < hi) {
      var m = (lo + hi + 1) >> 1;
      if (count(head + ins.slice(0, m).join('') + tail, body) <= max) lo = m; else hi = m - 1;
    }
    var kept = ins.slice(0, lo).join('');
    if (count(head + kept + tail, body) > max) return prev ? fit('', v, max, body) : { value: '', caret: 0 };
    return { value: head + kept + tail, caret: (head + kept).length };
  }

  // Keeps an input within max code points (as counted by the server) and a counter "n/max"
  // in step with it. Pasted tabs become spaces (the server refuses control characters).
  function limitInput(input, counter, max, body) {
    var prev = input.value;
    function update() {
      if (input.value.indexOf('\t') >= 0) {
        var at = input.selectionStart;
        input.value = input.value.replace(/\t/g, ' ');
        try { input.setSelectionRange(at, at); } catch (e) { /* not focusable yet */ }
      }
      var r = fit(prev, input.value, max(), body);
      if (r) {
        input.value = r.value;
        if (input.getRootNode().activeElement === input)
          try { input.setSelectionRange(r.caret, r.caret); } catch (e) { /* not focusable yet */ }
      }
      prev = input.value;
      var n = count(input.value, body);
      counter.textContent = n + '/' + max();
      counter.classList.toggle('full', n >= max());
    }
    input.addEventListener('input', update);
    input.__sync = function () { prev = input.value; update(); };
    update();
  }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // Appends text to e with its http(s) links as anchors (their host shown beside them);
  // everything else stays text. Trailing punctuation is not part of a link.
  var URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
  function linkify(e, text) {
    var at = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text))) {
      var raw = m[0].replace(/[.,;:!?'’)\]]+$/, ''), u = null;
      try { u = new URL(raw); } catch (x) { /* not a URL: text */ }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) continue;
      e.appendChild(document.createTextNode(text.slice(at, m.index)));
      e.appendChild(el('a', { href: u.href, rel: 'nofollow ugc noopener noreferrer', target: '_blank', text: raw }));
      e.appendChild(el('span', { class: 'host', text: ' [' + u.hostname + ']' }));
      at = m.index + raw.length;
      URL_RE.lastIndex = at;
    }
    e.appendChild(document.createTextNode(text.slice(at)));
    return e;
  }

  function guestKey() {
    try {
      var k = localStorage.getItem('parley.guest');
      if (!k || k.length < 16) {
        var a = new Uint8Array(24);
        crypto.getRandomValues(a);
        k = Array.from(a, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
        localStorage.setItem('parley.guest', k);
      }
      return k;
    } catch (e) { return null; } // storage blocked: a guest for as long as the connection lasts
  }

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
