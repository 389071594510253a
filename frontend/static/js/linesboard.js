/* Lines board (M7): the live part reloads when the dialer reports a line taken or freed ("rt:lines.changed"),
 * and every 10 s regardless (the dialer's connection state, refusals); durations tick every second between. */
(function () {
  "use strict";
  var box = document.getElementById("lines-live");
  if (!box) return;
  var pending = null;
  var loading = false;
  var sessions = document.getElementById("lines-sessions");  // 连续外呼 sessions live (issue 17)
  function load(el) {
    return fetch(el.dataset.refreshUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) el.innerHTML = html; });
  }
  function refresh() {
    pending = null;
    if (loading) { pending = setTimeout(refresh, 200); return; }
    loading = true;
    Promise.all([load(box), sessions ? load(sessions) : null]).finally(function () { loading = false; });
  }
  function soon() { if (!pending) pending = setTimeout(refresh, 150); }  // a burst of changes: one reload
  setInterval(function () {
    box.querySelectorAll("[data-seconds]").forEach(function (td) {
      var s = parseInt(td.dataset.seconds, 10) + 1;
      td.dataset.seconds = s;
      td.textContent = s + " 秒";
    });
  }, 1000);
  document.addEventListener("rt:lines.changed", soon);
  document.addEventListener("rt:dialsession.changed", soon);
  if (sessions) load(sessions);
  document.addEventListener("rt:realtime.replayed", soon);  // back after a dropped connection
  document.addEventListener("visibilitychange", function () { if (!document.hidden) soon(); });
  setInterval(function () { if (!document.hidden) refresh(); }, 10000);
})();
