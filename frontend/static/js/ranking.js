/* Rankings (issue 18): reload the ranking fragment (at most every second) when a dashboard counter moves. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-refresh-url]");
  if (!boxes.length) { return; }
  var timer = null;
  function load() {
    timer = null;
    boxes.forEach(function (box) {
      fetch(box.dataset.refreshUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { box.innerHTML = html; } });
    });
  }
  function soon() { if (!timer) { timer = setTimeout(load, 1000); } }
  if (document.querySelector("[data-refresh-url][data-load]")) { load(); }
  document.addEventListener("rt:dashboard.counter_changed", soon);
  document.addEventListener("rt:realtime.replayed", soon);
})();
