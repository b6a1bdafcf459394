/* qcode serve: the workbench's few behaviours, plain JavaScript, no libraries.
 *
 * Offsets: the server stores code points into the document text; JavaScript strings count
 * UTF-16 units (an emoji is two). Every text piece carries its code-point start (data-s) and
 * a selection point is that plus the code points of the piece's text before it. */
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const cpLen = (s) => Array.from(s).length;

function status(message, isError) {
  const box = document.getElementById("status");
  box.textContent = message || "";
  box.className = isError ? "error" : "";
}

async function post(action, body) {
  // a write; when another qcode process holds the database (503) try again a few times
  for (let attempt = 0; attempt < 6; attempt++) {
    let response;
    try {
      response = await fetch("/api/" + action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body || {}),
      });
    } catch (err) {
      status("the qcode server does not answer (stopped?): " + err, true);
      return null;
    }
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (response.status === 503) {
      status("project busy (another qcode command is writing); retrying…");
      await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
      continue;
    }
    if (!response.ok) {
      status(data.error || response.statusText, true);
      return null;
    }
    status(data.message);
    return data;
  }
  status("project still busy; your last action was not stored, try again", true);
  return null;
}

// how many actions are still running (stored and redrawn); tests and scripts wait for 0
let running = 0;
async function track(work) {
  document.documentElement.dataset.busy = String(++running);
  try { return await work(); } finally { document.documentElement.dataset.busy = String(--running); }
}

function setCookie(name, on) {
  document.cookie = name + "=" + (on ? "1" : "0") + "; Path=/; SameSite=Strict";
  location.reload();
}

// -- the document view ----------------------------------------------------------------------
const body = document.getElementById("doc-body");
const documentId = body ? body.dataset.document : null;
let current = null; // the focused margin entry

function entryKey(el) {
  return el ? [el.dataset.segment, el.dataset.code, el.dataset.kind, el.dataset.start].join("|") : null;
}

async function refresh() {
  if (!body) { location.reload(); return; }
  const key = entryKey(current);
  const url = location.pathname + "?fragment=1";
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) { status("could not reload the document", true); return; }
  const y = window.scrollY;
  body.innerHTML = await response.text();
  window.scrollTo(0, y);
  current = null;
  if (key) {
    const again = [...body.querySelectorAll(".cd")].find((el) => entryKey(el) === key);
    if (again) focusEntry(again, false);
  }
}

function focusEntry(el, scroll = true) {
  if (current) current.classList.remove("current");
  current = el;
  if (!el) return;
  el.classList.add("current");
  el.focus({ preventScroll: true });
  if (scroll) el.scrollIntoView({ block: "center" });
}

function step(direction) {
  const all = [...body.querySelectorAll(".cd.suggestion")];
  if (!all.length) { status("no suggestions in this document"); return; }
  const open = all.filter((el) => el.classList.contains("pending"));
  const pool = open.length ? open : all;
  const at = current ? all.indexOf(current) : -1;
  let next;
  if (direction > 0) next = pool.find((el) => all.indexOf(el) > at) || pool[0];
  else next = [...pool].reverse().find((el) => all.indexOf(el) < at) || pool[pool.length - 1];
  focusEntry(next);
}

function segmentText(el) {
  // the turn exactly as shown (the server refuses a decision on a turn that changed since);
  // null in the redacted view, which shows placeholders instead of the stored text
  const seg = el.closest(".seg");
  const pieces = seg ? seg.querySelectorAll(".text [data-s]") : [];
  return pieces.length ? [...pieces].map((p) => p.textContent).join("") : null;
}

async function act(el, what) {
  const d = el.dataset;
  const segment = Number(d.segment);
  let done = null;
  if (what === "accept" || what === "reject") {
    if (d.kind !== "suggestion") { status("only automatic suggestions are accepted or rejected"); return; }
    done = await post("decide", { document: documentId, segment, code: d.code, decision: what,
      text: segmentText(el) });
  } else if (what === "change") {
    const to = await pickCode("Change " + d.code + " to");
    if (!to) return;
    const payload = { document: documentId, segment, code: d.code, to, text: segmentText(el) };
    if (d.kind === "mine") { payload.start = Number(d.start); payload.end = Number(d.end); }
    done = await post("change", payload);
  } else if (what === "remove") {
    done = await post("remove", { document: documentId, start: Number(d.start), end: Number(d.end), code: d.code });
  } else if (what === "memo") {
    const text = await writeMemo("Memo on " + d.code + " (#" + d.segment + ")");
    if (!text) return;
    done = await post("memo", { kind: "coding", document: documentId, code: d.code,
      start: Number(d.start), end: Number(d.end), text });
  } else if (what === "explain") {
    explain(segment);
    return;
  }
  if (done) await refresh();
}

async function explain(segment) {
  const panel = document.getElementById("explain");
  const url = "/api/explain?document=" + encodeURIComponent(documentId) + "&segment=" + segment;
  const response = await fetch(url, { credentials: "same-origin" });
  const data = await response.json();
  document.getElementById("explain-text").textContent = data.text || data.error;
  panel.hidden = false;
}

// -- selecting text -------------------------------------------------------------------------
function pointOffset(node, offset) {
  const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
  const piece = el && el.closest ? el.closest("[data-s]") : null;
  if (piece) {
    const range = document.createRange();
    range.selectNodeContents(piece);
    range.setEnd(node, offset);
    return Number(piece.dataset.s) + cpLen(range.toString());
  }
  if (node.nodeType === Node.ELEMENT_NODE) { // a point between pieces, e.g. in the text div
    const kids = node.childNodes;
    if (offset < kids.length && kids[offset].dataset && kids[offset].dataset.s) {
      return Number(kids[offset].dataset.s);
    }
    const pieces = node.querySelectorAll ? node.querySelectorAll("[data-s]") : [];
    if (pieces.length) {
      const last = pieces[pieces.length - 1];
      return Number(last.dataset.s) + cpLen(last.textContent);
    }
  }
  return null;
}

function selectionSpan() {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  const startEl = (range.startContainer.nodeType === Node.TEXT_NODE ? range.startContainer.parentElement : range.startContainer);
  const seg = startEl && startEl.closest ? startEl.closest(".seg") : null;
  if (!seg || !body.contains(seg) || !startEl.closest(".text")) return null;
  let start = pointOffset(range.startContainer, range.startOffset);
  let end = pointOffset(range.endContainer, range.endOffset);
  const endEl = (range.endContainer.nodeType === Node.TEXT_NODE ? range.endContainer.parentElement : range.endContainer);
  const segEnd = Number(seg.dataset.end);
  if (end === null || !endEl.closest || !endEl.closest(".text") || endEl.closest(".seg") !== seg) {
    end = segEnd; // a selection running out of the turn stops at its end
  }
  if (start === null || end === null) return null;
  const text = range.toString();
  const lead = text.match(/^\s*/)[0], trail = text.match(/\s*$/)[0];
  if (endEl.closest && endEl.closest(".seg") === seg) {
    start += cpLen(lead);
    end -= cpLen(trail);
  } else {
    start += cpLen(lead);
  }
  if (end <= start) return null;
  return { start, end, segment: Number(seg.dataset.segment), text: text.trim() };
}

function showTip() {
  const tip = document.getElementById("selection-tip");
  const span = selectionSpan();
  if (!span) { tip.hidden = true; return; }
  const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
  tip.style.top = (window.scrollY + rect.bottom + 4) + "px";
  tip.style.left = (window.scrollX + rect.left) + "px";
  tip.hidden = false;
}

async function codeSelection() {
  const span = selectionSpan();
  if (!span) { status("select some words in the transcript first"); return; }
  const code = await pickCode("Code “" + span.text.slice(0, 40) + "”");
  if (!code) return;
  document.getElementById("selection-tip").hidden = true;
  const done = await post("code", { document: documentId, start: span.start, end: span.end, code });
  if (done) { window.getSelection().removeAllRanges(); await refresh(); }
}

// -- dialogs ----------------------------------------------------------------------------------
function pickCode(title) {
  const dialog = document.getElementById("picker");
  const input = document.getElementById("picker-filter");
  const list = document.getElementById("picker-list");
  const codes = JSON.parse(document.getElementById("codes-data").textContent);
  document.getElementById("picker-title").textContent = title;
  let chosen = 0;
  function draw() {
    const q = input.value.trim().toLowerCase();
    const shown = codes.filter((c) => !q || c.path.toLowerCase().includes(q) || c.label.toLowerCase().includes(q));
    chosen = Math.min(chosen, Math.max(shown.length - 1, 0));
    list.replaceChildren(...shown.map((c, i) => {
      const li = document.createElement("li");
      li.dataset.code = c.path;
      li.className = "level" + c.level + (i === chosen ? " chosen" : "");
      li.style.setProperty("--c", c.color);
      li.setAttribute("role", "option");
      li.textContent = c.path;
      return li;
    }));
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      input.oninput = input.onkeydown = list.onclick = dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    input.value = "";
    input.oninput = () => { chosen = 0; draw(); };
    input.onkeydown = (ev) => {
      const items = list.querySelectorAll("li");
      if (ev.key === "ArrowDown") { chosen = Math.min(chosen + 1, items.length - 1); draw(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { chosen = Math.max(chosen - 1, 0); draw(); ev.preventDefault(); }
      else if (ev.key === "Enter") { ev.preventDefault(); if (items[chosen]) finish(items[chosen].dataset.code); }
    };
    list.onclick = (ev) => { const li = ev.target.closest("li"); if (li) finish(li.dataset.code); };
    dialog.onclose = () => finish(null);
    draw();
    dialog.showModal();
    input.focus();
  });
}

function writeMemo(title) {
  const dialog = document.getElementById("memo-dialog");
  const text = document.getElementById("memo-text");
  document.getElementById("memo-title").textContent = title;
  text.value = "";
  return new Promise((resolve) => {
    dialog.onclose = () => {
      dialog.onclose = null;
      resolve(dialog.returnValue === "save" && text.value.trim() ? text.value : null);
    };
    dialog.returnValue = "";
    dialog.showModal();
    text.focus();
  });
}

// -- wiring -----------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.dataset.ready = "1";
  document.documentElement.dataset.busy = "0";
  const blind = document.getElementById("toggle-blind");
  if (blind) blind.addEventListener("click", () => setCookie("qcode_blind", blind.getAttribute("aria-pressed") !== "true"));
  const redacted = document.getElementById("toggle-redacted");
  redacted.addEventListener("click", () => setCookie("qcode_redacted", redacted.getAttribute("aria-pressed") !== "true"));
  document.getElementById("undo").addEventListener("click", () => track(async () => {
    if (await post("undo")) await refresh();
  }));
  const codeMemo = document.getElementById("memo-code");
  if (codeMemo) codeMemo.addEventListener("click", async () => {
    const text = await writeMemo("Memo on code " + codeMemo.dataset.code);
    if (text && await post("memo", { kind: "code", code: codeMemo.dataset.code, text })) location.reload();
  });
  if (!body) return;

  body.addEventListener("click", (ev) => track(() => onClick(ev)));
  async function onClick(ev) {
    const button = ev.target.closest("button[data-act]");
    if (button) {
      const entry = button.closest(".cd");
      if (entry) { focusEntry(entry, false); await act(entry, button.dataset.act); }
      else if (button.dataset.act === "explain") explain(Number(button.dataset.segment));
      return;
    }
    if (ev.target.closest("#memo-doc")) {
      const text = await writeMemo("Memo on this document");
      if (text && await post("memo", { kind: "document", document: documentId, text })) await refresh();
      return;
    }
    const entry = ev.target.closest(".cd");
    if (entry) { focusEntry(entry, false); return; }
    const piece = ev.target.closest(".hl");
    if (piece && window.getSelection().isCollapsed) {
      const id = piece.dataset.c.split(" ")[0];
      const target = body.querySelector('.cd[data-id="' + id + '"]');
      if (target) focusEntry(target);
    }
  }
  document.addEventListener("mouseup", () => setTimeout(showTip, 0));
  document.addEventListener("selectionchange", () => { if (!selectionSpan()) document.getElementById("selection-tip").hidden = true; });
  document.getElementById("code-selection").addEventListener("mousedown", (ev) => ev.preventDefault());
  document.getElementById("code-selection").addEventListener("click", () => track(codeSelection));
  document.getElementById("explain-close").addEventListener("click", () => { document.getElementById("explain").hidden = true; });

  document.addEventListener("keydown", async (ev) => {
    if (ev.target.closest && ev.target.closest("input, textarea, select, dialog")) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = {
      j: () => step(1), k: () => step(-1), n: () => step(1), p: () => step(-1),
      a: () => current && act(current, "accept"),
      r: () => current && act(current, "reject"),
      x: () => current && act(current, "change"),
      m: () => current && act(current, "memo"),
      e: () => current && act(current, "explain"),
      c: () => codeSelection(),
      u: async () => { if (await post("undo")) await refresh(); },
      Escape: () => { document.getElementById("explain").hidden = true; },
    };
    const run = keys[ev.key];
    if (run) { ev.preventDefault(); await track(run); }
  });
});
