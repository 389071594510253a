/* 提醒: toasts and the header bell for reminder.due, read state synced across tabs by reminder.read. */
(function () {
  "use strict";
  var TOAST_MS = 10000;

  function setUnread(n) {
    document.querySelectorAll("[data-rt-unread-count]").forEach(function (el) {
      el.textContent = String(n);
      if (el.classList.contains("rt-bell-count")) { el.hidden = n <= 0; }
    });
    var bell = document.getElementById("rt-bell");
    if (bell) {
      bell.classList.toggle("has-unread", n > 0);
      bell.setAttribute("aria-label", "提醒，未读 " + n + " 条");
    }
    document.querySelectorAll("[data-rt-read-all]").forEach(function (b) { b.disabled = n <= 0; });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function toast(r) {
    var box = document.getElementById("rt-toasts");
    if (!box) { return; }
    var t = el("div", "rt-toast k-" + r.kind);
    t.setAttribute("role", "alert");
    t.dataset.reminderId = r.reminder_id;
    var head = el("div", "rt-toast-head");
    head.appendChild(el("b", null, r.kind_label || "提醒"));
    var close = el("button", "rt-toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close);
    t.appendChild(head);
    t.appendChild(el("div", "rt-toast-text", r.text));
    var link = el("a", "rt-toast-case", "案件 " + r.case_no + " " + (r.debtor_name || ""));
    link.href = "/cases/" + r.case_id + "/";
    t.appendChild(link);
    box.appendChild(t);
    while (box.children.length > 4) { box.firstElementChild.remove(); }
    setTimeout(function () { t.classList.add("leaving"); setTimeout(function () { t.remove(); }, 400); }, TOAST_MS);
  }

  function addRow(r) {
    var body = document.getElementById("reminder-rows");
    if (!body) { return; }
    // One reminder per case and topic: a newer one (the 7-day after the 15-day) replaces the row.
    var old = document.getElementById("reminder-" + r.reminder_id);
    if (old) { old.remove(); }
    var empty = body.querySelector(".empty-row");
    if (empty) { empty.remove(); }
    var tr = el("tr", "reminder-row unread fresh");
    tr.id = "reminder-" + r.reminder_id;
    tr.dataset.reminderId = r.reminder_id;
    var kind = el("td", "nowrap"); kind.appendChild(el("span", "badge k-" + r.kind, r.kind_label)); tr.appendChild(kind);
    tr.appendChild(el("td", null, r.text));
    var c = el("td", "nowrap"); var a = el("a", null, r.case_no); a.href = "/cases/" + r.case_id + "/";
    c.appendChild(a); c.appendChild(document.createTextNode(" " + (r.debtor_name || ""))); tr.appendChild(c);
    var d = new Date(r.due_at);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    tr.appendChild(el("td", "nowrap muted", d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      " " + pad(d.getHours()) + ":" + pad(d.getMinutes())));
    var st = el("td", "nowrap reminder-state");
    var table = document.getElementById("reminder-table");
    var tpl = table && table.dataset.readUrl;
    if (tpl && window.htmx) {
      // The same control the server renders: htmx posts it (CSRF header from <body hx-headers>).
      var form = el("form");
      var readUrl = tpl.replace("/0/", "/" + r.reminder_id + "/");
      form.setAttribute("hx-post", readUrl);
      form.setAttribute("hx-target", "#reminder-" + r.reminder_id);
      form.setAttribute("hx-swap", "outerHTML");
      var btn = el("button", "small", "标为已读"); btn.type = "submit";
      form.appendChild(btn); st.appendChild(form);
    } else {
      st.appendChild(el("span", "muted", "未读"));
    }
    tr.appendChild(st);
    body.insertBefore(tr, body.firstChild);
    if (window.htmx) { window.htmx.process(tr); }
  }

  document.addEventListener("rt:reminder.due", function (e) {
    var r = e.detail;
    setUnread(r.unread_count);
    toast(r);
    addRow(r);
  });

  document.addEventListener("rt:reminder.resolved", function (e) {
    var m = e.detail;
    setUnread(m.unread_count);
    (m.reminder_ids || []).forEach(function (id) {
      var row = document.getElementById("reminder-" + id);
      if (row) {
        row.classList.remove("unread");
        var st = row.querySelector(".reminder-state");
        if (st) { st.innerHTML = '<span class="muted">已处理</span>'; }
      }
      document.querySelectorAll('.rt-toast[data-reminder-id="' + id + '"]').forEach(function (t) { t.remove(); });
    });
  });

  document.addEventListener("rt:reminder.digest", function (e) {
    var m = e.detail;
    var box = document.getElementById("rt-toasts");
    if (!box || !m.total) { return; }
    var t = el("div", "rt-toast k-digest");
    t.setAttribute("role", "status");
    var head = el("div", "rt-toast-head");
    head.appendChild(el("b", null, "今日提醒汇总（" + m.total + " 条待处理）"));
    var close = el("button", "rt-toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close);
    t.appendChild(head);
    (m.lines || []).forEach(function (line) { t.appendChild(el("div", "rt-toast-text", line)); });
    var link = el("a", "rt-toast-case", "查看提醒");
    link.href = "/cases/reminders/";
    t.appendChild(link);
    box.appendChild(t);
    while (box.children.length > 4) { box.firstElementChild.remove(); }
  });

  document.addEventListener("rt:reminder.read", function (e) {
    var m = e.detail;
    setUnread(m.unread_count);
    var rows = m.all ? document.querySelectorAll(".reminder-row.unread")
      : (m.reminder_ids || []).map(function (id) { return document.getElementById("reminder-" + id); });
    Array.prototype.forEach.call(rows, function (row) {
      if (!row) { return; }
      row.classList.remove("unread");
      var st = row.querySelector(".reminder-state");
      if (st) { st.innerHTML = '<span class="muted">已读</span>'; }
    });
    document.querySelectorAll(".rt-toast").forEach(function (t) {
      if (m.all || (m.reminder_ids || []).indexOf(parseInt(t.dataset.reminderId, 10)) >= 0) { t.remove(); }
    });
  });
})();

/* 分配通知: case.assigned (stored, replayed on reconnect) — a toast and a ring of the bell for the collector
 * who received cases ("in") or whose cases were moved away ("out"). Separate from the reminder count. */
(function () {
  "use strict";
  var TOAST_MS = 12000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function ringBell() {
    var bell = document.getElementById("rt-bell");
    if (!bell) { return; }
    bell.classList.remove("rt-bell-ring");
    void bell.offsetWidth;  // restart the animation for a second event
    bell.classList.add("rt-bell-ring");
  }

  document.addEventListener("rt:case.assigned", function (e) {
    var m = e.detail;
    var box = document.getElementById("rt-toasts");
    ringBell();
    if (!box) { return; }
    var t = el("div", "rt-toast k-assigned" + (m.direction === "out" ? " k-assigned-out" : ""));
    t.setAttribute("role", "alert");
    var head = el("div", "rt-toast-head");
    head.appendChild(el("b", null, m.direction === "out" ? "委案调出" : m.direction === "owner" ? "负责内勤变更" : "新分配委案"));
    var close = el("button", "rt-toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close);
    t.appendChild(head);
    t.appendChild(el("div", "rt-toast-text", m.text));
    var who = m.kind_label + " · " + m.by_name + (m.reason ? " · " + m.reason : "");
    t.appendChild(el("div", "rt-toast-meta muted", who));
    if (m.direction !== "out") {
      var link = el("a", "rt-toast-case", "查看我的委案");
      link.href = m.count === 1 && m.case_ids && m.case_ids.length ? "/cases/" + m.case_ids[0] + "/" : "/cases/";
      t.appendChild(link);
    }
    box.appendChild(t);
    while (box.children.length > 4) { box.firstElementChild.remove(); }
    setTimeout(function () { t.classList.add("leaving"); setTimeout(function () { t.remove(); }, 400); }, TOAST_MS);
  });
})();
