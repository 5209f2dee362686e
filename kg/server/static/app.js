// The query page: pick an example, run it against /sparql, show the rows, link IRIs.
"use strict";
const PREFIXES = {
  nkg: "https://w3id.org/negotiation-kg/ontology#", schema: "https://schema.org/",
  rdfs: "http://www.w3.org/2000/01/rdf-schema#", rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  oa: "http://www.w3.org/ns/oa#", owl: "http://www.w3.org/2002/07/owl#", skos: "http://www.w3.org/2004/02/skos/core#",
  dcterms: "http://purl.org/dc/terms/", prov: "http://www.w3.org/ns/prov#", xsd: "http://www.w3.org/2001/XMLSchema#",
};
const BASE = "https://w3id.org/negotiation-kg/id/";
const $ = (id) => document.getElementById(id);

function withPrefixes(query) {
  const declared = new Set([...query.matchAll(/PREFIX\s+(\w*):/gi)].map((m) => m[1]));
  const head = Object.entries(PREFIXES).filter(([p]) => !declared.has(p))
    .map(([p, iri]) => `PREFIX ${p}: <${iri}>`).join("\n");
  return head + "\n" + query;
}

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
  const body = new URLSearchParams({ query: withPrefixes($("query").value) });
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
    if (ex) $("query").value = ex.query;
  });
}

document.querySelectorAll(".dl").forEach((a) => {
  a.addEventListener("click", () => {
    const params = new URLSearchParams({ query: withPrefixes($("query").value), format: a.dataset.format });
    window.location.href = "/sparql?" + params.toString();
  });
});
$("run").addEventListener("click", run);
loadExamples();
