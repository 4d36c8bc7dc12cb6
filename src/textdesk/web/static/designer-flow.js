// The designer's flow view: the topic's nodes as boxes top to bottom, drawn by the
// vendored Drawflow from what the server says of the YAML (/flow: boxes, arrows,
// errors and costs pinned to their node), and the selected node's form.
//
// Nothing is worked out here: every change (add, remove, move, connect, a saved
// form) is posted with the editor's text to /edit, which makes it with the
// designer's edits (domain/topics/edits.py) and answers the new YAML; that goes into
// the YAML view as if typed, so saving, the checks and "unsaved changes" work as
// for typing.  Typing in the YAML view redraws the flow once it reads as YAML.
(function () {
  "use strict";

  const pane = document.getElementById("flow-pane");
  const designer = document.getElementById("designer");
  if (!pane || !designer || !window.Drawflow || !window.textdeskDesigner) return;
  const api = window.textdeskDesigner;
  const source = api.source;
  const topic = designer.dataset.topic;
  const base = "/workspace/topics/" + encodeURIComponent(topic);
  const canvas = document.getElementById("flow-canvas");
  const status = document.getElementById("flow-status");
  const pick = document.getElementById("flow-pick");
  const formBody = document.getElementById("node-form-body");
  const GAP = 56; // pixels between two boxes, room for the arrow to the next one
  const LEFT = 24;

  let view = null; // the last flow the server drew: {nodes, topic_errors, ...}
  let drawnText = null; // the YAML text `view` is of
  let justSet = null; // the text an edit just put in the YAML view, drawn already
  let selected = null; // index of the node whose form is open
  let building = false; // Drawflow's events while the view is redrawn are not edits
  let timer = null;
  let typedInForm = 0; // keys pressed in the open form: a form drawn again must not lose them

  const editor = new window.Drawflow(canvas);
  editor.reroute = false;
  editor.editor_mode = "edit";
  // Delete/Backspace and the right-click cross would remove a node without asking the
  // server: nodes go with their ✕ button, which says what points at them.
  editor.key = function () {};
  editor.contextmenu = function (event) { event.preventDefault(); };
  editor.zoom_enter = function () {}; // the page scrolls; Ctrl+wheel zooms the page
  editor.start();

  function csrf() {
    const holder = document.querySelector("[hx-headers]");
    try { return JSON.parse(holder.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  function revision() {
    const field = document.getElementById("revision");
    return field ? field.value : "0";
  }
  function post(path, fields) {
    const body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) {
      const value = fields[name];
      if (Array.isArray(value)) value.forEach(function (v) { body.append(name, v); });
      else if (value !== null && value !== undefined) body.append(name, value);
    });
    return fetch(base + path, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    });
  }
  function say(lines, bad) {
    status.textContent = "";
    status.classList.toggle("bad", Boolean(bad));
    (Array.isArray(lines) ? lines : [lines]).filter(Boolean).forEach(function (line) {
      const p = document.createElement("span");
      p.textContent = line;
      status.appendChild(p);
    });
  }
  function text(tag, cls, words) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = words;
    return el;
  }

  // --- drawing ---------------------------------------------------------------------
  function box(node) {
    const el = document.createElement("div");
    el.className = "fnode";
    el.dataset.index = String(node.index);
    const head = document.createElement("div");
    head.className = "fnode-head";
    head.appendChild(text("span", "fnode-pos", String(node.index + 1)));
    head.appendChild(text("code", "fnode-id" + (node.named ? "" : " unnamed"), node.id));
    head.appendChild(text("span", "fnode-type", node.type));
    if (node.errors.length) {
      head.appendChild(text("span", "fnode-count bad", node.errors.length + " error" + (node.errors.length > 1 ? "s" : "")));
    }
    el.appendChild(head);
    if (node.when) el.appendChild(text("div", "fnode-when", "when " + node.when));
    if (node.summary) el.appendChild(text("div", "fnode-summary", node.summary));
    node.costs.forEach(function (c) {
      const cost = text("div", "fnode-cost" + (c.encoding === "UCS-2" ? " ucs2" : ""),
        c.field + ": " + c.encoding + " · " + c.segments + " segment" + (c.segments !== 1 ? "s" : ""));
      if (c.culprits.length) cost.title = "UCS-2 because of " + c.culprits.join(" ");
      el.appendChild(cost);
    });
    if (node.errors.length || node.warnings.length) {
      const list = document.createElement("ul");
      list.className = "fnode-findings";
      node.errors.forEach(function (e) {
        list.appendChild(text("li", "error", (e.key || e.field || "line " + e.line) + ": " + e.message));
      });
      node.warnings.forEach(function (w) {
        list.appendChild(text("li", "warn", (w.key || w.field || "line " + w.line) + ": " + w.message));
      });
      el.appendChild(list);
    }
    const actions = document.createElement("div");
    actions.className = "fnode-actions";
    [["edit", "Edit", "Edit node " + (node.index + 1)], ["up", "↑", "Move node " + (node.index + 1) + " up"],
     ["down", "↓", "Move node " + (node.index + 1) + " down"], ["remove", "✕", "Remove node " + (node.index + 1)]]
      .forEach(function (a) {
        const button = text("button", "fnode-" + a[0], a[1]);
        button.type = "button";
        button.dataset.act = a[0];
        button.dataset.index = String(node.index);
        button.setAttribute("aria-label", a[2]);
        button.title = a[2];
        actions.appendChild(button);
      });
    el.appendChild(actions);
    return el;
  }

  function drawflowId(index) { return index + 1; }
  function indexOf(id) { return Number(id) - 1; }

  function draw(next) {
    view = next;
    building = true;
    editor.clear();
    editor.nodeId = 1;
    let y = 16;
    next.nodes.forEach(function (node) {
      const id = editor.addNode("n" + node.index, 1, node.ports.length, LEFT, y, "flow-node", {}, "");
      const holder = document.querySelector("#node-" + id + " .drawflow_content_node");
      holder.appendChild(box(node));
      const el = document.getElementById("node-" + id);
      if (node.errors.length) el.classList.add("has-error");
      if (node.index === selected) el.classList.add("picked");
      node.ports.forEach(function (port, k) {
        const out = el.querySelector(".outputs .output_" + (k + 1));
        if (!out) return;
        let label = port.label;
        if (port.kind === "ref" && port.dangling) label += " → " + port.target_id + " (no such node)";
        else if (port.kind === "ref" && port.target === null) label += " (not set)";
        out.dataset.label = label;
        out.title = label;
        out.classList.add("port-" + port.kind);
        if (port.dangling) out.classList.add("dangling");
        if (port.kind === "ref" && port.target === null && !port.dangling) out.classList.add("unset");
      });
      const height = el.offsetHeight || 120;
      editor.drawflow.drawflow.Home.data[id].pos_y = y;
      el.style.top = y + "px";
      y += Math.max(height, 24 * node.ports.length + 20) + GAP;
    });
    next.nodes.forEach(function (node) {
      node.ports.forEach(function (port, k) {
        if (port.target !== null && port.target !== undefined) {
          editor.addConnection(drawflowId(node.index), drawflowId(port.target), "output_" + (k + 1), "input_1");
          const path = document.querySelector(".connection.node_in_node-" + drawflowId(port.target) +
            ".node_out_node-" + drawflowId(node.index) + ".output_" + (k + 1));
          if (path) path.classList.add(port.kind === "next" ? "edge-next" : "edge-ref");
        }
      });
    });
    canvas.querySelector(".drawflow").style.minHeight = y + "px";
    building = false;
    fillPick();
    const loose = next.topic_errors.map(function (e) { return "line " + e.line + ": " + (e.field ? e.field + " " : "") + e.message; });
    canvas.dataset.errors = String(next.topic_errors.length + next.nodes.reduce(function (n, x) { return n + x.errors.length; }, 0));
    return loose;
  }

  function fillPick() {
    pick.textContent = "";
    pick.appendChild(new Option("— pick a node —", ""));
    view.nodes.forEach(function (node) {
      pick.appendChild(new Option((node.index + 1) + ". " + node.id + " · " + node.type + (node.errors.length ? " (errors)" : ""), String(node.index)));
    });
    pick.value = selected === null || selected >= view.nodes.length ? "" : String(selected);
  }

  // What the server answered of a text: draw it, or keep the last flow and say why.
  function shown(answer, textDrawn) {
    if (!answer.view) {
      pane.classList.add("stale");
      say(answer.message, true);
      return false;
    }
    pane.classList.remove("stale");
    drawnText = textDrawn;
    if (selected !== null && selected >= answer.view.nodes.length) selected = null;
    const loose = draw(answer.view);
    return loose;
  }

  function refresh() {
    clearTimeout(timer); // this one draws the text as it is now
    const sent = source.value;
    return post("/flow", { source: sent }).then(function (r) { return r.json(); }).then(function (answer) {
      if (sent !== source.value) return; // typed since: a newer refresh is on its way
      // The same drawing again would only interrupt a drag in progress.
      if (answer.view && sent === drawnText && !pane.classList.contains("stale") &&
          JSON.stringify(answer.view) === JSON.stringify(view)) return;
      const loose = shown(answer, sent);
      if (loose !== false) {
        say(loose.length ? ["Not about one node:"].concat(loose) : [], loose.length > 0);
        if (selected !== null) openForm(selected, false);
      }
    }).catch(function () { say("The flow could not be drawn (is the desk running?).", true); });
  }

  // --- edits -----------------------------------------------------------------------
  function edit(fields, after) {
    fields.source = source.value;
    fields.revision = revision();
    return post("/edit", fields).then(function (r) {
      return r.json().then(function (answer) { return { ok: r.ok, status: r.status, answer: answer }; });
    }).then(function (result) {
      if (!result.ok) {
        const words = typeof result.answer.detail === "string" ? result.answer.detail : "Not changed.";
        say(words, true);
        if (after) after(false, result);
        draw(view); // a dragged box or arrow goes back where the text has it
        return false;
      }
      const answer = result.answer;
      drawnText = answer.source;
      justSet = answer.source;
      api.setSource(answer.source);
      shown(answer, answer.source);
      say(answer.said.length ? answer.said : ["Changed: see the YAML view."], false);
      if (after) after(true, result);
      // An open form shows the node as the new text has it (an arrow drawn to or
      // from it, its position), so saving it later undoes nothing.
      else if (selected !== null) openForm(selected, false);
      return true;
    }).catch(function () { say("The change could not be sent (is the desk running?).", true); });
  }

  function remove(index, force) {
    const node = view.nodes[index];
    if (!force && !window.confirm("Remove node " + (index + 1) + " (" + node.id + ")?")) return;
    edit({ op: "remove", index: String(index), force: force ? "1" : "0" }, function (ok, result) {
      if (ok) {
        if (selected === index) { selected = null; formBody.innerHTML = ""; }
        return;
      }
      if (result.status === 422 && /remove it anyway/.test(result.answer.detail || "")) {
        const again = text("button", "quiet", "Remove it anyway");
        again.type = "button";
        again.addEventListener("click", function () { remove(index, true); });
        status.appendChild(again);
      }
    });
  }

  function move(index, to) {
    if (to < 0 || to >= view.nodes.length || to === index) { draw(view); return; }
    edit({ op: "move", index: String(index), to: String(to) }, function (ok) {
      if (ok && selected === index) { selected = to; openForm(to, false); }
    });
  }

  function add(at) {
    const type = document.getElementById("flow-type").value;
    edit({ op: "add", node_type: type, at: String(at) }, function (ok) {
      if (ok) { selected = at; openForm(at, true); }
    });
  }

  canvas.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    event.stopPropagation();
    const index = Number(button.dataset.index);
    const act = button.dataset.act;
    if (act === "edit") openForm(index, true);
    else if (act === "up") move(index, index - 1);
    else if (act === "down") move(index, index + 1);
    else if (act === "remove") remove(index, false);
  });
  // Stop Drawflow taking a button's press for the start of a drag.
  canvas.addEventListener("mousedown", function (event) {
    if (event.target.closest("button[data-act]")) event.stopPropagation();
  }, true);

  editor.on("nodeSelected", function (id) {
    if (!building) openForm(indexOf(id), false);
  });
  editor.on("nodeMoved", function (id) {
    if (building || !view) return;
    // The box's new place among the others, top to bottom, is its new position.
    const index = indexOf(id);
    const data = editor.drawflow.drawflow.Home.data;
    const y = data[id].pos_y;
    let to = 0;
    view.nodes.forEach(function (node) {
      if (node.index === index) return;
      const other = data[drawflowId(node.index)];
      const el = document.getElementById("node-" + drawflowId(node.index));
      if (y > other.pos_y + (el ? el.offsetHeight : 100) / 2) to += 1;
    });
    move(index, to);
  });
  editor.on("connectionCreated", function (c) {
    if (building || !view) return;
    const from = indexOf(c.output_id);
    const port = view.nodes[from].ports[Number(c.output_class.replace("output_", "")) - 1];
    if (!port || port.kind !== "ref") {
      say("That arrow follows the order of the nodes: move a node, or add a goto, to change it.", true);
      draw(view);
      return;
    }
    edit({ op: "connect", index: String(from), field: JSON.stringify(port.field), target: String(indexOf(c.input_id)) });
  });

  document.getElementById("flow-add").addEventListener("click", function () {
    add(selected === null ? view.nodes.length : selected + 1);
  });
  // Dragging the chip onto the flow adds the chosen type where it is dropped.
  const chip = document.getElementById("flow-chip");
  chip.addEventListener("dragstart", function (event) {
    event.dataTransfer.setData("text/plain", "textdesk-node");
    event.dataTransfer.effectAllowed = "copy";
  });
  canvas.addEventListener("dragover", function (event) { event.preventDefault(); });
  canvas.addEventListener("drop", function (event) {
    event.preventDefault();
    if (!view) return;
    let at = 0;
    view.nodes.forEach(function (node) {
      const el = document.getElementById("node-" + drawflowId(node.index));
      const rect = el.getBoundingClientRect();
      if (event.clientY > rect.top + rect.height / 2) at = node.index + 1;
    });
    add(at);
  });

  // --- the node's form ---------------------------------------------------------------
  function openForm(index, focus) {
    if (!view || index < 0 || index >= view.nodes.length) return;
    selected = index;
    pick.value = String(index);
    canvas.querySelectorAll(".drawflow-node.picked").forEach(function (el) { el.classList.remove("picked"); });
    const el = document.getElementById("node-" + drawflowId(index));
    if (el) el.classList.add("picked");
    const typed = typedInForm;
    formBody.setAttribute("aria-busy", "true");
    post("/node-form", { source: source.value, index: String(index) }).then(function (r) {
      return r.text().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (result) {
      formBody.setAttribute("aria-busy", "false");
      const open = formBody.querySelector("form.node-form");
      if (!focus && typed !== typedInForm && open && Number(open.dataset.index) === index) return;
      if (!result.ok) { formBody.textContent = result.body; return; }
      formBody.innerHTML = result.body;
      if (focus) {
        const first = formBody.querySelector("input:not([readonly]), select, textarea");
        if (first) first.focus();
      }
    });
  }
  pick.addEventListener("change", function () {
    if (pick.value !== "") openForm(Number(pick.value), false);
  });
  formBody.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = event.target;
    const fields = { op: "form", index: form.dataset.index };
    new FormData(form).forEach(function (value, name) {
      if (fields[name] === undefined) fields[name] = value;
      else fields[name] = [].concat(fields[name], value);
    });
    const focused = document.activeElement && document.activeElement.id;
    edit(fields, function (ok) {
      if (!ok) return;
      openForm(Number(form.dataset.index), false);
      // Keep the keyboard where it was once the form is drawn again.
      setTimeout(function () { const el = focused && document.getElementById(focused); if (el) el.focus(); }, 150);
    });
  });
  formBody.addEventListener("input", function () { typedInForm += 1; });
  formBody.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // --- the YAML view and the flow in step ---------------------------------------------
  source.addEventListener("input", function () {
    if (source.value === justSet) { justSet = null; return; }
    justSet = null;
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  // Drawflow measures boxes: draw once the pane shows, and again whenever it is shown.
  pane.addEventListener("designer:show", function () {
    if (!view || drawnText !== source.value || pane.classList.contains("stale")) refresh();
    else draw(view);
  });
  refresh();
})();
