/* The top bar on a phone: the menu and the user's links fold behind a “菜单” button (CSS shows them again on
 * wider screens). Escape or a click outside closes the open menu. */
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  var button = bar && bar.querySelector("[data-nav-toggle]");
  if (!button) { return; }
  function set(open) {
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(!bar.classList.contains("nav-open")); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { set(false); } });
  document.addEventListener("click", function (e) { if (!bar.contains(e.target)) { set(false); } });
})();
