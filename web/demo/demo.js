/* The demo page's own script: ?article=ID, ?token=JWT and ?lang=fr make it easy to try things.
 * It runs before embed.js loads (embed.js is async), so the thread sees the attributes;
 * ?collapsed=1 and ?load=visible try (and ?permalink=FORMAT sets data-permalink) the "Show comments" modes (docs/embedding.md). */
(function () {
  var params = new URLSearchParams(location.search);
  var host = document.getElementById('parley-thread');
  if (params.get('article')) host.setAttribute('data-article', params.get('article'));
  if (params.get('token')) host.setAttribute('data-sso-token', params.get('token'));
  if (params.get('lang')) host.setAttribute('data-lang', params.get('lang'));
  if (params.get('collapsed')) host.setAttribute('data-collapsed', '');
  if (params.get('load') === 'visible') host.setAttribute('data-load', 'visible');
  if (params.get('permalink')) host.setAttribute('data-permalink', params.get('permalink'));
  var counter = document.querySelector('[data-parley-count]');
  if (counter) counter.setAttribute('data-parley-count', host.getAttribute('data-article'));
})();
