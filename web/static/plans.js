// The Plan page: bots with status, plan and balance; an information icon explains notices;
// Manage opens what a bot admin does with a plan, each step confirmed, errors in words.
"use strict";
(function () {
  const C = window.Console, { $, el, call } = C;
  const state = { me: null, subs: [], pending: [] };
  const enc = encodeURIComponent;
  const EXPLAIN = {
    low: (s) => `Low balance: ${C.money(s.balance, s.currency)} is below the threshold of ${C.money(s.low_balance, s.currency)}. Add funds to keep a margin.`,
    depleted: (s) => `Depleted: the balance is below zero (${C.money(s.balance, s.currency)}). Usage is still metered and charged; add funds.`,
    expiring: (s) => `Expiring: the plan ends on ${C.day(s.ends_at)}. Request an extension to keep it.`,
    expired: (s) => `Expired: the plan ended on ${C.day(s.ends_at)}. Usage is still metered but no longer charged.`,
    "downgrade scheduled": (s) => `Downgrade scheduled: the bot moves to ${s.pending_plan_name} on ${C.day(s.period_end)}. You can cancel it until then.`,
    scheduled: (s) => `Scheduled: the subscription starts on ${C.longDay(s.starts_at)}. Nothing is charged and no balance notice is sent before then.`,
  };

  function setStatus(text, kind) {
    $("status").textContent = text;
    $("status").className = "status" + (kind ? " " + kind : "");
    document.body.setAttribute("aria-busy", kind === "loading" ? "true" : "false");
  }

  async function load() {
    setStatus("Loading your bots…", "loading");
    try {
      [state.subs, state.pending] = await Promise.all([call("GET", "/api/subscriptions"), call("GET", "/api/extensions?status=requested")]);
      const select = $("bot"), asked = C.params().get("app"), wanted = asked || select.value;
      select.replaceChildren(new Option("All bots", ""), ...state.subs.map((s) => new Option(s.app_id, s.app_id)));
      select.value = state.subs.some((s) => s.app_id === wanted) ? wanted : "";
      if (asked && select.value !== asked) C.notice([`The address asks for the bot “${asked}”, which is not one of your bots; showing all bots instead.`]);
      render();
    } catch (error) {
      setStatus(C.failure("Could not load your bots", error), "error");
    }
  }

  function render() {
    const only = $("bot").value;
    C.remember({ app: only });
    const shown = state.subs.filter((s) => !only || s.app_id === only);
    $("bots").tBodies[0].replaceChildren(...shown.map(row));
    renderPending(only);
    setStatus(shown.length ? `${shown.length} bot${shown.length === 1 ? "" : "s"}.` : "No bots to show.", shown.length ? "" : "empty");
  }

  // The extension requests waiting for an admin, for every shown bot: what was asked, by
  // whom and when, and the end date approving it would give.
  function renderPending(only) {
    const subs = new Map(state.subs.map((s) => [s.app_id, s]));
    const waiting = state.pending.filter((x) => !only || x.app_id === only);
    $("pending-section").hidden = !waiting.length;
    $("pending").tBodies[0].replaceChildren(...waiting.map((x) => {
      const s = subs.get(x.app_id), admin = state.me && state.me.role === "admin";
      const until = s && s.ends_at ? ` (to ${C.longDay(addDays(s.ends_at, x.days))})` : "";
      return el("tr", { "data-extension": x.id },
        el("th", { scope: "row" }, x.app_id), el("td", { class: "term" }, `${x.days} more day${x.days === 1 ? "" : "s"}${until}`),
        el("td", {}, x.reason || el("span", { class: "muted" }, "No reason given")), el("td", { class: "who" }, x.requested_by),
        el("td", { class: "when" }, C.longDay(x.created_at)),
        el("td", {}, admin && s ? el("button", { type: "button", class: "secondary", "data-review": x.id, onclick: () => review(s) }, "Review") : el("span", { class: "muted" }, "Waiting for an admin")));
    }));
  }

  function addDays(iso, days) {  // the calendar date ``days`` after the one ``iso`` names
    const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  function row(s) {
    const starts = s.status === "scheduled" ? el("span", { class: "starts muted" }, ` starts ${C.longDay(s.starts_at)}`) : null;
    const status = el("td", {}, el("span", { class: `badge ${s.status}` }, s.status), starts, " ", s.notices.length ? info(s) : null);
    const balance = s.kind === "prepaid" ? C.money(s.balance, s.currency) : `Due ${C.money(s.amount_due, s.currency)}`;
    const actions = el("td", { class: "actions-cell" }, C.menu("Manage", items(s), `Manage ${s.app_id}`));
    if (state.me && state.me.role === "admin") {
      actions.append(C.menu("⋯", [{ label: "Change bot owner", run: () => owner(s) }], `More actions for ${s.app_id}`));
    }
    return el("tr", { "data-app": s.app_id },
      el("th", { scope: "row" }, s.app_id), status,
      el("td", { class: "plan", "data-code": s.plan }, `${s.plan_name} `, el("span", { class: "muted" }, `(${s.kind})`)),
      el("td", { class: "balance num" }, balance),
      el("td", { class: "period" }, C.period(s.period_start, s.period_end)),
      el("td", { class: "ends" }, s.ends_at ? C.longDay(s.ends_at) : el("span", { class: "muted", title: "No end: renews every month" }, "–")),
      el("td", { class: "owner" }, s.owner), actions);
  }

  function info(s) {
    const id = `notices-${s.app_id}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const pop = el("div", { class: "popover", id, role: "note", hidden: true },
      el("ul", {}, ...s.notices.map((n) => el("li", {}, (EXPLAIN[n] || (() => n))(s)))));
    const button = el("button", { type: "button", class: "info-button", "aria-label": `Notices for ${s.app_id}: ${s.notices.join(", ")}`,
      "aria-expanded": "false", "aria-controls": id, title: s.notices.join(", ") }, "i");
    let pinned = false;  // a click keeps it open; hovering shows it while the pointer is there
    const toggle = (open) => { pop.hidden = !open; button.setAttribute("aria-expanded", String(open)); if (open) C.place(button, pop); };
    button.addEventListener("click", () => { pinned = !pinned; toggle(pinned); });
    button.addEventListener("mouseenter", () => toggle(true));
    button.addEventListener("mouseleave", () => { if (!pinned) toggle(false); });
    button.addEventListener("keydown", (e) => { if (e.key === "Escape") { pinned = false; toggle(false); } });
    window.addEventListener("scroll", () => { if (!pop.hidden) C.place(button, pop); }, true);  // follow the row
    return el("span", { class: "info" }, button, pop);
  }

  function items(s) {
    const list = [{ label: "View plan and usage", run: () => view(s) }, { label: "Change plan", run: () => change(s) }];
    if (s.pending_plan) list.push({ label: "Cancel the scheduled downgrade", run: () => cancel(s) });
    if (s.kind === "prepaid") list.push({ label: "Add funds", run: () => funds(s) });
    if (s.ends_at) list.push({ label: "Request a plan extension", run: () => extension(s) });
    if (state.me && state.me.role === "admin") list.push({ label: "Review extension requests", run: () => review(s) });
    if (s.kind !== "enterprise") list.push({ label: "Orders & Invoices", run: () => { window.location.href = `/invoices?app=${enc(s.app_id)}`; } });
    return list;
  }

  const button = (text, id, run) => el("button", { type: "button", id, onclick: run }, text);
  const form = (submit, ...children) => el("form", { onsubmit: (e) => { e.preventDefault(); submit(); } }, ...children);
  const done = (d, text) => { d.show(el("p", { class: "result", id: "result" }, text), d.actions(button("Close", "close", () => d.close()))); load(); };

  function view(s) {
    C.dialog(`${s.app_id}: plan and usage`, (d) => {
      const meters = [["billing_sessions", "Billing sessions"], ["voice_sessions", "Voice sessions"], ["agents", "Agents"]];
      const count = (n) => Number(n).toLocaleString("en-US");
      const table = el("table", { class: "left", id: "usage-table" },
        el("thead", {}, el("tr", {}, ...["Meter", "Included", "Used", "Charges"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...meters.map(([k, name]) => el("tr", {}, el("th", { scope: "row" }, name),
          el("td", { class: "num" }, count(s.included[k])), el("td", { class: "num" }, count(s.usage[k])), el("td", { class: "num" }, C.money(s.charges[k], s.currency))))));
      const when = s.status === "scheduled" ? `Starts on ${C.longDay(s.starts_at)}; nothing is charged before then.` : `Period ${C.period(s.period_start, s.period_end)} (${s.time_zone}).`;
      const facts = el("p", {}, `${s.plan_name} (${s.kind}), ${C.money(s.monthly_fee, s.currency)} a month. ${when}`,
        s.ends_at ? ` Ends on ${C.longDay(s.ends_at)}.` : "", s.pending_plan ? ` Moves to ${s.pending_plan_name} on ${C.day(s.period_end)}.` : "");
      d.show(facts, table, d.actions(button("Close", "close", () => d.close())));
    });
  }

  function previewText(p, s, names) {
    const from = names.get(p.from) || p.from, to = names.get(p.to) || p.to;
    if (p.kind === "replace") return `Use ${to} instead of ${from} from the start on ${C.longDay(p.effective)}. Nothing has been charged yet, so nothing is prorated.`;
    if (p.kind === "upgrade") return `Upgrade from ${from} to ${to} now: ${C.money(p.proration, s.currency)} is charged for the rest of this period, and ${to}'s included quantities and prices apply to the whole period.`;
    if (p.kind === "switch") return `Move from ${from} to ${to} on ${C.day(p.effective)}, when the next period starts: a move between prepaid and enterprise is never prorated, so this period stays on ${from}. You can cancel it until then.`;
    return `Downgrade from ${from} to ${to} on ${C.day(p.effective)}, when the next period starts. You can cancel it until then.`;
  }

  function change(s) {
    C.dialog(`Change the plan of ${s.app_id}`, async (d) => {
      let plans = [];
      // the server lists only the plans this caller may move this bot to (issue #23)
      try { plans = await call("GET", `/api/subscriptions/${enc(s.app_id)}/plan-options`); } catch (error) { d.fail(C.failure("Could not load the plans", error)); }
      const latest = new Map(plans.map((p) => [p.code, p]));
      const names = new Map([[s.plan, s.plan_name], ...plans.map((p) => [p.code, p.name])]);
      const select = el("select", { id: "plan-choice" }, ...[...latest.values()].map((p) => new Option(`${p.name}: ${C.money(p.monthly_fee, p.currency)} a month`, p.code)));
      const confirm = async (code) => {
        const name = names.get(code) || code;
        try {
          const r = await call("POST", `/api/subscriptions/${enc(s.app_id)}/plan`, { plan: code });
          done(d, r.status === "scheduled" ? `Scheduled: ${s.app_id} moves to ${name} on ${C.day(r.detail.effective)}.`
            : r.amount === null || Number(r.amount) === 0 ? `Changed to ${name}. Nothing was charged.`
            : `Changed to ${name}. Charged ${C.money(r.amount, r.currency)} for the rest of the period.`);
        } catch (error) { d.fail(C.failure("Could not change the plan", error)); }
      };
      const next = async () => {
        const code = select.value;
        try {
          const p = await call("GET", `/api/subscriptions/${enc(s.app_id)}/plan-preview?plan=${enc(code)}`);
          d.show(el("p", { id: "preview" }, previewText(p, s, names)), d.actions(d.cancel(), button("Confirm", "confirm", () => confirm(code))));
        } catch (error) { d.fail(C.failure("Could not preview the change", error)); }
      };
      if (!latest.size) { d.show(el("p", {}, `No other plan is open to ${s.app_id}.`), d.actions(d.cancel("Close"))); return; }
      d.show(form(next, el("div", { class: "field" }, el("label", { for: "plan-choice" }, "New plan"), select),
        d.actions(d.cancel(), el("button", { type: "submit", id: "review" }, "Review"))));
    });
  }

  function cancel(s) {
    C.dialog(`Cancel the downgrade of ${s.app_id}`, (d) => {
      const confirm = async () => {
        try { await call("DELETE", `/api/subscriptions/${enc(s.app_id)}/plan-change`); done(d, `The move to ${s.pending_plan_name} is cancelled; ${s.app_id} stays on ${s.plan_name}.`); }
        catch (error) { d.fail(C.failure("Could not cancel", error)); }
      };
      d.show(el("p", {}, `Keep ${s.app_id} on ${s.plan_name} instead of moving to ${s.pending_plan_name} on ${C.day(s.period_end)}?`),
        d.actions(d.cancel("Keep the downgrade"), button("Cancel the downgrade", "confirm", confirm)));
    });
  }

  // Why an amount is refused, or null: a plain decimal (digits, a point, at most the
  // currency's minor-unit places), above zero. The server checks again; this says it first.
  function amountProblem(text, currency, places) {
    const example = places ? `100.${"0".repeat(places)}` : "100";
    if (!text) return `Enter an amount, such as ${example}.`;
    const plain = places ? new RegExp(`^\\d+(\\.\\d{1,${places}})?$`) : /^\d+$/;
    if (!plain.test(text)) {
      if (/^[+-]/.test(text)) return `Enter the amount without a sign, such as ${example}.`;
      if (/^\d+\.\d+$/.test(text)) return `${currency} has ${places ? `at most ${places} decimal places` : "no decimal places"}: ${text} has more.`;
      return `${text} is not an amount. Use digits${places ? " and a decimal point" : ""} only, such as ${example}.`;
    }
    if (!/[1-9]/.test(text)) return "The amount must be above zero.";
    return null;
  }

  function funds(s) {
    C.dialog(`Add funds to ${s.app_id}`, (d) => {
      const key = window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
      const places = (String(s.monthly_fee).split(".")[1] || "").length;  // the currency's minor unit
      const input = el("input", { id: "amount", inputmode: "decimal", autocomplete: "off", placeholder: places ? `100.${"0".repeat(places)}` : "100", "aria-describedby": "amount-error" });
      const problem = el("p", { id: "amount-error", class: "field-error", role: "alert" });
      const ask = (message) => {  // the form step, the typed amount kept and editable
        problem.textContent = message || "";
        input.setAttribute("aria-invalid", message ? "true" : "false");
        d.show(form(next, el("div", { class: "field" }, el("label", { for: "amount" }, `Amount (${s.currency})`), input, problem),
          d.actions(d.cancel(), el("button", { type: "submit", id: "review" }, "Review"))));
      };
      const confirm = async (amount) => {
        try {
          const r = await call("POST", `/api/subscriptions/${enc(s.app_id)}/funds`, { amount, idempotency_key: key });
          done(d, `Added ${C.money(r.amount, r.currency)}. The balance of ${s.app_id} is now ${C.money(r.subscription.balance, r.currency)}.`);
        } catch (error) { ask(C.failure("Could not add funds", error)); }
      };
      function next() {
        const amount = input.value.trim(), wrong = amountProblem(amount, s.currency, places);
        if (wrong) { ask(wrong); return; }
        d.show(el("p", { id: "preview" }, `Add ${C.money(amount, s.currency)} to the balance of ${s.app_id} (now ${C.money(s.balance, s.currency)})?`),
          d.actions(button("Back", "back", () => ask("")), button("Confirm", "confirm", () => confirm(amount))));
      }
      input.addEventListener("input", () => { if (problem.textContent) { problem.textContent = ""; input.setAttribute("aria-invalid", "false"); } });
      ask("");
    });
  }

  function extension(s) {
    C.dialog(`Request a plan extension for ${s.app_id}`, (d) => {
      const days = el("input", { id: "days", type: "number", min: "1", max: "90", required: true, value: "30" });
      const reason = el("textarea", { id: "reason", rows: "3", maxlength: "2000" });
      const confirm = async () => {
        try {
          const r = await call("POST", `/api/subscriptions/${enc(s.app_id)}/extensions`, { days: Number(days.value), reason: reason.value });
          done(d, `Requested ${r.days} more days (request #${r.id}). An admin will approve or reject it.`);
        } catch (error) { ask(C.failure("Could not request the extension", error)); }
      };
      const next = () => d.show(el("p", { id: "preview" }, `Ask for ${days.value} more days of ${s.plan_name} (now ending ${C.longDay(s.ends_at)})?`),
        d.actions(button("Back", "back", () => ask("")), button("Confirm", "confirm", confirm)));
      function ask(message) {  // the form step, what was typed kept and editable (after a refusal too)
        d.show(form(next, el("div", { class: "field" }, el("label", { for: "days" }, "Days (1 to 90)"), days),
          el("div", { class: "field" }, el("label", { for: "reason" }, "Reason"), reason),
          d.actions(d.cancel(), el("button", { type: "submit", id: "review" }, "Review"))));
        d.fail(message);
      }
      ask("");
    });
  }

  function review(s) {
    C.dialog(`Extension requests for ${s.app_id}`, async (d) => {
      let pending = [];
      try { pending = await call("GET", `/api/extensions?app=${enc(s.app_id)}&status=requested`); } catch (error) { d.fail(C.failure("Could not load the requests", error)); }
      const decide = (x, approve) => {
        const verb = approve ? "Approve" : "Reject";
        d.show(el("p", { id: "preview" }, `${verb} ${x.days} more days for ${s.app_id}, requested by ${x.requested_by}?`),
          d.actions(d.cancel(), button(verb, "confirm", async () => {
            try {
              const r = await call("POST", `/api/extensions/${x.id}/${approve ? "approve" : "reject"}`);
              done(d, approve ? `Approved. The plan of ${s.app_id} now ends on ${C.day(r.subscription.ends_at)}.` : `Rejected request #${x.id}.`);
            } catch (error) { d.fail(C.failure(`Could not ${verb.toLowerCase()}`, error)); }
          })));
      };
      const list = el("ul", {}, ...pending.map((x) => el("li", {}, `#${x.id}: ${x.days} days, “${x.reason || "no reason given"}” by ${x.requested_by} `,
        el("button", { type: "button", "data-approve": x.id, onclick: () => decide(x, true) }, "Approve"), " ",
        el("button", { type: "button", class: "secondary", "data-reject": x.id, onclick: () => decide(x, false) }, "Reject"))));
      d.show(pending.length ? list : el("p", {}, "No requests are waiting."), d.actions(d.cancel("Close")));
    });
  }

  function owner(s) {
    C.dialog(`Change the owner of ${s.app_id}`, async (d) => {
      let users = [];
      try { users = await call("GET", "/api/users"); } catch (error) { d.fail(C.failure("Could not load the users", error)); }
      const select = el("select", { id: "owner-choice" }, ...users.filter((u) => u.name !== s.owner).map((u) => new Option(`${u.name} (${u.role})`, u.name)));
      const confirm = async (to) => {
        try { await call("POST", `/api/subscriptions/${enc(s.app_id)}/owner`, { owner: to }); done(d, `${to} now owns ${s.app_id}.`); }
        catch (error) { d.fail(C.failure("Could not change the owner", error)); }
      };
      const next = () => d.show(el("p", { id: "preview" }, `Make ${select.value} the owner of ${s.app_id} instead of ${s.owner}?`),
        d.actions(d.cancel(), button("Confirm", "confirm", () => confirm(select.value))));
      d.show(form(next, el("div", { class: "field" }, el("label", { for: "owner-choice" }, "New owner"), select),
        d.actions(d.cancel(), el("button", { type: "submit", id: "review" }, "Review"))));
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("bot").addEventListener("change", () => { C.notice([]); render(); });
    state.me = await C.header("plans");
    await load();
  });
})();
