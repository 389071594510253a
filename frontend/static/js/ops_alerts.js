/* 系统管理员告警: ops.alert_raised events (failed backup, VPN expiry) become toasts on every page. */
(function () {
  "use strict";
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text) { n.textContent = text; }
    return n;
  }
  document.addEventListener("rt:ops.alert_raised", function (e) {
    var a = e.detail || {};
    var box = document.getElementById("rt-toasts");
    if (!box) { return; }
    var t = el("div", "rt-toast ops-alert ops-" + (a.level || "info"));
    t.setAttribute("role", a.level === "error" ? "alert" : "status");
    var head = el("div", "rt-toast-head");
    head.appendChild(el("strong", "", a.title || "系统提醒"));
    var close = el("button", "rt-toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close);
    t.appendChild(head);
    t.appendChild(el("div", "rt-toast-text", a.text || ""));
    if (a.url) {
      var link = el("a", "rt-toast-case", "查看 →");
      link.href = a.url;
      t.appendChild(link);
    }
    box.appendChild(t);
  });
})();
