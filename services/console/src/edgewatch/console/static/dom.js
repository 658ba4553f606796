// Small DOM and API helpers shared by the pages. Text goes in as text nodes (never HTML), so data cannot inject.

let csrf = "";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

export function fmtTime(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : "-";
}

export function fmtNum(v, digits = 3) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "-";
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.errors = this.body.errors || [];
  }
}

async function ensureCsrf() {
  if (!csrf) csrf = (await api("GET", "/session")).csrf;
  return csrf;
}

// JSON call to the console's own API; 401 sends the operator back to the login page.
export async function api(method, path, body, { raw = false } = {}) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = await ensureCsrf();
  if (body !== undefined) headers["Content-Type"] = raw ? "application/x-yaml" : "application/json";
  const r = await fetch(`/ui/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (r.status === 401) {
    location.assign("/ui/login");
    throw new ApiError(401, { message: "log in first" });
  }
  const doc = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, doc);
  return doc;
}

export async function logout() {
  await fetch("/ui/logout", { method: "POST", credentials: "same-origin" });
  location.assign("/ui/login");
}

// Show an API error: each {field, message} at the input whose data-field matches (or its nearest parent key),
// the rest in the form's general error line.
export function showErrors(form, err) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  const general = form.querySelector("[data-error-for='']");
  const items = err.errors?.length ? err.errors : [{ field: "", message: err.message }];
  for (const { field, message } of items) {
    let target = null;
    const parts = field ? field.split(".") : [];
    while (parts.length && !target) {
      target = form.querySelector(`[data-error-for="${CSS.escape(parts.join("."))}"]`);
      parts.pop();
    }
    target = target || general;
    if (target) target.textContent = [target.textContent, field ? `${field}: ${message}` : message].filter(Boolean).join("; ");
  }
}
