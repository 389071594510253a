/* 资料请求与对话 (C8, P9, R3).
 *
 * On every page (loaded by base.html): toasts for a new request (clerk) and for messages and status
 * changes of the other side, from the stored user events of /ws/live/ (realtime.js "rt:*" DOM events);
 * live refresh of the inbox, the collector's list and the case page's request panel.
 *
 * On a request page (#chat-root): its own websocket /ws/chat/<id>/?after=<last message id shown>, with
 * backoff; the server replays what was missed, so a reload or a dropped connection loses nothing and
 * messages are de-duplicated by id. Text goes over the socket with a client_msg_id (a retry after a
 * reconnect cannot duplicate it); a message with an attachment, or any message while the socket is down,
 * goes as a normal htmx POST and comes back through the same broadcast. Read ticks (已读/未读), the
 * typing indicator (对方正在输入…) and the status (待答复/已答复/已关闭) follow live.
 */
(function () {
  "use strict";
  var TOAST_MS = 10000;
  var me = (function () {
    var m = document.querySelector('meta[name="rt-user"]');
    return m ? parseInt(m.getAttribute("content"), 10) || 0 : 0;
  })();
  if (!me) { return; }

  var timeFmt = null;
  try {
    timeFmt = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false });
  } catch (e) { timeFmt = null; }

  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    if (timeFmt && timeFmt.formatToParts) {
      var p = {};
      timeFmt.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
      return p.month + "-" + p.day + " " + (p.hour === "24" ? "00" : p.hour) + ":" + p.minute;
    }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function humanSize(n) {
    if (n >= 1024 * 1024) { return (n / 1024 / 1024).toFixed(1) + " MB"; }
    if (n >= 1024) { return Math.round(n / 1024) + " KB"; }
    return n + " 字节";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  var chatRoot = document.getElementById("chat-root");
  var currentRequest = chatRoot ? parseInt(chatRoot.dataset.requestId, 10) : 0;

  // --- Toasts (any page) --------------------------------------------------------------------------------

  function toast(title, text, href, linkText) {
    var box = document.getElementById("rt-toasts");
    if (!box) { return; }
    var t = el("div", "rt-toast k-docreq");
    t.setAttribute("role", "alert");
    var head = el("div", "rt-toast-head");
    head.appendChild(el("b", null, title));
    var close = el("button", "rt-toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.addEventListener("click", function () { t.remove(); });
    head.appendChild(close);
    t.appendChild(head);
    if (text) { t.appendChild(el("div", "rt-toast-text", text)); }
    var a = el("a", "rt-toast-case", linkText);
    a.href = href;
    t.appendChild(a);
    box.appendChild(t);
    while (box.children.length > 4) { box.firstElementChild.remove(); }
    setTimeout(function () { t.classList.add("leaving"); setTimeout(function () { t.remove(); }, 400); }, TOAST_MS);
  }

  function requestUrl(id) { return "/cases/docreq/" + id + "/"; }
  function snippet(s) { s = (s || "").replace(/\s+/g, " "); return s.length > 60 ? s.slice(0, 60) + "…" : s; }

  // --- Live lists: inbox, "my requests", the case page's panel ------------------------------------------

  var refreshTimer = null;
  function refreshLists() {
    if (refreshTimer) { clearTimeout(refreshTimer); }
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      var list = document.getElementById("docreq-list");
      if (list && window.htmx) {
        window.htmx.ajax("GET", list.dataset.refreshUrl, { target: "#docreq-body", swap: "outerHTML" });
      }
      var panel = document.getElementById("docreq-case-panel");
      if (panel && window.htmx) { window.htmx.trigger(panel, "docreq-refresh"); }
    }, 300);
  }
  // Waiting times ("等待 3 小时 12 分") move on by themselves: refresh the list once a minute while visible.
  if (document.getElementById("docreq-list")) {
    setInterval(function () { if (!document.hidden) { refreshLists(); } }, 60000);
  }
  document.addEventListener("click", function (e) {
    var row = e.target.closest ? e.target.closest("tr.docreq-row[data-href]") : null;
    if (!row || e.target.closest("a, button, input, form")) { return; }
    window.location.href = row.dataset.href;
  });

  document.addEventListener("rt:docreq.opened", function (e) {
    var m = e.detail;
    refreshLists();
    if (m.replayed) { return; }
    toast("新的资料请求", m.requested_by_name + " 索要：" + (m.items || []).join("、"), requestUrl(m.request_id),
      "案件 " + m.case_no + " " + (m.debtor_name || "") + " · 查看并答复");
  });

  document.addEventListener("rt:chat.message_posted", function (e) {
    var m = e.detail;
    refreshLists();
    if (m.replayed || m.author_id === me || m.request_id === currentRequest) { return; }
    var what = m.text ? snippet(m.text) : ("发来附件《" + m.attachment_name + "》");
    toast(m.author_name + " 发来消息", what, requestUrl(m.request_id), "资料请求 #" + m.request_id + " · 案件 " + m.case_no);
  });

  document.addEventListener("rt:chat.read", refreshLists);

  document.addEventListener("rt:docreq.status_changed", function (e) {
    var m = e.detail;
    refreshLists();
    if (m.replayed || m.by_id === me || m.request_id === currentRequest) { return; }
    toast("资料请求" + m.status_label, m.by_name + " 将资料请求 #" + m.request_id + " 设为“" + m.status_label + "”",
      requestUrl(m.request_id), "案件 " + m.case_no + " · 查看");
  });

  if (!chatRoot) { return; }

  // --- The request page's chat -----------------------------------------------------------------------------

  var requestId = currentRequest;
  var side = chatRoot.dataset.side || "";
  var clerkId = parseInt(chatRoot.dataset.clerkId, 10) || 0;
  var lastId = parseInt(chatRoot.dataset.lastId, 10) || 0;
  var otherRead = parseInt(chatRoot.dataset.otherRead, 10) || 0;
  var myRead = parseInt(chatRoot.dataset.myRead, 10) || 0;
  var status = chatRoot.dataset.status;
  var fileUrl = chatRoot.dataset.fileUrl;  // ".../files/0/"
  var statusUrl = chatRoot.dataset.statusUrl;
  var log = document.getElementById("chat-log");
  var typingEl = document.getElementById("chat-typing");
  var form = document.getElementById("chat-composer");
  var textarea = form ? form.querySelector("textarea[name=text]") : null;
  var fileInput = form ? form.querySelector("input[type=file]") : null;
  var fileName = document.getElementById("chat-file-name");
  var FILE_HINT = fileName ? fileName.textContent : "";
  var pending = {};  // client_msg_id → {text, el}
  var ws = null, attempt = 0, timer = null, stopped = false, typingTimer = null, lastTypingSent = 0;

  function attachmentUrl(messageId) { return fileUrl.replace(/\/0\/$/, "/" + messageId + "/"); }
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function tick(node, id) {
    var t = node.querySelector("[data-tick]");
    if (!t) { return; }
    var read = id <= otherRead;
    t.textContent = read ? "已读" : "未读";
    t.classList.toggle("read", read);
  }

  function renderMessage(m) {
    var mine = m.author_id === me;
    var node = el("div", "chat-msg " + (mine ? "mine" : "theirs") + (m.author_id === clerkId ? " by-clerk" : " by-collector"));
    node.id = "msg-" + m.message_id;
    node.dataset.id = m.message_id;
    node.dataset.author = m.author_id;
    var meta = el("div", "chat-meta");
    meta.appendChild(el("b", null, m.author_name));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("span", "chat-role", m.author_side === "clerk" ? "内勤" : "业务员"));
    meta.appendChild(document.createTextNode(" "));
    var time = el("time", null, fmtTime(m.created_at));
    time.setAttribute("datetime", m.created_at);
    meta.appendChild(time);
    node.appendChild(meta);
    var bubble = el("div", "chat-bubble");
    if (m.text) { bubble.appendChild(el("div", "chat-text", m.text)); }
    if (m.attachment_id) {
      var url = attachmentUrl(m.message_id);
      if (m.attachment_is_image) {
        var a = el("a", "chat-image");
        a.href = url; a.target = "_blank"; a.rel = "noopener";
        var img = el("img");
        img.src = url; img.alt = m.attachment_name; img.loading = "lazy";
        img.addEventListener("load", function () { if (nearBottom()) { scrollDown(); } });
        a.appendChild(img);
        bubble.appendChild(a);
        var fm = el("div", "chat-file-meta");
        var dl = el("a", null, "下载 " + m.attachment_name);
        dl.href = url + "?download=1";
        fm.appendChild(dl);
        fm.appendChild(document.createTextNode(" "));
        fm.appendChild(el("small", null, m.attachment_label + " · " + humanSize(m.attachment_size)));
        bubble.appendChild(fm);
      } else {
        var f = el("a", "chat-file");
        f.href = url + "?download=1";
        var icon = el("span", "chat-file-icon", "📎");
        icon.setAttribute("aria-hidden", "true");
        f.appendChild(icon);
        f.appendChild(document.createTextNode(m.attachment_name));
        bubble.appendChild(f);
        bubble.appendChild(document.createTextNode(" "));
        bubble.appendChild(el("small", "chat-file-meta", m.attachment_label + " · " + humanSize(m.attachment_size)));
      }
    }
    node.appendChild(bubble);
    if (mine) {
      var t = el("div", "chat-tick");
      t.setAttribute("data-tick", "");
      node.appendChild(t);
      tick(node, m.message_id);
    }
    return node;
  }

  function insertMessage(m) {
    if (document.getElementById("msg-" + m.message_id)) { return false; }  // replay + live, or two paths
    if (m.client_msg_id && pending[m.client_msg_id]) {
      pending[m.client_msg_id].el.remove();
      delete pending[m.client_msg_id];
    }
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.remove(); }
    var stick = nearBottom() || m.author_id === me;
    var node = renderMessage(m);
    // Keep id order even if messages arrive out of order (a replay racing a live one).
    var after = null;
    var nodes = log.querySelectorAll(".chat-msg[data-id]");
    for (var i = nodes.length - 1; i >= 0; i--) {
      if (parseInt(nodes[i].dataset.id, 10) < m.message_id) { after = nodes[i]; break; }
    }
    var firstPending = log.querySelector(".chat-msg.pending");
    if (after) { after.after(node); } else if (nodes.length) { nodes[0].before(node); }
    else if (firstPending) { firstPending.before(node); } else { log.appendChild(node); }
    if (m.message_id > lastId) { lastId = m.message_id; }
    if (stick) { scrollDown(); }
    return true;
  }

  function newestFromOtherSide() {
    var nodes = log.querySelectorAll(".chat-msg.theirs[data-id]");
    return nodes.length ? parseInt(nodes[nodes.length - 1].dataset.id, 10) : 0;
  }

  function markRead() {
    if (!side || document.hidden) { return; }
    var newest = newestFromOtherSide();
    if (newest > myRead && ws && ws.readyState === 1) {
      myRead = newest;
      ws.send(JSON.stringify({ type: "read", last_id: newest }));
    }
  }

  function setOtherRead(id) {
    if (id <= otherRead) { return; }
    otherRead = id;
    log.querySelectorAll(".chat-msg.mine[data-id]").forEach(function (n) { tick(n, parseInt(n.dataset.id, 10)); });
  }

  function setStatus(next, refreshBar) {
    var changed = next !== status;
    status = next;
    chatRoot.dataset.status = next;
    var closed = next === "closed";
    if (form) {
      form.classList.toggle("closed", closed);
      [textarea, fileInput, document.getElementById("chat-send")].forEach(function (x) { if (x) { x.disabled = closed; } });
      var note = document.getElementById("chat-closed-note");
      if (note) { note.hidden = !closed; }
    }
    if ((changed || refreshBar) && window.htmx) {
      window.htmx.ajax("GET", statusUrl, { target: "#status-bar", swap: "outerHTML" });
    }
  }

  function showError(text) {
    var box = document.getElementById("composer-error");
    if (!box) { return; }
    box.innerHTML = "";
    if (text) {
      var d = el("div", "form-error", text);
      d.setAttribute("role", "alert");
      box.appendChild(d);
    }
  }

  function showTyping() {
    if (!typingEl) { return; }
    typingEl.hidden = false;
    if (typingTimer) { clearTimeout(typingTimer); }
    typingTimer = setTimeout(function () { typingEl.hidden = true; }, 4000);
  }

  function setConn(state, text) {
    chatRoot.dataset.conn = state;
    var bar = document.getElementById("chat-conn");
    if (!bar) {
      bar = el("div", "chat-conn");
      bar.id = "chat-conn";
      bar.setAttribute("role", "status");
      log.before(bar);
    }
    bar.textContent = text;
    bar.hidden = state === "open";
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "chat.message_posted":
        insertMessage(msg);
        if (msg.author_id !== me) {
          if (typingEl) { typingEl.hidden = true; }
          markRead();
        }
        break;
      case "chat.read":
        if (msg.user_id !== me && msg.side !== side) { setOtherRead(msg.last_read_message_id); }
        if (msg.user_id === me && msg.last_read_message_id > myRead) { myRead = msg.last_read_message_id; }
        break;
      case "chat.typing":
        if (msg.user_id !== me) { showTyping(); }
        break;
      case "docreq.status_changed":
        setStatus(msg.status, true);
        break;
      case "chat.synced":
        setOtherRead(msg.other_last_read || 0);
        setStatus(msg.status, false);
        markRead();
        resendPending();
        break;
      case "chat.ack":
        if (msg.client_msg_id && pending[msg.client_msg_id]) {
          pending[msg.client_msg_id].el.classList.add("acked");
        }
        break;
      case "chat.error":
        if (msg.client_msg_id && pending[msg.client_msg_id]) {
          var p = pending[msg.client_msg_id];
          p.el.remove();
          delete pending[msg.client_msg_id];
          if (textarea && !textarea.value) { textarea.value = p.text; }
        }
        showError(msg.message);
        break;
    }
  }

  function url() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    return proto + location.host + "/ws/chat/" + requestId + "/?after=" + encodeURIComponent(lastId);
  }

  function connect() {
    timer = null;
    if (stopped) { return; }
    var sock;
    chatRoot.dataset.conn = "connecting";
    try { sock = new WebSocket(url()); } catch (e) { schedule(); return; }
    ws = sock;
    sock.onopen = function () {
      setConn("open", "");
      setTimeout(function () { if (ws === sock && sock.readyState === 1) { attempt = 0; } }, 5000);
    };
    sock.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && typeof msg.type === "string") { onMessage(msg); }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) { return; }
      ws = null;
      if (ev.code === 4401) { stopped = true; setConn("stopped", "登录已失效，请刷新页面重新登录。"); return; }
      if (ev.code === 4403) { stopped = true; setConn("stopped", "您已无权查看此资料请求。"); return; }
      schedule();
    };
  }

  function schedule() {
    if (stopped || timer) { return; }
    attempt += 1;
    var ceiling = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
    setConn("reconnecting", "对话连接已断开，正在重连…（消息不会丢失，重连后自动补齐）");
    timer = setTimeout(connect, Math.round(Math.random() * ceiling));
  }

  function reconnectNow() {
    if (stopped || ws) { return; }
    if (timer) { clearTimeout(timer); timer = null; }
    connect();
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { reconnectNow(); markRead(); }
  });
  window.addEventListener("focus", markRead);
  window.addEventListener("pagehide", function () { stopped = true; if (ws) { ws.close(1000); } });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { stopped = false; attempt = 0; reconnectNow(); } });

  // --- Sending ---------------------------------------------------------------------------------------------

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return me + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  function sendPending(id) {
    var p = pending[id];
    if (p && ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: "send", text: p.text, client_msg_id: id }));
    }
  }

  function resendPending() {
    // Unacknowledged messages go again with the same id: the server stores each id once.
    Object.keys(pending).forEach(function (id) { if (!pending[id].el.classList.contains("acked")) { sendPending(id); } });
  }

  function sendText(text) {
    var id = newClientId();
    var node = el("div", "chat-msg mine pending" + (side === "clerk" ? " by-clerk" : " by-collector"));
    node.dataset.clientMsgId = id;
    var meta = el("div", "chat-meta", "发送中…");
    node.appendChild(meta);
    var bubble = el("div", "chat-bubble");
    bubble.appendChild(el("div", "chat-text", text));
    node.appendChild(bubble);
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.remove(); }
    log.appendChild(node);
    scrollDown();
    pending[id] = { text: text, el: node };
    sendPending(id);
  }

  if (form) {
    // htmx asks before every request: plain text travels over the open socket instead of a POST.
    form.addEventListener("htmx:confirm", function (e) {
      var hasFile = fileInput && fileInput.files && fileInput.files.length > 0;
      var text = textarea ? textarea.value.trim() : "";
      if (!hasFile && !text) {
        e.preventDefault();
        showError("请输入消息内容或选择附件");
        return;
      }
      if (!hasFile && ws && ws.readyState === 1) {
        e.preventDefault();
        showError("");
        sendText(text);
        textarea.value = "";
        textarea.focus();
        return;
      }
      form.querySelector("input[name=client_msg_id]").value = newClientId();
      form.classList.add("uploading");
      var btn = document.getElementById("chat-send");
      if (btn) { btn.textContent = hasFile ? "上传中…" : "发送中…"; btn.disabled = true; }
    });
    form.addEventListener("htmx:afterRequest", function () {
      form.classList.remove("uploading");
      var btn = document.getElementById("chat-send");
      if (btn) { btn.textContent = "发送"; btn.disabled = status === "closed"; }
    });
    document.body.addEventListener("chat:posted", function () {
      // The POST stored the message; it appears through the broadcast (or the next replay).
      form.reset();
      if (fileName) { fileName.textContent = FILE_HINT; fileName.classList.remove("chosen"); }
    });
    if (textarea) {
      textarea.addEventListener("keydown", function (e) {
        // Enter sends; Shift+Enter is a new line; Enter that confirms a pinyin candidate (IME) does neither.
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          if (form.requestSubmit) { form.requestSubmit(); } else { window.htmx.trigger(form, "submit"); }
        }
      });
      textarea.addEventListener("input", function () {
        var now = Date.now();
        if (textarea.value && ws && ws.readyState === 1 && now - lastTypingSent > 2000) {
          lastTypingSent = now;
          ws.send(JSON.stringify({ type: "typing" }));
        }
      });
    }
    if (fileInput && fileName) {
      fileInput.addEventListener("change", function () {
        var f = fileInput.files && fileInput.files[0];
        fileName.textContent = f ? "已选择：" + f.name + "（" + humanSize(f.size) + "），点击“发送”上传" : FILE_HINT;
        fileName.classList.toggle("chosen", !!f);
      });
    }
  }

  log.querySelectorAll("time[datetime]").forEach(function (t) { var s = fmtTime(t.getAttribute("datetime")); if (s) { t.textContent = s; } });
  scrollDown();
  connect();
})();
