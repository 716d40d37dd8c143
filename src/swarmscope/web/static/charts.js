// Charts as SVG built with createElementNS: a stacked daily timeline, a campaign timeline with
// bursts and narrative shifts marked, the hour-of-week heatmap and the holiday comparison.
// Labels come from data, so every text goes in through text nodes (see dom.s()).

import {fmtNum, h, platformColour, s, swatch} from "./dom.js";

const DAY_MS = 86400000;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function dayIndex(iso) {
  return Math.floor(Date.parse(`${String(iso).slice(0, 10)}T00:00:00Z`) / DAY_MS);
}

function isoDay(index) {
  return new Date(index * DAY_MS).toISOString().slice(0, 10);
}

// The top of a y axis whose four gridlines fall on round whole numbers (steps 1, 1.5, 2, 2.5, 3, 4,
// 5, 6, 8 x 10^k; whole numbers only, since the counts are posts).
function niceMax(v) {
  const raw = Math.max(1, v / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (m * p >= raw && Number.isInteger(m * p)) return 4 * m * p;
  }
  return 40 * p;
}

function yAxis(g, {x0, x1, y0, y1, max}) {
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const y = y1 - (y1 - y0) * f;
    g.appendChild(s("line", {x1: x0, x2: x1, y1: y, y2: y, class: f === 0 ? "axis" : "gridline"}));
    g.appendChild(s("text", {x: x0 - 6, y: y + 3.5, class: "tick", "text-anchor": "end"}, fmtNum(Math.round(max * f))));
  }
}

function xTicks(g, {first, n, x, y, step}) {
  for (let i = 0; i < n; i += step) {
    const day = isoDay(first + i);
    g.appendChild(s("line", {x1: x(i + 0.5), x2: x(i + 0.5), y1: y, y2: y + 4, class: "axis"}));
    g.appendChild(s("text", {x: x(i + 0.5), y: y + 15, class: "tick", "text-anchor": "middle"}, day.slice(5)));
  }
}

function legend(entries) {
  return h("div", {class: "legend"}, entries.map(([label, colour]) => h("span", {class: "legend-item"}, swatch(colour), label)));
}

/**
 * Posts per day stacked by platform. timeline: [{day, platform, posts}].
 */
export function stackedTimeline(timeline, {width = 1000, height = 220} = {}) {
  if (!timeline || timeline.length === 0) return h("p", {class: "empty"}, "No posts.");
  const platforms = [...new Set(timeline.map((r) => r.platform))].sort();
  const first = Math.min(...timeline.map((r) => dayIndex(r.day)));
  const last = Math.max(...timeline.map((r) => dayIndex(r.day)));
  const n = last - first + 1;
  const stacks = Array.from({length: n}, () => ({}));
  for (const r of timeline) stacks[dayIndex(r.day) - first][r.platform] = (stacks[dayIndex(r.day) - first][r.platform] || 0) + r.posts;
  const totals = stacks.map((st) => Object.values(st).reduce((a, b) => a + b, 0));
  const max = niceMax(Math.max(...totals));
  const m = {l: 48, r: 8, t: 8, b: 24};
  const bw = (width - m.l - m.r) / n;
  const x = (i) => m.l + i * bw;
  const y = (v) => height - m.b - (v / max) * (height - m.t - m.b);
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Posts per day by platform"});
  const g = s("g");
  yAxis(g, {x0: m.l, x1: width - m.r, y0: m.t, y1: height - m.b, max});
  stacks.forEach((st, i) => {
    let base = 0;
    const day = isoDay(first + i);
    platforms.forEach((p, pi) => {
      const v = st[p] || 0;
      if (!v) return;
      const rect = s("rect", {x: x(i) + bw * 0.1, width: Math.max(0.5, bw * 0.8), y: y(base + v), height: y(base) - y(base + v),
        fill: platformColour(p, pi)}, s("title", null, `${day} · ${p}: ${fmtNum(v)} posts`));
      g.appendChild(rect);
      base += v;
    });
  });
  xTicks(g, {first, n, x, y: height - m.b, step: Math.max(1, Math.ceil(n / 14))});
  svg.appendChild(g);
  return h("div", {class: "chart-box"}, svg, legend(platforms.map((p, i) => [p, platformColour(p, i)])));
}

/**
 * A campaign's posts per day, with bursts (shaded, from their signals) and narrative shifts
 * (dashed markers at the start of the week). Clicking a marker opens its signal.
 * days: [{day, posts}]; bursts: [{start, end, posts, signal}]; shifts: [{day, signal, label}].
 */
export function campaignTimeline(days, bursts = [], shifts = [], {width = 1000, height = 200} = {}) {
  if (!days || days.length === 0) return h("p", {class: "empty"}, "No timeline.");
  const idx = days.map((d) => dayIndex(d.day));
  const marks = [...bursts.map((b) => dayIndex(b.start)), ...shifts.map((sh) => dayIndex(sh.day))];
  const first = Math.min(...idx, ...marks);
  const last = Math.max(...idx, ...marks);
  const n = last - first + 1;
  const counts = new Array(n).fill(0);
  days.forEach((d, i) => {
    counts[idx[i] - first] += d.posts;
  });
  const max = niceMax(Math.max(...counts));
  const m = {l: 48, r: 8, t: 22, b: 24};
  const bw = (width - m.l - m.r) / n;
  const x = (i) => m.l + i * bw;
  const y = (v) => height - m.b - (v / max) * (height - m.t - m.b);
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Campaign posts per day"});
  const g = s("g");
  yAxis(g, {x0: m.l, x1: width - m.r, y0: m.t, y1: height - m.b, max});
  const burstDays = new Set(bursts.map((b) => dayIndex(b.start) - first));
  counts.forEach((v, i) => {
    if (!v) return;
    g.appendChild(s("rect", {x: x(i) + bw * 0.12, width: Math.max(0.5, bw * 0.76), y: y(v), height: y(0) - y(v),
      class: burstDays.has(i) ? "bar bar-burst" : "bar"}, s("title", null, `${isoDay(first + i)}: ${fmtNum(v)} posts`)));
  });
  const goTo = (el, signal) => {
    if (!signal) return;
    el.classList.add("clickable");
    el.addEventListener("click", () => {
      location.hash = `#/signal/${encodeURIComponent(signal)}`;
    });
  };
  for (const sh of shifts) {
    const i = dayIndex(sh.day) - first;
    const mk = s("g", {class: "marker marker-shift"},
      s("line", {x1: x(i), x2: x(i), y1: m.t - 4, y2: height - m.b}),
      s("text", {x: x(i) + 3, y: m.t - 8, class: "marker-label"}, sh.label || "narrative shift"),
      s("title", null, `${sh.day}: ${sh.title || "narrative shift"}${sh.signal ? ` (${sh.signal})` : ""}`));
    goTo(mk, sh.signal);
    g.appendChild(mk);
  }
  bursts.forEach((b) => {
    const i = dayIndex(b.start) - first;
    const cx = x(i + 0.5);
    const mk = s("g", {class: "marker marker-burst"},
      s("path", {d: `M${cx - 5},${m.t - 14} L${cx + 5},${m.t - 14} L${cx},${m.t - 6} Z`}),
      s("title", null, `burst ${String(b.start).replace("T", " ")}–${String(b.end || "").slice(11, 19)}: ` +
        `${fmtNum(b.posts)} posts${b.label ? ` (${b.label})` : ""}${b.signal ? ` · ${b.signal}` : ""}`));
    goTo(mk, b.signal);
    g.appendChild(mk);
  });
  xTicks(g, {first, n, x, y: height - m.b, step: Math.max(1, Math.ceil(n / 14))});
  svg.appendChild(g);
  const items = [h("span", {class: "legend-item"}, s("svg", {class: "swatch", width: 10, height: 10}, s("rect", {width: 10, height: 10, class: "bar"})), "posts per day")];
  if (bursts.length) {
    items.push(h("span", {class: "legend-item"}, s("svg", {class: "swatch", width: 10, height: 10}, s("rect", {width: 10, height: 10, class: "bar bar-burst"})),
      `day with a burst ▼ (${bursts.length})`));
  }
  if (shifts.length) {
    items.push(h("span", {class: "legend-item"}, s("svg", {class: "swatch", width: 12, height: 10}, s("line", {x1: 6, x2: 6, y1: 0, y2: 10, class: "shift-swatch"})),
      "narrative shift (week start)"));
  }
  if (bursts.length || shifts.length) items.push(h("span", {class: "legend-item muted"}, "click a marker for its evidence"));
  return h("div", {class: "chart-box"}, svg, h("div", {class: "legend"}, items));
}

/** Hour-of-week heatmap: rows Monday..Sunday, columns 0..23 (UTC). matrix: 7 x 24 counts. */
export function hourOfWeek(matrix, {title = "UTC"} = {}) {
  if (!Array.isArray(matrix) || matrix.length !== 7) return h("p", {class: "empty"}, "No hour-of-week profile.");
  const cell = 22;
  const m = {l: 34, t: 18, r: 4, b: 4};
  const width = m.l + 24 * cell + m.r;
  const height = m.t + 7 * cell + m.b;
  const max = Math.max(1, ...matrix.flat());
  const svg = s("svg", {class: "chart heatmap", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Posts by hour of week (${title})`});
  for (let hr = 0; hr < 24; hr += 1) {
    if (hr % 3 === 0) svg.appendChild(s("text", {x: m.l + hr * cell + cell / 2, y: m.t - 6, class: "tick", "text-anchor": "middle"}, String(hr).padStart(2, "0")));
  }
  matrix.forEach((row, d) => {
    svg.appendChild(s("text", {x: m.l - 6, y: m.t + d * cell + cell / 2 + 4, class: "tick", "text-anchor": "end"}, WEEKDAYS[d]));
    row.forEach((v, hr) => {
      const f = v / max;
      // sequential muted red scale, light to dark; empty cells stay pale grey
      const fill = v === 0 ? "#f1f2f4" : `rgb(${Math.round(248 - 86 * f)},${Math.round(226 - 170 * f)},${Math.round(220 - 170 * f)})`;
      svg.appendChild(s("rect", {x: m.l + hr * cell + 1, y: m.t + d * cell + 1, width: cell - 2, height: cell - 2, rx: 2, fill},
        s("title", null, `${WEEKDAYS[d]} ${String(hr).padStart(2, "0")}:00–${String(hr).padStart(2, "0")}:59 ${title}: ${fmtNum(v)} posts`)));
    });
  });
  return h("div", {class: "chart-box heatmap-box"}, svg);
}

/** Paired bars: mean posts on holidays vs working days (and transferred working days vs weekends). */
export function holidayBars(row) {
  const pairs = [
    ["Working day", row.workday_mean, "bar"],
    ["Public holiday", row.holiday_mean, "bar bar-burst"],
  ];
  if (row.transferred) {
    pairs.push(["Weekend", row.weekend_mean, "bar"], ["Transferred working day", row.transferred_mean, "bar bar-alt"]);
  }
  const width = 420;
  const rowH = 20;
  const m = {l: 150, r: 60};
  const max = Math.max(1, ...pairs.map((p) => p[1] || 0));
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${width} ${pairs.length * rowH + 4}`, role: "img", "aria-label": "Mean posts per day"});
  pairs.forEach(([label, v, cls], i) => {
    const y = i * rowH + 2;
    const w = ((v || 0) / max) * (width - m.l - m.r);
    svg.appendChild(s("text", {x: m.l - 8, y: y + 13, class: "tick", "text-anchor": "end"}, label));
    svg.appendChild(s("rect", {x: m.l, y: y + 3, width: Math.max(0.5, w), height: rowH - 7, class: cls}));
    svg.appendChild(s("text", {x: m.l + w + 5, y: y + 13, class: "tick"}, v === null || v === undefined ? "–" : (v).toFixed(1)));
  });
  return svg;
}
