// The Plan page's menus, popover placement and dialogs (added to window.Console): they
// work from the keyboard, and float in the viewport so no table's scroll box clips them.
"use strict";
(function (C) {
  const { $, el } = C;

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

  Object.assign(C, { place, menu, dialog });
})(window.Console);
