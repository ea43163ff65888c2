/* Parley comment counts for article lists:
 *   <span data-parley-count="ARTICLE-ID"></span>
 *   <script src="https://comments.example.com/count.js" async></script>
 * fills each span with the number of published comments (one request for the page), and
 * keeps them live while a Parley thread on the same page shows that article. */
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  function fill() {
    var spans = Array.prototype.slice.call(document.querySelectorAll('[data-parley-count]'));
    var ids = Array.from(new Set(spans.map(function (s) { return s.getAttribute('data-parley-count'); }))).slice(0, 50);
    if (!ids.length) return;
    var q = ids.map(function (id) { return 'article=' + encodeURIComponent(id); }).join('&');
    fetch(origin + '/api/counts?' + q).then(function (r) { return r.json(); }).then(function (counts) {
      spans.forEach(function (s) {
        var n = counts[s.getAttribute('data-parley-count')];
        if (typeof n === 'number') s.textContent = String(n);
      });
    }).catch(function () { /* counts are decoration: fail quietly */ });
  }
  // The thread on this page says when its count changes (the widget's parley:count).
  document.addEventListener('parley:count', function (e) {
    var d = e.detail || {};
    document.querySelectorAll('[data-parley-count]').forEach(function (s) {
      if (s.getAttribute('data-parley-count') === d.article && typeof d.count === 'number') s.textContent = String(d.count);
    });
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fill);
  else fill();
})();
