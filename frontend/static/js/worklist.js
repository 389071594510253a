/* 今日工作 (issue 16): the queue reloads itself when anything that moves a case in or out happens (a call, a
 * visit, a repayment, a promise kept or broken, a callback falling due, a reminder resolved, a retention or a
 * return: the server sends "workqueue.changed" and the others to this user); "拨打" opens the call panel with
 * the case's numbers. A promise panel on the case page reloads on "promise.changed" for its case. */
(function () {
  "use strict";
  var timer = null;
  function refresh() {
    var body = document.getElementById("queue-body");
    if (!body || !window.htmx) { return; }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; window.htmx.trigger(document.getElementById("queue-body"), "rt-queue-refresh"); }, 250);
  }
  ["workqueue.changed", "promise.changed", "callback.due", "reminder.due", "reminder.resolved",
   "case.balance_changed"].forEach(function (type) { document.addEventListener("rt:" + type, refresh); });

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-queue-dial]") : null;
    if (!btn) { return; }
    var panel = document.getElementById("call-panel");
    var box = panel && panel.querySelector("[data-cp-numbers]");
    if (!panel || !box) { window.location.href = "/cases/" + btn.dataset.queueDial + "/"; return; }
    var url = panel.dataset.dialNumbersUrl.replace("/0/", "/" + btn.dataset.queueDial + "/");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
      if (!html.trim()) { window.location.href = "/cases/" + btn.dataset.queueDial + "/"; return; }
      box.innerHTML = html;
      panel.hidden = false;
      panel.classList.remove("collapsed");
    });
  });
})();

(function () {
  "use strict";
  var panel = document.getElementById("case-promises");
  if (!panel) { return; }
  var caseId = panel.getAttribute("data-case-id");
  document.addEventListener("rt:promise.changed", function (ev) {
    if (!ev.detail || String(ev.detail.case_id) !== caseId || !window.htmx) { return; }
    var el = document.getElementById("case-promises");
    if (el) { window.htmx.trigger(el, "rt-promise-changed"); }
  });
})();

/* 约定回电: at the agreed time a live reminder that opens the case (stored, so a page opened later still gets it). */
(function () {
  "use strict";
  document.addEventListener("rt:callback.due", function (ev) {
    var m = ev.detail || {};
    var box = document.getElementById("rt-toasts");
    if (!box) { return; }
    var t = document.createElement("div");
    t.className = "rt-toast k-callback";
    t.setAttribute("role", "alert");
    var head = document.createElement("div"); head.className = "rt-toast-head";
    var b = document.createElement("b"); b.textContent = "约定回电时间到了"; head.appendChild(b);
    var close = document.createElement("button"); close.type = "button"; close.className = "rt-toast-close";
    close.textContent = "×"; close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close); t.appendChild(head);
    var text = document.createElement("div"); text.className = "rt-toast-text";
    text.textContent = (m.note ? m.note + " · " : "") + (m.phone || "");
    t.appendChild(text);
    var a = document.createElement("a"); a.className = "rt-toast-case"; a.href = m.url;
    a.textContent = "打开案件 " + m.case_no + " " + (m.debtor_name || "");
    t.appendChild(a);
    box.appendChild(t);
  });
})();
