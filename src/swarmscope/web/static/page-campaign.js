// One campaign: the explanation with every sentence linked to its evidence, the network, the
// timeline with bursts and narrative shifts, hour-of-week, holidays, top messages with their
// copies side by side, DISARM techniques, members, and the label form.

import {api} from "./api.js";
import {serverChart} from "./charts.js";
import {DISARM} from "./disarm.js";
import {
  accountRoute, badge, empty, externalLink, fmtDay, fmtNum, fmtPct, fmtLocal, fmtScore, fmtTime, fmtZone, h, labelBadge, link,
  pageHeader, panel, platformChip, postsRoute, scoreBar, stat, table, timeCell, verdictBadge,
} from "./dom.js";
import {labelBox} from "./labels.js";
import {campaignNetwork} from "./network.js";

export function signalLinks(ids, byId) {
  return h("span", {class: "evidence"}, (ids || []).map((sid) => {
    const sig = byId[sid];
    const parts = [link(`#/signal/${encodeURIComponent(sid)}`, sig ? `${sid} · ${sig.type}` : sid, {class: "ev-signal"})];
    const ev = sig && sig.evidence;
    if (ev && ev.post_ids && ev.post_ids.length) {
      parts.push(link(postsRoute(ev.post_ids), `${fmtNum(ev.post_count || ev.post_ids.length)} posts`, {class: "ev-posts"}));
    }
    return h("span", {class: "ev"}, parts);
  }));
}

function explanation(c, byId) {
  const list = h("div", {class: "explanation"});
  for (const sentence of c.explanation || []) {
    list.appendChild(h("p", null, h("span", {class: "ex-text"}, sentence.text), " ", signalLinks(sentence.evidence, byId)));
  }
  if (!list.firstChild) list.appendChild(empty("No explanation recorded."));
  return list;
}

function scoreParts(c) {
  const parts = Object.entries(c.score_parts || {});
  if (parts.length === 0) return null;
  const contrib = c.score_contributions || {};
  return h("details", {class: "score-parts"}, h("summary", null, "How the score is made"),
    table([
      {title: "Evidence family", value: (r) => r[0].replace(/_/g, " ")},
      {title: "Strength (0–1)", value: (r) => scoreBar(r[1])},
      {title: "Contribution", cls: "num", value: (r) => fmtScore(contrib[r[0]])},
    ], parts.sort((a, b) => (contrib[b[0]] || 0) - (contrib[a[0]] || 0))));
}

function narrativesTable(narratives) {
  if (!narratives || narratives.length === 0) return null;
  return h("details", {class: "narratives"}, h("summary", null, `Hashtags and words per week (${narratives.length} weeks)`),
    table([
      {title: "Week of", cls: "mono nowrap", value: (n) => n.period},
      {title: "Posts", cls: "num", value: (n) => fmtNum(n.posts)},
      {title: "Accounts", cls: "num", value: (n) => fmtNum(n.accounts)},
      {title: "Top hashtags", value: (n) => h("span", {class: "chips"}, (n.keywords || []).map((k) =>
        link(`#/search?hashtag=${encodeURIComponent(k)}`, `#${k}`, {class: "tag", dir: "auto"})))},
      {title: "Top words", value: (n) => h("span", {class: "chips"}, (n.terms || []).map((k) =>
        link(`#/search?q=${encodeURIComponent(k)}`, k, {class: "tag", dir: "auto"})))},
    ], narratives));
}

function holidaysPanel(holidays, signals, charts) {
  const sig = signals.find((s) => s.type === "holiday");
  const ranking = holidays && Array.isArray(holidays.ranking) ? holidays.ranking : sig && sig.figures && sig.figures.ranking;
  if (!ranking || ranking.length === 0) {
    return panel("Public holidays", empty("No holiday effect found (or too few days to test)."));
  }
  const top = ranking[0];
  return panel("Public holidays",
    h("p", {class: "lead"}, `Mean posts per local day: ${top.country_name} (${top.country}) public holidays vs working days. `,
      h("span", {class: "muted"}, `p (family-wise) = ${top.p_family}`), sig ? " " : null,
      sig ? link(`#/signal/${encodeURIComponent(sig.id)}`, `${sig.id} · evidence`) : null),
    serverChart(charts && charts.holidays, {caption: charts && charts.holidays_caption, empty: "No holiday chart."}),
    h("p", {class: "small muted"}, `Holidays: ${(top.holiday_dates || []).join(", ") || "–"}`,
      top.transferred_dates && top.transferred_dates.length ? ` · transferred working days: ${top.transferred_dates.join(", ")}` : ""),
    h("details", null, h("summary", null, `Country ranking (${ranking.length})`), table([
      {title: "#", cls: "num", value: (r) => r.rank},
      {title: "Country", value: (r) => `${r.country_name} (${r.country})`},
      {title: "Holidays", cls: "num", value: (r) => fmtNum(r.holidays)},
      {title: "Holiday mean", cls: "num", value: (r) => (r.holiday_mean ?? 0).toFixed(1)},
      {title: "Working-day mean", cls: "num", value: (r) => (r.workday_mean ?? 0).toFixed(1)},
      {title: "p (family)", cls: "num", value: (r) => String(r.p_family)},
    ], ranking.slice(0, 10))),
    h("p", {class: "small muted"}, "A hint about the operators' calendar, never an attribution."));
}

function rhythmNote(signals) {
  const r = signals.find((s) => s.type === "rhythm");
  if (!r) return null;
  return h("p", {class: "small"}, r.summary || "", " ", link(`#/signal/${encodeURIComponent(r.id)}`, `${r.id} · evidence`));
}

function messagesPanel(messages, offset) {
  if (!messages || messages.length === 0) return panel("Top messages", empty("No repeated messages."));
  const list = h("div", {class: "messages"});
  messages.forEach((m, i) => {
    const copies = (m.posts || []).map((p) => h("div", {class: "copy"},
      h("div", {class: "copy-head"}, platformChip(p.platform), " ",
        link(accountRoute(p.platform, p.account_id), p.handle ? `@${p.handle}` : p.account_id), " ",
        h("span", {class: "mono small muted"}, timeCell(p.created_at, offset))),
      h("div", {class: "post-text", dir: "auto"}, p.text ?? "")));
    const ids = (m.posts || []).map((p) => [p.platform, p.post_id]);
    list.appendChild(h("div", {class: "message"},
      h("div", {class: "message-head"}, h("span", {class: "rank"}, `#${i + 1}`),
        h("span", null, `${fmtNum(m.copies)} copies by ${fmtNum(m.accounts)} accounts`),
        h("span", {class: "mono small muted"}, `${fmtTime(m.first)} → ${fmtTime(m.last)} UTC` +
          (fmtLocal(m.first, offset) ? ` (${fmtLocal(m.first, offset)} → ${fmtLocal(m.last, offset)})` : "")),
        ids.length ? link(postsRoute(ids), "posts") : null),
      h("blockquote", {class: "post-text", dir: "auto"}, m.text ?? ""),
      copies.length ? h("details", {class: "copies"}, h("summary", null, `${copies.length} copies side by side`),
        h("div", {class: "copy-grid"}, copies)) : null));
  });
  return panel("Top messages", list);
}

function disarmPanel(c, signals) {
  const ids = (c.disarm || []).map((d) => (typeof d === "string" ? {id: d} : d));
  if (ids.length === 0) return panel("DISARM techniques", empty("No technique: the signals describe the operators, not a technique."));
  const types = new Set(signals.map((s) => s.type));
  return panel("DISARM techniques", table([
    {title: "Id", cls: "mono nowrap", value: (d) => {
      const url = d.url || `https://github.com/DISARMFoundation/DISARMframeworks/blob/5409c8c7148c4a327f4ba41ea2890c6c3bf811c1/generated_pages/techniques/${d.id}.md`;
      return externalLink(url, d.id) || d.id;
    }},
    {title: "Technique", value: (d) => d.name || (DISARM[d.id] || {}).name || "–"},
    {title: "Tactic", cls: "mono", value: (d) => d.tactic_id || (DISARM[d.id] || {}).tactic || "–"},
    {title: "Shown by", value: (d) => {
      const need = (DISARM[d.id] || {}).signals || [];
      const hits = signals.filter((s) => need.includes(s.type));
      return hits.length ? h("span", {class: "chips"}, hits.slice(0, 6).map((s) => link(`#/signal/${encodeURIComponent(s.id)}`, `${s.id} ${s.type}`, {class: "tag"})))
        : h("span", {class: "muted"}, need.filter((t) => types.has(t)).join(", ") || "–");
    }},
  ], ids), h("p", {class: "small muted"}, "DISARM Red Framework (CC BY 4.0), pinned commit; the mapping is in docs/exports.md."));
}

function membersPanel(c, byId) {
  const accounts = c.accounts || [];
  return panel(`Accounts (${fmtNum(accounts.length)})`, h("div", {class: "scroll-y tall"}, table([
    {title: "Account", cls: "nowrap", value: (a) => link(accountRoute(a.platform, a.account_id), a.handle ? `@${a.handle}` : a.account_id),
      sort: (a) => (a.handle || a.account_id || "").toLowerCase()},
    {title: "Name", value: (a) => h("span", {dir: "auto"}, a.display_name || "–"), sort: (a) => (a.display_name || "").toLowerCase()},
    {title: "Platform", cls: "nowrap", value: (a) => platformChip(a.platform), sort: (a) => a.platform},
    {title: "Role", value: (a) => a.role || "–", sort: (a) => a.role},
    {title: "Persona", cls: "mono", value: (a) => a.persona || "–", sort: (a) => a.persona || "", help: "accounts across platforms that one persona runs"},
    {title: "Created (UTC)", cls: "mono nowrap", value: (a) => fmtTime(a.created_at), sort: (a) => a.created_at || ""},
    {title: "Followers", cls: "num", value: (a) => fmtNum(a.followers), sort: (a) => a.followers ?? -1, desc: true},
    {title: "Signals", value: (a) => h("span", {class: "chips"}, (a.signals || []).map((sid) =>
      link(`#/signal/${encodeURIComponent(sid)}`, byId[sid] ? `${sid} ${byId[sid].type}` : sid, {class: "tag"}))),
    sort: (a) => (a.signals || []).length, desc: true},
  ], accounts, {sortable: true})));
}

function signalsPanel(signals) {
  return panel(`Signals (${signals.length})`, table([
    {title: "Id", cls: "mono nowrap", value: (s) => link(`#/signal/${encodeURIComponent(s.id)}`, s.id)},
    {title: "Type", cls: "nowrap", value: (s) => s.type},
    {title: "Finding", value: (s) => s.summary || "–"},
    {title: "Accounts", cls: "num", value: (s) => fmtNum((s.accounts || []).length)},
    {title: "Evidence", cls: "nowrap", value: (s) => (s.evidence && s.evidence.post_ids && s.evidence.post_ids.length
      ? link(postsRoute(s.evidence.post_ids), `${fmtNum(s.evidence.post_count)} posts`) : h("span", {class: "muted"}, "figures only"))},
  ], signals));
}

function reachPanel(c) {
  const r = c.reach || {};
  const e = r.engagement || {};
  const hashtags = (c.hashtags || []).slice(0, 12);
  const domains = (c.domains || []).slice(0, 12);
  return panel("What it pushes and how far it got",
    h("div", {class: "cols cols-2 tight"},
      h("div", null, h("h3", null, "Hashtags"), hashtags.length ? table([
        {title: "Hashtag", value: (t) => link(`#/search?hashtag=${encodeURIComponent(t.tag)}`, `#${t.tag}`, {dir: "auto"})},
        {title: "Posts", cls: "num", value: (t) => fmtNum(t.posts)},
        {title: "Share of all uses", cls: "num", value: (t) => fmtPct(t.share_of_all_uses)},
      ], hashtags) : empty("None."),
      h("h3", null, "Domains"), domains.length ? table([
        {title: "Domain", value: (d) => link(`#/search?domain=${encodeURIComponent(d.domain || d.tag || "")}`, d.domain || "–")},
        {title: "Posts", cls: "num", value: (d) => fmtNum(d.posts)},
      ].concat(domains.some((d) => typeof d.share_of_all_uses === "number")
        ? [{title: "Share of all uses", cls: "num", value: (d) => fmtPct(d.share_of_all_uses)}] : []), domains) : empty("None.")),
      h("div", null, h("h3", null, "Reach"), h("dl", {class: "kv"},
        h("dt", null, "Reactions from outside"), h("dd", null, `${fmtNum(r.outside_reactions)} (${fmtPct(r.outside_share)}) by ${fmtNum(r.outside_accounts)} accounts`),
        h("dt", null, "From other campaigns"), h("dd", null, fmtNum(r.other_campaign_reactions)),
        h("dt", null, "Inside the cluster"), h("dd", null, fmtNum(r.inside_reactions)),
        h("dt", null, "Engagement counts"), h("dd", null, `${fmtNum(e.likes)} likes · ${fmtNum(e.reposts)} reposts · ${fmtNum(e.replies)} replies · ${fmtNum(e.views)} views`),
        h("dt", null, "Breakout scale"), h("dd", null, r.breakout ? `category ${r.breakout.category}: ${r.breakout.basis}` : "–")),
      r.breakout && r.breakout.not_established ? h("p", {class: "small muted"}, r.breakout.not_established) : null)));
}

export async function campaignPage(main, ctx, id) {
  const base = `/api/campaigns/${encodeURIComponent(id)}`;
  const [c, graph, msgs, charts] = await Promise.all([
    api(base),
    api(`${base}/graph`).catch(() => null),
    api(`${base}/messages?limit=10`).catch(() => null),
    api(`${base}/charts`).catch(() => null),
  ]);
  if (ctx.stale()) return;
  const signals = c.signals || [];
  const byId = Object.fromEntries(signals.map((s) => [s.id, s]));
  const counts = c.counts || {};
  const perPlatform = Object.entries(counts.per_platform || {}).sort((a, b) => b[1] - a[1]);
  const perLang = Object.entries(counts.per_language || {}).sort((a, b) => b[1] - a[1]);

  main.append(pageHeader(`Campaign ${c.id}`,
    `${fmtDay(c.first_seen)} – ${fmtDay(c.last_seen)}${c.active_days ? ` · active on ${fmtNum(Number(c.active_days))} days` : ""}`,
    h("span", {class: "score-cell big"}, scoreBar(c.score)),
    verdictBadge(c),
    labelBadge(c.label, {unlabelled: "not labelled"})));

  main.append(h("div", {class: "stats"},
    stat("accounts", fmtNum(counts.accounts)),
    stat("posts", fmtNum(counts.posts)),
    stat("platforms", h("span", {class: "chips"}, perPlatform.map(([p, n]) => platformChip(p, n)))),
    stat("languages (posts)", h("span", {class: "chips"}, perLang.slice(0, 5).map(([l, n]) => h("span", {class: "chip"}, l, h("span", {class: "chip-n"}, fmtNum(n)))))),
    stat("signals", fmtNum(signals.length))));

  const netBody = h("div", {class: "net-body"});
  main.append(h("div", {class: "cols cols-ex"},
    panel("What the evidence shows", explanation(c, byId), scoreParts(c)),
    h("section", {class: "panel"}, h("div", {class: "panel-head"}, h("h2", null, "Network")), netBody)));
  if (graph) {
    const net = campaignNetwork(netBody, graph);
    ctx.onLeave(() => net.destroy());
  } else {
    netBody.appendChild(empty("The network could not be loaded."));
  }

  // the charts are the report's (report/svg.py, drawn by the server): UTC, local time beside where inferred
  const offset = typeof c.utc_offset_hours === "number" ? c.utc_offset_hours : null;
  main.append(panel("Timeline (posts per day, UTC)",
    serverChart(charts && charts.timeline, {cls: "timeline", empty: "The timeline could not be loaded.",
      caption: charts ? `Posts per day, from ${charts.timeline_source}. Click a shaded burst or a dashed shift for its evidence.` : null}),
    narrativesTable(c.narratives)));

  main.append(h("div", {class: "cols cols-2"},
    panel(offset === null ? "Hour of week (UTC)" : `Hour of week (UTC; local ${fmtZone(offset)} beside)`,
      serverChart(charts && charts.heatmap, {cls: "heatmap", caption: charts && charts.heatmap_caption, empty: "No hour-of-week profile."}),
      rhythmNote(signals)),
    holidaysPanel(c.holidays, signals, charts)));

  main.append(messagesPanel(msgs ? msgs.messages : [], offset));

  main.append(h("div", {class: "cols cols-2"},
    disarmPanel(c, signals),
    panel("Analyst label", labelBox({targetType: "campaign", targetId: c.id, current: c.label}))));

  main.append(reachPanel(c));
  main.append(signalsPanel(signals));
  main.append(membersPanel(c, byId));
}

