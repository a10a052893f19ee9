// The Billing console's shared parts: the header (who is signed in, which tabs they may see),
// JSON calls with errors in words, the filters kept in the URL, menus and dialogs that work
// from the keyboard. No dependencies.
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

  // Words for an answer without a JSON error (a proxy's page, a crash): what it means to the user.
  function trouble(status) {
    if (status === 401) return "You are signed out. Sign in again.";
    if (status === 403) return "You may not do this.";
    if (status === 404) return "It was not found. It may have been removed.";
    if (status >= 500) return `The server ran into a problem (HTTP ${status}). Try again in a moment.`;
    return `The server refused the request (HTTP ${status}).`;
  }

  // A message as a sentence of its own: capitalized, ending in a full stop.
  function sentence(text) {
    const t = String(text || "").trim();
    if (!t) return "";
    const first = t[0].toUpperCase() + t.slice(1);
    return /[.!?…]$/.test(first) ? first : first + ".";
  }

  // "Could not add funds. Amount must be positive, got -5." (two sentences, never run together).
  function failure(what, error) { return `${sentence(what)} ${sentence(error && error.message ? error.message : error)}`; }

  // A floating box (popover, menu) placed beside its anchor in the viewport, so no scroll box
  // clips it: below the anchor, or above it when there is no room below; kept on screen.
  function place(anchor, box, align) {
    box.style.position = "fixed";
    const a = anchor.getBoundingClientRect(), b = box.getBoundingClientRect();
    const below = a.bottom + 4, above = a.top - 4 - b.height;
    const top = below + b.height <= window.innerHeight || above < 0 ? below : above;
    const left = align === "right" ? a.right - b.width : a.left;
    box.style.top = `${Math.max(4, top)}px`;
    box.style.left = `${Math.min(Math.max(4, left), window.innerWidth - b.width - 4)}px`;
    box.dataset.placed = top === below ? "below" : "above";
  }

  // A menu button: Enter, Space or ArrowDown opens it on its first item; arrows move;
  // Escape or Tab closes it and focus returns to the button.
  function menu(label, items, name) {
    const id = "m" + Math.random().toString(36).slice(2, 9);
    const button = el("button", { type: "button", class: "secondary", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": id, "aria-label": name || label }, label);
    const list = el("ul", { role: "menu", id, hidden: true, "aria-label": name || label });
    const entries = items.map((item) => el("li", { role: "none" },
      el("button", { type: "button", role: "menuitem", tabindex: "-1", onclick: () => { close(); item.run(); } }, item.label)));
    list.append(...entries);
    const focusables = () => [...list.querySelectorAll('[role="menuitem"]')];
    function open(first) {
      document.dispatchEvent(new CustomEvent("console:menu", { detail: list }));
      list.hidden = false; button.setAttribute("aria-expanded", "true"); place(button, list, "right");
      const all = focusables(); (first ? all[0] : all[all.length - 1]).focus();
    }
    function close(refocus) { list.hidden = true; button.setAttribute("aria-expanded", "false"); if (refocus) button.focus(); }
    button.addEventListener("click", () => (list.hidden ? open(true) : close(true)));
    button.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") { e.preventDefault(); open(true); } else if (e.key === "ArrowUp") { e.preventDefault(); open(false); }
    });
    list.addEventListener("keydown", (e) => {
      const all = focusables(), at = all.indexOf(document.activeElement);
      if (e.key === "ArrowDown") { e.preventDefault(); all[(at + 1) % all.length].focus(); }
      else if (e.key === "ArrowUp") { e.preventDefault(); all[(at - 1 + all.length) % all.length].focus(); }
      else if (e.key === "Home") { e.preventDefault(); all[0].focus(); }
      else if (e.key === "End") { e.preventDefault(); all[all.length - 1].focus(); }
      else if (e.key === "Escape") { e.preventDefault(); close(true); }
      else if (e.key === "Tab") close(false);
    });
    document.addEventListener("console:menu", (e) => { if (e.detail !== list) close(false); });
    document.addEventListener("click", (e) => { if (!list.hidden && !button.contains(e.target) && !list.contains(e.target)) close(false); });
    window.addEventListener("scroll", () => { if (!list.hidden) close(false); }, true);  // a fixed box would drift
    window.addEventListener("resize", () => { if (!list.hidden) close(false); });
    return el("div", { class: "menu-wrap" }, button, list);
  }

  // One modal dialog for every action: a form step, then a confirmation, then the result.
  function dialog(title, build) {
    const box = $("dialog");
    const error = el("p", { class: "error", role: "alert" });
    const body = el("div", { class: "body" });
    box.replaceChildren(el("h2", { id: "dialog-title", class: "body" }, title), body);
    box.setAttribute("aria-labelledby", "dialog-title");
    const api = {
      box, error,
      show(...nodes) { body.replaceChildren(...nodes, error); const f = body.querySelector("input, select, textarea, button:not(.secondary)") || body.querySelector("button"); if (f) f.focus(); },
      fail(message) { error.textContent = message; },
      close() { box.close(); },
      actions(...buttons) { return el("div", { class: "actions" }, ...buttons); },
      cancel(text) { return el("button", { type: "button", class: "secondary", onclick: () => box.close() }, text || "Cancel"); },
    };
    box.showModal();
    build(api);
    return api;
  }

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

  return { $, el, call, header, params, remember, menu, dialog, money, grouped, day, longDay, sentence, failure, place };
})();
