/* 实时看板 charts: fetched as JSON and drawn by CMCharts; fetched again (at most every 0.8 s) whenever a counter
 * moves or the socket comes back, so a chart never disagrees with the tiles and table beside it. */
(function () {
  "use strict";
  var box = document.getElementById("dash-charts");
  if (!box || !window.CMCharts) { return; }
  var loading = false, again = false, timer = null;

  function summary(data) {
    var s = data.repayments && data.repayments.summary;
    var el = document.getElementById("dash-month-summary");
    if (!s || !el) { return; }
    var fmt = window.CMCharts.format;
    var text = "本月累计 " + fmt("元", parseFloat(s.this_month)) + " · 上月全月 " + fmt("元", parseFloat(s.last_month));
    if (s.target) {
      var pct = parseFloat(s.target) ? (parseFloat(s.this_month) * 100 / parseFloat(s.target)).toFixed(1) : "0";
      text += " · 本月目标 " + fmt("元", parseFloat(s.target)) + "（完成 " + pct + "%）";
    } else {
      text += " · 本月未设目标";
    }
    el.textContent = text;
  }

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelectorAll("[data-chart-key]").forEach(function (el) {
          var spec = data[el.dataset.chartKey];
          if (spec) { window.CMCharts.draw(el, spec); }
        });
        summary(data);
        box.dataset.loads = String(parseInt(box.dataset.loads || "0", 10) + 1);
      })
      .finally(function () {
        loading = false;
        if (again) { again = false; soon(); }
      });
  }
  function soon() {
    if (timer) { return; }
    timer = setTimeout(function () { timer = null; load(); }, 800);
  }
  load();
  document.addEventListener("rt:dashboard.counter_changed", soon);
  document.addEventListener("rt:realtime.replayed", soon);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { soon(); } });
})();
