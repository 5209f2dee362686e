// The query page: a SPARQL editor (CodeMirror 6, bundled in /static/vendor/codemirror), the
// competency questions and the queries run here as menus, the answer of /sparql as a table that
// pages and sorts, with prefixed names and labels. Everything comes from this server.
"use strict";
const BASE = "https://w3id.org/negotiation-kg/id/";
const PAGE_SIZES = [25, 50, 100, 500];
const HISTORY_KEY = "negotiation-kg.history";
const HISTORY_MAX = 30;
const LABELS_MAX = 400; // IRIs whose labels are asked for after a result, in one small query
const KEYWORDS = ["SELECT", "DISTINCT", "WHERE", "PREFIX", "BASE", "OPTIONAL", "FILTER", "UNION", "MINUS", "GRAPH",
  "BIND", "VALUES", "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET", "ASK", "CONSTRUCT", "DESCRIBE", "NOT EXISTS",
  "EXISTS", "COUNT", "SAMPLE", "GROUP_CONCAT", "STR", "LANG", "LANGMATCHES", "REGEX", "CONTAINS", "STRSTARTS", "ASC",
  "DESC", "FROM", "FROM NAMED", "AS", "SERVICE"];
const $ = (id) => document.getElementById(id);
document.documentElement.classList.add("js");

const state = { vars: [], rows: [], sortBy: null, descending: false, page: 0, pageSize: 50, labels: new Map(),
  prefixes: {}, terms: [], controller: null };

// --- the editor ------------------------------------------------------------------------------

const textarea = $("query");
let view = null;

function queryText() { return view ? view.state.doc.toString() : textarea.value; }

function setQuery(text) {
  if (view) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  else textarea.value = text;
  changed();
}

// Each edit: the form's textarea (what the page posts without JavaScript), the download links
// and the permalink follow the editor.
function changed() {
  if (view) textarea.value = view.state.doc.toString();
  const query = queryText();
  document.querySelectorAll(".dl").forEach((a) => {
    a.href = "/sparql?" + new URLSearchParams({ query, format: a.dataset.format }).toString();
    a.download = "result." + a.dataset.ext;
  });
  $("permalink").href = "/?" + new URLSearchParams({ query }).toString();
}

function declared(text) {
  const found = new Set();
  for (const m of text.matchAll(/PREFIX\s+([A-Za-z][\w.-]*)?:/gi)) found.add(m[1] || "");
  return found;
}

// Completion: after "prefix:" the ontology's terms in that namespace (adding the PREFIX line when
// the query lacks it); after "PREFIX " whole declarations; after "?" the query's variables; inside
// an IRI nothing; elsewhere prefixes and keywords.
function complete(context) {
  const word = context.matchBefore(/[A-Za-z_][\w.-]*:[\w.-]*|[A-Za-z_][\w-]*/);
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  if (/^\s*PREFIX\s+[\w.-]*$/i.test(before)) {
    const from = word ? word.from : context.pos;
    return { from, validFor: /^[\w.-]*$/, options: Object.entries(state.prefixes).map(([p, iri]) => (
      { label: `${p}: <${iri}>`, type: "namespace" })) };
  }
  if (!word) return context.explicit ? { from: context.pos, options: prefixOptions() } : null;
  const mark = context.state.sliceDoc(word.from - 1, word.from);
  if (mark === "?" || mark === "$") { // a variable: the query's own
    const all = [...context.state.doc.toString().matchAll(/[?$](\w+)/g)].map((m) => m[1]);
    const names = new Set(all.filter((n) => n !== word.text || all.indexOf(n) !== all.lastIndexOf(n)));
    return { from: word.from, validFor: /^\w*$/, options: [...names].map((n) => ({ label: n, type: "variable" })) };
  }
  if (/<[^>\s]*$/.test(before.slice(0, word.from - line.from))) return null; // inside an IRI
  const colon = word.text.indexOf(":");
  if (colon < 0) {
    if (word.text.length < 2 && !context.explicit) return null;
    return { from: word.from, validFor: /^[\w-]*$/, options: [...prefixOptions(),
      ...KEYWORDS.map((k) => ({ label: k, type: "keyword" }))] };
  }
  const prefix = word.text.slice(0, colon);
  const iri = state.prefixes[prefix];
  if (!iri) return null;
  return {
    from: word.from, validFor: /^[\w.-]*:[\w.-]*$/,
    options: state.terms.filter((t) => t.name.startsWith(prefix + ":")).map((t) => ({
      label: t.name, type: t.kind.includes("property") ? "property" : "class", detail: t.kind,
      info: [t.label, t.comment].filter(Boolean).join(" — ") || null,
      apply: (v, completion, from, to) => insertTerm(v, completion.label, from, to, prefix, iri),
    })),
  };
}

function prefixOptions() {
  return Object.keys(state.prefixes).map((p) => ({ label: p + ":", type: "namespace", detail: state.prefixes[p],
    apply: (v, completion, from, to) => insertTerm(v, completion.label, from, to, p, state.prefixes[p]) }));
}

function insertTerm(v, text, from, to, prefix, iri) {
  const changes = [{ from, to, insert: text }];
  if (!declared(v.state.doc.toString()).has(prefix)) changes.unshift({ from: 0, insert: `PREFIX ${prefix}: <${iri}>\n` });
  const shift = changes.length > 1 ? changes[0].insert.length : 0;
  v.dispatch({ changes, selection: { anchor: from + shift + text.length } });
}

function startEditor() {
  if (!window.CM) return; // the bundle did not load: the plain textarea still works
  const cm = window.CM;
  const run = () => { submit(); return true; };
  // In a shadow root: CodeMirror then adds its styles as constructed style sheets, not as an
  // inline <style> element, which the page's Content-Security-Policy (style-src 'self') refuses.
  const host = document.createElement("div");
  host.className = "editor-host";
  const root = host.attachShadow({ mode: "open" });
  const sheet = document.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = "/static/editor.css";
  root.appendChild(sheet);
  view = new cm.EditorView({
    root, parent: root,
    state: cm.EditorState.create({
      doc: textarea.value,
      extensions: [
        cm.lineNumbers(), cm.history(), cm.drawSelection(), cm.highlightActiveLine(), cm.bracketMatching(),
        cm.closeBrackets(), cm.indentOnInput(),
        cm.StreamLanguage.define(cm.sparql), cm.syntaxHighlighting(cm.classHighlighter),
        cm.autocompletion({ override: [complete], icons: false }),
        cm.Prec.highest(cm.keymap.of([{ key: "Mod-Enter", run }])),
        cm.keymap.of([...cm.closeBracketsKeymap, ...cm.defaultKeymap, ...cm.historyKeymap, ...cm.completionKeymap,
          cm.indentWithTab]),
        cm.EditorView.lineWrapping,
        cm.EditorView.contentAttributes.of({ "aria-label": "SPARQL query" }),
        cm.EditorView.updateListener.of((u) => { if (u.docChanged) changed(); }),
      ],
    }),
  });
  textarea.after(host);
  textarea.classList.add("replaced");
}

// The prefixes and the ontology's terms, for completion and for prefixed names in the table.
function loadCompletions() {
  fetch("/completions").then((r) => r.json()).then((c) => {
    state.prefixes = c.prefixes;
    state.terms = c.terms;
    if (state.rows.length) render();
  }).catch(() => { /* completion and prefixed names are a nicety */ });
}

// --- running a query -------------------------------------------------------------------------

function submit() {
  if (state.controller) return;
  run(queryText());
}

// The query is sent exactly as typed, so error positions point into what the user wrote.
async function run(query) {
  const controller = new AbortController();
  state.controller = controller;
  $("cancel").disabled = false;
  $("run").disabled = true;
  $("status").textContent = "running…";
  $("elapsed").textContent = "";
  $("results").textContent = "";
  history.replaceState(null, "", "/?" + new URLSearchParams({ query }).toString());
  remember(query);
  const started = performance.now();
  try {
    const response = await fetch("/sparql", {
      method: "POST", body: new URLSearchParams({ query }), signal: controller.signal,
      headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
    });
    const text = await response.text();
    $("elapsed").textContent = `in ${formatTime(performance.now() - started)}`;
    show(response, text);
  } catch (err) {
    if (err.name !== "AbortError") throw err;
    $("status").textContent = "cancelled";
    $("elapsed").textContent = `after ${formatTime(performance.now() - started)}`;
  } finally {
    state.controller = null;
    $("cancel").disabled = true;
    $("run").disabled = false;
  }
}

function formatTime(ms) { return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`; }

function show(response, text) {
  if (!response.ok) {
    $("status").textContent = "";
    const div = document.createElement("div");
    div.className = "error";
    try { div.textContent = JSON.parse(text).message; } catch { div.textContent = text; }
    $("results").appendChild(div);
    return;
  }
  if (!(response.headers.get("content-type") || "").includes("json")) {
    const pre = document.createElement("pre");
    pre.textContent = text;
    $("results").appendChild(pre);
    $("status").textContent = "";
    return;
  }
  const data = JSON.parse(text);
  if ("boolean" in data) { $("status").textContent = "answer: " + data.boolean; return; }
  Object.assign(state, { vars: data.head.vars, rows: data.results.bindings, sortBy: null, descending: false, page: 0 });
  $("status").textContent = state.rows.length + " rows";
  render();
  fetchLabels();
}

$("cancel").addEventListener("click", () => { if (state.controller) state.controller.abort(); });

// --- the table -------------------------------------------------------------------------------

function prefixed(iri) {
  let best = null;
  for (const [p, ns] of Object.entries(state.prefixes)) {
    if (iri.startsWith(ns) && iri.length > ns.length && (!best || ns.length > best[1].length)) best = [p, ns];
  }
  const local = best && iri.slice(best[1].length);
  return best && /^[\w.-]+$/.test(local) ? `${best[0]}:${local}` : iri;
}

function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri") {
    const a = document.createElement("a");
    a.href = term.value.startsWith(BASE) ? "/id/" + term.value.slice(BASE.length) : term.value;
    a.textContent = prefixed(term.value);
    a.title = term.value;
    a.dataset.iri = term.value;
    td.appendChild(a);
    const label = state.labels.get(term.value);
    if (label) {
      const span = document.createElement("span");
      span.className = "label";
      span.textContent = label;
      td.appendChild(span);
    }
  } else {
    td.textContent = term.value;
    td.className = term.type === "bnode" ? "bnode" : "lit";
    // a language or datatype shows under the value (style.css), and is no part of its text
    const type = term.datatype && prefixed(term.datatype);
    if (term["xml:lang"]) td.dataset.tag = "@" + term["xml:lang"];
    else if (type && type !== "xsd:string") td.dataset.tag = type;
  }
  return td;
}

const NUMERIC = /#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger|gYear)$/;

function compare(a, b) {
  if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1); // unbound last
  if (NUMERIC.test(a.datatype || "") && NUMERIC.test(b.datatype || "")) return Number(a.value) - Number(b.value);
  const x = a.type === "uri" ? (state.labels.get(a.value) || prefixed(a.value)) : a.value;
  const y = b.type === "uri" ? (state.labels.get(b.value) || prefixed(b.value)) : b.value;
  return x.localeCompare(y, undefined, { numeric: true });
}

function sortedRows() {
  if (state.sortBy === null) return state.rows;
  const v = state.sortBy;
  const sign = state.descending ? -1 : 1;
  // unbound stays last either way; otherwise the order of the answer breaks ties (a stable sort)
  return state.rows.slice().sort((r, s) => (!r[v] || !s[v]) ? compare(r[v], s[v]) : sign * compare(r[v], s[v]));
}

function render() {
  const rows = sortedRows();
  const pages = Math.max(1, Math.ceil(rows.length / state.pageSize));
  state.page = Math.min(state.page, pages - 1);
  const first = state.page * state.pageSize;
  const table = document.createElement("table");
  table.className = "results";
  const head = table.createTHead().insertRow();
  state.vars.forEach((v) => {
    const th = document.createElement("th");
    th.scope = "col";
    if (state.sortBy === v) th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = v;
    button.title = "sort by " + v;
    button.addEventListener("click", () => {
      state.descending = state.sortBy === v ? !state.descending : false;
      state.sortBy = v;
      state.page = 0;
      render();
    });
    th.appendChild(button);
    head.appendChild(th);
  });
  const body = table.createTBody();
  rows.slice(first, first + state.pageSize).forEach((row) => {
    const tr = body.insertRow();
    state.vars.forEach((v) => tr.appendChild(cell(row[v])));
  });
  $("results").replaceChildren(table, pager(rows.length, pages, first));
}

function pager(total, pages, first) {
  const nav = document.createElement("div");
  nav.className = "pager";
  const button = (text, page, disabled) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.disabled = disabled;
    b.addEventListener("click", () => { state.page = page; render(); });
    return b;
  };
  const where = document.createElement("span");
  where.className = "where";
  where.textContent = total ? `rows ${first + 1}–${Math.min(total, first + state.pageSize)} of ${total}` : "no rows";
  const size = document.createElement("select");
  size.setAttribute("aria-label", "rows per page");
  PAGE_SIZES.forEach((n) => size.add(new Option(`${n} per page`, String(n), false, n === state.pageSize)));
  size.addEventListener("change", () => { state.pageSize = Number(size.value); state.page = 0; render(); });
  nav.append(button("‹ previous", state.page - 1, state.page === 0), where,
    button("next ›", state.page + 1, state.page >= pages - 1), size);
  return nav;
}

// Labels where they are cheap: one query for the rdfs:label of the IRIs in the answer.
async function fetchLabels() {
  const iris = new Set();
  for (const row of state.rows) {
    for (const v of state.vars) if (row[v] && row[v].type === "uri") iris.add(row[v].value);
    if (iris.size >= LABELS_MAX) break;
  }
  if (!iris.size) return;
  const values = [...iris].slice(0, LABELS_MAX).map((i) => `<${i.replace(/[<>"{}|^`\\\s]/g, "")}>`).join(" ");
  const query = "SELECT ?s (SAMPLE(?l) AS ?label) WHERE { VALUES ?s { " + values +
    " } ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } GROUP BY ?s";
  try {
    const response = await fetch("/sparql", { method: "POST", body: new URLSearchParams({ query }),
      headers: { Accept: "application/sparql-results+json" } });
    if (!response.ok) return;
    const data = await response.json();
    data.results.bindings.forEach((b) => state.labels.set(b.s.value, b.label.value));
    if (state.rows.length) render();
  } catch { /* labels are a nicety: the table stands without them */ }
}

// --- examples, history, permalinks ------------------------------------------------------------

async function loadExamples() {
  const response = await fetch("/examples");
  const examples = await response.json();
  examples.forEach((ex, i) => $("examples").add(new Option(ex.title, String(i))));
  $("examples").addEventListener("change", (e) => {
    const ex = examples[Number(e.target.value)];
    if (ex) setQuery(ex.query);
  });
}

function readHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch { return []; }
}

function remember(query) {
  const list = [query, ...readHistory().filter((q) => q !== query)].slice(0, HISTORY_MAX);
  try { localStorage.setItem(HISTORY_KEY, JSON.stringify(list)); } catch { /* private mode: no history */ }
  showHistory(list);
}

function showHistory(list) {
  const select = $("history");
  select.length = 1;
  list.forEach((q, i) => select.add(new Option(q.replace(/^(PREFIX[^\n]*\n|\s*\n)*/i, "").replace(/\s+/g, " ").slice(0, 80), String(i))));
}

$("history").addEventListener("change", (e) => {
  const query = readHistory()[Number(e.target.value)];
  if (query !== undefined) setQuery(query);
  e.target.value = "";
});

$("form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
// Ctrl+Enter runs from anywhere on the page, not only inside the editor
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) { e.preventDefault(); submit(); }
});

startEditor();
loadCompletions();
changed();
showHistory(readHistory());
loadExamples();
