// The Usage page: filters -> GET /api/usage -> totals, chart (SVG) and table. No dependencies.
"use strict";
(function () {
  const DAY = 86400000;
  const HOUR = 3600000;
  const TIMEOUT_MS = 15000;
  const SERIES = [
    { key: "billing_sessions", cls: "billing", label: "Sessions" },
    { key: "voice_sessions", cls: "voice", label: "Voice sessions" },
    { key: "agents", cls: "agents", label: "Agents" },
  ];
  const COLUMNS = ["billing_sessions", "usage_sessions", "alert_sessions", "voice_sessions", "agents"];
  const $ = (id) => document.getElementById(id);
  const state = { rows: [], periods: [], by: "day", from: "", to: "", app: "", tz: "UTC", request: null };
  const formatters = new Map();

  function bysFor(range, days) {
    if (range === "24h") return ["hour"];
    if (range === "7d") return ["day"];
    if (range === "30d") return ["day", "week"];
    const out = [];
    if (days <= 31) out.push("hour");
    out.push("day");
    if (days >= 7) out.push("week");
    if (days >= 28) out.push("month");
    return out;
  }

  function customDays() {
    const from = Date.parse($("from").value), to = Date.parse($("to").value);
    return isNaN(from) || isNaN(to) ? 0 : Math.round((to - from) / DAY) + 1;
  }

  function refreshGranularity() {
    const range = $("range").value;
    $("custom").hidden = range !== "custom";
    const select = $("by"), previous = select.value;
    const allowed = bysFor(range, customDays());
    select.replaceChildren(...allowed.map((by) => new Option(by[0].toUpperCase() + by.slice(1), by)));
    select.value = allowed.includes(previous) ? previous : allowed[0];
  }

  function query() {
    const params = new URLSearchParams();
    const app = $("app").value;
    if (app) params.set("app", app); else params.set("all_apps", "1");
    const range = $("range").value;
    if (range === "custom") {
      const from = $("from").value, to = $("to").value;
      if (!from || !to) throw new Error("Choose both a From and a To date for a custom range.");
      if (to < from) throw new Error("The To date must not be before the From date.");
      params.set("from", from);
      params.set("to", new Date(Date.parse(to) + DAY).toISOString().slice(0, 10));
    } else {
      params.set("range", range);
    }
    params.set("by", $("by").value);
    const tz = $("tz").value;
    if (tz && tz !== "UTC") params.set("tz", tz);
    return params;
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = "status" + (kind ? " " + kind : "");
    document.body.setAttribute("aria-busy", kind === "loading" ? "true" : "false");
  }

  async function getJson(url, signal) {
    const response = await fetch(url, { signal, credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) { window.location.reload(); throw new Error("Please sign in again."); }
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) {
      const detail = body && body.error ? body.error : response.statusText;
      throw new Error(`The usage API answered ${response.status}: ${detail}`);
    }
    return { body, headers: response.headers };
  }

  async function load() {
    if (state.request) state.request.abort();
    const controller = new AbortController();
    state.request = controller;
    let params;
    try { params = query(); } catch (error) { setStatus(error.message, "error"); return; }
    const timer = setTimeout(() => controller.abort("timeout"), TIMEOUT_MS);
    setStatus("Loading usage…", "loading");
    try {
      const { body, headers } = await getJson("/api/usage?" + params, controller.signal);
      state.rows = body;
      state.by = headers.get("X-Usage-By") || $("by").value;
      state.from = headers.get("X-Usage-From");
      state.to = headers.get("X-Usage-To");
      state.app = $("app").value;
      state.tz = $("tz").value || "UTC";
      state.periods = periods(state.from, state.to, state.by, state.tz);
      remember();
      render();
      const scope = state.app ? `app ${state.app}` : "all apps";
      setStatus(body.length ? `Showing ${scope}, ${label(hourKey(Date.parse(state.from), state.tz), "hour")} to ${label(hourKey(Date.parse(state.to), state.tz), "hour")}.`
        : `No sessions for ${scope} in this range.`, body.length ? "" : "empty");
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason !== "timeout") return; // superseded
      const why = controller.signal.reason === "timeout"
        ? "The usage API did not answer within 15 seconds." : (error.message || String(error));
      setStatus(`Could not load usage: ${why} The filters still work; choose Apply to try again.`, "error");
    } finally {
      clearTimeout(timer);
      if (state.request === controller) state.request = null;
    }
  }

  // Local wall-clock parts of the instant t in the IANA zone tz.
  function parts(t, tz) {
    if (!formatters.has(tz)) {
      formatters.set(tz, new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }));
    }
    const p = Object.fromEntries(formatters.get(tz).formatToParts(t).map((x) => [x.type, x.value]));
    return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour % 24, min: +p.minute };
  }

  // The API's key of the hour starting at t: "…T05:00:00+05:30" in a zone, "…T05:00:00Z" in UTC.
  function hourKey(t, tz) {
    if (tz === "UTC") return new Date(t).toISOString().slice(0, 13) + ":00:00Z";
    const p = parts(t, tz), minutes = Math.round((Date.UTC(p.y, p.m - 1, p.d, p.h, p.min) - (t - (t % 60000))) / 60000);
    const pad = (n) => String(n).padStart(2, "0");
    const sign = minutes < 0 ? "-" : "+", off = Math.abs(minutes);
    return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}:00${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
  }

  // Every period of [from, to) at granularity `by` in zone tz, keyed as the API keys them.
  // Hours are instants an hour apart; days, weeks (Monday) and months are the zone's dates.
  function periods(from, to, by, tz) {
    const out = [], start = Date.parse(from), end = Date.parse(to);
    if (by === "hour") {
      for (let t = start; t < end; t += HOUR) out.push(hourKey(t, tz));
      return out;
    }
    const a = parts(start, tz), b = parts(end - 1, tz);
    const last = Date.UTC(b.y, b.m - 1, b.d);
    for (let t = floorDate(Date.UTC(a.y, a.m - 1, a.d), by); t <= last; t = nextDate(t, by)) {
      out.push(new Date(t).toISOString().slice(0, 10));
    }
    return out;
  }

  function floorDate(day, by) {
    const d = new Date(day);
    if (by === "week") return day - ((d.getUTCDay() + 6) % 7) * DAY;
    if (by === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return day;
  }

  function nextDate(day, by) {
    if (by === "day") return day + DAY;
    if (by === "week") return day + 7 * DAY;
    const d = new Date(day);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }

  function label(period, by) {
    const hourly = by === "hour";
    const t = Date.parse(period.length === 10 ? period + "T00:00:00Z" : period);
    const opts = { timeZone: hourly ? state.tz : "UTC" };  // dates are already the zone's
    if (hourly) Object.assign(opts, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
    else if (by === "month") Object.assign(opts, { month: "long", year: "numeric" });
    else Object.assign(opts, { month: "short", day: "numeric", year: "numeric" });
    const text = new Intl.DateTimeFormat("en-US", opts).format(t);
    return by === "week" ? "Week of " + text : hourly ? `${text} ${state.tz}` : text;
  }

  // The filters in the address bar, so a view can be bookmarked and shared.
  function remember() {
    const url = new URL(window.location.href);
    for (const id of ["app", "range", "by", "tz", "from", "to"]) {
      const value = $(id).value;
      const keep = value && !(id === "tz" && value === "UTC") && !(["from", "to"].includes(id) && $("range").value !== "custom");
      if (keep) url.searchParams.set(id, value); else url.searchParams.delete(id);
    }
    window.history.replaceState(null, "", url);
  }

  function zones() {
    const select = $("tz"), here = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const names = ["UTC", ...new Set([here, "Asia/Kolkata", "Asia/Kathmandu", ...all])].filter((z) => z && z !== "Etc/UTC");
    select.replaceChildren(...[...new Set(names)].map((z) => new Option(z === here ? `${z} (this browser)` : z, z)));
  }

  function restore() {
    const params = new URL(window.location.href).searchParams;
    for (const id of ["range", "tz", "from", "to"]) {
      const value = params.get(id);
      if (value && [...($(id).options || [])].some((o) => o.value === value)) $(id).value = value;
      else if (value && $(id).type === "date") $(id).value = value;
    }
    refreshGranularity();
    const by = params.get("by");
    if (by && [...$("by").options].some((o) => o.value === by)) $("by").value = by;
    return params.get("app");
  }

  function points() {
    const byPeriod = new Map(state.rows.map((row) => [row.period, row]));
    return state.periods.map((period) => {
      const row = byPeriod.get(period) || {};
      const point = { period };
      for (const column of COLUMNS) point[column] = row[column] || 0;
      return point;
    });
  }

  function render() {
    const data = points();
    renderTotals(data);
    window.UsageChart.draw($("chart"), $("tooltip"), data, SERIES, (p) => label(p, state.by));
    renderTable(data);
    $("csv").disabled = data.length === 0;
  }

  function renderTotals(data) {
    const sum = (k) => data.reduce((acc, p) => acc + p[k], 0);
    $("total-billing").textContent = sum("billing_sessions").toLocaleString("en-US");
    $("total-voice").textContent = sum("voice_sessions").toLocaleString("en-US");
    $("total-agents").textContent = data.reduce((acc, p) => Math.max(acc, p.agents), 0).toLocaleString("en-US");
  }

  function renderTable(data) {
    const cell = (tag, text, attrs) => { const c = document.createElement(tag); c.textContent = text; Object.assign(c, attrs || {}); return c; };
    const rows = data.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.period = p.period;
      tr.append(cell("th", label(p.period, state.by), { scope: "row" }), ...COLUMNS.map((k) => cell("td", String(p[k]))));
      return tr;
    });
    $("table").tBodies[0].replaceChildren(...rows);
    const totals = document.createElement("tr");
    const sum = (k) => data.reduce((acc, p) => acc + p[k], 0);
    totals.append(cell("td", "Total"), ...COLUMNS.slice(0, 4).map((k) => cell("td", String(sum(k)))),
      cell("td", String(data.reduce((acc, p) => Math.max(acc, p.agents), 0)), { title: "Peak agents in one period" }));
    $("table").tFoot.replaceChildren(totals);
  }

  function csv() {
    const header = ["period", "app_id", ...COLUMNS];
    const lines = points().map((p) => [p.period, state.app || "*", ...COLUMNS.map((k) => p[k])].join(","));
    return [header.join(","), ...lines].join("\n") + "\n";
  }

  function download() {
    const blob = new Blob([csv()], { type: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `usage-${state.app || "all-apps"}-${state.by}-${state.from.slice(0, 10)}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async function loadApps(wanted) {
    try {
      const { body } = await getJson("/api/apps");
      const select = $("app");
      select.append(...body.map((app) => new Option(app, app)));
      if (wanted && body.includes(wanted)) select.value = wanted;
    } catch (error) {
      setStatus(`Could not load the app list (${error.message}); showing all apps.`, "error");
    }
  }

  function init() {
    if (window.Console) window.Console.header("usage");
    const today = new Date().toISOString().slice(0, 10);
    $("to").value = today;
    $("from").value = new Date(Date.now() - 13 * DAY).toISOString().slice(0, 10);
    zones();
    const app = restore();
    for (const id of ["app", "range", "by", "tz"]) $(id).addEventListener("change", () => { refreshGranularity(); if ($("range").value !== "custom") load(); });
    for (const id of ["from", "to"]) $(id).addEventListener("change", refreshGranularity);
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
    $("csv").addEventListener("click", download);
    window.usageCsv = csv;
    loadApps(app).then(load);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
