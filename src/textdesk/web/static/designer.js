// The topic designer in the browser.  The server checks, costs, saves and renders;
// this file keeps the YAML editor comfortable (line numbers, marks on the lines the
// checks name, Tab to indent), knows whether there are unsaved changes, runs the
// tabs, and lets the designer's refusals (a stale save, an invalid draft) show as
// the fragments the server sends with them.
(function () {
  "use strict";

  // Confirm before a destructive plain form (the list's Delete).
  document.body.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  const designer = document.getElementById("designer");
  if (!designer) return;
  const source = document.getElementById("source");
  const gutter = document.getElementById("gutter");
  let savedText = source.value;
  let sending = null;

  // --- refusals that carry a fragment: swap them like a success, without the notice bar.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && designer.contains(event.detail.elt)) {
      const type = event.detail.xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    }
  });

  // --- unsaved changes.
  function dirty() { return source.value !== savedText; }
  function showDirty() {
    const mark = document.getElementById("dirty");
    if (mark) mark.hidden = !dirty();
    const publish = document.getElementById("publish");
    if (publish) {
      publish.disabled = dirty();
      publish.title = dirty() ? "Save the draft first: what is published is the saved draft" : "";
    }
  }
  window.addEventListener("beforeunload", function (event) {
    if (dirty()) { event.preventDefault(); event.returnValue = ""; }
  });

  function isSave(event) {
    const path = event.detail.requestConfig && event.detail.requestConfig.path;
    return Boolean(path && /\/draft$/.test(path));
  }
  // What was sent is what is saved: the text may change while the save is on its way.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (isSave(event)) sending = source.value;
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!isSave(event)) return;
    if (event.detail.xhr.status === 200 && sending !== null) savedText = sending;
    sending = null;
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    markLines();
    showDirty();
  });

  // --- line numbers, and the lines the checks name.
  function markLines() {
    const result = document.querySelector("#check .check-result");
    const bad = new Set(((result && result.dataset.errorLines) || "").split(",").filter(Boolean).map(Number));
    const warn = new Set(((result && result.dataset.warningLines) || "").split(",").filter(Boolean).map(Number));
    const count = source.value.split("\n").length;
    const parts = [];
    for (let line = 1; line <= count; line++) {
      const kind = bad.has(line) ? "bad" : warn.has(line) ? "warn" : "";
      parts.push(kind ? '<span class="' + kind + '">' + line + "</span>" : String(line));
    }
    gutter.innerHTML = parts.join("\n");
    gutter.scrollTop = source.scrollTop;
  }
  source.addEventListener("scroll", function () { gutter.scrollTop = source.scrollTop; });
  source.addEventListener("input", function () { markLines(); showDirty(); });

  function gotoLine(line) {
    const lines = source.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    const end = start + (lines[line - 1] || "").length;
    showPane("yaml-pane");
    source.focus();
    source.setSelectionRange(start, end);
    const height = source.scrollHeight / Math.max(lines.length, 1);
    source.scrollTop = Math.max(0, (line - 5) * height);
  }
  document.body.addEventListener("click", function (event) {
    const button = event.target.closest(".goto-line");
    if (button) gotoLine(Number(button.dataset.line));
  });

  // --- keys: Tab indents (two spaces), Shift+Tab outdents, Esc lets the next Tab leave.
  let leaving = false;
  source.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      document.getElementById("save").click();
      return;
    }
    if (event.key === "Escape") { leaving = true; return; }
    if (event.key !== "Tab" || leaving) { leaving = false; return; }
    event.preventDefault();
    const value = source.value;
    const from = value.lastIndexOf("\n", source.selectionStart - 1) + 1;
    const to = source.selectionEnd;
    const block = value.slice(from, to);
    const changed = event.shiftKey
      ? block.replace(/^ {1,2}/gm, "")
      : (source.selectionStart === source.selectionEnd ? null : block.replace(/^/gm, "  "));
    if (changed === null) {
      document.execCommand("insertText", false, "  ");
      return;
    }
    source.setSelectionRange(from, to);
    document.execCommand("insertText", false, changed);
    source.setSelectionRange(from, from + changed.length);
  });

  // --- tabs (the main view's and the side panel's): arrows move between them.
  function showPane(id) {
    const pane = document.getElementById(id);
    if (!pane) return;
    const tab = document.querySelector('.tab[data-pane="' + id + '"]');
    tab.closest(".tabs").querySelectorAll(".tab").forEach(function (other) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      const its = document.getElementById(other.dataset.pane);
      if (its) its.hidden = !selected;
    });
    htmx.trigger(pane, "designer:show");
  }
  designer.addEventListener("click", function (event) {
    const tab = event.target.closest(".tab[data-pane]");
    if (tab) showPane(tab.dataset.pane);
  });
  designer.addEventListener("keydown", function (event) {
    const tab = event.target.closest(".tab[data-pane]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    const tabs = Array.from(tab.closest(".tabs").querySelectorAll(".tab"));
    const next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    showPane(next.dataset.pane);
  });
  designer.querySelectorAll(".tabs").forEach(function (tabs) {
    tabs.querySelectorAll(".tab").forEach(function (tab) {
      tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
    });
  });

  // --- the phone pane: the text box empties once its text is played.
  const trialText = document.getElementById("trial-text");
  const trialLog = document.getElementById("trial-log");
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === trialLog) {
      trialText.value = "";
      trialText.focus();
      trialLog.scrollTop = trialLog.scrollHeight;
    }
  });
  function resetTrial() { trialLog.innerHTML = ""; }
  document.getElementById("trial-reset").addEventListener("click", function () {
    resetTrial();
    trialText.focus();
  });
  document.getElementById("trial-phone").addEventListener("change", resetTrial);

  // The simulator offered after a publish opens as the texter last tried in the pane.
  document.body.addEventListener("click", function (event) {
    const link = event.target.closest("#text-it");
    const phone = document.getElementById("trial-phone").value.trim();
    if (link && phone) link.href = "/simulator?phone=" + encodeURIComponent(phone);
  });

  // Other code (the flow view) changes the YAML through this, as if typed.
  window.textdeskDesigner = {
    source: source,
    setSource: function (text) {
      source.value = text;
      htmx.trigger(source, "input");
      markLines();
      showDirty();
    },
    gotoLine: gotoLine,
    showPane: showPane,
  };

  markLines();
  showDirty();
})();
