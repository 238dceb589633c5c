// The page's one WebSocket (/ws/connect): joins the rooms the page names in data-rooms,
// updates progress in place (at most 4 times a second per item) and has the page's live
// regions (data-live, app.js refresh) re-fetch their partial when something they show changed.
// Reconnects with exponential back-off; while disconnected a banner says so and the page
// refreshes its data every 10 s.
import { refresh } from "/static/app.js";

const PAGE = document.querySelector("[data-rooms]");
const ROOMS = ((PAGE && PAGE.dataset.rooms) || "downloads").split(/\s+/).filter(Boolean);
const MIN_INTERVAL_MS = 250; // 4 updates per second per item
const POLL_MS = 10_000;
const conn = document.getElementById("conn");
const banner = document.getElementById("offline-banner");

let socket = null;
let attempt = 0;
let pollTimer = null;
let everConnected = false;

function setState(state) {
  if (!conn) return;
  conn.dataset.state = state;
  conn.querySelector(".conn-text").textContent =
    state === "open" ? "Live" : state === "connecting" ? "Connecting" : "Offline";
  const offline = state === "closed" && everConnected;
  if (banner) banner.hidden = !offline;
  if (offline) document.body.dataset.wasOffline = "true";
  if (offline && pollTimer === null) {
    pollTimer = setInterval(() => refresh("refresh"), POLL_MS);
  }
  if (!offline && pollTimer !== null) {
    clearInterval(pollTimer);
    pollTimer = null;
  }
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  setState("connecting");
  socket = new WebSocket(`${scheme}//${window.location.host}/ws/connect`);
  socket.addEventListener("open", () => {
    attempt = 0;
    everConnected = true;
    for (const room of ROOMS) socket.send(JSON.stringify({ action: "join", room }));
    setState("open");
    // catch up on what happened between the page's rendering (or the last connection) and now
    refresh("refresh");
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    handle(message);
  });
  socket.addEventListener("close", () => {
    socket = null;
    setState("closed");
    const delay = Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
    attempt += 1;
    setTimeout(connect, delay);
  });
}

// --- progress, throttled per item ------------------------------------------------------
const lastDraw = new Map();
const pending = new Map();

function throttled(key, draw) {
  const now = performance.now();
  const last = lastDraw.get(key) || 0;
  if (now - last >= MIN_INTERVAL_MS) {
    lastDraw.set(key, now);
    pending.delete(key);
    draw();
    return;
  }
  if (!pending.has(key)) {
    setTimeout(() => {
      const fn = pending.get(key);
      pending.delete(key);
      lastDraw.set(key, performance.now());
      if (fn) fn();
    }, MIN_INTERVAL_MS - (now - last));
  }
  pending.set(key, draw);
}

function size(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = Number(n);
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return i === 0 ? `${v.toFixed(0)} B` : `${v.toFixed(1)} ${units[i]}`;
}

function eta(s) {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return "—";
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function drawDownload(data) {
  const pct = data.total ? Math.min(100, Math.floor((data.bytes * 100) / data.total)) : null;
  const selectors = [`[data-item="${data.item_id}"]`, `[data-episode="${data.episode_id}"]`];
  let moved = false;
  for (const el of document.querySelectorAll(selectors.join(","))) {
    if (el.dataset.status !== "downloading") moved = true; // shown as waiting: re-render it
    el.dataset.status = "downloading";
    const bar = el.querySelector("progress");
    if (bar) {
      bar.hidden = false;
      if (pct === null) bar.removeAttribute("value"); else bar.value = pct;
    }
    const set = (name, text) => { const t = el.querySelector(`[data-${name}]`); if (t) t.textContent = text; };
    set("pct", pct === null ? "…" : `${pct}%`);
    set("speed", data.speed ? `${size(data.speed)}/s` : "—");
    set("eta", eta(data.eta));
    set("done", data.total ? `${size(data.bytes)} of ${size(data.total)}` : size(data.bytes));
    const chip = el.querySelector("[data-chip]");
    if (chip) {
      chip.className = "chip downloading";
      chip.textContent = pct === null ? "Downloading" : `Downloading ${pct}%`;
    }
  }
  if (moved) refresh("downloads");
}

function drawScan(data) {
  const box = document.querySelector("[data-scan]");
  if (!box) return;
  box.hidden = false;
  box.dataset.running = "true";
  const bar = box.querySelector("[data-scan-bar]");
  if (bar && data.total) bar.value = Math.floor((data.done * 100) / data.total);
  const text = box.querySelector("[data-scan-text]");
  if (text) text.textContent = `${data.done} of ${data.total} folders · ${data.files} files`;
}

function scanEnded(data, failed) {
  const box = document.querySelector("[data-scan]");
  if (box) {
    const bar = box.querySelector("[data-scan-bar]");
    if (bar) bar.value = 100;
    const text = box.querySelector("[data-scan-text]");
    if (text) {
      text.textContent = failed ? `Scan failed: ${data.error || "see the log"}`
        : `Done: ${data.series_total ?? "?"} series, ${data.files_matched ?? 0} episode files`;
    }
    delete box.dataset.running;
    box.dataset.done = failed ? "failed" : "ok";
  }
  refresh("refresh");
}

const REFRESH_ON = {
  download_complete: "downloads",
  download_failed: "downloads",
  queue_status: "downloads",
  series_loading_update: "series_loading",
  episodes_added: "series_loading",
};

function handle(message) {
  const data = message.data || {};
  switch (message.type) {
    case "download_progress":
      throttled(`d${data.item_id}`, () => drawDownload(data));
      return;
    case "scan_progress":
      throttled(`s${data.scan_id}`, () => drawScan(data));
      return;
    case "scan_complete":
      scanEnded(data, false);
      return;
    case "scan_failed":
      scanEnded(data, true);
      return;
    default:
      if (REFRESH_ON[message.type]) {
        if (message.type.startsWith("download_")) pending.delete(`d${data.item_id}`);
        refresh(REFRESH_ON[message.type]);
      }
  }
}

connect();
