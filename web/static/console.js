// The Billing console's shared parts: the header (who is signed in, which tabs they may see),
// JSON calls with errors in words, the filters kept in the URL, dates and amounts. Menus and
// dialogs are in menus.js (only the Plan page has them). No dependencies.
"use strict";
window.Console = (function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  async function call(method, url, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    // every write is JSON: the server refuses a cookie-authenticated write of any other type
    if (method !== "GET") init.headers["Content-Type"] = "application/json";
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try { response = await fetch(url, init); } catch (error) { throw new Error("The server could not be reached. Check your connection and try again."); }
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      const error = new Error(data && data.error ? sentence(data.error) : trouble(response.status));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // The signed-in user and the tabs they may see (members: none; enterprise-only: no Orders).
  async function header(page) {
    for (const a of document.querySelectorAll(".console-bar nav a")) {
      if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    }
    let me = null;
    try { me = await call("GET", "/api/me"); } catch (_) { me = null; }
    if (!me) {  // the tabs stay: following one asks to sign in
      $("who").textContent = "Not signed in";
      $("sign-out").hidden = true;
      return null;
    }
    $("who").textContent = me.account ? `${me.name} (${me.role}, ${me.account})` : `${me.name} (${me.role})`;
    const operator = me.role === "operator";
    if (me.accounts && (me.accounts.length > 1 || (operator && me.accounts.length))) accountSwitch(me, operator);
    try {
      const subs = await call("GET", "/api/subscriptions");
      const orders = document.querySelector('.console-bar nav a[data-page="invoices"]');
      if (subs.length && subs.every((s) => s.kind === "enterprise") && page !== "invoices") orders.hidden = true;
    } catch (_) { /* the page reports its own errors */ }
    return me;
  }

  // A user of several accounts acts in one at a time (an operator picks any, or all):
  // switching reloads the page in the other.
  function accountSwitch(me, operator) {
    const every = operator ? [el("option", { value: "", selected: !me.account }, "All accounts")] : [];
    const select = el("select", { id: "account-switch" }, every,
      me.accounts.map((a) => el("option", { value: a.name, selected: a.name === me.account }, operator ? a.name : `${a.name} (${a.role})`)));
    select.addEventListener("change", async () => {
      try { await call("POST", "/api/me/account", { account: select.value }); window.location.reload(); }
      catch (error) { $("who").textContent = `Could not switch: ${error.message}`; }
    });
    $("who").after(el("label", { for: "account-switch" }, "Account"), select);
  }

  function params() { return new URL(window.location.href).searchParams; }

  function remember(values) {
    const url = new URL(window.location.href);
    for (const [k, v] of Object.entries(values)) { if (v) url.searchParams.set(k, v); else url.searchParams.delete(k); }
    if (url.href !== window.location.href) window.history.replaceState(null, "", url);
  }

  // The filters of the address that could not be used, each said with what is shown instead
  // (an empty list hides the box: the user's own choice replaces the address's).
  function notice(lines) {
    const box = $("notice");
    if (!box) return;
    box.replaceChildren(...lines.map((text) => el("p", {}, text)));
    box.hidden = !lines.length;
  }

  // Words for an answer without a JSON error (a proxy's page, a crash): what it means to the user.
  function trouble(status) {
    if (status === 401) return "You are signed out. Sign in again.";
    if (status === 403) return "You may not do this.";
    if (status === 404) return "It was not found. It may have been removed.";
    if (status >= 500) return `The server ran into a problem (HTTP ${status}). Try again in a moment.`;
    return `The server refused the request (HTTP ${status}).`;
  }

  // A message as a sentence of its own: capitalized (unless it starts with a name such as
  // "bot-1" or "app_id", which keeps its spelling), ending in a full stop.
  function sentence(text) {
    const t = String(text || "").trim();
    if (!t) return "";
    const word = /^[a-z]+(?=[\s,:;.]|$)/.test(t);
    const first = word ? t[0].toUpperCase() + t.slice(1) : t;
    return /[.!?…]$/.test(first) ? first : first + ".";
  }

  // "Could not add funds. Amount must be positive, got -5." (two sentences, never run together).
  function failure(what, error) { return `${sentence(what)} ${sentence(error && error.message ? error.message : error)}`; }

  // "12345.60" -> "12,345.60": the API's exact decimal string, grouped (never through a float).
  function grouped(amount) {
    const [whole, fraction] = String(amount).split(".");
    const sign = whole.startsWith("-") ? "-" : "", digits = whole.replace(/^-/, "");
    return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (fraction !== undefined ? "." + fraction : "");
  }
  function money(amount, currency) { return amount === null || amount === undefined ? "–" : `${grouped(amount)} ${currency}`; }
  function day(iso) { return iso ? iso.slice(0, 10) : "–"; }
  // "Mar 1, 2027": the calendar date an instant names in its own offset (as the API wrote it).
  function longDay(iso) {
    if (!iso) return "–";
    const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
    return new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric", year: "numeric" }).format(Date.UTC(y, m - 1, d));
  }

  // A period [start, end) as the days it covers: "Nov 1 – Nov 30, 2026" (the end is exclusive
  // in the API, so Dec 1 is not one of them); the year once unless it changes.
  function period(startIso, endIso) {
    if (!startIso || !endIso) return "–";
    const date = (iso, back) => { const [y, m, d] = iso.slice(0, 10).split("-").map(Number); return Date.UTC(y, m - 1, d - back); };
    const a = date(startIso, 0), b = date(endIso, 1);
    const f = (t, year) => new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric", year: year ? "numeric" : undefined }).format(t);
    const sameYear = new Date(a).getUTCFullYear() === new Date(b).getUTCFullYear();
    return `${f(a, !sameYear)} – ${f(b, true)}`;
  }

  return { $, el, call, header, params, remember, notice, money, grouped, day, longDay, period, sentence, failure };
})();
