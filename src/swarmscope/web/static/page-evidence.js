// Evidence: a signal with its figures, test and the posts behind it; a list of posts by id.

import {api} from "./api.js";
import {accountRoute, empty, fmtNum, fmtTime, h, link, pageHeader, panel, postsTable, table} from "./dom.js";

/** Figures are free-form JSON: scalars as a key/value list, lists of objects as tables, the rest as JSON. */
function figureValue(key, value) {
  if (value === null || value === undefined) return h("span", {class: "muted"}, "–");
  if (typeof value === "number") return Number.isInteger(value) ? fmtNum(value) : String(Math.round(value * 10000) / 10000);
  if (typeof value === "string") return h("span", {dir: "auto", class: key.endsWith("_at") || key === "start" || key === "end" ? "mono" : null},
    key.endsWith("_at") ? fmtTime(value) : value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) return objectsTable(value);
    if (value.length && value.every((v) => typeof v !== "object")) {
      if (key.startsWith("profile") && value.length === 168) return h("code", {class: "small break"}, value.join(" "));
      return h("span", {class: "chips"}, value.slice(0, 200).map((v) => h("span", {class: "tag", dir: "auto"}, String(v))),
        value.length > 200 ? ` … ${fmtNum(value.length - 200)} more` : null);
    }
  }
  if (typeof value === "object" && !Array.isArray(value)) return figuresList(value);
  return h("pre", {class: "code"}, JSON.stringify(value, null, 1));
}

function figuresList(obj) {
  const list = h("dl", {class: "kv"});
  for (const [k, v] of Object.entries(obj)) list.append(h("dt", null, k.replace(/_/g, " ")), h("dd", null, figureValue(k, v)));
  return list;
}

function cellValue(v) {
  if (Array.isArray(v)) return h("span", {class: "small list-cell", dir: "auto"}, v.slice(0, 12).join(", ") + (v.length > 12 ? ` … (${v.length})` : ""));
  if (v && typeof v === "object") return h("code", {class: "small"}, JSON.stringify(v));
  if (typeof v === "number") return Number.isInteger(v) ? fmtNum(v) : String(Math.round(v * 10000) / 10000);
  return h("span", {dir: "auto"}, v === null || v === undefined ? "–" : String(v));
}

/** Lists of objects (rankings, matches) as a table; a field equal in every row is said once below it. */
function objectsTable(rows) {
  const shown = rows.slice(0, 100);
  const keys = [];
  for (const r of shown) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const same = (k) => shown.length > 1 && shown.every((r) => JSON.stringify(r[k]) === JSON.stringify(shown[0][k]));
  const constant = keys.filter(same);
  const columns = keys.filter((k) => !constant.includes(k) && !shown.every((r) => Array.isArray(r[k]) && r[k].length > 20));
  const longText = (k) => shown.some((r) => typeof r[k] === "string" && r[k].length > 60);
  return h("div", null,
    h("div", {class: "scroll-x"}, table(columns.map((k) => ({
      title: k.replace(/_/g, " "),
      cls: longText(k) ? "text" : typeof shown[0][k] === "number" ? "num" : null,
      value: (r) => cellValue(r[k]),
    })), shown)),
    constant.length ? figuresList(Object.fromEntries(constant.map((k) => [k, shown[0][k]]))) : null,
    rows.length > shown.length ? h("p", {class: "muted small"}, `first ${shown.length} of ${fmtNum(rows.length)} rows`) : null);
}

export async function signalPage(main, ctx, id) {
  const sig = await api(`/api/signals/${encodeURIComponent(id)}`);
  if (ctx.stale()) return;
  const ev = sig.evidence || {};
  const posts = sig.posts || [];
  main.append(pageHeader(`Signal ${sig.id} · ${sig.type}`, sig.summary || null,
    sig.campaign ? link(`#/campaign/${encodeURIComponent(sig.campaign)}`, `← campaign ${sig.campaign}`, {class: "btn btn-small"}) : null));
  const accounts = sig.accounts || [];
  main.append(h("div", {class: "cols cols-2"},
    panel("Test and threshold", h("p", null, sig.test || "–")),
    panel(`Accounts (${fmtNum(accounts.length)})`, accounts.length ? h("div", {class: "scroll-y short"}, h("ul", {class: "account-list"},
      accounts.slice(0, 500).map((pair) => {
        const [p, a] = Array.isArray(pair) ? pair : [pair.platform, pair.account_id];
        return h("li", null, link(accountRoute(p, a), `${p}:${a}`));
      }))) : empty("The signal describes the campaign as a whole."))));
  main.append(panel("Figures", figuresList(sig.figures || {})));
  const count = ev.post_count ?? posts.length;
  main.append(panel(`Evidence posts (${fmtNum(count)}${count > posts.length ? `, first ${fmtNum(posts.length)} shown` : ""})`,
    posts.length ? postsTable(posts, {offset: sig.utc_offset_hours}) : empty("This signal rests on figures, not on individual posts.")));
}

export async function postsPage(main, ctx, query) {
  const ids = (query.get("ids") || "").split(",").filter(Boolean);
  main.append(pageHeader("Posts", `${fmtNum(ids.length)} post id(s) requested`));
  if (ids.length === 0) {
    main.append(panel("Posts", empty("No post ids given.")));
    return;
  }
  const data = await api(`/api/posts?ids=${encodeURIComponent(ids.slice(0, 500).join(","))}`);
  if (ctx.stale()) return;
  const rows = data.rows || [];
  const missing = ids.length - rows.length;
  main.append(panel(`Posts (${fmtNum(rows.length)})`, missing > 0 ? h("p", {class: "muted small"}, `${fmtNum(missing)} id(s) not in the case.`) : null,
    rows.length ? postsTable(rows) : empty("None of these posts is in the case.")));
}

