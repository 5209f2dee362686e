// The query page: pick an example, run it against /sparql, show the rows, link IRIs.
"use strict";
const BASE = "https://w3id.org/negotiation-kg/id/";
const $ = (id) => document.getElementById(id);

// The query is sent exactly as typed, so error positions point into what the user wrote.
function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri") {
    const a = document.createElement("a");
    a.href = term.value.startsWith(BASE) ? "/id/" + term.value.slice(BASE.length) : term.value;
    a.textContent = term.value;
    td.appendChild(a);
  } else {
    td.textContent = term.value;
    td.className = "lit";
  }
  return td;
}

async function run() {
  const body = new URLSearchParams({ query: $("query").value });
  $("status").textContent = "running…";
  $("results").textContent = "";
  const response = await fetch("/sparql", {
    method: "POST", body,
    headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
  });
  const text = await response.text();
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
  const vars = data.head.vars;
  const table = document.createElement("table");
  const head = table.insertRow();
  vars.forEach((v) => { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
  data.results.bindings.forEach((row) => {
    const tr = table.insertRow();
    vars.forEach((v) => tr.appendChild(cell(row[v])));
  });
  $("results").appendChild(table);
  $("status").textContent = data.results.bindings.length + " rows";
}

async function loadExamples() {
  const response = await fetch("/examples");
  const examples = await response.json();
  examples.forEach((ex, i) => {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = ex.title;
    $("examples").appendChild(option);
  });
  $("examples").addEventListener("change", (e) => {
    const ex = examples[Number(e.target.value)];
    if (ex) { $("query").value = ex.query; updateDownloads(); }
  });
}

// Download links are real links (open in a tab, save as, keyboard focus), kept in step with the editor.
function updateDownloads() {
  document.querySelectorAll(".dl").forEach((a) => {
    a.href = "/sparql?" + new URLSearchParams({ query: $("query").value, format: a.dataset.format }).toString();
    a.download = "result." + a.dataset.ext;
  });
}
$("query").addEventListener("input", updateDownloads);
updateDownloads();
$("run").addEventListener("click", run);
loadExamples();
