// Verity's web page: ask or check, follow progress, read the brief, open cited passages,
// manage sources, browse history and re-check. Plain DOM; no framework, no downloads.
"use strict";

const $ = (sel) => document.querySelector(sel);

// el("a", {href: "#", class: "x"}, "text", child) → element. Text is always a text node.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// ── API ──────────────────────────────────────────────────────────────────────────────

const token = () => localStorage.getItem("verity-token") || "";

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (token() && opts.method && opts.method !== "GET") headers.Authorization = "Bearer " + token();
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
  }
  const resp = await fetch(path, { method: opts.method || "GET", headers, body: opts.body });
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = (body && body.error) || { code: "http_" + resp.status, message: resp.statusText };
    // Every API error carries a hint: what to do next.
    const text = err.hint ? `${err.message}. ${err.hint}` : err.message;
    throw Object.assign(new Error(text), { code: err.code, hint: err.hint, status: resp.status, details: err.details });
  }
  return body;
}

function flash(msg, kind = "error") {
  const f = $("#flash");
  f.textContent = msg;
  f.className = "flash no-print " + kind;
  f.hidden = !msg;
}

// ── Routing: #/ask, #/check/ID, #/check/ID/against/OLD, #/sources, #/history ─────────

function route() {
  const parts = (location.hash || "#/ask").slice(2).split("/");
  const view = parts[0] === "check" ? "ask" : parts[0] || "ask";
  for (const v of ["ask", "sources", "history"]) $("#view-" + v).hidden = v !== view;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  flash("");
  if (parts[0] === "check" && parts[1]) showCheck(parts[1], parts[2] === "against" ? parts[3] : null);
  else if (view === "ask") {
    if (stream) stream.close();
    for (const id of ["#progress", "#brief", "#diff", "#panel"]) $(id).hidden = true;
  }
  if (view === "sources") loadSources();
  if (view === "history") loadHistory(0);
}

// ── Asking and following a check ─────────────────────────────────────────────────────

let stream = null;

async function submitCheck(input, mode, asOf, showUnsupported) {
  const body = { [mode === "claim" ? "claim" : "question"]: input, show_unsupported: showUnsupported };
  if (asOf) body.as_of = asOf;
  const r = await api("/api/checks", { method: "POST", json: body });
  location.hash = "#/check/" + r.id;
}

function fillForm(check) {
  $("#ask-input").value = check.input;
  document.querySelector(`input[name=mode][value=${check.mode === "check" ? "claim" : "question"}]`).checked = true;
  $("#ask-asof").value = check.as_of || "";
  $("#ask-unsupported").checked = !!check.show_unsupported;
}

async function showCheck(id, against) {
  if (stream) stream.close();
  $("#brief").hidden = true;
  $("#diff").hidden = true;
  let check;
  try {
    check = await api("/api/checks/" + encodeURIComponent(id));
  } catch (e) {
    return flash(e.message);
  }
  fillForm(check);
  if (check.status === "done") return finish(check, against);
  if (check.status === "failed") return failed(check.error);
  follow(id, against);
}

function follow(id, against) {
  const box = $("#progress");
  box.hidden = false;
  $("#progress-log").replaceChildren();
  setProgress("queued", 0, null);
  const es = new EventSource("/api/checks/" + encodeURIComponent(id) + "/events");
  stream = es;
  const on = (name, fn) => es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  on("status", (d) => setProgress(d.stage || d.status, d.done, d.total));
  on("stage", (d) => setProgress(d.name, 0, d.total));
  on("advance", (d) => setProgress(null, d.done, d.total));
  on("message", (d) => $("#progress-log").append(el("li", {}, d.text)));
  on("done", async () => {
    es.close();
    finish(await api("/api/checks/" + encodeURIComponent(id)), against);
  });
  on("failed", (d) => {
    es.close();
    failed(d.error);
  });
  es.onerror = () => {
    // The stream ended without a final event (server restart): look once more.
    es.close();
    api("/api/checks/" + encodeURIComponent(id)).then((c) => {
      if (c.status === "done") finish(c, against);
      else if (c.status === "failed") failed(c.error);
      else flash("Lost the connection to the server; reload the page to follow this check.");
    }, (e) => flash(e.message));
  };
}

function setProgress(stage, done, total) {
  if (stage) $("#progress-stage").textContent = stage;
  const bar = $("#progress-bar");
  if (total) {
    bar.max = total;
    bar.value = Math.min(done, total);
    $("#progress-count").textContent = `${done} of ${total}`;
  } else {
    bar.removeAttribute("value");
    $("#progress-count").textContent = "";
  }
}

function failed(error) {
  $("#progress").hidden = true;
  flash("The check failed: " + (error || "unknown error"));
}

async function finish(check, against) {
  $("#progress").hidden = true;
  renderBrief(check);
  if (against) {
    try {
      renderDiff(await api(`/api/checks/${encodeURIComponent(check.id)}/diff?against=${encodeURIComponent(against)}`));
    } catch (e) {
      flash(e.message);
    }
  }
}

// ── The brief ────────────────────────────────────────────────────────────────────────

function citeLinks(sentence) {
  const seen = new Set();
  return (sentence.citations || []).filter((c) => {
    const key = `${c.n}:${c.start}:${c.end}`;
    return !seen.has(key) && seen.add(key);
  }).map((c) => [" ", el("a", {
    href: "#", class: "cite", title: c.quote || "",
    dataset: { source: c.source_id, start: c.start, end: c.end, n: c.n },
    onclick: (e) => { e.preventDefault(); openPassage(c.source_id, c.start, c.end, c.n); },
  }, `[${c.n}]`)]);
}

function sentenceEl(s) {
  const cls = "sentence" + (s.flagged ? " flagged" : "");
  return el("span", { class: cls, title: s.flagged ? `Unsupported by its sources (support ${fmt(s.support)})` : null },
    s.text, s.attribution ? el("span", { class: "muted" }, ` (${s.attribution})`) : null, citeLinks(s), " ");
}

const fmt = (x) => (typeof x === "number" ? x.toFixed(2) : "–");
const list = (xs, f) => el("ul", {}, (xs || []).map((x) => el("li", {}, f(x))));

function renderBrief(check) {
  const b = check.brief || {};
  const art = $("#brief");
  const sec = (title, ...body) => el("section", {}, el("h2", {}, title), ...body);
  const parts = [
    el("div", { class: "brief-actions no-print" },
      el("button", { type: "button", onclick: () => window.print() }, "Print"),
      el("button", { type: "button", onclick: () => recheck(check) }, "Check again")),
    el("h1", {}, b.title || check.input),
    el("p", { class: "meta" },
      `Checked on ${b.checked_on || check.created_at.slice(0, 10)}`,
      b.as_of ? ` · evidence up to ${b.as_of}` : "",
      b.currency && b.currency.newest ? ` · newest source ${b.currency.newest}` : ""),
    b.disclaimer ? el("p", { class: "disclaimer" }, b.disclaimer) : null,
  ];
  if (b.verdict) {
    const v = b.verdict;
    parts.push(el("div", { class: "verdict v-" + (v.verdict || "") },
      el("div", { class: "verdict-label" }, v.label, el("span", { class: "muted" }, ` · confidence ${fmt(v.confidence)}`)),
      el("p", {}, v.conclusion)));
  }
  if ((b.summary || []).length) parts.push(sec("Summary", el("p", {}, b.summary.map(sentenceEl))));
  for (const f of b.findings || []) {
    parts.push(el("section", { class: "finding" },
      el("h3", {}, `${f.number}. ${f.heading}`),
      el("p", {}, f.sentences.map(sentenceEl))));
  }
  const angles = b.angles || {};
  if ((angles.groups || []).length) {
    parts.push(sec("Sources and their angles",
      list(angles.groups, (g) => [el("strong", {}, g.label), ` (${g.sources.map((n) => "[" + n + "]").join(" ")}): `,
        (g.publishers || []).join(", "), ` · ${String(g.lean || "").replace("_", " ")}`]),
      (angles.divergences || []).length ? list(angles.divergences, (d) => d.text) : null));
  }
  if ((b.gaps || []).length) parts.push(sec("Evidence gaps", list(b.gaps, (g) => g.statement)));
  if ((b.sources || []).length) parts.push(sec("Sources", el("ol", { class: "sources" }, b.sources.map(sourceItem))));
  if ((b.follow_ups || []).length) parts.push(sec("Want to dive deeper?", list(b.follow_ups, (q) => q)));
  const notes = [...(b.notes || [])];
  if (b.verification) {
    const v = b.verification;
    notes.push(`Support check: ${v.kept} sentences kept, ${(v.dropped || []).length} dropped, ${v.flagged || 0} flagged (threshold ${fmt(v.threshold)}).`);
  }
  if (b.judge) notes.push(`Stance judge: ${b.judge}${b.judge_neural ? "" : " (lexical fallback)"}.`);
  if (notes.length) parts.push(sec("How this brief was made", list(notes, (n) => n)));
  art.replaceChildren(...parts.filter(Boolean));
  art.hidden = false;
}

// One numbered source with links to the passages the brief used.
function sourceItem(s) {
  const spans = (s.passages || []).flatMap((p) => (p.cited && p.cited.length ? p.cited : [[p.start, p.end]]));
  const links = spans.map(([a, z]) => [el("a", {
    href: "#", class: "passage",
    onclick: (e) => { e.preventDefault(); openPassage(s.id, a, z, s.n); },
  }, `chars ${a}–${z}`), " "]);
  return el("li", { value: s.n, id: "src-" + s.n },
    el("strong", {}, s.title), " — ", [s.publisher, s.kind, s.published].filter(Boolean).join(" · "),
    el("div", { class: "muted loc" }, s.location),
    s.attribution ? el("div", { class: "muted" }, s.attribution) : null,
    el("div", { class: "spans" }, "Passages used: ", links));
}

function renderDiff(d) {
  const box = $("#diff");
  const names = (xs) => xs.map((s) => s.title).join("; ");
  const rows = [
    d.verdict_changed ? `Verdict: ${d.verdict_before || "none"} → ${d.verdict_after || "none"}` : "Verdict unchanged" + (d.verdict_after ? ` (${d.verdict_after})` : ""),
    d.sources_added.length ? `New sources: ${names(d.sources_added)}` : null,
    d.sources_dropped.length ? `Dropped sources: ${names(d.sources_dropped)}` : null,
    `${d.sentences_added.length} sentences added, ${d.sentences_removed.length} removed`,
  ].filter(Boolean);
  const details = (title, xs, cls) => xs.length ? el("details", {}, el("summary", {}, title), el("ul", { class: cls }, xs.map((t) => el("li", {}, t)))) : null;
  box.replaceChildren(el("div", {}, el("h2", {}, "What changed since the earlier check"), list(rows, (r) => r),
    details("Sentences added", d.sentences_added, "added"), details("Sentences removed", d.sentences_removed, "removed")));
  box.hidden = false;
}

// The server runs the stored request again (question or claim, with its options).
async function recheck(check) {
  try {
    const r = await api(`/api/checks/${encodeURIComponent(check.id)}/recheck`, { method: "POST", json: {} });
    location.hash = "#/check/" + r.id + "/against/" + check.id;
  } catch (e) {
    flash(e.message);
  }
}

// ── The passage panel ────────────────────────────────────────────────────────────────

const sourceCache = new Map();

async function openPassage(sourceId, start, end, n) {
  const panel = $("#panel");
  panel.hidden = false;
  $("#panel-title").textContent = `[${n}] loading…`;
  let src = sourceCache.get(sourceId);
  if (!src) {
    try {
      src = await api("/api/sources/" + encodeURIComponent(sourceId));
      sourceCache.set(sourceId, src);
    } catch (e) {
      $("#panel-title").textContent = `[${n}] ${e.message}`;
      return;
    }
  }
  const m = src.source.meta || {};
  $("#panel-title").textContent = `[${n}] ${m.title || src.source.location}`;
  $("#panel-meta").replaceChildren([m.publisher, m.published, m.kind].filter(Boolean).join(" · "),
    el("div", {}, m.url || src.source.location));
  // Offsets count Unicode code points; JavaScript strings count UTF-16 units.
  const cps = Array.from(src.text);
  const mark = el("mark", {}, cps.slice(start, end).join(""));
  const box = $("#panel-text");
  box.replaceChildren(cps.slice(0, start).join(""), mark, cps.slice(end).join(""));
  // Scroll the panel (only) so that the mark sits a third of the way down.
  box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
}

// ── Sources ──────────────────────────────────────────────────────────────────────────

async function loadSources() {
  let sources;
  try {
    sources = await api("/api/sources");
  } catch (e) {
    return flash(e.message);
  }
  $("#sources-count").textContent = `${sources.length} sources`;
  $("#sources-table tbody").replaceChildren(...sources.map((s) => el("tr", {},
    el("td", {}, s.meta.published || "—"),
    el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openPassage(s.id, 0, 0, "·"); } }, s.meta.title || s.location),
      s.duplicate_of ? el("span", { class: "muted" }, " (copy)") : null),
    el("td", {}, s.meta.publisher || ""),
    el("td", {}, s.meta.kind || "other"),
    el("td", {}, s.passage_count),
    el("td", { class: "no-print" }, readOnly ? null : el("button", { type: "button", class: "danger", onclick: () => removeSource(s) }, "Delete")))));
}

async function removeSource(s) {
  if (!confirm(`Remove “${s.meta.title || s.location}” from the library?`)) return;
  try {
    await api("/api/sources/" + encodeURIComponent(s.id), { method: "DELETE" });
    sourceCache.delete(s.id);
    flash("Removed.", "ok");
    loadSources();
  } catch (e) {
    flash(e.message);
  }
}

function reportText(r) {
  const bits = [`added ${r.added}`, `unchanged ${r.unchanged}`];
  if (r.duplicates) bits.push(`near-duplicates ${r.duplicates}`);
  if (r.failed.length) bits.push(`failed: ${r.failed.map((f) => f.message).join("; ")}`);
  return "Ingest: " + bits.join(", ");
}

async function addSources(body, headers) {
  try {
    const r = await api("/api/sources", { method: "POST", body, headers });
    flash(reportText(r), r.failed.length ? "error" : "ok");
    loadSources();
  } catch (e) {
    flash(e.message);
  }
}

// ── History ──────────────────────────────────────────────────────────────────────────

let historyOffset = 0;
let readOnly = false;
const PAGE = 20;

async function loadHistory(offset) {
  let page;
  try {
    page = await api(`/api/checks?offset=${offset}&limit=${PAGE}`);
  } catch (e) {
    return flash(e.message);
  }
  historyOffset = offset;
  $("#history-prev").disabled = offset === 0;
  $("#history-next").disabled = page.next_offset === null;
  $("#history-table tbody").replaceChildren(...page.items.map((c) => el("tr", {},
    el("td", {}, c.created_at.slice(0, 16).replace("T", " ")),
    el("td", {}, el("a", { href: "#/check/" + c.id }, (c.mode === "check" ? "Claim: " : "") + c.input)),
    el("td", { class: "status-" + c.status, title: c.error || "" }, c.status),
    el("td", {}, c.verdict || ""),
    el("td", { class: "no-print" }, el("button", { type: "button", onclick: () => recheck(c) }, "Check again")))));
}

// ── Wiring ───────────────────────────────────────────────────────────────────────────

async function init() {
  $("#ask-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const mode = document.querySelector("input[name=mode]:checked").value;
    try {
      await submitCheck($("#ask-input").value.trim(), mode, $("#ask-asof").value, $("#ask-unsupported").checked);
    } catch (err) {
      flash(err.message);
    }
  });
  $("#upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const files = $("#upload-files").files;
    if (!files.length) return flash("Choose one or more files first.");
    const fd = new FormData();
    for (const f of files) fd.append("file", f, f.name);
    addSources(fd, {});
  });
  $("#url-form").addEventListener("submit", (e) => {
    e.preventDefault();
    addSources(JSON.stringify({ url: $("#url-input").value.trim() }), { "Content-Type": "application/json" });
  });
  $("#history-prev").addEventListener("click", () => loadHistory(Math.max(0, historyOffset - PAGE)));
  $("#history-next").addEventListener("click", () => loadHistory(historyOffset + PAGE));
  $("#panel-close").addEventListener("click", () => { $("#panel").hidden = true; });
  $("#token").value = token();
  $("#token").addEventListener("change", (e) => localStorage.setItem("verity-token", e.target.value));
  window.addEventListener("hashchange", route);
  try {
    const h = await api("/api/health");
    $("#token-box").hidden = !h.token_required;
    $("#library-info").textContent = `${h.sources} sources${h.read_only ? " · read-only" : ""}`;
    readOnly = h.read_only;
    $(".add-sources").hidden = readOnly;
  } catch (e) {
    flash("The server did not answer: " + e.message);
  }
  route();
}

document.addEventListener("DOMContentLoaded", init);
