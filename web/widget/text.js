/* Parley comment widget. A host page embeds a live discussion with:
 *   <div id="parley-thread" data-article="ID"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * embed.js (the loader) fetches this file when a thread is to be shown and calls
 * Parley.__w.mount(host, opts); loaded on its own, this file mounts every thread itself.
 * Optional attributes on the div: data-lang="en|fr", data-sso-token="JWT",
 * data-theme="light|dark" (default: the reader's prefers-color-scheme),
 * data-load="visible" with data-close-after="SECONDS" (docs/embedding.md). Parley.setToken(jwt)
 * signs a reader in later. The widget lives in a Shadow DOM; reader text only ever reaches
 * the page through textContent. Wire protocol: docs/protocol.md (parley.v1).
 *
 * The widget is three files under web/widget/ that the server joins, in this order, into
 * the one script served as /widget.js (docs/architecture.md, "The widget's parts"):
 * text.js (this one: it opens the function scope; strings, styles, the text rules shared
 * with the server, DOM helpers), socket.js (the connection and the thread's state) and
 * thread.js (the thread's view, posting, and the boot; it closes the scope). They share
 * one scope, so nothing but window.Parley reaches the page; none runs on its own. */
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

