/* Frontdoor web chat. Plain script, no framework, no storage: the only state is in
   these variables, and it is gone when the tab is. Protocol: see bot/channels/webchat.py. */
(function () {
  "use strict";
  var NUMBER = "0300 131 2789";
  var log = document.getElementById("log");
  var options = document.getElementById("options");
  var status = document.getElementById("status");
  var form = document.getElementById("send");
  var input = document.getElementById("text");
  var exitLink = document.getElementById("exit");
  var exitUrl = exitLink.getAttribute("data-exit");
  var ws = null, token = null, ended = false, leaving = false, retry = 0, lastEsc = 0;

  function say(text, who, kind, lang) {
    var p = document.createElement("p");
    p.className = "msg " + who + (kind === "emergency" ? " emergency" : "");
    if (lang) { p.lang = lang; }  /* Welsh replies are read out in Welsh */
    p.textContent = text;
    log.appendChild(p);
    p.scrollIntoView({block: "end"});
  }

  function showOptions(list, lang) {
    options.textContent = "";
    options.lang = lang || "en";
    (list || []).forEach(function (o) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = o.label;
      b.addEventListener("click", function () { choose(o); });
      options.appendChild(b);
    });
  }

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    status.textContent = "Not connected. Call " + NUMBER + ", any time. In danger now: 999.";
    return false;
  }

  function choose(o) {
    if (send({type: "choice", id: o.id})) { say(o.label, "me"); showOptions([]); }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/chat/ws");
    ws.onopen = function () {
      retry = 0;
      status.textContent = "";
      ws.send(JSON.stringify(token ? {type: "resume", token: token} : {type: "start"}));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "session") { token = frame.token; }
      else if (frame.type === "replies") {
        frame.replies.forEach(function (r) { say(r.text, "bot", r.kind, r.lang); });
        var last = frame.replies[frame.replies.length - 1];
        showOptions(last ? last.options : [], last && last.lang);
      }
      else if (frame.type === "error") { say(frame.text, "bot"); }
      else if (frame.type === "contact") { download(frame.url); }
      else if (frame.type === "ended") { ended = true; token = null; }
    };
    ws.onclose = function () {
      if (leaving) { return; }
      if (ended) {
        ended = false;
        status.textContent = "This conversation has ended and was cleared. Type anything to start again.";
        setTimeout(connect, 200);
        return;
      }
      status.textContent = "Connection lost, trying again. You can always call " + NUMBER + ". In danger now: 999.";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * Math.pow(2, retry));
    };
  }

  function download(url) {
    var a = document.createElement("a");
    a.href = url;
    a.download = "contact.vcf";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function quickExit(event) {
    if (event) { event.preventDefault(); }
    leaving = true;
    if (token && navigator.sendBeacon) { navigator.sendBeacon("/chat/exit", token); }
    if (ws && ws.readyState === 1) { try { ws.send(JSON.stringify({type: "exit"})); } catch (e) { /* leaving anyway */ } }
    log.textContent = "";
    location.replace(exitUrl);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    if (send({type: "message", text: text})) { say(text, "me"); input.value = ""; showOptions([]); }
  });
  exitLink.addEventListener("click", quickExit);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEsc < 1000) { quickExit(event); }
    lastEsc = now;
  });
  connect();
  input.focus();
})();
