// The campaigns list: one sortable row per campaign.

import {api} from "./api.js";
import {empty, fmtDay, fmtNum, h, labelBadge, link, pageHeader, panel, platformChip, scoreBar, table, verdictBadge} from "./dom.js";

function topEntries(obj, n) {
  return Object.entries(obj || {}).sort((a, b) => b[1] - a[1]).slice(0, n);
}

export async function campaignsPage(main, ctx) {
  const data = await api("/api/campaigns");
  if (ctx.stale()) return;
  const rows = data.campaigns || [];
  main.append(pageHeader("Campaigns", `${fmtNum(rows.length)} campaign(s). Score 0–1 against the null model; “likely inauthentic” at or above the report threshold. Click a column to sort.`));
  if (rows.length === 0) {
    main.append(panel("Campaigns", empty("No campaigns: run detection from the overview, or the case has no coordinated accounts.")));
    return;
  }
  main.append(panel("Campaigns", campaignsTable(rows)));
}

/** One sortable row per campaign, best score first (the campaigns page, and the overview's list). */
export function campaignsTable(rows) {
  return table([
    {title: "Id", cls: "mono nowrap", value: (c) => link(`#/campaign/${encodeURIComponent(c.id)}`, c.id),
      sort: (c) => Number(String(c.id).replace(/\D/g, "")) || c.id},
    {title: "Score", cls: "nowrap", value: (c) => h("span", {class: "score-cell"}, scoreBar(c.score),
      verdictBadge(c)), sort: (c) => c.score, desc: true},
    {title: "Accounts", cls: "num", value: (c) => fmtNum(c.accounts), sort: (c) => c.accounts, desc: true},
    {title: "Posts", cls: "num", value: (c) => fmtNum(c.posts), sort: (c) => c.posts, desc: true},
    {title: "Accounts per platform", value: (c) => h("span", {class: "chips"}, topEntries(c.per_platform, 6).map(([p, n]) => platformChip(p, n))),
      sort: (c) => Object.keys(c.per_platform || {}).length, desc: true},
    {title: "Languages (posts)", value: (c) => h("span", {class: "chips"}, topEntries(c.per_language, 4).map(([l, n]) =>
      h("span", {class: "chip"}, l, h("span", {class: "chip-n"}, fmtNum(n))))), sort: (c) => Object.keys(c.per_language || {}).length, desc: true},
    {title: "First seen", cls: "mono nowrap", value: (c) => fmtDay(c.first_seen), sort: (c) => c.first_seen},
    {title: "Last seen", cls: "mono nowrap", value: (c) => fmtDay(c.last_seen), sort: (c) => c.last_seen},
    {title: "Top signals", value: (c) => h("span", {class: "chips"}, (c.top_signals || []).slice(0, 5).map((t) => h("span", {class: "tag"}, t))),
      sort: (c) => (c.top_signals || []).length, desc: true},
    {title: "Label", cls: "nowrap", value: (c) => labelBadge(c.label), sort: (c) => (c.label ? c.label.label : "")},
  ], rows, {sortable: true, initial: {col: 1, desc: true}, cls: "grid campaigns"});
}
