// The campaign network in WebGL (sigma 3 over graphology, vendored UMD globals `Sigma` and
// `graphology`). Positions come from the server's layout (x, y in [0, 1]); the page never runs a
// layout itself. Smoothness at 5,000 nodes / 50,000 edges: edges are hidden while the camera
// moves, labels appear only above a rendered size, and hover highlighting only re-runs reducers.

import {accountRoute, clear, fmtNum, h, platformColour, roleColour, swatch} from "./dom.js";

const EDGE_COLOUR = "#b9c0ca";
const DIM_NODE = "#e3e6ea";
// Communities (the server's seeded Louvain, web/findings.py communities), largest first: the twelve
// largest get a colour each (Okabe-Ito, then Tol's muted), the rest one grey, accounts without a link another.
const CLUSTER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#117733",
  "#332288", "#999933", "#AA4499", "#44AA99"];
const SMALL_CLUSTERS = "#8a939e";
const NO_CLUSTER = "#cfd4da";
export const CLUSTER_DEFAULT_AT = 400; // accounts from which the page opens coloured by cluster

function clusterColour(c) {
  if (c === null || c === undefined) return NO_CLUSTER;
  return c < CLUSTER_COLOURS.length ? CLUSTER_COLOURS[c] : SMALL_CLUSTERS;
}

function clusterName(c) {
  if (c === null || c === undefined) return "no link";
  return c < CLUSTER_COLOURS.length ? `cluster ${c + 1}` : "smaller clusters";
}

export const SIGMA_SETTINGS = {
  hideEdgesOnMove: true,
  hideLabelsOnMove: true,
  renderEdgeLabels: false,
  enableEdgeEvents: false,
  labelRenderedSizeThreshold: 9,
  labelDensity: 0.6,
  labelFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  labelSize: 12,
  labelColor: {color: "#1f2933"},
  defaultEdgeColor: EDGE_COLOUR,
  minEdgeThickness: 0.6,
  zIndex: true,
  stagePadding: 20,
};

export function graphLibrariesLoaded() {
  return typeof window.Sigma === "function" && typeof window.graphology === "function";
}

function webglAvailable() {
  try {
    const c = document.createElement("canvas");
    return !!(c.getContext("webgl2") || c.getContext("webgl"));
  } catch {
    return false;
  }
}

/** Split "platform:account_id" (account ids may contain ':'; platforms never do). */
export function splitKey(key) {
  const i = key.indexOf(":");
  return i < 0 ? ["", key] : [key.slice(0, i), key.slice(i + 1)];
}

/**
 * Render a campaign graph payload ({nodes, edges, truncated}) into `host` (a panel body).
 * Returns {destroy} so the router can free the WebGL context when the page changes.
 */
export function campaignNetwork(host, payload) {
  const nodes = payload.nodes || [];
  const edges = payload.edges || [];
  if (!graphLibrariesLoaded() || !webglAvailable()) {
    host.appendChild(h("p", {class: "empty"}, "The network needs WebGL, which this browser does not offer. The accounts table below lists the same members."));
    return {destroy() {}};
  }
  const graph = new window.graphology.Graph({type: "undirected", multi: false, allowSelfLoops: false});
  const sizes = nodes.map((n) => (typeof n.size === "number" ? n.size : 1));
  const sMin = Math.min(...sizes, 1);
  const sMax = Math.max(...sizes, 1);
  const scale = (v) => (sMax > sMin ? 3 + (9 * (v - sMin)) / (sMax - sMin) : 5);
  const platforms = [...new Set(nodes.map((n) => n.platform))].sort();
  const roles = [...new Set(nodes.map((n) => n.role || "member"))].sort();
  for (const n of nodes) {
    if (graph.hasNode(n.key)) continue;
    graph.addNode(n.key, {
      x: Number(n.x) || 0,
      y: -(Number(n.y) || 0), // screen y grows downwards, layout y upwards
      size: scale(typeof n.size === "number" ? n.size : 1),
      label: n.label || n.key,
      platform: n.platform,
      role: n.role || "member",
      persona: n.persona || null,
      cluster: Number.isInteger(n.cluster) ? n.cluster : null,
      color: roleColour(n.role || "member"),
    });
  }
  const wMax = Math.max(1, ...edges.map((e) => Number(e.weight) || 1));
  let dropped = 0;
  for (const e of edges) {
    if (!graph.hasNode(e.source) || !graph.hasNode(e.target) || e.source === e.target || graph.hasEdge(e.source, e.target)) {
      dropped += 1;
      continue;
    }
    const w = Number(e.weight) || 1;
    graph.addEdge(e.source, e.target, {size: 0.4 + 1.6 * Math.sqrt(w / wMax), color: EDGE_COLOUR, network: e.network});
  }

  // toolbar: colour mode + counts; info line for the hovered node. Colour by cluster from 400
  // accounts (one colour per role or platform says little there); else by platform when every
  // account has the same role (nothing to tell apart) and the campaign spans platforms.
  const clustered = nodes.some((n) => Number.isInteger(n.cluster));
  let mode = clustered && graph.order >= CLUSTER_DEFAULT_AT ? "cluster"
    : roles.length < 2 && platforms.length > 1 ? "platform" : "role";
  const byRole = h("button", {type: "button", class: "seg", "data-mode": "role"}, "Colour by role");
  const byPlatform = h("button", {type: "button", class: "seg", "data-mode": "platform"}, "by platform");
  const byCluster = h("button", {type: "button", class: "seg", "data-mode": "cluster", disabled: !clustered,
    title: "communities of the co-action graph (Louvain, seeded)"}, "by cluster");
  const buttons = [byRole, byPlatform, byCluster];
  const reset = h("button", {type: "button", class: "btn btn-small"}, "Reset view");
  const legendBox = h("div", {class: "legend"});
  const info = h("div", {class: "graph-info"}, "Hover a node for its account; click to open it.");
  const counts = h("span", {class: "muted"},
    `${fmtNum(graph.order)} accounts · ${fmtNum(graph.size)} links shown` +
    (payload.truncated ? ` (strongest links only; ${fmtNum(payload.truncated)} weaker links left out)` : ""));
  const container = h("div", {class: "graph", id: "network"});
  host.append(h("div", {class: "graph-toolbar"}, h("div", {class: "segmented"}, buttons), reset, counts), container,
    h("div", {class: "graph-foot"}, legendBox, info));

  const colourOf = (attrs) => (mode === "role" ? roleColour(attrs.role)
    : mode === "cluster" ? clusterColour(attrs.cluster) : platformColour(attrs.platform, platforms.indexOf(attrs.platform)));
  const keyOf = (attrs) => (mode === "role" ? attrs.role : mode === "cluster" ? clusterName(attrs.cluster) : attrs.platform);
  const drawLegend = () => {
    clear(legendBox);
    let entries;
    if (mode === "cluster") {
      const seen = new Map();
      graph.forEachNode((_, a) => {
        const name = clusterName(a.cluster);
        if (!seen.has(name)) seen.set(name, [a.cluster ?? Infinity, clusterColour(a.cluster)]);
      });
      entries = [...seen.entries()].sort((x, y) => x[1][0] - y[1][0]).map(([name, [, colour]]) => [name, colour]);
    } else {
      entries = mode === "role" ? roles.map((r) => [r, roleColour(r)]) : platforms.map((p, i) => [p, platformColour(p, i)]);
    }
    for (const [label, colour] of entries) {
      const n = graph.filterNodes((_, a) => keyOf(a) === label).length;
      legendBox.appendChild(h("span", {class: "legend-item"}, swatch(colour), `${label} (${fmtNum(n)})`));
    }
  };

  let hovered = null;
  let neighbours = new Set();
  const renderer = new window.Sigma(graph, container, {
    ...SIGMA_SETTINGS,
    nodeReducer: (node, data) => {
      const out = {...data, color: colourOf(data)};
      if (hovered && node !== hovered && !neighbours.has(node)) {
        out.color = DIM_NODE;
        out.label = "";
        out.zIndex = 0;
      } else if (hovered) {
        out.zIndex = 1;
        if (node === hovered) out.highlighted = true;
      }
      return out;
    },
    edgeReducer: (edge, data) => {
      if (hovered && !graph.hasExtremity(edge, hovered)) return {...data, hidden: true};
      return data;
    },
  });
  function setModeButtons() {
    for (const b of buttons) {
      b.classList.toggle("on", mode === b.dataset.mode);
      b.setAttribute("aria-pressed", String(mode === b.dataset.mode));
    }
    container.dataset.mode = mode;
  }
  const setMode = (m) => {
    mode = m;
    setModeButtons();
    drawLegend();
    renderer.refresh({skipIndexation: true});
  };
  setModeButtons();
  for (const b of buttons) b.addEventListener("click", () => setMode(b.dataset.mode));
  reset.addEventListener("click", () => renderer.getCamera().animatedReset({duration: 300}));
  renderer.on("enterNode", ({node}) => {
    hovered = node;
    neighbours = new Set(graph.neighbors(node));
    const a = graph.getNodeAttributes(node);
    const [platform, id] = splitKey(node);
    clear(info).append(h("strong", null, a.label), ` · ${platform} · ${id} · ${a.role}` +
      (a.persona ? ` · persona ${a.persona}` : "") + ` · ${clusterName(a.cluster)} · ${fmtNum(graph.degree(node))} links`);
    container.classList.add("pointer");
    renderer.refresh({skipIndexation: true});
  });
  renderer.on("leaveNode", () => {
    hovered = null;
    neighbours = new Set();
    container.classList.remove("pointer");
    renderer.refresh({skipIndexation: true});
  });
  renderer.on("clickNode", ({node}) => {
    const [platform, id] = splitKey(node);
    location.hash = accountRoute(platform, id);
  });
  drawLegend();
  container.dataset.nodes = String(graph.order);
  container.dataset.edges = String(graph.size);
  container.dataset.dropped = String(dropped);
  container.dataset.clusters = String(payload.clusters || 0);
  // for tests and the console: where a node is drawn, in CSS pixels of the container
  container.nodePosition = (key) => {
    const d = renderer.getNodeDisplayData(key);
    return d ? renderer.framedGraphToViewport(d) : null;
  };
  return {
    renderer,
    graph,
    destroy() {
      renderer.kill();
    },
  };
}

/**
 * A synthetic stress test: `n` nodes in a few clusters and `m` random edges, built and rendered
 * client-side. Returns timings in milliseconds. Used by the hidden route #/graphtest.
 */
export function syntheticGraph(host, n = 5000, m = 50000, seed = 1) {
  let state = seed >>> 0 || 1;
  const rand = () => {
    // xorshift32: reproducible without Math.random
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const t0 = performance.now();
  const graph = new window.graphology.Graph({type: "undirected", multi: false});
  const clusters = 12;
  const centres = Array.from({length: clusters}, () => [rand(), rand()]);
  const platforms = Object.keys({x: 1, telegram: 1, tiktok: 1, youtube: 1});
  for (let i = 0; i < n; i += 1) {
    const c = centres[i % clusters];
    const r = 0.12 * Math.sqrt(rand());
    const a = 2 * Math.PI * rand();
    const p = platforms[i % platforms.length];
    graph.addNode(`${p}:${i}`, {x: c[0] + r * Math.cos(a), y: c[1] + r * Math.sin(a), size: 2 + 4 * rand(),
      label: `node ${i}`, color: platformColour(p), platform: p});
  }
  let tries = 0;
  while (graph.size < m && tries < m * 3) {
    tries += 1;
    const i = Math.floor(rand() * n);
    // mostly within a cluster, some across: like a coordination network
    const j = rand() < 0.85 ? (i + clusters * Math.floor(rand() * (n / clusters))) % n : Math.floor(rand() * n);
    if (i === j) continue;
    const u = `${platforms[i % platforms.length]}:${i}`;
    const v = `${platforms[j % platforms.length]}:${j}`;
    if (!graph.hasEdge(u, v)) graph.addEdge(u, v, {size: 0.5, color: EDGE_COLOUR});
  }
  const t1 = performance.now();
  const container = h("div", {class: "graph graph-tall", id: "network"});
  host.appendChild(container);
  const renderer = new window.Sigma(graph, container, {...SIGMA_SETTINGS});
  const t2 = performance.now();
  const frames = [];
  for (let k = 0; k < 5; k += 1) {
    const a = performance.now();
    renderer.refresh();
    frames.push(performance.now() - a);
  }
  const t3 = performance.now();
  container.dataset.nodes = String(graph.order);
  container.dataset.edges = String(graph.size);
  return {
    renderer,
    timings: {
      nodes: graph.order,
      edges: graph.size,
      build_ms: Math.round(t1 - t0),
      first_render_ms: Math.round(t2 - t1),
      refresh_ms_mean: Math.round(frames.reduce((x, y) => x + y, 0) / frames.length),
      refresh_ms_max: Math.round(Math.max(...frames)),
      total_ms: Math.round(t3 - t0),
    },
  };
}
