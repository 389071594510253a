/* 连续外呼 (issue 17): the session bar at the top of the call panel. It reloads when the session moves
 * ("rt:dialsession.changed": a call placed or ended, paused, resumed, skipped, extended, stopped) or the socket
 * comes back, shows the panel while a session is open, and counts the wrap-up down between reloads. */
(function () {
  "use strict";
  var bar = document.getElementById("dial-session");
  var panel = document.getElementById("call-panel");
  if (!bar || !panel) return;
  var pending = null;
  function refresh() {
    if (pending || !window.htmx) return;
    pending = setTimeout(function () { pending = null; window.htmx.trigger(bar, "rt-session-refresh"); }, 100);
  }
  document.addEventListener("rt:dialsession.changed", refresh);
  document.addEventListener("rt:realtime.replayed", refresh);
  // The outcome of the connected call the session waits for: its case page opens the 登记结果 form (once per call),
  // also when the page was still loading as the call ended and missed call.recorded.
  function askOutcome() {
    var open = bar.querySelector("[data-awaiting-call]");
    if (!open || location.pathname !== "/cases/" + open.dataset.awaitingCase + "/") return;
    var key = "dialsession.asked." + open.dataset.awaitingCall;
    try { if (sessionStorage.getItem(key)) return; sessionStorage.setItem(key, "1"); } catch (e) { /* private mode */ }
    document.dispatchEvent(new CustomEvent("rt:call.recorded", { detail: {
      case_id: parseInt(open.dataset.awaitingCase, 10), call_id: parseInt(open.dataset.awaitingCall, 10), needs_outcome: true } }));
  }
  document.addEventListener("rt:call.recorded", function (ev) {
    var d = ev.detail || {};
    try { sessionStorage.setItem("dialsession.asked." + d.call_id, "1"); } catch (e) { /* private mode */ }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target !== bar) return;
    var open = !!bar.querySelector("[data-session-open]");
    if (open) {
      panel.hidden = false;
      panel.classList.remove("collapsed");
    }
    // One session at a time: the start buttons (今日工作, case list) step aside while one is open.
    document.querySelectorAll("[data-ds-start]").forEach(function (form) { form.hidden = open; });
    askOutcome();
  });
  setInterval(function () {
    var left = bar.querySelector("[data-wrap-left]");
    if (!left) return;
    var s = parseInt(left.dataset.wrapLeft, 10) - 1;
    left.dataset.wrapLeft = s;
    if (s > 0) { left.textContent = s; } else { left.closest("[data-ds-state]").textContent = "整理时间到，即将拨打下一通…"; refresh(); }
  }, 1000);
})();
