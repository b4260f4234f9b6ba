// The access-transparency feed on an organisation's security page, kept current: every few seconds
// (while the tab is visible) the feed is fetched again and the table replaced. Same origin, no
// inline code, so the page's Content-Security-Policy is unchanged.
(function () {
  "use strict";
  var PERIOD_MS = 5000;
  var table = document.getElementById("access-feed");
  if (!table || !table.dataset.liveFeed) { return; }
  var url = table.dataset.liveFeed;

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("access-feed");
        var current = document.getElementById("access-feed");
        if (fresh && current && fresh.tBodies[0] && current.tBodies[0]) {
          current.replaceChild(document.importNode(fresh.tBodies[0], true), current.tBodies[0]);
        }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  window.setInterval(refresh, PERIOD_MS);
}());
