/* The top bar on a phone: the menu and the user's links fold behind a “菜单” button (CSS shows them again on
 * wider screens). Escape or a click outside closes the open menu.
 * The grouped menus (委案管理, 外呼, …): a click, Enter or Space opens one (↓ as well, moving to its first page),
 * ↑/↓ move between its pages, Escape closes it and returns to its button; opening one closes the others. */
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  if (!bar) { return; }
  var groups = Array.prototype.slice.call(bar.querySelectorAll("[data-navgroup]"));
  function openGroup(group, open) {
    group.classList.toggle("open", open);
    group.querySelector(".navgroup-btn").setAttribute("aria-expanded", open ? "true" : "false");
  }
  function closeGroups(except) {
    groups.forEach(function (g) { if (g !== except) { openGroup(g, false); } });
  }
  groups.forEach(function (group) {
    var toggle = group.querySelector(".navgroup-btn");
    var links = function () { return Array.prototype.slice.call(group.querySelectorAll(".navgroup-menu a")); };
    toggle.addEventListener("click", function () {
      var open = !group.classList.contains("open");
      closeGroups(group);
      openGroup(group, open);
    });
    toggle.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        closeGroups(group);
        openGroup(group, true);
        links()[0].focus();
      }
    });
    group.addEventListener("keydown", function (e) {
      var list = links();
      var at = list.indexOf(e.target);
      if (e.key === "Escape" && group.classList.contains("open")) {
        e.stopPropagation();
        openGroup(group, false);
        toggle.focus();
      } else if (at >= 0 && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        list[(at + (e.key === "ArrowDown" ? 1 : list.length - 1)) % list.length].focus();
      }
    });
    group.addEventListener("focusout", function (e) {
      if (!group.contains(e.relatedTarget)) { openGroup(group, false); }
    });
  });
  document.addEventListener("click", function (e) {
    groups.forEach(function (g) { if (!g.contains(e.target)) { openGroup(g, false); } });
  });
  var button = bar.querySelector("[data-nav-toggle]");
  if (!button) { return; }
  function set(open) {
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(!bar.classList.contains("nav-open")); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { set(false); } });
  document.addEventListener("click", function (e) { if (!bar.contains(e.target)) { set(false); } });
})();
