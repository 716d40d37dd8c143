// DOM helpers. Every piece of case data (post text, names, bios, handles) is attacker-controlled:
// it only ever enters the page through textContent / createTextNode / setAttribute on safe
// attributes. Nothing here uses innerHTML, and links to other sites accept http(s) only.

const SVG_NS = "http://www.w3.org/2000/svg";

// Attributes that can execute or load something; h() refuses them so a mistake cannot open a hole.
const UNSAFE_ATTR = /^(on|style$|srcdoc$|formaction$)/i;

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (UNSAFE_ATTR.test(key)) throw new Error(`h(): attribute ${key} is not allowed`);
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if ((key === "href" || key === "src" || key === "action") && !isSafeLocalOrHttp(String(value))) {
      throw new Error(`h(): unsafe ${key}`);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
}

/** Build an HTML element: h("td", {class: "num"}, "12"). Children are text or nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Build an SVG element (charts). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (UNSAFE_ATTR.test(key) || key === "href") throw new Error(`s(): attribute ${key} is not allowed`);
    el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

function isSafeLocalOrHttp(value) {
  if (value.startsWith("#") || (value.startsWith("/") && !value.startsWith("//"))) return true;
  return safeExternalUrl(value) !== null;
}

/** The URL when it is absolute http(s), else null (javascript:, data:, relative tricks are dropped). */
export function safeExternalUrl(value) {
  if (typeof value !== "string" || value.length === 0 || value.length > 4096) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

/** A link to another site: opened in a new tab, no referrer, no opener; null for unsafe URLs. */
export function externalLink(url, label) {
  const href = safeExternalUrl(url);
  if (!href) return null;
  return h("a", {href, target: "_blank", rel: "noopener noreferrer", class: "ext", title: href}, label ?? "open ↗");
}

/** A link inside the app (hash route). */
export function link(route, label, attrs = {}) {
  return h("a", {...attrs, href: route}, label);
}

export const enc = encodeURIComponent;

export function accountRoute(platform, accountId) {
  return `#/account/${enc(platform)}/${enc(accountId)}`;
}

export function postsRoute(ids) {
  // ids: [[platform, post_id], ...] or ["platform:post_id", ...]; the API takes up to 500.
  const keys = ids.slice(0, 200).map((i) => (Array.isArray(i) ? `${i[0]}:${i[1]}` : String(i)));
  return `#/posts?ids=${enc(keys.join(","))}`;
}

// ---- formatting ------------------------------------------------------------------------------

const NUM = new Intl.NumberFormat("en-GB");

export function fmtNum(n) {
  if (n === null || n === undefined || n === "") return "–";
  return typeof n === "number" ? NUM.format(n) : String(n);
}

export function fmtScore(x) {
  return typeof x === "number" ? x.toFixed(2) : "–";
}

export function fmtPct(x) {
  return typeof x === "number" ? `${Math.round(x * 100)} %` : "–";
}

/** ISO UTC time as "2024-10-21 06:29:20" (the page says UTC in headers). */
export function fmtTime(iso) {
  if (!iso) return "–";
  return String(iso).replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)?$/, "");
}

/** UTC offset as a zone name: 3 -> "UTC+3", 5.5 -> "UTC+5.5", -4 -> "UTC-4" (as the report writes it). */
export function fmtZone(offset) {
  return typeof offset === "number" ? `UTC${offset >= 0 ? "+" : ""}${offset}` : "UTC";
}

/**
 * An ISO UTC time as the operators' local time at their inferred UTC offset, "10:00:12 UTC+3", the
 * date added when it differs; "" without an offset (report/html.py local_time says the same).
 */
export function fmtLocal(iso, offset) {
  if (typeof offset !== "number" || !iso) return "";
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?/.exec(String(iso));
  if (!m) return "";
  const t = Date.parse(`${m[1]}T${m[2]}${m[3] || ":00"}Z`);
  if (Number.isNaN(t)) return "";
  const local = new Date(t + offset * 3600000).toISOString();
  const clock = local.slice(11, m[3] ? 19 : 16);
  const day = local.slice(0, 10) === m[1] ? "" : `${local.slice(0, 10)} `;
  return `${day}${clock} ${fmtZone(offset)}`;
}

/** A UTC time cell with the local time under it where an offset is inferred. */
export function timeCell(iso, offset) {
  const local = fmtLocal(iso, offset);
  return local ? h("span", null, fmtTime(iso), h("br"), h("span", {class: "muted small local-time"}, local)) : fmtTime(iso);
}

export function fmtDay(iso) {
  return iso ? String(iso).slice(0, 10) : "–";
}

export function fmtSeconds(sec) {
  if (typeof sec !== "number") return "–";
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  if (sec < 172800) return `${(sec / 3600).toFixed(1)} h`;
  return `${(sec / 86400).toFixed(1)} d`;
}

// ---- colours ---------------------------------------------------------------------------------

// The report's platform colours (report/svg.py PLATFORM_COLOURS, Okabe & Ito, colour-blind-safe), so a
// platform has one colour in the server-drawn charts, the chips and the network.
export const PLATFORM_COLOURS = {
  x: "#0072B2",
  telegram: "#56B4E9",
  tiktok: "#D55E00",
  youtube: "#CC79A7",
  facebook: "#009E73",
  instagram: "#E69F00",
  bluesky: "#332288",
  vk: "#882255",
  other: "#777777",
};
const FALLBACK = ["#7a8c5a", "#8c6d4a", "#5a7a8c", "#8c5a7a", "#6a6a6a"];

export function platformColour(platform, i = 0) {
  return PLATFORM_COLOURS[platform] || FALLBACK[i % FALLBACK.length];
}

export const ROLE_COLOURS = {core: "#a2403a", periphery: "#9aa4b1", hub: "#c58b2a"};

export function roleColour(role) {
  return ROLE_COLOURS[role] || "#6f7c8c";
}

// ---- small widgets ---------------------------------------------------------------------------

export function badge(text, kind) {
  return h("span", {class: ["badge", kind ? `badge-${kind}` : ""]}, text);
}

// The campaign's verdict (campaigns/verdict.py): the same label and tier colour as the report.
const TIER_CLASS = {strong: "tier-strong", moderate: "tier-moderate", weak: "tier-weak", inconclusive: "tier-inconclusive", organic: "tier-organic"};
export function verdictBadge(c) {
  const v = c.verdict || (c.likely_inauthentic ? {tier: "weak", label: "weak evidence of inauthentic coordination"}
    : {tier: "inconclusive", label: "coordination; inauthenticity not shown"});
  const b = h("span", {class: ["badge", TIER_CLASS[v.tier] || "tier-inconclusive"]}, v.label);
  if (v.basis) b.setAttribute("title", v.basis);
  return b;
}

export function labelBadge(label, {unlabelled = "–"} = {}) {
  if (!label || !label.label) return h("span", {class: "muted small"}, unlabelled);
  const b = badge(label.label, label.label);
  const why = [label.author, fmtTime(label.created_at), label.note].filter(Boolean).join(" · ");
  if (why) b.setAttribute("title", why);
  return b;
}

export function platformChip(platform, count) {
  const chip = h("span", {class: "chip"}, swatch(platformColour(platform)), platform);
  if (count !== undefined) chip.appendChild(h("span", {class: "chip-n"}, fmtNum(count)));
  return chip;
}

export function swatch(colour) {
  return s("svg", {class: "swatch", width: 10, height: 10, viewBox: "0 0 10 10", "aria-hidden": "true"},
    s("circle", {cx: 5, cy: 5, r: 4.5, fill: colour}));
}

/** A horizontal score bar in SVG (no inline styles under the CSP). */
export function scoreBar(value, max = 1) {
  const w = 64;
  const v = Math.max(0, Math.min(1, (value || 0) / max));
  const colour = v >= 0.75 ? "#a2403a" : v >= 0.5 ? "#c07a3a" : "#8796a8";
  return h("span", {class: "scorebar"},
    s("svg", {width: w, height: 8, viewBox: `0 0 ${w} 8`, "aria-hidden": "true"},
      s("rect", {x: 0, y: 0, width: w, height: 8, rx: 1.5, fill: "#e4e7eb"}),
      s("rect", {x: 0, y: 0, width: Math.max(1, v * w).toFixed(1), height: 8, rx: 1.5, fill: colour})),
    h("span", {class: "num"}, fmtScore(value)));
}

export function panel(title, ...children) {
  const head = h("div", {class: "panel-head"}, h("h2", null, title));
  return h("section", {class: "panel"}, head, h("div", {class: "panel-body"}, children));
}

/** A key/value list; values are text or nodes. */
export function dl(pairs, cls = "kv") {
  const list = h("dl", {class: cls});
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    list.appendChild(h("dt", null, k));
    list.appendChild(h("dd", null, v === null || v === "" ? "–" : v));
  }
  return list;
}

export function stat(label, value, sub) {
  return h("div", {class: "stat"}, h("div", {class: "stat-v"}, value), h("div", {class: "stat-l"}, label),
    sub ? h("div", {class: "stat-s"}, sub) : null);
}

export function empty(text) {
  return h("p", {class: "empty"}, text);
}

/**
 * A table from column specs: {title, value(row) -> text|node, sort(row) -> comparable, cls}.
 * When `sortable` is set, clicking a header sorts the rows in place (state kept on the element).
 */
export function table(columns, rows, {sortable = false, initial = null, cls = "grid", caption = null} = {}) {
  const tbl = h("table", {class: cls});
  if (caption) tbl.appendChild(h("caption", null, caption));
  const thead = h("thead");
  const tr = h("tr");
  const tbody = h("tbody");
  let state = initial ? {...initial} : null;
  const draw = () => {
    clear(tbody);
    let data = rows;
    if (state) {
      const col = columns[state.col];
      const key = col.sort || ((r) => {
        const v = col.value(r);
        return v instanceof Node ? v.textContent : v;
      });
      data = [...rows].sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const c = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
        return state.desc ? -c : c;
      });
    }
    for (const row of data) {
      const r = h("tr");
      for (const col of columns) r.appendChild(h("td", {class: col.cls}, col.value(row)));
      tbody.appendChild(r);
    }
    columns.forEach((col, i) => {
      const th = tr.children[i];
      th.classList.toggle("sorted", !!state && state.col === i);
      th.classList.toggle("desc", !!state && state.col === i && state.desc);
    });
  };
  columns.forEach((col, i) => {
    const th = h("th", {class: [col.cls, sortable && col.nosort !== true ? "sortable" : ""], scope: "col",
      title: col.help || null}, col.title);
    if (sortable && col.nosort !== true) {
      th.tabIndex = 0;
      const go = () => {
        state = state && state.col === i ? {col: i, desc: !state.desc} : {col: i, desc: !!col.desc};
        draw();
      };
      th.addEventListener("click", go);
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          go();
        }
      });
    }
    tr.appendChild(th);
  });
  thead.appendChild(tr);
  tbl.append(thead, tbody);
  draw();
  return h("div", {class: "table-wrap"}, tbl);
}

/** The standard table of posts (evidence, search results, account posts). */
export function postsTable(rows, {showAccount = true, offset = null} = {}) {
  const cols = [
    {title: typeof offset === "number" ? `Time (UTC; local ${fmtZone(offset)})` : "Time (UTC)", cls: "nowrap mono",
      value: (p) => timeCell(p.created_at, offset)},
    {title: "Platform", cls: "nowrap", value: (p) => platformChip(p.platform)},
  ];
  if (showAccount) {
    cols.push({title: "Account", cls: "nowrap", value: (p) =>
      link(accountRoute(p.platform, p.account_id), p.handle ? `@${p.handle}` : p.account_id || "–")});
  }
  cols.push(
    {title: "Kind", cls: "nowrap", value: (p) => p.kind || "–"},
    {title: "Lang", cls: "nowrap", value: (p) => p.lang || "–"},
    {title: "Text", cls: "text", value: (p) => h("div", {class: "post-text", dir: "auto"}, p.text ?? "")},
    {title: "Post id", cls: "nowrap mono small", value: (p) => h("span", null, p.post_id,
      p.url ? " " : null, externalLink(p.url, "↗"))},
  );
  return table(cols, rows);
}

export function pager(total, offset, limit, routeFor) {
  if (!total) return null;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  const bar = h("div", {class: "pager"}, h("span", null, `${fmtNum(from)}–${fmtNum(to)} of ${fmtNum(total)}`));
  const prev = offset > 0 ? link(routeFor(Math.max(0, offset - limit)), "← previous", {class: "btn btn-small"}) : null;
  const next = offset + limit < total ? link(routeFor(offset + limit), "next →", {class: "btn btn-small"}) : null;
  append(bar, [prev, next]);
  return bar;
}

export function pageHeader(title, sub, ...extra) {
  return h("div", {class: "page-head"}, h("div", null, h("h1", null, title), sub ? h("p", {class: "sub"}, sub) : null),
    h("div", {class: "page-head-extra"}, extra));
}
