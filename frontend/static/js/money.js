/* 回款 (C5): the case page's repayment panel follows the case live.
 * Subscribes to the case topic once and, on "case.balance_changed" for this case, asks htmx to reload
 * the panel (its hx-trigger is "rt-balance-changed"), so the collector sees the new balance at once.
 */
(function () {
  "use strict";
  if (window.__moneyPanel) { return; }
  window.__moneyPanel = true;
  var panel = document.getElementById("repayments");
  if (!panel) { return; }
  var caseId = panel.getAttribute("data-case-id");
  if (window.Realtime && window.Realtime.subscribe) { window.Realtime.subscribe("case:" + caseId); }
  document.addEventListener("rt:case.balance_changed", function (ev) {
    var current = document.getElementById("repayments");
    if (!current || !ev.detail || String(ev.detail.case_id) !== current.getAttribute("data-case-id")) { return; }
    if (window.htmx) { window.htmx.trigger(current, "rt-balance-changed"); }
  });
})();
