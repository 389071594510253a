/* 实时看板: applies dashboard.counter_changed deltas to the collector, department, branch and total cells. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var day = root.dataset.day;

  // Thousands separators like the server's (1,234,567.89), whatever the browser's locale data.
  function grouped(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function formatCents(cents) {
    var sign = cents < 0 ? "-" : "";
    var abs = Math.abs(cents);
    var frac = String(abs % 100);
    return sign + grouped(String(Math.floor(abs / 100))) + "." + (frac.length < 2 ? "0" + frac : frac);
  }

  function bump(cell, delta, money) {
    if (!cell) { return; }
    var target = cell;
    var text = target.textContent.replace(/[¥,\s]/g, "");
    var cur = parseFloat(text) || 0;
    if (money) {
      // Cents as integers: no float drift however many repayments arrive.
      var cents = Math.round(cur * 100) + Math.round(parseFloat(delta) * 100);
      var s = formatCents(cents);
      target.textContent = target.closest(".dash-card") ? "¥" + s : s;
    } else {
      var n = cur + delta;
      target.textContent = (n < 0 ? "-" : "") + grouped(String(Math.abs(n)));
    }
    target.classList.toggle("nz", parseFloat(target.textContent.replace(/[¥,\s]/g, "")) !== 0);
    var flashEl = target.closest("td, .dash-card") || target;
    flashEl.classList.remove("flash");
    void flashEl.offsetWidth;  // restart the animation
    flashEl.classList.add("flash");
  }

  function rowsFor(m) {
    var rows = [];
    var c = root.querySelector('tr[data-scope="collector"][data-id="' + m.collector_id + '"]');
    if (!c) { return null; }
    rows.push(c);
    var d = root.querySelector('tr[data-scope="department"][data-id="' + c.dataset.department + '"][data-branch="' + c.dataset.branch + '"]');
    if (d) { rows.push(d); }
    var b = root.querySelector('tr[data-scope="branch"][data-id="' + c.dataset.branch + '"]');
    if (b) { rows.push(b); }
    return rows;
  }

  document.addEventListener("rt:dashboard.counter_changed", function (e) {
    var m = e.detail;
    if (m.day !== day) { location.reload(); return; }  // a new day began: start from today's numbers
    var rows = rowsFor(m);
    if (!rows) { location.reload(); return; }  // a collector this page does not list yet
    var apply = function (col, delta, money) {
      rows.forEach(function (row) { bump(row.querySelector('td[data-col="' + col + '"]'), delta, money); });
      bump(root.querySelector('.dash-card[data-col="' + col + '"] .v'), delta, money);
    };
    Object.keys(m.deltas || {}).forEach(function (col) { apply(col, m.deltas[col], false); });
    Object.keys(m.amount_deltas || {}).forEach(function (col) { apply(col, m.amount_deltas[col], true); });
    var u = document.getElementById("dash-updated");
    if (u) {
      var now = new Date();
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      u.textContent = "· 最后更新 " + pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
    }
  });

  // 线路占用 follows the dialer: every line taken or freed.
  document.addEventListener("rt:lines.changed", function (e) {
    var el = document.getElementById("dash-lines");
    if (!el || !e.detail) { return; }
    el.textContent = e.detail.in_use + "/" + e.detail.lines;
    el.classList.toggle("nz", e.detail.in_use > 0);
    el.closest(".dash-card").title = "使用中 / 线路总数";
  });

  // After a reconnect the counters may have moved while the socket was down: reload them once.
  var wasOpen = false;
  document.addEventListener("rt:open", function () { if (wasOpen) { location.reload(); } wasOpen = true; });
})();
