// Case overview: the campaigns, volume per platform and language, the daily timeline (the server's
// SVG), runs and their parameters, quarantine, starting a detection run with progress, and downloads
// of every export.

import {api, notify, showError} from "./api.js";
import {serverChart} from "./charts.js";
import {campaignsTable} from "./page-campaigns.js";
import {badge, clear, empty, fmtNum, fmtTime, h, link, pageHeader, panel, platformChip, stat, table} from "./dom.js";

export const EXPORTS = [
  ["json", "findings.json", "the findings with every signal and its evidence"],
  ["html", "HTML report", "the stand-alone report"],
  ["stix", "STIX 2.1", "bundle with DISARM technique ids"],
  ["gexf", "GEXF", "network for Gephi"],
  ["graphml", "GraphML", "network for Gephi, igraph, yEd"],
  ["csv", "CSV (zip)", "campaigns, accounts, signals, evidence tables"],
  ["parquet", "Parquet (zip)", "the same tables, typed"],
];

const POLL_MS = 500;
let lastRun = null; // {state} of the last run started from this page

function runsTable(runs) {
  if (!runs || runs.length === 0) return empty("No runs recorded.");
  const rows = [...runs].sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  return table([
    {title: "Run", cls: "mono nowrap", value: (r) => r.run_id},
    {title: "Command", cls: "nowrap", value: (r) => r.command || "–"},
    {title: "Started (UTC)", cls: "mono nowrap", value: (r) => fmtTime(r.started_at)},
    {title: "Ended (UTC)", cls: "mono nowrap", value: (r) => fmtTime(r.ended_at)},
    {title: "Status", cls: "nowrap", value: (r) => badge(r.status || "?", r.status === "ok" ? "ok" : r.status === "failed" ? "bad" : "neutral")},
    {title: "Parameters", cls: "params", value: (r) => parametersCell(r.parameters)},
  ], rows);
}

function parametersCell(parameters) {
  if (parameters === null || parameters === undefined || parameters === "") return h("span", {class: "muted"}, "–");
  let text = parameters;
  if (typeof parameters === "string") {
    try {
      text = JSON.stringify(JSON.parse(parameters), null, 2);
    } catch {
      text = parameters;
    }
  } else {
    text = JSON.stringify(parameters, null, 2);
  }
  const lines = text.split("\n").length;
  return h("details", {class: "params"}, h("summary", null, `${fmtNum(lines)} lines`), h("pre", {class: "code"}, text));
}

function runBox(onFinished) {
  const button = h("button", {type: "button", class: "btn btn-primary", id: "run-detection"}, "Run detection");
  const bar = h("progress", {max: 1, value: 0, class: "progress", id: "run-progress", hidden: true});
  const step = h("span", {class: "run-step muted", id: "run-step"}, "Re-runs detection on this case; labels are kept.");
  const box = h("div", {class: "run-box"}, button, bar, step);
  if (lastRun) {
    // the overview is redrawn when a run ends: keep saying how the last one went
    box.dataset.state = lastRun.state;
    bar.hidden = false;
    bar.max = 1;
    bar.value = lastRun.state === "ok" ? 1 : 0;
    clear(step).append(lastRun.state === "ok" ? "Detection finished." : "Detection failed.");
  }
  const poll = async (jobId) => {
    let st;
    try {
      st = await api(`/api/run/${encodeURIComponent(jobId)}`);
    } catch {
      button.disabled = false;
      return;
    }
    const total = Math.max(1, Number(st.total) || 1);
    bar.max = total;
    bar.value = Math.min(total, Number(st.done) || 0);
    clear(step).append(st.step ? `${st.step} (${fmtNum(st.done || 0)}/${fmtNum(st.total || 0)})` : st.state);
    if (st.state === "running") {
      setTimeout(() => poll(jobId), POLL_MS);
      return;
    }
    button.disabled = false;
    box.dataset.state = st.state;
    lastRun = {state: st.state};
    if (st.state === "ok") {
      bar.value = bar.max;
      clear(step).append("Detection finished.");
      notify("Detection finished: the findings are updated.");
      if (onFinished) onFinished();
    } else {
      clear(step).append("Detection failed.");
      showError(`Detection failed: ${st.error || "no reason given"}`);
    }
  };
  button.addEventListener("click", async () => {
    lastRun = null;
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    box.dataset.state = "running";
    clear(step).append("Starting…");
    try {
      const res = await api("/api/run", {method: "POST", body: {}});
      poll(res.job_id);
    } catch {
      button.disabled = false;
      bar.hidden = true;
      box.dataset.state = "failed";
      clear(step).append("Could not start.");
    }
  });
  return box;
}

function exportsList() {
  return h("ul", {class: "exports"}, EXPORTS.map(([fmt, name, help]) =>
    h("li", null, h("a", {href: `/api/export/${fmt}`, download: "", class: "btn btn-small", "data-format": fmt}, `↓ ${name}`),
      h("span", {class: "muted"}, help))));
}

export async function overviewPage(main, ctx) {
  const [data, listed] = await Promise.all([api("/api/case"), api("/api/campaigns")]);
  if (ctx.stale()) return;
  const platforms = Object.entries(data.per_platform || {}).sort((a, b) => b[1].posts - a[1].posts);
  const languages = Object.entries(data.per_language || {}).sort((a, b) => b[1] - a[1]);
  const f = data.findings;
  const q = data.quarantine || {total: 0, rows: []};
  const days = [...new Set((data.timeline || []).map((r) => r.day))].sort();

  main.append(pageHeader(data.name || "Case", days.length ? `${days[0]} – ${days[days.length - 1]} · ${fmtNum(days.length)} days with posts` : null));
  main.append(h("div", {class: "stats"},
    stat("posts", fmtNum(data.posts)),
    stat("accounts", fmtNum(data.accounts)),
    stat("platforms", fmtNum(platforms.length)),
    stat("languages", fmtNum(languages.length)),
    stat("campaigns", f ? link("#/campaigns", fmtNum(f.campaigns)) : "–", f ? `run ${f.run_id}` : "no findings yet"),
    stat("quarantined records", fmtNum(q.total))));

  // the campaigns, as the report's overview lists them
  const campaigns = listed.campaigns || [];
  main.append(panel(`Campaigns (${fmtNum(campaigns.length)})`, campaigns.length
    ? h("div", {class: "scroll-y overview-campaigns"}, campaignsTable(campaigns))
    : empty(f ? "No campaigns: the case has no coordinated accounts above the thresholds." : "No findings yet: run detection below.")));

  main.append(panel("Posts per day (UTC), by platform", serverChart(data.timeline_svg, {empty: "No posts."})));

  const volume = h("div", {class: "cols cols-3"},
    panel("Platforms", table([
      {title: "Platform", value: (r) => platformChip(r[0]), sort: (r) => r[0]},
      {title: "Posts", cls: "num", value: (r) => fmtNum(r[1].posts), sort: (r) => r[1].posts, desc: true},
      {title: "Accounts", cls: "num", value: (r) => fmtNum(r[1].accounts), sort: (r) => r[1].accounts, desc: true},
      {title: "", cls: "nowrap", nosort: true, value: (r) => link(`#/search?platform=${encodeURIComponent(r[0])}`, "search")},
    ], platforms, {sortable: true})),
    panel("Languages", h("div", {class: "scroll-y"}, table([
      {title: "Language", cls: "mono", value: (r) => r[0], sort: (r) => r[0]},
      {title: "Posts", cls: "num", value: (r) => fmtNum(r[1]), sort: (r) => r[1], desc: true},
      {title: "Share", cls: "num", value: (r) => `${((100 * r[1]) / Math.max(1, data.posts)).toFixed(1)} %`, sort: (r) => r[1]},
      {title: "", cls: "nowrap", nosort: true, value: (r) => link(`#/search?lang=${encodeURIComponent(r[0])}`, "search")},
    ], languages, {sortable: true}))),
    panel("Quarantine", q.total === 0 ? empty("No records were quarantined.") : h("div", {class: "scroll-y"}, table([
      {title: "Source", cls: "mono small", value: (r) => r.source},
      {title: "Reason", value: (r) => r.reason},
      {title: "Records", cls: "num", value: (r) => fmtNum(r.rows)},
    ], q.rows || [])), h("p", {class: "muted small"}, "Records that could not be read; the importers name the file, record and reason.")));
  main.append(volume);

  main.append(h("div", {class: "cols cols-2"},
    panel("Detection", runBox(() => ctx.reload()),
      f ? h("p", {class: "muted small"}, `Current findings: run ${f.run_id}, ${fmtTime(f.created_at)} UTC, ${fmtNum(f.campaigns)} campaign(s).`)
        : h("p", {class: "muted small"}, "No findings yet: run detection to find campaigns.")),
    panel("Downloads", exportsList())));

  main.append(panel("Runs", runsTable(data.runs)));
}
