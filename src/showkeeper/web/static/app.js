// showkeeper pages: forms and buttons talk to the REST API as JSON with the page's CSRF token.
// No inline script anywhere (the CSP forbids it); htmx swaps server-rendered partials.
//   <button data-api="POST /api/queue/pause" data-body='{"x": 1}' data-then="refresh|reload|go:/x">
//   <form data-api-form="PUT /api/config" data-wrap="values"> fields: data-type=int|float|bool|list|date
// Errors appear beside the field they name (data-error-for) or in the form's .error box.
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

export class ApiError extends Error {
  constructor(message, status, field) { super(message); this.status = status; this.field = field; }
}

export async function api(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    let message = `request failed (${response.status})`;
    let field = null;
    if (typeof data.detail === "string") {
      message = data.detail;
    } else if (Array.isArray(data.detail) && data.detail.length) {
      const first = data.detail[0];
      const loc = (first.loc || []).filter((p) => p !== "body");
      field = loc.length ? String(loc[loc.length - 1]) : null;
      message = (loc.length ? loc.join(".") + ": " : "") + (first.msg || message);
    }
    throw new ApiError(message, response.status, field);
  }
  return data;
}

export function toast(text, kind = "info") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(box._timer);
  box._timer = setTimeout(() => { box.hidden = true; }, 5000);
}

// Live regions: <div data-live="downloads series_loading" [data-src="/url"]> re-fetch their
// partial (the page's current URL, filters included, unless data-src says otherwise) when
// something of their rooms changed; "refresh" reloads them all. Bursts are coalesced.
export function refresh(room = "refresh") {
  for (const el of document.querySelectorAll("[data-live]")) {
    if (room !== "refresh" && !el.dataset.live.split(/\s+/).includes(room)) continue;
    clearTimeout(el._skTimer);
    el._skTimer = setTimeout(() => reload(el), room === "refresh" ? 50 : 300);
  }
}

async function reload(el) {
  const url = el.dataset.src || window.location.pathname + window.location.search;
  let html;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
    if (response.redirected) { window.location.assign(response.url); return; } // logged out
    if (!response.ok) return;
    html = await response.text();
  } catch {
    return; // offline: the region keeps what it shows (the banner says why)
  }
  if (!window.htmx || !el.isConnected) return;
  const open = new Map([...el.querySelectorAll("details[id]")].map((d) => [d.id, d.open]));
  window.htmx.swap(el, html, { swapStyle: "innerHTML" });
  for (const d of el.querySelectorAll("details[id]")) if (open.has(d.id)) d.open = open.get(d.id);
  relativeTimes(el);
}

function after(then, data) {
  if (!then || then === "refresh") { refresh(); return; }
  if (then === "reload") { window.location.reload(); return; }
  if (then.startsWith("go:")) {
    // go:/add/loading/{key} takes {key} from the answer
    const url = then.slice(3).replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String((data || {})[name] ?? "")));
    window.location.assign(url);
    return;
  }
  if (then === "none") return;
}

function showError(scope, error) {
  const fieldName = error.field || guessField(scope, error.message);
  const beside = fieldName && scope.querySelector(`[data-error-for="${CSS.escape(fieldName)}"]`);
  scope.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; el.hidden = true; });
  const box = beside || scope.querySelector(".error");
  if (box) {
    box.textContent = error.message;
    box.hidden = false;
    const input = fieldName && scope.querySelector(`[name="${CSS.escape(fieldName)}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  } else {
    toast(error.message, "error");
  }
}

function clearErrors(scope) {
  scope.querySelectorAll(".error, [data-error-for]").forEach((el) => { el.textContent = ""; el.hidden = true; });
  scope.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

function guessField(scope, message) {
  // server messages start with the setting or field they concern: "port: ..." / "port must ..."
  const text = message || "";
  const match = /invalid setting ([a-z_]+)/.exec(text) || /setting '([a-z_]+)'/.exec(text)
    || /^([a-z_]+)\b/.exec(text);
  if (!match) return null;
  return scope.querySelector(`[name="${match[1]}"]`) ? match[1] : null;
}

function splitTarget(spec) {
  const space = spec.indexOf(" ");
  return [spec.slice(0, space).toUpperCase(), spec.slice(space + 1)];
}

function value(field) {
  const type = field.dataset.type || "text";
  if (type === "bool") return field.type === "checkbox" ? field.checked : field.value === "true";
  const raw = field.value.trim();
  if (raw === "") return field.dataset.empty === "omit" ? undefined : null;
  if (type === "int") return Number.parseInt(raw, 10);
  if (type === "float") return Number.parseFloat(raw);
  if (type === "list") return raw.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
  return raw;
}

function changed(field) {
  if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
  if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
  return field.value !== field.defaultValue;
}

export function formBody(form) {
  const out = {};
  for (const field of form.querySelectorAll("[name]")) {
    if (field.disabled || field.dataset.skip !== undefined || field.dataset.query !== undefined) continue;
    if (field.type === "radio" && !field.checked) continue;
    if (form.dataset.changedOnly !== undefined && !changed(field)) continue;
    if (field.type === "checkbox" && field.dataset.type !== "bool") {
      if (field.checked) (out[field.name] = out[field.name] || []).push(field.value);
      continue;
    }
    const v = value(field);
    if (v === undefined) continue;
    const group = field.dataset.in; // data-in="options": {"options": {name: value}}
    if (group) (out[group] = out[group] || {})[field.name] = v;
    else out[field.name] = v;
  }
  const wrap = form.dataset.wrap;
  return wrap ? { [wrap]: out } : out;
}

async function runButton(button) {
  const [method, url] = splitTarget(button.dataset.api);
  const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (button.dataset.busy) button.textContent = button.dataset.busy;
  const scope = button.closest("[data-scope]") || button.closest("form") || document.body;
  try {
    const data = await api(method, url, body);
    if (button.dataset.show) { // show one field of the answer (a new API key, shown once)
      const out = scope.querySelector("[data-result]");
      if (out) { out.textContent = String(data[button.dataset.show] ?? ""); out.hidden = false; }
    }
    if (button.dataset.done) toast(button.dataset.done);
    after(button.dataset.then, data);
  } catch (error) {
    showError(scope, error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

function formUrl(form, url) {
  // fields marked data-query go in the query string (DELETE /api/series/x?delete_files=true)
  const params = new URLSearchParams();
  for (const field of form.querySelectorAll("[name][data-query]")) {
    const v = value(field);
    if (v !== null && v !== undefined) params.set(field.name, String(v));
  }
  const query = params.toString();
  return query ? `${url}${url.includes("?") ? "&" : "?"}${query}` : url;
}

async function submitForm(form) {
  const [method, target] = splitTarget(form.dataset.apiForm);
  const url = formUrl(form, target);
  clearErrors(form);
  const submit = form.querySelector("[type=submit]");
  if (submit) submit.disabled = true;
  try {
    const body = method === "DELETE" ? undefined : formBody(form);
    const data = await api(method, url, body);
    form.dispatchEvent(new CustomEvent("sk:saved", { detail: data, bubbles: true }));
    if (form.dataset.done) toast(form.dataset.done);
    after(form.dataset.then, data);
  } catch (error) {
    showError(form, error);
  } finally {
    if (submit) submit.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-api]");
  if (button) { event.preventDefault(); runButton(button); return; }
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) document.getElementById(opener.dataset.openDialog)?.showModal();
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) closer.closest("dialog")?.close();
  const out = event.target.closest("[data-logout]");
  if (out) {
    api("POST", "/api/auth/logout").then(() => window.location.assign("/login"))
      .catch((error) => toast(error.message, "error"));
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-api-form]");
  if (form) { event.preventDefault(); submitForm(form); }
});

// htmx requests carry the CSRF token too
document.body.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = csrf;
});

// times in the browser's time zone; relative ("3 min ago") with the exact time on hover
const rtf = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
export function relativeTimes(root = document) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    const hasTime = el.getAttribute("datetime").includes("T");
    el.title = hasTime ? when.toLocaleString() : when.toLocaleDateString();
    if (el.dataset.rel === undefined || !rtf) { el.textContent = el.title; continue; }
    const seconds = (when.getTime() - Date.now()) / 1000;
    const abs = Math.abs(seconds);
    const [n, unit] = abs < 60 ? [seconds, "second"] : abs < 3600 ? [seconds / 60, "minute"]
      : abs < 86400 ? [seconds / 3600, "hour"] : abs < 30 * 86400 ? [seconds / 86400, "day"]
      : abs < 365 * 86400 ? [seconds / (30 * 86400), "month"] : [seconds / (365 * 86400), "year"];
    el.textContent = rtf.format(Math.round(n), unit);
  }
}
relativeTimes();
document.body.addEventListener("htmx:afterSwap", (event) => relativeTimes(event.target));

// first run: setup, then log in with the same password and watch the library being scanned
const setup = document.getElementById("setup-form");
if (setup) {
  setup.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(setup);
    const body = formBody(setup);
    try {
      const data = await api("POST", "/api/auth/setup", body);
      setup.hidden = true;
      document.getElementById("api-key").textContent = data.api_key || "(unchanged: use your existing key)";
      const done = document.getElementById("setup-done");
      done.hidden = false;
      const go = document.getElementById("setup-continue");
      go.addEventListener("click", async () => {
        try {
          await api("POST", "/api/auth/login", { username: "admin", password: body.password, mode: "session" });
          window.location.assign("/");
        } catch (error) { window.location.assign("/login"); }
      }, { once: true });
      go.focus();
    } catch (error) { showError(setup, error); }
  });
}

const login = document.getElementById("login-form");
if (login) {
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(login);
    try {
      await api("POST", "/api/auth/login", { ...formBody(login), mode: "session" });
      const next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (error) { showError(login, error); }
  });
}
