/* 系统管理页面: confirmation of dangerous buttons (data-confirm) and copy-to-clipboard (data-copy).
   No inline handlers: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var btn = e.submitter || (e.target && e.target.querySelector("[data-confirm]"));
    var text = btn && btn.getAttribute && btn.getAttribute("data-confirm");
    if (text && !window.confirm(text)) { e.preventDefault(); }
  });
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!btn) { return; }
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var old = btn.textContent; btn.textContent = "已复制"; setTimeout(function () { btn.textContent = old; }, 1500);
    });
  });
})();
