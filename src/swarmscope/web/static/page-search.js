// Search posts by text, hashtag, URL/domain, account, date range, platform and language.
// The query lives in the hash (#/search?q=...), so a search is a link an analyst can share.

import {api} from "./api.js";
import {empty, fmtNum, h, pageHeader, pager, panel, postsTable} from "./dom.js";

const PAGE = 50;
const FIELDS = [
  ["q", "Text", "text", "words in the post (full-text)"],
  ["hashtag", "Hashtag", "text", "without #"],
  ["url", "URL", "text", "a link in the post"],
  ["domain", "Domain", "text", "e.g. example.com"],
  ["account", "Account", "text", "handle or account id"],
  ["from", "From (UTC)", "date", ""],
  ["to", "To (UTC)", "date", ""],
];
const KEYS = [...FIELDS.map((f) => f[0]), "platform", "lang"];

function select(name, label, options, value) {
  const el = h("select", {name, id: `f-${name}`}, h("option", {value: ""}, "any"),
    options.map((o) => h("option", {value: o}, o)));
  el.value = options.includes(value) ? value : "";
  return h("label", {class: "field", for: `f-${name}`}, h("span", null, label), el);
}

export async function searchPage(main, ctx, query) {
  const info = await ctx.caseInfo();
  if (ctx.stale()) return;
  const platforms = Object.keys((info && info.per_platform) || {}).sort();
  const langs = Object.entries((info && info.per_language) || {}).sort((a, b) => b[1] - a[1]).map((e) => e[0]);

  const form = h("form", {class: "search-form", role: "search", id: "search-form"},
    FIELDS.map(([name, label, type, hint]) => {
      const input = h("input", {type, name, id: `f-${name}`, placeholder: hint || null, autocomplete: "off"});
      input.value = query.get(name) || "";
      return h("label", {class: ["field", name === "q" ? "field-wide" : ""], for: `f-${name}`}, h("span", null, label), input);
    }),
    select("platform", "Platform", platforms, query.get("platform") || ""),
    select("lang", "Language", langs, query.get("lang") || ""),
    h("div", {class: "field field-actions"}, h("button", {type: "submit", class: "btn btn-primary"}, "Search"),
      h("a", {href: "#/search", class: "btn"}, "Clear")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams();
    for (const k of KEYS) {
      const v = form.elements[k].value.trim();
      if (v) params.set(k, v);
    }
    const target = `#/search?${params.toString()}`;
    if (location.hash === target) ctx.reload();
    else location.hash = target;
  });

  main.append(pageHeader("Search posts", "All fields are combined with AND. Dates are UTC days, inclusive."));
  main.append(panel("Query", form));

  const params = new URLSearchParams();
  for (const k of KEYS) if (query.get(k)) params.set(k, query.get(k));
  if ([...params.keys()].length === 0) {
    main.append(panel("Results", empty("Enter a query above.")));
    return;
  }
  const offset = Math.max(0, Number(query.get("offset")) || 0);
  const res = await api(`/api/search?${params.toString()}&limit=${PAGE}&offset=${offset}`);
  if (ctx.stale()) return;
  const routeFor = (o) => `#/search?${params.toString()}&offset=${o}`;
  const csv = h("a", {href: `/api/search?${params.toString()}&format=csv`, class: "btn btn-small", download: "", id: "search-csv"}, "↓ CSV");
  main.append(panel(`Results (${fmtNum(res.total)})`,
    h("div", {class: "results-bar"}, pager(res.total, offset, PAGE, routeFor), csv),
    res.rows && res.rows.length ? postsTable(res.rows) : empty("No post matches."),
    res.total > PAGE ? pager(res.total, offset, PAGE, routeFor) : null));
}
