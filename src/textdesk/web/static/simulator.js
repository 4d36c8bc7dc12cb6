// The phone simulator's small behaviours; htmx does the talking to the server.
(function () {
  "use strict";

  const thread = document.getElementById("thread");
  const compose = document.getElementById("compose");
  const body = document.getElementById("body");
  const file = document.getElementById("file");
  const who = document.getElementById("who");
  const notice = document.getElementById("notice");
  const attachment = document.getElementById("attachment");
  const attachmentName = document.getElementById("attachment-name");
  let offline = false;

  // Times come from the server in UTC; people read their own clock.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        el.title = when.toLocaleString();
      }
    });
  }

  function toBottom() { thread.scrollTop = thread.scrollHeight; }

  function showNotice(text) {
    notice.textContent = text;  // textContent: server text is never parsed as HTML
    notice.hidden = !text;
  }

  function showAttachment() {
    const chosen = file.files && file.files[0];
    attachment.hidden = !chosen;
    attachmentName.textContent = chosen ? "📎 " + chosen.name + " (" + (chosen.type || "unknown type") + ")" : "";
  }

  function grow() {
    body.style.height = "auto";
    body.style.height = body.scrollHeight + 2 + "px";
  }

  // Remember who is texting which number in the address bar, so a reload keeps
  // the conversation (a "new guest" is only new once).
  function remember() {
    const data = new FormData(who);
    const query = new URLSearchParams();
    for (const [name, value] of data) query.set(name, value);
    history.replaceState(null, "", "?" + query.toString());
    const label = document.getElementById("number-label");
    if (label && data.get("number")) label.textContent = data.get("number");
  }

  localTimes(thread);
  toBottom();

  // Images arrive after the swap and push the last text out of view.
  thread.addEventListener("load", function (event) {
    if (event.target.tagName === "IMG") toBottom();
  }, true);

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === thread) {
      localTimes(thread);
      toBottom();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && offline) {
      offline = false;
      showNotice("");
    }
    if (event.detail.elt === compose && event.detail.successful) {
      compose.reset();
      showAttachment();
      grow();
      showNotice("");
      body.focus();
    }
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    let text = xhr.responseText || "error " + xhr.status;
    try {
      const detail = JSON.parse(text).detail;  // FastAPI's error shape
      if (typeof detail === "string") text = detail;
    } catch (ignored) { /* plain text already */ }
    showNotice(text.slice(0, 300));
  });

  document.body.addEventListener("htmx:sendError", function () {
    offline = true;
    showNotice("textdesk is not answering; retrying…");
  });

  body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (body.value.trim() || (file.files && file.files.length)) compose.requestSubmit();
    }
  });
  body.addEventListener("input", grow);
  file.addEventListener("change", showAttachment);
  document.getElementById("attachment-clear").addEventListener("click", function () {
    file.value = "";
    showAttachment();
  });
  who.addEventListener("change", remember);
})();
