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
      const error = new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
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
    window.history.replaceState(null, "", url);
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
      list.hidden = false; button.setAttribute("aria-expanded", "true");
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

  function money(amount, currency) { return amount === null || amount === undefined ? "–" : `${amount} ${currency}`; }
  function day(iso) { return iso ? iso.slice(0, 10) : "–"; }

  return { $, el, call, header, params, remember, menu, dialog, money, day };
})();
