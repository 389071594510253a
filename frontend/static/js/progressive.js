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
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target !== bar) return;
    if (bar.querySelector("[data-session-open]")) {
      panel.hidden = false;
      panel.classList.remove("collapsed");
    }
  });
  setInterval(function () {
    var left = bar.querySelector("[data-wrap-left]");
    if (!left) return;
    var s = parseInt(left.dataset.wrapLeft, 10) - 1;
    left.dataset.wrapLeft = s;
    if (s > 0) { left.textContent = s; } else { left.closest("[data-ds-state]").textContent = "整理时间到，即将拨打下一通…"; refresh(); }
  }, 1000);
})();
