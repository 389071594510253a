/* Lines board (M7): refresh the live part every 2 s; durations tick every second in between. */
(function () {
  "use strict";
  var box = document.getElementById("lines-live");
  if (!box) return;
  setInterval(function () {
    box.querySelectorAll("[data-seconds]").forEach(function (td) {
      var s = parseInt(td.dataset.seconds, 10) + 1;
      td.dataset.seconds = s;
      td.textContent = s + " 秒";
    });
  }, 1000);
  setInterval(function () {
    if (document.hidden) return;
    fetch(box.dataset.refreshUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; });
  }, 2000);
})();
