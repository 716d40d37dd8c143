// The workbench front end: hash routing over the pages. No framework, no build step.
//   #/                 overview        #/campaigns           campaigns list
//   #/campaign/C1      one campaign    #/account/x/123       one account
//   #/signal/S1        one signal      #/posts?ids=x:1,x:2   posts by id
//   #/search?q=...     search          #/graphtest           5,000-node / 50,000-edge render check (hidden)

import {api, ApiError, hideError, initErrorBar, showError} from "./api.js";
import {clear, fmtNum, h, pageHeader, panel} from "./dom.js";
import {graphLibrariesLoaded, syntheticGraph} from "./network.js";
import {accountPage} from "./page-account.js";
import {campaignPage} from "./page-campaign.js";
import {campaignsPage} from "./page-campaigns.js";
import {postsPage, signalPage} from "./page-evidence.js";
import {overviewPage} from "./page-overview.js";
import {searchPage} from "./page-search.js";

const main = document.getElementById("main");
let generation = 0;
let leaveHooks = [];
let caseInfoPromise = null;

function caseInfo() {
  if (!caseInfoPromise) caseInfoPromise = api("/api/case", {quiet: true}).catch(() => null);
  return caseInfoPromise;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return {parts, query};
}

async function graphTestPage(root, ctx, query) {
  const n = Math.min(20000, Math.max(10, Number(query.get("nodes")) || 5000));
  const m = Math.min(200000, Math.max(0, Number(query.get("edges")) || 50000));
  root.append(pageHeader("Graph render check", `${fmtNum(n)} nodes, ${fmtNum(m)} random edges, built and drawn in this browser.`));
  const body = h("div");
  const result = h("pre", {class: "code", id: "graphtest-result"}, "running…");
  root.append(panel("Network", body), panel("Timings (ms)", result));
  if (!graphLibrariesLoaded()) {
    result.textContent = "sigma/graphology not loaded";
    return;
  }
  await new Promise((r) => requestAnimationFrame(() => r()));
  if (ctx.stale()) return;
  const {renderer, timings} = syntheticGraph(body, n, m);
  ctx.onLeave(() => renderer.kill());
  // a camera sweep: frames drawn while moving (edges are hidden on move) and their cost
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  await frame();
  await frame();
  if (ctx.stale()) return;
  const cam = renderer.getCamera();
  const costs = [];
  let began = 0;
  renderer.on("beforeRender", () => {
    began = performance.now();
  });
  renderer.on("afterRender", () => {
    costs.push(performance.now() - began);
  });
  const t0 = performance.now();
  await cam.animate({ratio: 0.4, x: 0.4, y: 0.6}, {duration: 2000});
  const sweep = performance.now() - t0;
  if (ctx.stale()) return;
  timings.move_frames_per_s = Math.round((costs.length * 1000) / sweep);
  timings.move_frame_ms_mean = costs.length ? Math.round(costs.reduce((a, b) => a + b, 0) / costs.length) : null;
  result.textContent = JSON.stringify(timings, null, 2);
  result.dataset.done = "1";
  window.__graphtest = timings;
}

async function route() {
  generation += 1;
  const mine = generation;
  for (const hook of leaveHooks) {
    try {
      hook();
    } catch {
      // a page that is gone cannot fail the next one
    }
  }
  leaveHooks = [];
  hideError();
  delete main.dataset.ready;
  const {parts, query} = parseHash();
  const name = parts[0] || "overview";
  for (const a of document.querySelectorAll(".nav a")) {
    const on = a.dataset.nav === name || (a.dataset.nav === "campaigns" && name === "campaign");
    a.classList.toggle("active", on);
  }
  clear(main);
  const page = h("div", {class: "page", "data-page": name});
  const loading = h("p", {class: "loading"}, "Loading…");
  main.append(loading);
  const ctx = {
    stale: () => mine !== generation,
    onLeave: (f) => leaveHooks.push(f),
    reload: () => {
      caseInfoPromise = null;
      route();
    },
    caseInfo,
  };
  // pages add to `page`, which is attached before they run so that sized elements (the network
  // canvas) have their layout; the loading line is removed when the page finishes
  main.append(page);
  try {
    if (name === "overview") await overviewPage(page, ctx);
    else if (name === "campaigns") await campaignsPage(page, ctx);
    else if (name === "campaign" && parts[1]) await campaignPage(page, ctx, parts[1]);
    else if (name === "account" && parts.length >= 3) await accountPage(page, ctx, parts[1], parts.slice(2).join("/"), query);
    else if (name === "signal" && parts[1]) await signalPage(page, ctx, parts[1]);
    else if (name === "posts") await postsPage(page, ctx, query);
    else if (name === "search") await searchPage(page, ctx, query);
    else if (name === "graphtest") await graphTestPage(page, ctx, query);
    else page.append(pageHeader("Not found", `No page at ${location.hash}`));
  } catch (err) {
    if (mine !== generation) return;
    // API errors are already in the error bar; anything else is a bug worth showing, not hiding
    if (!(err instanceof ApiError)) showError(`This page failed to draw: ${err && err.message ? err.message : err}`);
    page.append(h("p", {class: "empty"}, "This page could not be loaded."));
  } finally {
    if (mine === generation) {
      loading.remove();
      main.dataset.ready = name;
      main.dataset.generation = String(mine);
    }
  }
}

async function start() {
  initErrorBar();
  const info = await caseInfo();
  if (info && info.name) document.getElementById("case-name").textContent = info.name;
  window.addEventListener("hashchange", route);
  route();
}

start();
