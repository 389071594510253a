/* 回款 (C5): everything on the case page that shows money or status follows the case live.
 * Subscribes to the case topic once and, on "case.balance_changed" for this case, asks htmx to reload the
 * repayment panel, the money tiles with the status badges (#case-figures, which swaps the badges out of band)
 * and the return panel (its buttons depend on the status): each listens for "rt-balance-changed". The clerk's
 * page and the collector's page get the same event, so both show the same figures at once.
 */
(function () {
  "use strict";
  if (window.__moneyPanel) { return; }
  window.__moneyPanel = true;
  var panel = document.getElementById("repayments");
  if (!panel) { return; }
  var caseId = panel.getAttribute("data-case-id");
  if (window.Realtime && window.Realtime.subscribe) { window.Realtime.subscribe("case:" + caseId); }
  var FOLLOWERS = ["repayments", "case-figures", "return-panel"];
  document.addEventListener("rt:case.balance_changed", function (ev) {
    if (!ev.detail || String(ev.detail.case_id) !== caseId || !window.htmx) { return; }
    FOLLOWERS.forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.getAttribute("hx-get")) { window.htmx.trigger(el, "rt-balance-changed"); }
    });
  });
})();
