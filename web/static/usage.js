// The Usage page: filters -> GET /api/usage -> totals, chart (SVG) and table. No dependencies.
"use strict";
(function () {
  const DAY = 86400000;
  const TIMEOUT_MS = 15000;
  const SERIES = [
    { key: "billing_sessions", cls: "billing", label: "Sessions" },
    { key: "voice_sessions", cls: "voice", label: "Voice sessions" },
    { key: "agents", cls: "agents", label: "Agents" },
  ];
  const COLUMNS = ["billing_sessions", "usage_sessions", "alert_sessions", "voice_sessions", "agents"];
  const $ = (id) => document.getElementById(id);
  const state = { rows: [], periods: [], by: "day", from: "", to: "", app: "", tz: "UTC", request: null, notes: [] };
  const { canonical, browserZone, hourKey, periods } = window.UsagePeriods;
  const RANGES = { "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", custom: "Custom range" };

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
    if (!response.ok) {  // the API says what was wrong in its JSON error; say that, as a sentence
      const C = window.Console;
      throw new Error(body && body.error ? C.sentence(body.error) : `The server could not answer (HTTP ${response.status}). Try again in a moment.`);
    }
    return { body, headers: response.headers };
  }

  // push: a user's Apply (or change) is a history entry of its own; Back and a first load
  // are not (they show what the address already says).
  async function load(push) {
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
      remember(push === true);
      render();
      const scope = state.app ? `app ${state.app}` : "all apps";
      setStatus(body.length ? `Showing ${scope}, ${label(hourKey(Date.parse(state.from), state.tz), "hour")} to ${label(hourKey(Date.parse(state.to), state.tz), "hour")}.`
        : `No sessions for ${scope} in this range.`, body.length ? "" : "empty");
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason !== "timeout") return; // superseded
      const why = controller.signal.reason === "timeout"
        ? "The server did not answer within 15 seconds." : window.Console.sentence(error.message || String(error));
      setStatus(`Could not load usage. ${why} The filters still work; choose Apply to try again.`, "error");
    } finally {
      clearTimeout(timer);
      if (state.request === controller) state.request = null;
    }
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
  function remember(push) {
    const url = new URL(window.location.href);
    for (const id of ["app", "range", "by", "tz", "from", "to"]) {
      const value = $(id).value;
      const keep = value && !(["from", "to"].includes(id) && $("range").value !== "custom");
      if (keep) url.searchParams.set(id, value); else url.searchParams.delete(id);
    }
    if (url.href === window.location.href) return;
    if (push) window.history.pushState(null, "", url); else window.history.replaceState(null, "", url);
  }

  // Every zone once, by its IANA name; the browser's own marked and chosen by default.
  function zones() {
    const select = $("tz"), here = browserZone();
    const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const names = new Set(["UTC", here, "Asia/Kolkata", "Asia/Kathmandu", ...all.map(canonical)]);
    select.replaceChildren(...[...names].filter(Boolean).map((z) => new Option(z === here ? `${z} (this browser)` : z, z)));
    select.value = here;
  }

  const has = (id, value) => [...$(id).options].some((o) => o.value === value);
  const optionText = (id) => $(id).selectedOptions[0] ? $(id).selectedOptions[0].textContent : $(id).value;

  // The filters the address names (a bookmark, Back); each one that cannot be used is said,
  // with what is shown instead.
  function restore() {
    const params = new URL(window.location.href).searchParams, notes = [];
    const range = params.get("range");
    $("range").value = range && has("range", range) ? range : "7d";
    if (range && !has("range", range)) notes.push(`The address asks for the date range “${range}”, which is not one of ${Object.keys(RANGES).join(", ")}; showing ${RANGES["7d"]} instead.`);
    const tz = params.get("tz");
    $("tz").value = tz && has("tz", canonical(tz)) ? canonical(tz) : browserZone();
    if (tz && !has("tz", canonical(tz))) notes.push(`The address asks for the time zone “${tz}”, which is not a time zone; showing ${$("tz").value} instead.`);
    for (const id of ["from", "to"]) if (params.get(id)) $(id).value = params.get(id);
    refreshGranularity();
    const by = params.get("by");
    if (by && has("by", by)) $("by").value = by;
    else if (by) notes.push(`The address asks for the granularity “${by}”, which this range does not offer; showing ${optionText("by")} instead.`);
    state.notes = notes;
    return params.get("app");
  }

  function showNotes() {
    const box = $("notice");
    box.replaceChildren(...(state.notes || []).map((text) => Object.assign(document.createElement("p"), { textContent: text })));
    box.hidden = !box.childElementCount;
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

  const count = (n) => n.toLocaleString("en-US");  // as the cards write them: 12,345

  function renderTable(data) {
    const cell = (tag, text, attrs) => { const c = document.createElement(tag); c.textContent = text; Object.assign(c, attrs || {}); return c; };
    const rows = data.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.period = p.period;
      tr.append(cell("th", label(p.period, state.by), { scope: "row" }), ...COLUMNS.map((k) => cell("td", count(p[k]))));
      return tr;
    });
    $("table").tBodies[0].replaceChildren(...rows);
    const totals = document.createElement("tr");
    const sum = (k) => data.reduce((acc, p) => acc + p[k], 0);
    totals.append(cell("td", "Total"), ...COLUMNS.slice(0, 4).map((k) => cell("td", count(sum(k)))),
      cell("td", count(data.reduce((acc, p) => Math.max(acc, p.agents), 0)), { title: "Peak agents in one period" }));
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
      chooseApp(wanted);
    } catch (error) {
      setStatus(`Could not load the app list. ${window.Console.sentence(error.message)} Showing all apps.`, "error");
    }
  }

  function chooseApp(wanted) {
    $("app").value = wanted && has("app", wanted) ? wanted : "";
    if (wanted && !has("app", wanted)) state.notes.push(`The address asks for the app “${wanted}”, which is not one of your apps; showing all apps instead.`);
  }

  // Back and Forward: the filters of that history entry, loaded without a new entry.
  function onHistory() {
    const app = restore();
    chooseApp(app);
    showNotes();
    load(false);
  }

  function init() {
    if (window.Console) window.Console.header("usage");
    const today = new Date().toISOString().slice(0, 10);
    $("to").value = today;
    $("from").value = new Date(Date.now() - 13 * DAY).toISOString().slice(0, 10);
    zones();
    const app = restore();
    const chosen = () => { state.notes = []; showNotes(); };  // the user's own choice replaces the address's
    for (const id of ["app", "range", "by", "tz"]) $(id).addEventListener("change", () => { refreshGranularity(); chosen(); if ($("range").value !== "custom") load(true); });
    for (const id of ["from", "to"]) $(id).addEventListener("change", refreshGranularity);
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); chosen(); load(true); });
    $("csv").addEventListener("click", download);
    window.addEventListener("popstate", onHistory);
    window.usageCsv = csv;
    loadApps(app).then(() => { showNotes(); load(false); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
