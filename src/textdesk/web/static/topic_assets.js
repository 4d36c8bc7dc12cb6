// The designer's Assets tab (_topic_assets.html).  htmx does the uploads, saves and
// runs; this only checks the editor's text again once an image came or went, so an
// image node's "no such media" finding clears (or shows) without typing a key.
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target || target.id !== "assets") return;
    const path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
    if (!/\/images(\/[^/]+\/delete)?$/.test(path)) return;
    const source = document.getElementById("source");
    const designer = document.getElementById("designer");
    if (!source || !designer || !document.getElementById("check")) return;
    htmx.ajax("POST", "/workspace/topics/" + encodeURIComponent(designer.dataset.topic) + "/check", {
      // From the editor: its value is sent, and the page's CSRF header with it.
      source: source, target: "#check", swap: "innerHTML",
    });
  });
})();
