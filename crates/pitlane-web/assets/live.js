// Refreshes the numbers marked data-live="path.in.status" from /api/status
// every 5 seconds. The page works the same without it, only static.
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-live]");
  if (!nodes.length || !window.fetch) { return; }
  function duration(s) {
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min"; }
    if (s < 172800) { return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min"; }
    return Math.floor(s / 86400) + " days";
  }
  function show(node, value) {
    var key = node.getAttribute("data-live");
    if (node.getAttribute("data-format") === "duration") { return duration(value); }
    if (key === "requests.per_second") { return value.toFixed(2); }
    if (key === "requests.error_rate") { return (value * 100).toFixed(1) + " %"; }
    return String(value);
  }
  function refresh() {
    fetch("/api/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        nodes.forEach(function (node) {
          var value = node.getAttribute("data-live").split(".").reduce(function (o, k) {
            return o == null ? undefined : o[k];
          }, status);
          if (value !== undefined && value !== null) { node.textContent = show(node, value); }
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
