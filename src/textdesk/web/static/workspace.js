// The Agent Workspace in the browser.  The server renders everything; this file
// listens to the live event stream and asks htmx to re-fetch what changed, keeps
// wait times ticking, and runs the composer's tabs.
(function () {
  "use strict";

  const root = document.querySelector(".ws");
  if (!root) return;
  const current = root.dataset.current ? Number(root.dataset.current) : null;
  const notice = document.getElementById("notice");
  const liveStatus = document.getElementById("live-status");
  let noticeTimer = null;

  function showNotice(text) {
    notice.textContent = text; // textContent: server text is never parsed as HTML
    notice.hidden = !text;
    clearTimeout(noticeTimer);
    if (text) noticeTimer = setTimeout(function () { notice.hidden = true; }, 10000);
  }

  function setLive(text, ok) {
    liveStatus.textContent = text;
    liveStatus.classList.toggle("ok", ok);
  }

  // --- times: the server sends UTC; people read their own clock and a ticking wait.

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m " + String(seconds % 60).padStart(2, "0") + "s";
    return Math.floor(seconds / 3600) + "h " + String(Math.floor(seconds % 3600 / 60)).padStart(2, "0") + "m";
  }

  function localTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        el.title = when.toLocaleString();
      }
    });
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      const since = Date.parse(el.dataset.since);
      if (!isNaN(since)) el.textContent = duration((now - since) / 1000);
    });
    const reminders = document.querySelectorAll("#inbox .mine .badge.reminder").length;
    document.title = document.title.replace(/^\(\d+\) /, "");
    if (reminders) document.title = "(" + reminders + ") " + document.title;
  }

  // --- live updates: each event is a hint; the page re-fetches through normal routes.

  const pending = {};
  function soon(key, fn) {
    // Coalesce bursts (a texter's three texts, a delivery report per message).
    clearTimeout(pending[key]);
    pending[key] = setTimeout(fn, 80);
  }

  function refreshInbox() {
    if (!document.getElementById("inbox")) return; // the designer's pages have none
    soon("inbox", function () {
      htmx.ajax("GET", "/workspace/inbox" + (current ? "?current=" + current : ""),
        { target: "#inbox", swap: "innerHTML" });
    });
  }

  function refreshConversation() {
    if (!current || !document.getElementById("transcript")) return;
    soon("conversation", function () {
      htmx.ajax("GET", "/workspace/conversations/" + current + "/live",
        { target: "#transcript", swap: "innerHTML" });
    });
  }

  let source = null;
  let opened = false;
  function connect() {
    source = new EventSource("/workspace/events");
    source.onopen = function () {
      setLive("live", true);
      // After a reconnect, catch up on whatever happened while the stream was down.
      if (opened) { refreshInbox(); refreshConversation(); }
      opened = true;
    };
    source.onmessage = function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      refreshInbox();
      if (current && event.conversation_id === current) refreshConversation();
    };
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) { setLive("reconnecting…", false); return; }
      // Refused outright (signed out, or the server is down): find out which.
      setLive("offline", false);
      fetch("/workspace/inbox", { credentials: "same-origin" }).then(function (response) {
        if (response.status === 401) window.location.assign("/workspace/login?next=" + encodeURIComponent(location.pathname));
        else setTimeout(connect, 3000);
      }, function () { setTimeout(connect, 3000); });
    };
  }

  // --- the conversation's shape: accepted, ended or moved elsewhere re-renders it whole.

  function conversationState() {
    const head = document.getElementById("conv-head");
    return head ? head.dataset.state : null;
  }
  let shownState = conversationState();

  function transcriptToBottom() {
    const transcript = document.getElementById("transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
  }

  // An agent scrolled up to read history keeps their place when new lines arrive.
  let followTranscript = true;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "transcript") {
      followTranscript = target.scrollHeight - target.scrollTop - target.clientHeight < 80;
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    localTimes(document);
    tick();
    const state = conversationState();
    if (state !== shownState && document.getElementById("conversation")) {
      shownState = state;
      htmx.ajax("GET", location.pathname, { target: "#conversation", select: "#conversation", swap: "outerHTML" });
      return;
    }
    const target = event.detail.target;
    if (target && target.id === "transcript" && (followTranscript || (event.detail.requestConfig && event.detail.requestConfig.verb === "post"))) {
      transcriptToBottom();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (event.detail.successful && form.tagName === "FORM" && form.hasAttribute("data-reset")) {
      form.reset();
      const body = form.querySelector("textarea");
      if (body) htmx.trigger(body, "input");
    }
    if (event.detail.successful) showNotice("");
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    if (xhr.status === 401) {
      window.location.assign("/workspace/login?next=" + encodeURIComponent(location.pathname));
      return;
    }
    let text = xhr.responseText || "Something went wrong (" + xhr.status + ").";
    try { text = JSON.parse(text).detail || text; } catch (e) { /* plain text already */ }
    showNotice(text);
  });

  document.body.addEventListener("htmx:sendError", function () {
    showNotice("The server cannot be reached; try again in a moment.");
  });

  // --- composer: tabs, and Ctrl+Enter to send.

  document.body.addEventListener("click", function (event) {
    const tab = event.target.closest(".composer .tab");
    if (!tab) return;
    tab.closest(".composer").querySelectorAll(".tab").forEach(function (other) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      document.getElementById(other.dataset.pane).hidden = !selected;
    });
  });

  document.body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.id === "reply-body") {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  localTimes(document);
  tick();
  transcriptToBottom();
  setInterval(tick, 1000);
  connect();
})();
