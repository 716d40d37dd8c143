// Talking to the backend: JSON fetches, the CSRF header on writes, and the visible error bar.
// API errors ({"error": "..."}) are shown to the analyst, never thrown into the console.

import {clear, h} from "./dom.js";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

/**
 * Fetch a JSON endpoint. Non-GET requests carry X-CSRF-Token from the swarmscope_csrf cookie.
 * On failure the error bar shows the server's message and an ApiError is thrown for the caller
 * (pages catch it; see app.js).
 */
export async function api(path, {method = "GET", body = undefined, quiet = false} = {}) {
  const headers = {Accept: "application/json"};
  const init = {method, headers, credentials: "same-origin", cache: "no-store"};
  if (method !== "GET") {
    headers["X-CSRF-Token"] = cookie("swarmscope_csrf");
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    const e = new ApiError(`The workbench server did not answer (${path}). Is \`swarmscope serve\` still running?`, 0);
    if (!quiet) showError(e.message);
    throw e;
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const msg = data && typeof data.error === "string" ? data.error : `${response.status} ${response.statusText}`;
    const e = new ApiError(`${msg} (${method} ${path.split("?")[0]})`, response.status);
    if (!quiet) showError(e.message);
    throw e;
  }
  return data;
}

export function showError(message) {
  const bar = document.getElementById("errorbar");
  if (!bar) return;
  clear(bar.querySelector(".errorbar-msg")).appendChild(document.createTextNode(message));
  bar.hidden = false;
}

export function hideError() {
  const bar = document.getElementById("errorbar");
  if (bar) bar.hidden = true;
}

export function initErrorBar() {
  const bar = document.getElementById("errorbar");
  bar.querySelector("button").addEventListener("click", hideError);
}

/** A short-lived notice (label saved, run finished). */
export function notify(message) {
  const box = document.getElementById("notice");
  if (!box) return;
  clear(box).appendChild(h("span", null, message));
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}
