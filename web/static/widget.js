/*
 * Balancecoach chat widget.
 *
 * One file for both uses: on the coach's own page it fills <main id="balancecoach">; on any other page,
 * loaded with one <script> tag, it adds a launcher button and a chat panel. It finds the coach's server
 * from its own URL (document.currentScript), so the embedding page needs no configuration.
 *
 * - Conversation: the server issues it (POST /webhooks/rest/session -> sender id and token); the token goes
 *   with every message, over socket.io (session_request) or the REST webhook (Authorization: Bearer), so
 *   only this browser reaches this conversation.
 * - Transport: Rasa's socket.io channel, and the REST webhook when socket.io cannot connect. Both carry the
 *   same conversation, so it is one conversation whichever carries it.
 * - Privacy: id, token and transcript live in sessionStorage — gone when the browser closes, never shared
 *   with another tab or browser profile — and "slet mine data" clears them and starts a new conversation.
 * - Safety: every text from the leader or the coach is put in the page with textContent, never as HTML;
 *   the balance picture is fetched by id with the token and shown from a blob: URL.
 * - The Danish the widget shows comes from the server's tekster.json (web/tekster.json), fetched once.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__balancecoach) return;
  window.__balancecoach = true;

  var SCRIPT_URL = new URL(script.src, document.baseURI);
  var STATIC = new URL("./", SCRIPT_URL).href; // …/webhooks/webchat/static/
  var BASE = new URL("../", STATIC).href; //        …/webhooks/webchat/
  var ORIGIN = SCRIPT_URL.origin;
  var REST_URL = ORIGIN + "/webhooks/rest/webhook";
  var SESSION_URL = ORIGIN + "/webhooks/rest/session";
  var PICTURE_URL = ORIGIN + "/webhooks/rest/billede/";
  var STORE_KEY = "balancecoach:v2:" + ORIGIN;
  var MAX_ENTRIES = 300;
  var SOCKET_WAIT_MS = 6000; // how long socket.io may take to confirm a session before REST takes over
  var TYPING_LINGER_MS = 600; // bot messages come one by one: keep the indicator until they pause
  var PICTURE_ID = /^[0-9a-f]{8,64}$/;

  var T = {}; // Danish UI text, from tekster.json
  var ui = {};
  var state = loadState();
  var transport = null; // "socket" | "rest" once a channel works
  var socket = null;
  var queue = []; // messages typed before a channel was ready
  var typingTimer = null;
  var pending = 0;

  // ---------------------------------------------------------------------------------------------------
  // State kept in sessionStorage (this tab, until the browser closes): the conversation's id and token and
  // the transcript, so a reload continues the conversation but the next person at a shared PC does not.

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function loadState() {
    try {
      var saved = JSON.parse(storage().getItem(STORE_KEY) || "null");
      if (saved && typeof saved.sender === "string" && typeof saved.token === "string" &&
          Array.isArray(saved.entries)) {
        return saved;
      }
    } catch (e) { /* no storage (private mode) or a damaged entry: start afresh */ }
    return { sender: null, token: null, entries: [], open: false };
  }

  function saveState() {
    state.entries = state.entries.slice(-MAX_ENTRIES);
    try {
      storage().setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* storage full or unavailable: the conversation still works, it just won't survive a reload */ }
  }

  // The old widget kept transcripts in localStorage without expiry: remove any left on this PC.
  try { window.localStorage.removeItem("balancecoach:v1:" + ORIGIN); } catch (e) { /* no storage */ }

  function openSession(done) {
    fetch(SESSION_URL, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
                         credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (opened) {
        if (typeof opened.sender !== "string" || typeof opened.token !== "string") throw new Error("session");
        state.sender = opened.sender;
        state.token = opened.token;
        saveState();
        done(true);
      })
      .catch(function () { done(false); });
  }

  // A new conversation in this browser: the old one's id, token and transcript are forgotten.
  function forget(keepOpen) {
    state = { sender: null, token: null, entries: [], open: keepOpen };
    try { storage().removeItem(STORE_KEY); } catch (e) { /* no storage */ }
  }

  // ---------------------------------------------------------------------------------------------------
  // Building the widget. Elements only; text always through textContent.

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function build() {
    var host = document.getElementById("balancecoach");
    var embedded = !host;
    if (embedded) {
      var style = el("link", { rel: "stylesheet", href: STATIC + "widget.css" });
      document.head.appendChild(style);
      host = el("div", { class: "bc-embed" });
      document.body.appendChild(host);
    }
    var root = el("section", { class: "bc-root" + (embedded ? " bc-floating" : " bc-inline"),
                               "aria-labelledby": "bc-title", lang: "da" });
    ui.root = root;
    var header = el("header", { class: "bc-header" });
    var heading = el("div", { class: "bc-heading" });
    heading.appendChild(el("h2", { id: "bc-title", class: "bc-title" }, T.titel));
    heading.appendChild(el("p", { class: "bc-subtitle" }, T.undertitel));
    header.appendChild(heading);
    var actions = el("div", { class: "bc-header-actions" });
    ui.restart = el("button", { type: "button", class: "bc-restart" }, T.start_forfra);
    ui.restart.addEventListener("click", restart);
    actions.appendChild(ui.restart);
    if (embedded) {
      ui.close = el("button", { type: "button", class: "bc-close", "aria-label": T.luk, title: T.luk }, "×");
      ui.close.addEventListener("click", function () { setOpen(false); });
      actions.appendChild(ui.close);
    }
    header.appendChild(actions);
    root.appendChild(header);

    ui.log = el("div", { class: "bc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
                         "aria-label": T.samtale, tabindex: "0" });
    root.appendChild(ui.log);

    ui.typing = el("div", { class: "bc-typing", role: "status", "aria-live": "polite" });
    root.appendChild(ui.typing);

    var form = el("form", { class: "bc-form", novalidate: "" });
    var label = el("label", { for: "bc-input", class: "bc-visually-hidden" }, T.input_label);
    ui.input = el("textarea", { id: "bc-input", class: "bc-input", rows: "2", maxlength: "4000",
                                placeholder: T.input_pladsholder, autocomplete: "off" });
    ui.send = el("button", { type: "submit", class: "bc-send" }, T.send);
    form.appendChild(label);
    form.appendChild(ui.input);
    form.appendChild(ui.send);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitInput();
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitInput();
      }
    });
    root.appendChild(form);
    ui.status = el("p", { class: "bc-status" }, T.forbinder);
    root.appendChild(ui.status);

    if (embedded) {
      ui.launcher = el("button", { type: "button", class: "bc-launcher", "aria-controls": "bc-panel",
                                   "aria-expanded": "false" }, T.aabn);
      ui.launcher.addEventListener("click", function () { setOpen(!state.open); });
      root.id = "bc-panel";
      root.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { setOpen(false); ui.launcher.focus(); }
      });
      host.appendChild(ui.launcher);
      host.appendChild(root);
      setOpen(!!state.open, true);
    } else {
      var noscript = host.querySelector("noscript");
      if (noscript) host.removeChild(noscript);
      host.appendChild(root);
    }
    state.entries.forEach(function (entry, index) { render(entry, index); });
    scrollDown();
    connect();
  }

  function setOpen(open, quiet) {
    state.open = open;
    ui.root.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.launcher.textContent = open ? T.luk : T.aabn;
    if (!quiet) saveState();
    if (open && !quiet) ui.input.focus();
  }

  // ---------------------------------------------------------------------------------------------------
  // Rendering transcript entries: {k: "u", text} | {k: "b", text, buttons} | {k: "p", picture}.

  function render(entry, index) {
    var node;
    if (entry.k === "p") {
      node = renderPicture(entry.picture);
    } else {
      var mine = entry.k === "u";
      node = el("div", { class: "bc-msg " + (mine ? "bc-user" : "bc-bot") });
      node.appendChild(el("span", { class: "bc-visually-hidden" }, (mine ? T.du : T.coach) + ": "));
      node.appendChild(el("span", { class: "bc-text" }, entry.text));
      if (!mine && entry.buttons && entry.buttons.length) {
        var group = el("div", { class: "bc-buttons", role: "group", "aria-label": T.svarmuligheder });
        var answered = state.entries.slice(index + 1).some(function (e) { return e.k === "u"; });
        entry.buttons.forEach(function (button) {
          var b = el("button", { type: "button", class: "bc-choice" }, button.title);
          if (answered) b.disabled = true;
          b.addEventListener("click", function () {
            send(button.payload, button.title);
          });
          group.appendChild(b);
        });
        node.appendChild(group);
      }
    }
    node.setAttribute("data-entry", String(index));
    ui.log.appendChild(node);
  }

  function renderPicture(picture) {
    var figure = el("figure", { class: "bc-picture" });
    var img = el("img", { alt: picture.beskrivelse || T.billede_titel, class: "bc-picture-img" });
    figure.appendChild(img);
    var caption = el("figcaption", { class: "bc-picture-caption" });
    caption.appendChild(el("span", { class: "bc-picture-title" }, T.billede_titel));
    var name = /^[A-Za-z0-9_-]{1,60}$/.test(picture.filnavn || "") ? picture.filnavn : "balancebillede";
    var svgLink = el("a", { download: name + ".svg", class: "bc-download" }, T.hent_svg);
    var pngLink = el("a", { download: name + ".png", class: "bc-download" }, T.hent_png);
    caption.appendChild(svgLink);
    caption.appendChild(pngLink);
    figure.appendChild(caption);
    fetchPicture(picture.id, "svg", function (url) {
      if (!url) { figure.replaceChild(el("p", { class: "bc-picture-text" }, img.alt), img); return; }
      img.addEventListener("load", scrollDown); // it arrives after its place in the log was made
      img.src = url;
      svgLink.href = url;
    });
    fetchPicture(picture.id, "png", function (url) {
      if (url) pngLink.href = url; else caption.removeChild(pngLink);
    });
    return figure;
  }

  // The picture is the conversation's: fetched with its token, shown from a blob: URL.
  function fetchPicture(id, kind, done) {
    fetch(PICTURE_URL + id + "." + kind, { headers: { Authorization: "Bearer " + state.token },
                                          credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.blob();
      })
      .then(function (blob) { done(URL.createObjectURL(blob)); })
      .catch(function () { done(null); });
  }

  function disableOldChoices() {
    Array.prototype.forEach.call(ui.log.querySelectorAll(".bc-choice"), function (b) { b.disabled = true; });
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function add(entry) {
    state.entries.push(entry);
    if (entry.k === "u") disableOldChoices();
    render(entry, state.entries.length - 1);
    saveState();
    scrollDown();
  }

  // ---------------------------------------------------------------------------------------------------
  // Messages from the coach, in either channel's shape.

  function dataOf(message) {
    var custom = message && (message.custom || message);
    return (custom && (custom.data || custom)) || {};
  }

  function pictureOf(message) {
    var p = dataOf(message).balancebillede;
    if (!p || typeof p.id !== "string" || !PICTURE_ID.test(p.id)) return null;
    return {
      id: p.id,
      filnavn: typeof p.filnavn === "string" ? p.filnavn : "balancebillede",
      beskrivelse: typeof p.beskrivelse === "string" ? p.beskrivelse : ""
    };
  }

  function receive(message) {
    if (!message || typeof message !== "object") return;
    if (dataOf(message).samtale_slettet === true) { deleted(message.text || lastBotText()); return; }
    var buttons = (message.quick_replies || message.buttons || [])
      .filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
      .map(function (b) { return { title: b.title, payload: b.payload }; });
    if (typeof message.text === "string" && message.text.trim()) {
      add({ k: "b", text: message.text, buttons: buttons });
    }
    var picture = pictureOf(message);
    if (picture) add({ k: "p", picture: picture });
    lingerTyping();
  }

  // socket.io delivers a reply's text and its custom data as two messages: the text came just before.
  function lastBotText() {
    for (var i = state.entries.length - 1; i >= 0; i--) {
      if (state.entries[i].k === "b") return state.entries[i].text;
      if (state.entries[i].k === "u") break;
    }
    return "";
  }

  // The server deleted the conversation: so does the browser. The confirmation is shown, not kept, and a
  // new conversation (new id and token) takes over, so a reload starts fresh.
  function deleted(text) {
    hideTyping();
    forget(state.open);
    ui.log.textContent = "";
    var note = el("div", { class: "bc-msg bc-bot" });
    note.appendChild(el("span", { class: "bc-visually-hidden" }, T.coach + ": "));
    note.appendChild(el("span", { class: "bc-text" }, text || ""));
    ui.log.appendChild(note);
    transport = null;
    if (socket) { socket.close(); socket = null; }
    connect(true);
  }

  // ---------------------------------------------------------------------------------------------------
  // Typing indicator: on while the coach is working, off when its messages pause.

  function showTyping() {
    clearTimeout(typingTimer);
    ui.typing.textContent = T.skriver;
    ui.typing.classList.add("bc-on");
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.textContent = "";
    ui.typing.classList.remove("bc-on");
  }

  function lingerTyping() {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { if (pending === 0) hideTyping(); }, TYPING_LINGER_MS);
  }

  // ---------------------------------------------------------------------------------------------------
  // Sending.

  function submitInput() {
    var text = ui.input.value.trim();
    if (!text) {
      ui.input.setAttribute("aria-invalid", "true");
      ui.input.setAttribute("placeholder", T.tom);
      return;
    }
    ui.input.removeAttribute("aria-invalid");
    ui.input.setAttribute("placeholder", T.input_pladsholder);
    ui.input.value = "";
    send(text, text);
    ui.input.focus();
  }

  // `shown` is what the transcript shows as the leader's message (the button title for a button), or
  // null for messages the leader did not type (the greeting, "start forfra").
  function send(message, shown) {
    if (shown !== null) add({ k: "u", text: shown });
    showTyping();
    if (!transport) { queue.push(message); return; }
    deliver(message);
  }

  function deliver(message) {
    if (transport === "socket") {
      socket.emit("user_uttered", { message: message, session_id: state.sender });
      lingerTypingAfter(15000);
      return;
    }
    pending += 1;
    fetch(REST_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token },
      credentials: "omit",
      body: JSON.stringify({ sender: state.sender, message: message })
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { expired(); return []; }
      if (!response.ok && response.status !== 429) throw new Error(String(response.status));
      return response.json();  // 429 carries the coach's "vent lidt" as a message
    }).then(function (messages) {
      pending -= 1;
      (Array.isArray(messages) ? messages : []).forEach(receive);
      lingerTyping();
    }).catch(function () {
      pending -= 1;
      hideTyping();
      add({ k: "b", text: T.fejl, buttons: [] });
    });
  }

  function lingerTypingAfter(ms) {
    // With socket.io nothing says "done": give up the indicator if the coach stays silent this long.
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, ms);
  }

  function restart() {
    state.entries = [];
    saveState();
    ui.log.textContent = "";
    send("/start_forfra", null);
    ui.input.focus();
  }

  // The token ran out (or the server's secret changed): a new conversation, said plainly.
  function expired() {
    forget(state.open);
    ui.log.textContent = "";
    add({ k: "b", text: T.udloebet, buttons: [] });
    transport = null;
    if (socket) { socket.close(); socket = null; }
    connect(true);
  }

  // ---------------------------------------------------------------------------------------------------
  // Channels: socket.io first, REST when it cannot connect.

  function ready(kind, quiet) {
    if (transport) return;
    transport = kind;
    ui.status.textContent = kind === "socket" ? T.forbundet : T.reserve;
    ui.root.setAttribute("data-transport", kind);
    document.documentElement.setAttribute("data-balancecoach", kind);
    if (state.entries.length === 0 && queue.length === 0) {
      if (!quiet) send("/hilse", null);
      return;
    }
    var waiting = queue;
    queue = [];
    waiting.forEach(deliver);
  }

  // `quiet`: after a deletion or an expired token the coach does not greet again unasked.
  function connect(quiet) {
    if (!state.token) {
      openSession(function (ok) {
        if (ok) { connect(quiet); return; }
        ui.status.textContent = T.fejl;
        setTimeout(function () { connect(quiet); }, 5000);
      });
      return;
    }
    var fallback = setTimeout(function () { useRest(); }, SOCKET_WAIT_MS);
    function useRest() {
      clearTimeout(fallback);
      if (transport) return;
      if (socket) { socket.close(); socket = null; }
      ready("rest", quiet);
    }
    withSocketIo(function (io) {
      if (!io) { useRest(); return; }
      socket = io(ORIGIN, { path: "/socket.io", transports: ["websocket", "polling"], reconnectionAttempts: 3,
                            timeout: 4000, withCredentials: false });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: state.sender, token: state.token });
      });
      socket.on("session_refused", function () {
        clearTimeout(fallback);
        if (socket) { socket.close(); socket = null; }
        expired();
      });
      socket.on("session_confirm", function (id) {
        var confirmed = typeof id === "string" ? id : id && id.session_id;
        if (confirmed !== state.sender) { useRest(); return; }
        clearTimeout(fallback);
        ready("socket", quiet);
      });
      socket.on("bot_uttered", function (message) {
        if (transport === "socket") receive(message);
      });
      socket.io.on("reconnect_failed", function () {
        if (transport !== "socket") { useRest(); return; }
        transport = "rest"; // the server went away after working: carry on over REST, same session
        ui.status.textContent = T.reserve;
        ui.root.setAttribute("data-transport", "rest");
      });
    });
  }

  function withSocketIo(callback) {
    if (typeof window.io === "function") { callback(window.io); return; }
    var tag = el("script", { src: STATIC + "vendor/socket.io.min.js" });
    tag.onload = function () { callback(typeof window.io === "function" ? window.io : null); };
    tag.onerror = function () { callback(null); };
    document.head.appendChild(tag);
  }

  // ---------------------------------------------------------------------------------------------------

  function start() {
    fetch(BASE + "tekster.json").then(function (r) { return r.json(); }).then(function (texts) {
      T = texts;
      build();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
