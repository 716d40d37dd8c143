// Charts: the server draws them, with the code that draws the HTML report's (report/svg.py), and sends
// the SVG as text in JSON (/api/campaigns/{id}/charts, /api/case). Handles, hashtags and signal text
// in a chart are the adversary's, already escaped by svg.py; here the text is parsed by DOMParser as
// image/svg+xml (a parsed document that is never attached runs nothing) and rebuilt with
// createElementNS from a whitelist of the elements and attributes svg.py emits; text goes in as text
// nodes. Nothing else of the parsed document reaches the page: no script, no event attribute, no link.

import {h} from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const ELEMENTS = new Set(["svg", "g", "rect", "line", "text", "tspan", "title", "circle", "path"]);
const ATTRIBUTES = new Set([
  "viewBox", "width", "height", "role", "aria-label", "font-family", "font-size", "font-weight",
  "x", "y", "x1", "y1", "x2", "y2", "dx", "dy", "cx", "cy", "r", "d",
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "text-anchor",
  "data-signal",
]);
// paint servers and anything that could reference or load something: never in what svg.py draws
const UNSAFE_VALUE = /url\s*\(|javascript:|expression\s*\(|[<>]/i;

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
  if (node.nodeType !== Node.ELEMENT_NODE || node.namespaceURI !== SVG_NS || !ELEMENTS.has(node.localName)) return null;
  const el = document.createElementNS(SVG_NS, node.localName);
  for (const attr of node.attributes) {
    if (attr.namespaceURI === null && ATTRIBUTES.has(attr.name) && !UNSAFE_VALUE.test(attr.value)) {
      el.setAttribute(attr.name, attr.value);
    }
  }
  for (const child of node.childNodes) {
    const copy = rebuild(child);
    if (copy) el.appendChild(copy);
  }
  return el;
}

/** The server's SVG text as a fresh, whitelisted <svg> element, or null when it is not one SVG document. */
export function safeSvg(markup) {
  if (typeof markup !== "string" || markup.length === 0) return null;
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.localName !== "svg" || root.namespaceURI !== SVG_NS || doc.getElementsByTagName("parsererror").length) return null;
  return rebuild(root);
}

/**
 * A server-drawn chart in a box. Marks that name a signal (data-signal: bursts, narrative shifts)
 * open it on a click, as the report's marks link to their evidence.
 */
export function serverChart(markup, {cls = "", caption = null, empty = "No chart."} = {}) {
  const svg = safeSvg(markup);
  if (!svg) return h("p", {class: "empty"}, empty);
  svg.setAttribute("class", `chart ${cls}`.trim());
  for (const mark of svg.querySelectorAll("[data-signal]")) {
    const signal = mark.getAttribute("data-signal");
    if (!signal) continue;
    mark.classList.add("clickable");
    mark.addEventListener("click", () => {
      location.hash = `#/signal/${encodeURIComponent(signal)}`;
    });
  }
  return h("div", {class: `chart-box ${cls ? `${cls}-box` : ""}`.trim()}, svg, caption ? h("p", {class: "small muted"}, caption) : null);
}
