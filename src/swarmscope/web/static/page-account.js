// One account: profile, label, the campaigns and signals that name it with their evidence, its
// strongest co-actors (shared objects, time gaps, example post pairs) and its posts, paginated.

import {api} from "./api.js";
import {
  accountRoute, empty, externalLink, fmtNum, fmtSeconds, fmtTime, h, link, pageHeader, pager, panel, platformChip, postsRoute,
  postsTable, table,
} from "./dom.js";
import {labelBox} from "./labels.js";

const PAGE = 50;

// Profile fields in reading order; anything else the API sends follows.
const FIELDS = [
  ["handle", "Handle"], ["display_name", "Display name"], ["description", "Bio"], ["created_at", "Created (UTC)"],
  ["followers", "Followers"], ["following", "Following"], ["posts_count", "Posts (profile)"], ["location", "Location"],
  ["verified", "Verified"], ["account_lang", "Profile language"], ["profile_image_url", "Profile image"],
  ["snapshot_at", "Snapshot (UTC)"], ["source_file", "Source file"],
];
const SKIP = new Set(["platform", "account_id"]);

function fieldValue(key, value) {
  if (value === null || value === undefined || value === "") return h("span", {class: "muted"}, "–");
  if (key.endsWith("_at")) return h("span", {class: "mono"}, fmtTime(value));
  if (typeof value === "number") return fmtNum(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (key.endsWith("_url")) {
    // shown as text with a link; never loaded as an image (img-src is 'self' only anyway)
    return h("span", {class: "break"}, String(value), " ", externalLink(String(value), "↗"));
  }
  if (typeof value === "object") return h("code", null, JSON.stringify(value));
  return h("span", {dir: "auto", class: key === "description" ? "bio" : null}, String(value));
}

function profile(account, extra) {
  const list = h("dl", {class: "kv"});
  const seen = new Set();
  for (const [key, title] of FIELDS) {
    if (!(key in account)) continue;
    seen.add(key);
    list.append(h("dt", null, title), h("dd", null, fieldValue(key, account[key])));
  }
  for (const [key, value] of Object.entries(account)) {
    if (seen.has(key) || SKIP.has(key) || key === "snapshots") continue;
    list.append(h("dt", null, key.replace(/_/g, " ")), h("dd", null, fieldValue(key, value)));
  }
  for (const [title, value] of extra) list.append(h("dt", null, title), h("dd", null, value));
  return list;
}

function snapshots(account) {
  const snaps = account.snapshots;
  if (!Array.isArray(snaps) || snaps.length === 0) return null;
  return h("details", null, h("summary", null, `${snaps.length} profile snapshots`), table([
    {title: "Snapshot (UTC)", cls: "mono nowrap", value: (r) => fmtTime(r.snapshot_at)},
    {title: "Handle", value: (r) => r.handle || "–"},
    {title: "Name", value: (r) => h("span", {dir: "auto"}, r.display_name || "–")},
    {title: "Bio", value: (r) => h("span", {dir: "auto"}, r.description || "–")},
    {title: "Followers", cls: "num", value: (r) => fmtNum(r.followers)},
  ], snaps));
}

function coactorsTable(coactors, self) {
  if (!coactors || coactors.length === 0) return empty("No co-actor above the coordination threshold.");
  return table([
    {title: "Co-actor", cls: "nowrap", value: (c) => h("span", null, platformChip(c.platform), " ",
      link(accountRoute(c.platform, c.account_id), c.handle ? `@${c.handle}` : c.account_id)), sort: (c) => c.handle || c.account_id},
    {title: "Shared objects", cls: "num", value: (c) => fmtNum(c.shared), sort: (c) => c.shared, desc: true},
    {title: "Median gap", cls: "num", value: (c) => fmtSeconds(c.median_gap_seconds), sort: (c) => c.median_gap_seconds},
    {title: "Examples (object · gap · the two posts)", nosort: true, value: (c) => h("ul", {class: "examples"},
      (c.examples || []).slice(0, 5).map((e) => h("li", null,
        h("span", {class: "tag"}, e.object_type), " ", h("span", {class: "mono small break", dir: "auto"}, shorten(e.object_id, 24)), " · ",
        fmtSeconds(e.gap_seconds), " · ",
        link(postsRoute([[self, e.post_id], [c.platform, e.other_post_id]]), "posts"))))},
  ], coactors, {sortable: true});
}

function shorten(text, n) {
  const t = String(text ?? "");
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

export async function accountPage(main, ctx, platform, accountId, query) {
  const base = `/api/accounts/${encodeURIComponent(platform)}/${encodeURIComponent(accountId)}`;
  const offset = Math.max(0, Number(query.get("offset")) || 0);
  const [data, posts] = await Promise.all([api(base), api(`${base}/posts?offset=${offset}&limit=${PAGE}`)]);
  if (ctx.stale()) return;
  const a = data.account || {};
  const signals = data.signals || [];
  const title = a.handle ? `@${a.handle}` : accountId;
  main.append(pageHeader(title, null, platformChip(platform), h("span", {class: "mono muted"}, accountId),
    a.display_name ? h("span", {dir: "auto", class: "display-name"}, a.display_name) : null));

  main.append(h("div", {class: "cols cols-ex"},
    panel("Profile", profile(a, [["Posts in case", fmtNum(data.posts_count)],
      ["First post (UTC)", h("span", {class: "mono"}, fmtTime(data.first_post))],
      ["Last post (UTC)", h("span", {class: "mono"}, fmtTime(data.last_post))]]), snapshots(a)),
    h("div", null,
      panel("Analyst label", labelBox({targetType: "account", platform, targetId: accountId, current: data.label})),
      panel("Campaigns", (data.campaigns || []).length ? table([
        {title: "Campaign", cls: "mono", value: (c) => link(`#/campaign/${encodeURIComponent(c.id)}`, c.id)},
        {title: "Role", value: (c) => c.role || "–"},
        {title: "Persona", cls: "mono", value: (c) => c.persona || "–"},
        {title: "Signals naming it", value: (c) => h("span", {class: "chips"}, (c.signals || []).map((sid) =>
          link(`#/signal/${encodeURIComponent(sid)}`, sid, {class: "tag"})))},
      ], data.campaigns) : h("p", {class: "empty"}, "In no campaign.")))));

  main.append(panel(`Signals naming this account (${signals.length})`, signals.length ? table([
    {title: "Signal", cls: "mono nowrap", value: (s) => link(`#/signal/${encodeURIComponent(s.id)}`, s.id)},
    {title: "Type", cls: "nowrap", value: (s) => s.type},
    {title: "Campaign", cls: "mono", value: (s) => (s.campaign ? link(`#/campaign/${encodeURIComponent(s.campaign)}`, s.campaign) : "–")},
    {title: "Finding", value: (s) => s.summary || "–"},
    {title: "Test", cls: "small", value: (s) => s.test || "–"},
    {title: "Evidence", cls: "nowrap", value: (s) => (s.evidence && s.evidence.post_ids && s.evidence.post_ids.length
      ? link(postsRoute(s.evidence.post_ids), `${fmtNum(s.evidence.post_count)} posts`) : h("span", {class: "muted"}, "figures only"))},
  ], signals) : empty("No signal names this account.")));

  main.append(panel("Strongest co-actors", coactorsTable(data.coactors, platform)));

  const routeFor = (o) => `${accountRoute(platform, accountId)}?offset=${o}`;
  main.append(panel(`Posts (${fmtNum(posts.total)})`, pager(posts.total, offset, PAGE, routeFor),
    posts.rows && posts.rows.length ? postsTable(posts.rows, {showAccount: false}) : empty("No posts."),
    posts.total > PAGE ? pager(posts.total, offset, PAGE, routeFor) : null));
}
