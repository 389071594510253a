// Assignment pages (C3, C4): ticking cases (row, page, shift-click ranges, "all matching"), the live
// selection summary, and clearing a stale preview whenever what it was computed from changes.
(function () {
  "use strict";

  function money(n) {
    return n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function clearPreview(form) {
    var box = form.querySelector(".assign-preview");
    if (box && box.innerHTML.trim()) {
      box.innerHTML = '<p class="muted">选择已变化，请重新预览。</p>';
    }
  }

  function setupTicking(form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=case]"));
    var pageBox = form.querySelector("#check-page");
    var allInput = form.querySelector("#select-all");
    var allButton = form.querySelector("#select-all-matching");
    var clearButton = form.querySelector("#clear-selection");
    var status = form.querySelector("#selection-status");
    var last = null;

    function render() {
      var ticked = boxes.filter(function (b) { return b.checked; });
      boxes.forEach(function (b) { b.closest("tr").classList.toggle("selected", b.checked); });
      if (pageBox) {
        pageBox.checked = boxes.length > 0 && ticked.length === boxes.length;
        pageBox.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
      }
      if (!status) return;
      if (allInput && allInput.value === "1") {
        status.innerHTML = "已选择<b>全部符合条件的 " + Number(form.dataset.matchCount).toLocaleString("zh-CN") +
          " 件</b>（" + money(parseFloat(form.dataset.matchAmount)) + " 元），包括其他页";
        status.classList.add("all");
        if (allButton) { allButton.hidden = true; }
      } else {
        var sum = ticked.reduce(function (s, b) { return s + parseFloat(b.dataset.amount || "0"); }, 0);
        status.textContent = ticked.length ? "已勾选 " + ticked.length + " 件（" + money(sum) + " 元）" : "未选择委案";
        status.classList.remove("all");
        if (allButton) { allButton.hidden = false; }
      }
    }

    function leaveAll() {
      if (allInput && allInput.value === "1") { allInput.value = ""; }
    }

    boxes.forEach(function (box, i) {
      box.addEventListener("click", function (e) {
        // Shift-click ticks (or unticks) the whole range from the last box clicked.
        if (e.shiftKey && last !== null && last !== i) {
          var lo = Math.min(last, i), hi = Math.max(last, i);
          for (var k = lo; k <= hi; k++) { boxes[k].checked = box.checked; }
        }
        last = i;
        if (!box.checked) { leaveAll(); }
        render();
      });
    });
    if (pageBox) {
      pageBox.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = pageBox.checked; });
        if (!pageBox.checked) { leaveAll(); }
        render();
      });
    }
    if (allButton) {
      allButton.addEventListener("click", function () {
        allInput.value = "1";
        boxes.forEach(function (b) { b.checked = true; });
        render();
        clearPreview(form);
      });
    }
    if (clearButton) {
      clearButton.addEventListener("click", function () {
        leaveAll();
        boxes.forEach(function (b) { b.checked = false; });
        render();
        clearPreview(form);
      });
    }
    // A click on a row's empty space ticks it (links keep their own behaviour).
    form.addEventListener("click", function (e) {
      var row = e.target.closest("table.selectable tbody tr");
      if (!row || e.target.closest("a, button, input, label, select")) return;
      var box = row.querySelector("input[name=case]");
      if (box) { box.click(); }
    });
    render();
  }

  function setup() {
    document.querySelectorAll("form.assign-layout, form.handover-form, form.move-form").forEach(function (form) {
      setupTicking(form);
      form.addEventListener("change", function (e) {
        if (e.target.closest(".assign-preview")) return;
        if (e.target.name === "reason") return;
        clearPreview(form);
      });
    });
    // Move form: ticking a case switches the scope to "仅勾选的委案", clearing every tick switches back.
    document.querySelectorAll("form.move-form").forEach(function (form) {
      form.addEventListener("change", function (e) {
        if (e.target.name !== "case") return;
        var any = form.querySelector("input[name=case]:checked");
        var radio = form.querySelector("input[name=scope][value=" + (any ? "ticked" : "all") + "]");
        if (radio) { radio.checked = true; }
      });
      form.addEventListener("submit", function (e) {
        var msg = form.dataset.confirm;
        var scope = form.querySelector("input[name=scope]:checked");
        if (scope && scope.value === "ticked") {
          msg = "确定把勾选的 " + form.querySelectorAll("input[name=case]:checked").length + " 件委案转给所选业务员？";
        }
        if (msg && !window.confirm(msg)) { e.preventDefault(); }
      });
    });
    document.querySelectorAll("form.swap-form").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm("确定互换这两位业务员名下您负责的全部未完成委案？")) { e.preventDefault(); }
      });
    });
  }

  // The branch/department filter re-renders the collector picker; keep the keyboard where it was.
  var pickerFocus = null;
  document.addEventListener("change", function (e) {
    if (e.target.closest(".picker-filters")) { pickerFocus = e.target.name; }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!pickerFocus || !e.target || e.target.id !== "collector-picker") return;
    var again = document.querySelector("#collector-picker [name=" + pickerFocus + "]");
    if (again) { again.focus(); }
    pickerFocus = null;
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
