/* 实时连接: one websocket per page to /ws/live/.
 *
 * - Catches up: connects with ?after=<last event id seen>; the page starts from the id it was rendered
 *   with (meta rt-after), a reconnect from the last id this tab received (kept in sessionStorage).
 * - Reconnects with exponential backoff and full jitter; stops on 4401 (signed out) and 4403 (forbidden).
 * - Every server message {type, ...} becomes a DOM CustomEvent "rt:<type>" on document, detail = message;
 *   a frame {type: "realtime.batch", messages: [...]} (a burst of dashboard events) carries several, in order.
 *   Stored events carry event_id; duplicates (replay + live) are dropped here by id.
 * - window.Realtime.send(obj), .subscribe(topic), .unsubscribe(topic), .lastEventId, .state
 */
(function () {
  "use strict";
  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") || "" : "";
  };
  var userId = meta("rt-user");
  if (!userId || !("WebSocket" in window)) { return; }

  var storeKey = "rt:last:" + userId;
  var pageAfter = parseInt(meta("rt-after"), 10) || 0;
  var stored = 0;
  try { stored = parseInt(sessionStorage.getItem(storeKey), 10) || 0; } catch (e) { /* private mode */ }
  var lastEventId = Math.max(pageAfter, stored);
  var topics = meta("rt-topics").split(/[\s,]+/).filter(Boolean);

  var BASE_DELAY = 1000, MAX_DELAY = 30000;
  var socket = null, attempt = 0, timer = null, stopped = false, queue = [], state = "connecting";

  function emit(type, detail) {
    document.dispatchEvent(new CustomEvent("rt:" + type, { detail: detail }));
  }

  function setState(next, text) {
    state = next;
    var el = document.getElementById("rt-status");
    if (el) {
      el.className = "rt-status rt-" + next;
      var t = el.querySelector(".rt-status-text");
      if (t) { t.textContent = text; }
      el.title = text;
    }
    emit("state", { state: next, text: text });
  }

  function remember(id) {
    if (id > lastEventId) {
      lastEventId = id;
      try { sessionStorage.setItem(storeKey, String(id)); } catch (e) { /* ignore */ }
    }
  }

  function url() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var q = "?after=" + encodeURIComponent(lastEventId);
    if (topics.length) { q += "&topics=" + encodeURIComponent(topics.join(",")); }
    return proto + location.host + "/ws/live/" + q;
  }

  function connect() {
    timer = null;
    if (stopped) { return; }
    setState(attempt ? "reconnecting" : "connecting", attempt ? "正在重连…" : "正在连接…");
    var ws;
    try { ws = new WebSocket(url()); } catch (e) { schedule(); return; }
    socket = ws;
    ws.onopen = function () {
      setState("open", "实时连接正常");
      emit("open", { attempt: attempt });
      // Only a connection that stays up resets the backoff (a server that accepts then drops must not loop fast).
      setTimeout(function () { if (socket === ws && ws.readyState === 1) { attempt = 0; } }, 5000);
      while (queue.length && ws.readyState === 1) { ws.send(queue.shift()); }
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && msg.type === "realtime.batch" && Array.isArray(msg.messages)) {
        msg.messages.forEach(handle);  // a burst the server wrote as one frame: each in order
        return;
      }
      handle(msg);
    };
    ws.onclose = function (ev) {
      if (socket !== ws) { return; }
      socket = null;
      emit("close", { code: ev.code });
      if (ev.code === 4401) {
        stopped = true;
        setState("stopped", "登录已失效，请刷新页面重新登录");
        return;
      }
      if (ev.code === 4403) {
        stopped = true;
        setState("stopped", "无权接收该页面的实时数据");
        return;
      }
      schedule();
    };
  }

  function handle(msg) {
    if (!msg || typeof msg.type !== "string") { return; }
    if (typeof msg.event_id === "number") {
      if (msg.event_id <= lastEventId) { return; }
      remember(msg.event_id);
    }
    if (msg.type === "realtime.replayed" && typeof msg.last_event_id === "number") {
      remember(msg.last_event_id);
      // Away for longer than the server replays: the page's state is stale, render it afresh.
      if (msg.truncated) { location.reload(); return; }
    }
    emit(msg.type, msg);
  }

  function schedule() {
    if (stopped || timer) { return; }
    attempt += 1;
    var ceiling = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, attempt - 1));
    var delay = Math.round(Math.random() * ceiling);  // full jitter: spread a server restart's reconnects
    setState("reconnecting", "正在重连…");
    timer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (stopped || socket) { return; }
    if (timer) { clearTimeout(timer); timer = null; }
    connect();
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { reconnectNow(); } });
  window.addEventListener("pagehide", function () { stopped = true; if (socket) { socket.close(1000); } });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { stopped = false; attempt = 0; reconnectNow(); }  // back/forward cache restored the page
  });

  window.Realtime = {
    send: function (obj) {
      var data = JSON.stringify(obj);
      if (socket && socket.readyState === 1) { socket.send(data); return true; }
      if (queue.length < 50) { queue.push(data); }
      return false;
    },
    subscribe: function (topic) {
      if (topics.indexOf(topic) < 0) { topics.push(topic); }
      return this.send({ action: "subscribe", topic: topic });
    },
    unsubscribe: function (topic) {
      topics = topics.filter(function (t) { return t !== topic; });
      return this.send({ action: "unsubscribe", topic: topic });
    },
    get lastEventId() { return lastEventId; },
    get state() { return state; },
    on: function (type, fn) { document.addEventListener("rt:" + type, function (e) { fn(e.detail, e); }); }
  };
  connect();
})();
