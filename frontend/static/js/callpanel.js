/* Live call panel (issue 5): click-to-call from the case page, ringing → connected (running timer) → ended
 * with cause, hang-up, refusals explained at once, inbound calls popping their case up.
 * Driven by "rt:call.status_changed" DOM events from realtime.js. The browser never sees a collector's
 * full numbers: it dials by contact id and the server resolves the number.
 */
(function () {
  "use strict";
  var panel = document.getElementById("call-panel");
  if (!panel) return;
  var callBox = panel.querySelector(".cp-call");
  var numbersBox = panel.querySelector("[data-cp-numbers]");
  var stateEl = panel.querySelector("[data-cp-state]");
  var numberEl = panel.querySelector("[data-cp-number]");
  var caseEl = panel.querySelector("[data-cp-case]");
  var messageEl = panel.querySelector("[data-cp-message]");
  var timerEl = panel.querySelector("[data-cp-timer]");
  var hangupBtn = panel.querySelector("[data-cp-hangup]");
  var closeBtn = panel.querySelector("[data-cp-close]");
  var STORE = "callpanel.current";
  var LABELS = { requested: "呼叫中", ringing: "振铃", dialling: "外呼中", connected: "通话中", ended: "已结束", refused: "未拨出" };
  var current = null;
  var timer = null;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" } });
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    if (!current || !current.connected_local) return;
    var s = Math.max(0, Math.floor((Date.now() - current.connected_local) / 1000));
    timerEl.textContent = pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }
  function save() {
    try { if (current && current.status !== "ended" && current.status !== "refused") sessionStorage.setItem(STORE, JSON.stringify(current)); else sessionStorage.removeItem(STORE); } catch (e) { /* private mode */ }
  }
  function render() {
    if (!current) { callBox.hidden = true; return; }
    panel.hidden = false;
    callBox.hidden = false;
    var st = current.status;
    panel.dataset.callState = st;
    stateEl.textContent = LABELS[st] || st;
    stateEl.className = "cp-state badge cp-" + st;
    numberEl.textContent = current.number_masked || "";
    if (current.case_url || current.case_label) {
      caseEl.hidden = false;
      caseEl.textContent = current.case_label || "打开委案";
      caseEl.href = current.case_url || ("/cases/" + current.case_id + "/");
    } else { caseEl.hidden = true; }
    messageEl.textContent = current.message || "";
    messageEl.classList.toggle("form-error", st === "refused");
    var live = st === "requested" || st === "ringing" || st === "dialling" || st === "connected";
    hangupBtn.hidden = !live || !current.call_uuid;
    closeBtn.hidden = live;
    if (st === "connected") {
      // Counted from when this browser heard of the answer: Asterisk's clock and the PC's may differ.
      if (!current.connected_local) current.connected_local = Date.now();
      timerEl.hidden = false; tick();
      if (!timer) timer = setInterval(tick, 1000);
    } else {
      if (timer) { clearInterval(timer); timer = null; }
      if (st === "ended" && current.duration_s != null) {
        timerEl.hidden = false;
        timerEl.textContent = pad(Math.floor(current.duration_s / 60)) + ":" + pad(current.duration_s % 60);
      } else if (st !== "ended") { timerEl.hidden = true; }
    }
    save();
  }
  function update(detail) {
    if (current && detail.call_uuid !== current.call_uuid && detail.status !== "ringing" && detail.direction !== "inbound" &&
        current.status !== "ended" && current.status !== "refused") return;  // another tab's stale call
    current = Object.assign({}, current && current.call_uuid === detail.call_uuid ? current : {}, detail);
    render();
    if (detail.direction === "inbound" && detail.status === "ringing" && detail.case_url &&
        location.pathname !== detail.case_url) {
      location.assign(detail.case_url);  // the caller's case pops up
    }
    if (detail.direction === "outbound" && detail.status === "dialling" && detail.case_url &&
        location.pathname !== detail.case_url) {
      location.assign(detail.case_url);  // 连续外呼: the case being dialled opens, its outcome form follows the call
    }
  }

  document.addEventListener("rt:call.status_changed", function (ev) { update(ev.detail || {}); });

  // P4: the dialer has written the call on its case. That case's page reloads its work records and opens the
  // call's 登记结果 form; elsewhere the panel links to it.
  function openOutcome(callId) {
    var row = document.getElementById("call-" + callId);
    var box = row && row.querySelector("details.call-outcome");
    if (!box) return;
    box.open = true;
    row.scrollIntoView({ block: "center" });
    var select = box.querySelector("select");
    if (select) select.focus();
  }
  document.addEventListener("rt:call.recorded", function (ev) {
    var d = ev.detail || {};
    var caseUrl = "/cases/" + d.case_id + "/";
    if (d.needs_outcome && current && (current.status === "ended" || current.status === "refused")) {
      current.message = (current.message ? current.message + "；" : "") + "已记入委案，请登记结果";
      current.case_url = caseUrl + "#call-" + d.call_id;
      render();
    }
    var work = document.getElementById("case-work");
    if (!work || location.pathname !== caseUrl || !window.htmx) return;
    htmx.ajax("GET", caseUrl + "work/", { target: "#case-work", swap: "outerHTML" }).then(function () {
      if (d.needs_outcome) openOutcome(d.call_id);
    });
  });
  if (/^#call-\d+$/.test(location.hash)) {
    // Arrived from the panel's link: the work panel loads after the page; open the form once it is there.
    var wanted = location.hash.slice(6);
    document.addEventListener("htmx:afterSettle", function onSettle() {
      if (!document.getElementById("call-" + wanted)) return;
      document.removeEventListener("htmx:afterSettle", onSettle);
      openOutcome(wanted);
    });
  }

  hangupBtn.addEventListener("click", function () {
    if (!current) return;
    hangupBtn.disabled = true;
    post(panel.dataset.hangupUrl, { call_uuid: current.call_uuid }).finally(function () { hangupBtn.disabled = false; });
  });
  closeBtn.addEventListener("click", function () { current = null; save(); render(); if (!numbersBox.innerHTML.trim()) panel.hidden = true; });

  function dial(dialUrl, contact, number) {
    current = { call_uuid: "", status: "requested", message: "正在请求拨号…", number_masked: "" };
    render();
    post(dialUrl, { contact: contact, number: number || "" }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).then(function (r) {
      if (!r.ok) { update({ call_uuid: "", status: "refused", message: r.data.error || "拨号失败" }); return; }
      if (current && current.call_uuid === "") { current.call_uuid = r.data.call_uuid; current.message = r.data.message; render(); }
    }).catch(function () { update({ call_uuid: "", status: "refused", message: "网络中断，未能拨号，请重试" }); });
  }

  numbersBox.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn) return;
    var li = btn.closest("li");
    var box = btn.closest("[data-dial-url]");
    if (!li || !box) return;
    if (btn.hasAttribute("data-cp-edit")) {
      var edit = li.querySelector(".cp-edit");
      edit.hidden = !edit.hidden;
      if (!edit.hidden) edit.querySelector("input").focus();
    } else if (btn.hasAttribute("data-cp-dial")) {
      dial(box.dataset.dialUrl, li.dataset.contact, "");
    } else if (btn.hasAttribute("data-cp-dial-edited")) {
      var input = li.querySelector(".cp-edit input");
      var value = (input.value || "").replace(/[\s\-()]/g, "");
      if (!/^\+?\d{3,20}$/.test(value)) { input.setCustomValidity("请输入 3–20 位数字"); input.reportValidity(); return; }
      input.setCustomValidity("");
      dial(box.dataset.dialUrl, li.dataset.contact, value);
    }
  });

  // Restore a call in progress after navigating to another page.
  try { var saved = sessionStorage.getItem(STORE); if (saved) { current = JSON.parse(saved); render(); } } catch (e) { /* ignore */ }

  var m = location.pathname.match(/^\/cases\/(\d+)\/$/);
  if (m) {
    var url = panel.dataset.collector === "1" ? panel.dataset.dialNumbersUrl : panel.dataset.suggestionsUrl;
    fetch(url.replace("/0/", "/" + m[1] + "/"), { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html.trim()) { numbersBox.innerHTML = html; panel.hidden = false; } });
  }
})();
