/* 退案与留案: the header box ticks every case of the list at once (and shows when only some are ticked); the bar
 * above the table says how many are ticked, for the bulk 留案 and 退案 buttons. */
(function () {
  "use strict";
  var all = document.querySelector("[data-select-all]");
  var count = document.querySelector("[data-selected-count]");
  if (!all) { return; }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll('input[name="case_ids"][form="bulk-return"]')); }
  function refresh() {
    var list = boxes();
    var ticked = list.filter(function (b) { return b.checked; }).length;
    all.checked = ticked > 0 && ticked === list.length;
    all.indeterminate = ticked > 0 && ticked < list.length;
    if (count) { count.textContent = ticked ? "已勾选 " + ticked + " 件" : "未勾选"; }
  }
  all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; });
    refresh();
  });
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.name === "case_ids") { refresh(); }
  });
  refresh();
})();
