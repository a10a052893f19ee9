// The Orders & Invoices page: invoices (a finalized one's number downloads its PDF) and orders
// (top-ups link their receipt), newest first, filtered by bot, the filter kept in the URL.
"use strict";
(function () {
  const C = window.Console, { $, el, call } = C;
  const enc = encodeURIComponent;
  const names = new Map();  // plan code -> name, for plan changes

  // Drafts (in progress) first, then finalized invoices by number, the newest first. Numbers
  // are INV-YYYY-NNNNNN, so comparing them as text orders them by year and sequence.
  function byNumber(a, b) {
    if (!a.number || !b.number) return (a.number ? 1 : 0) - (b.number ? 1 : 0) || (a.app_id < b.app_id ? -1 : 1);
    return a.number < b.number ? 1 : a.number > b.number ? -1 : 0;
  }

  function setStatus(text, kind) {
    $("status").textContent = text;
    $("status").className = "status" + (kind ? " " + kind : "");
    document.body.setAttribute("aria-busy", kind === "loading" ? "true" : "false");
  }

  function describe(order) {
    const d = order.detail || {};
    if (order.kind === "topup") return "Funds added";
    if (order.kind === "plan_change") return d.cancelled ? "Plan change cancelled" : `Plan change from ${names.get(d.from) || d.from} to ${names.get(d.to) || d.to}` + (d.effective ? ` (from ${C.day(d.effective)})` : "");
    if (order.kind === "extension") return `Extension of ${d.days} days`;
    return order.kind;
  }

  function invoiceRow(i) {
    const name = i.number
      ? el("a", { href: i.pdf, download: `${i.number}.pdf`, "data-number": i.number, "aria-label": `Download invoice ${i.number} (PDF)` }, i.number)
      : el("span", { class: "muted" }, "Draft");
    return el("tr", { "data-number": i.number || "" }, el("th", { scope: "row" }, name), el("td", {}, i.app_id),
      el("td", { class: "period" }, C.period(i.period_start, i.period_end)), el("td", {}, i.status === "draft" ? "In progress" : "Finalized"),
      el("td", { class: "num" }, C.money(i.total, i.currency)), el("td", {}, C.day(i.finalized_at)));
  }

  function orderRow(o) {
    const receipt = o.receipt ? el("a", { href: o.receipt, download: `receipt-${o.id}.pdf` }, "Receipt (PDF)") : el("span", { class: "muted" }, "–");
    return el("tr", { "data-order": o.id }, el("th", { scope: "row" }, C.day(o.created_at)), el("td", {}, o.app_id),
      el("td", {}, describe(o)), el("td", {}, o.status), el("td", { class: "num" }, C.money(o.amount, o.currency)),
      el("td", {}, o.requested_by), el("td", {}, receipt));
  }

  async function load() {
    const app = $("bot").value;
    C.remember({ app });
    setStatus("Loading orders and invoices…", "loading");
    const query = app ? `?app=${enc(app)}` : "";
    try {
      const [invoices, orders] = await Promise.all([call("GET", `/api/invoices${query}`), call("GET", `/api/orders${query}`)]);
      $("invoices").tBodies[0].replaceChildren(...[...invoices].sort(byNumber).map(invoiceRow));
      $("orders").tBodies[0].replaceChildren(...orders.map(orderRow));
      setStatus(invoices.length || orders.length ? `${invoices.length} invoices and ${orders.length} orders.` : "No orders or invoices yet.", invoices.length || orders.length ? "" : "empty");
    } catch (error) {
      $("invoices").tBodies[0].replaceChildren();
      $("orders").tBodies[0].replaceChildren();
      setStatus(C.failure("Could not load orders and invoices", error), "error");
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await C.header("invoices");
    const wanted = C.params().get("app") || "";
    try {
      const subs = await call("GET", "/api/subscriptions");
      const bots = subs.filter((s) => s.kind !== "enterprise").map((s) => s.app_id);  // no Orders & Invoices for Enterprise
      $("bot").append(...bots.map((b) => new Option(b, b)));
      const known = subs.some((s) => s.app_id === wanted);  // an Enterprise bot: its page says why
      if (wanted && known && !bots.includes(wanted)) $("bot").append(new Option(wanted, wanted));
      if (wanted && !known) C.notice([`The address asks for the bot “${wanted}”, which is not one of your bots; showing all bots instead.`]);
      for (const plan of await call("GET", "/api/plans")) names.set(plan.code, plan.name);
    } catch (_) { /* load() reports it */ }
    $("bot").value = [...$("bot").options].some((o) => o.value === wanted) ? wanted : "";
    $("bot").addEventListener("change", () => { C.notice([]); load(); });
    await load();
  });
})();
