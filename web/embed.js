/* Parley loader. A host page embeds a discussion with:
 *   <div id="parley-thread" data-article="ID"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * This file stays small (at most 3 KB gzipped): it fetches the widget (widget.js, from a
 * versioned URL cached for a year) only when a thread is to be shown.
 * - data-collapsed: a "Show comments (N)" button (N from /api/counts); nothing else is
 *   loaded and no WebSocket opened until it is pressed. The choice lasts for the tab's
 *   session; a permalink (#comment-ID, or #ID-of-the-element) opens the thread directly.
 * - data-load="visible": the widget loads and connects when the thread nears the viewport.
 * Everything else opens the thread at once, as before. docs/embedding.md has the rest. */
(function () {
  'use strict';
  var P = window.Parley = window.Parley || {};
  if (P.__loader) return;
  P.__loader = 1;
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var KEY = 'parley.open', queue = P.__queue = [], loading;
  var SHOW = { en: 'Show comments', fr: 'Afficher les commentaires' };
  var CSS = ':host{display:block;font-family:var(--parley-font,system-ui,sans-serif)}' +
    'button{font:inherit;font-size:16px;cursor:pointer;min-height:2.75em;padding:.5em 1.2em;border-radius:var(--parley-radius,8px);' +
    'border:1px solid var(--parley-accent,#1456d8);background:var(--parley-accent,#1456d8);color:var(--parley-accent-fg,#fff)}' +
    'button:focus-visible{outline:2px solid var(--parley-accent,#1456d8);outline-offset:2px}';

  // Calls before the widget arrives are kept for it.
  P.setToken = function (token) { P.__token = token; };
  P.dropConnection = function () {};

  // Mounts the thread, fetching the widget first if it is not here yet.
  function show(host, opts) {
    if (P.__w) return P.__w.mount(host, opts);
    queue.push([host, opts]);
    if (loading) return;
    loading = document.createElement('script');
    loading.src = origin + '/widget.js?v=@PARLEY_WIDGET_VERSION@';
    loading.async = true;
    // not reachable now: the buttons work again and the next press tries anew
    loading.onerror = function () {
      loading = null;
      queue.splice(0).forEach(function (a) {
        var b = a[0].shadowRoot && a[0].shadowRoot.querySelector('button');
        a[0].__pl = 1;
        if (b) b.disabled = false;
      });
    };
    document.head.appendChild(loading);
  }

  function lazy(host) { return host.getAttribute('data-load') === 'visible'; }

  // The comment id of a #comment-ID fragment (data-permalink="PREFIX{id}SUFFIX" changes
  // its form), true for #ID-of-the-element, else 0.
  function permalink(host) {
    var f = (host.getAttribute('data-permalink') || 'comment-{id}').split('{id}'), h = location.hash.slice(1);
    var n = f.length === 2 && h.indexOf(f[0]) === 0 && h.slice(f[0].length, h.length - f[1].length);
    if (n && /^\d+$/.test(n) && h.slice(h.length - f[1].length) === (f[1] ? f[1] : '')) return +n;
    return !!host.id && location.hash === '#' + host.id;
  }

  function remembered() {
    try { return sessionStorage.getItem(KEY) === '1'; } catch (e) { return false; }
  }

  function open(host, opts) {
    if (host.__pl === 2) return;
    host.__pl = 2;
    var link = permalink(host);
    if (link) host.scrollIntoView({ block: 'start' });
    opts.permalink = typeof link === 'number' ? link : 0;
    show(host, opts);
  }

  // The collapsed thread: one button in the element's shadow root. Returns the button.
  function collapse(host) {
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    var style = document.createElement('style'), b = document.createElement('button');
    var lang = (host.getAttribute('data-lang') || document.documentElement.lang || 'en').slice(0, 2).toLowerCase();
    style.textContent = CSS;
    b.type = 'button';
    b.textContent = b.__label = SHOW[lang] || SHOW.en;
    b.setAttribute('aria-expanded', 'false');
    b.addEventListener('click', function () {
      try { sessionStorage.setItem(KEY, '1'); } catch (e) { /* storage blocked: this page only */ }
      b.disabled = true;
      open(host, { focus: true, lazy: lazy(host), count: b.__count });
    });
    root.appendChild(style);
    root.appendChild(b);
    return b;
  }

  // One request for the counts of every collapsed thread on the page.
  function counts(buttons) {
    var ids = Object.keys(buttons);
    if (!ids.length) return;
    fetch(origin + '/api/counts?' + ids.map(function (id) { return 'article=' + encodeURIComponent(id); }).join('&') + '&view=1')
      .then(function (r) { return r.json(); }).then(function (c) {
        ids.forEach(function (id) {
          if (typeof c[id] === 'number') buttons[id].forEach(function (b) {
            b.__count = c[id];
            b.textContent = b.__label + ' (' + c[id] + ')';
          });
        });
      }).catch(function () { /* the button works without its number */ });
  }

  function boot() {
    var buttons = {}, hosts = [];
    document.querySelectorAll('#parley-thread, [data-parley-thread]').forEach(function (host) {
      var article = host.getAttribute('data-article');
      if (host.__pl || !article) return;
      host.__pl = 1;
      hosts.push(host);
      var c = host.getAttribute('data-collapsed');
      if (c !== null && c !== 'false' && !permalink(host) && !remembered())
        (buttons[article] = buttons[article] || []).push(collapse(host));
      else if (lazy(host) && !permalink(host) && window.IntersectionObserver) {
        var io = new IntersectionObserver(function (es) {
          if (!es[es.length - 1].isIntersecting) return;
          io.disconnect();
          open(host, { lazy: true });
        }, { rootMargin: '600px 0px' });
        io.observe(host);
      } else open(host, { lazy: lazy(host) });
    });
    counts(buttons);
    // a permalink followed later on the same page opens its thread too
    window.addEventListener('hashchange', function () {
      hosts.forEach(function (host) { if (permalink(host)) open(host, { lazy: lazy(host) }); });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
