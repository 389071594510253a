/* The call panel's place on the page (its calls are callpanel.js's): it never covers the page.
 *
 * - Desktop: docked at the right under the top bar, and the page gives up that width (body.cp-docked), so the
 *   right-hand columns and the 回款 card stay in view; collapsed it is a slim tab (body.cp-collapsed).
 * - Phone (≤ 760 px): a sheet at the bottom, full width, collapsed to its bar by default; the page gets room
 *   below its last line (--cp-height), so nothing is out of reach.
 * - Closable (×) while no call is live; the top bar's “电话” opens it again. A live call (ringing, connected…)
 *   always opens it. Collapsed/open is remembered per browser tab.
 */
(function () {
  "use strict";
  var panel = document.getElementById("call-panel");
  if (!panel) { return; }
  var toggle = panel.querySelector("[data-cp-toggle]");
  var dismiss = panel.querySelector("[data-cp-dismiss]");
  var barState = panel.querySelector("[data-cp-bar-state]");
  var reopen = document.getElementById("call-panel-reopen");
  var body = document.body;
  var KEY = "callpanel.layout";
  var PHONE = window.matchMedia("(max-width: 760px)");
  var LIVE = { requested: 1, ringing: 1, dialling: 1, connected: 1 };
  var LABELS = { requested: "呼叫中", ringing: "振铃", dialling: "外呼中", connected: "通话中", ended: "已结束", refused: "未拨出" };
  var closed = false;

  function stored() {
    try { return sessionStorage.getItem(KEY); } catch (e) { return null; }
  }
  function remember(value) {
    try { sessionStorage.setItem(KEY, value); } catch (e) { /* private mode */ }
  }
  function live() { return !!LIVE[panel.dataset.callState || ""]; }
  function collapsed() {
    if (live() && !panel.dataset.userCollapsed) { return false; }
    var pref = stored();
    if (pref) { return pref === "collapsed"; }
    return PHONE.matches;  // a phone starts with the bar only
  }

  function apply() {
    var shown = !panel.hidden && !closed;
    var isCollapsed = shown && collapsed();
    panel.classList.toggle("is-collapsed", isCollapsed);
    panel.classList.toggle("is-closed", closed);
    body.classList.toggle("cp-docked", shown && !isCollapsed);
    body.classList.toggle("cp-collapsed", shown && isCollapsed);
    toggle.setAttribute("aria-expanded", shown && !isCollapsed ? "true" : "false");
    toggle.title = isCollapsed ? "展开电话面板" : "收起电话面板";
    dismiss.hidden = live();
    var st = panel.dataset.callState || "";
    barState.textContent = LABELS[st] && st !== "ended" && st !== "refused" ? LABELS[st] : "";
    barState.className = "cp-bar-state" + (st ? " cp-" + st : "");
    if (reopen) { reopen.hidden = !(closed && !panel.hidden); }
    measure();
  }

  function measure() {
    // On a phone the page keeps room for the sheet below its last line.
    var h = body.classList.contains("cp-docked") || body.classList.contains("cp-collapsed") ? panel.offsetHeight : 0;
    body.style.setProperty("--cp-height", h + "px");
  }

  toggle.addEventListener("click", function () {
    var next = collapsed() ? "open" : "collapsed";
    remember(next);
    if (next === "collapsed") { panel.dataset.userCollapsed = "1"; } else { delete panel.dataset.userCollapsed; }
    apply();
  });
  dismiss.addEventListener("click", function () {
    if (live()) { return; }
    closed = true;
    apply();
    if (reopen) { reopen.focus(); }
  });
  if (reopen) {
    reopen.addEventListener("click", function () {
      closed = false;
      remember("open");
      apply();
      toggle.focus();
    });
  }

  var lastState = "";
  new MutationObserver(function () {
    var st = panel.dataset.callState || "";
    if (st !== lastState) {
      // A call that starts (or rings in) is always shown, whatever was chosen while idle.
      if (LIVE[st] && !LIVE[lastState]) { closed = false; delete panel.dataset.userCollapsed; }
      lastState = st;
    }
    apply();
  }).observe(panel, { attributes: true, attributeFilter: ["hidden", "data-call-state"] });
  if (window.ResizeObserver) { new ResizeObserver(measure).observe(panel); }
  if (PHONE.addEventListener) { PHONE.addEventListener("change", apply); }
  apply();
})();
