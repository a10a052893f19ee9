// A small SVG line chart with a hover/focus tooltip (no dependencies).
"use strict";
window.UsageChart = (function () {
  const NS = "http://www.w3.org/2000/svg";
  // Two panels on one time axis: sessions and voice sessions above, agents below on an axis of
  // their own (a few dozen agents beside thousands of sessions would otherwise lie flat).
  const W = 900, M = { top: 30, right: 16, bottom: 40, left: 60 };
  const MAIN = { top: M.top, height: 250 }, AGENTS = { top: M.top + 250 + 34, height: 96 };
  const H = AGENTS.top + AGENTS.height + M.bottom;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An axis for counts: whole-number ticks (1, 2, 2.5, 5 x 10^k, never a fraction such as 37.5),
  // at most `most` steps, the top tick at or above `value`.
  function countAxis(value, most) {
    const raw = Math.max(1, value) / most;
    let step = 1;
    for (let scale = 1; ; scale *= 10) {
      const found = [1, 2, 2.5, 5].map((m) => m * scale).find((c) => Number.isInteger(c) && c >= raw);
      if (found) { step = found; break; }
    }
    const steps = Math.max(1, Math.ceil(Math.max(1, value) / step));
    return { max: steps * step, ticks: Array.from({ length: steps + 1 }, (_, i) => i * step) };
  }

  function panel(grid, area, axis, title) {
    const y = (v) => area.top + area.height - (v / axis.max) * area.height;
    for (const v of axis.ticks) {
      grid.append(el("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      grid.append(el("text", { x: M.left - 8, y: y(v) + 4, "text-anchor": "end", class: "tick" }, v.toLocaleString("en-US")));
    }
    grid.append(el("text", { x: M.left, y: area.top - 8, class: "panel-title" }, title));
    return y;
  }

  function draw(box, tooltip, data, series, label) {
    tooltip.hidden = true;
    if (!data.length) { box.replaceChildren(Object.assign(document.createElement("p"), { className: "empty", textContent: "No periods in this range." })); return; }
    const top = series.filter((s) => s.key !== "agents"), below = series.filter((s) => s.key === "agents");
    const iw = W - M.left - M.right;
    const step = iw / data.length;
    const x = (i) => M.left + step * (i + 0.5);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Chart of ${data.length} periods; focus a point for its values` });
    const grid = el("g", { class: "grid axis" });
    const scales = {};
    const mainY = panel(grid, MAIN, countAxis(Math.max(0, ...data.flatMap((p) => top.map((s) => p[s.key]))), 4), "Sessions");
    for (const s of top) scales[s.key] = mainY;
    if (below.length) scales.agents = panel(grid, AGENTS, countAxis(Math.max(0, ...data.map((p) => p.agents)), 2), "Agents (own scale)");
    const every = Math.max(1, Math.ceil(data.length / 8));
    data.forEach((p, i) => {
      if (i % every === 0) grid.append(el("text", { x: x(i), y: H - M.bottom + 18, "text-anchor": "middle" }, label(p.period).replace(/, \d{4}$/, "")));
    });
    svg.append(grid);
    const hits = el("g", {});
    data.forEach((p, i) => hits.append(el("rect", { class: "hit", x: M.left + step * i, y: M.top, width: step, height: H - M.top - M.bottom, "data-index": i })));
    svg.append(hits);
    for (const s of series) {
      svg.append(el("polyline", { class: `series ${s.cls}`, points: data.map((p, i) => `${x(i)},${scales[s.key](p[s.key])}`).join(" ") }));
    }
    const dots = el("g", {});
    data.forEach((p, i) => {
      for (const s of series) {
        const text = `${label(p.period)}: ${p.billing_sessions} sessions, ${p.voice_sessions} voice sessions, ${p.agents} agents`;
        dots.append(el("circle", { class: `point ${s.cls}`, cx: x(i), cy: scales[s.key](p[s.key]), r: data.length > 200 ? 2 : 4, "data-index": i, "data-series": s.key,
          tabindex: s.key === "billing_sessions" && i === 0 ? 0 : -1, "aria-label": text }));
      }
    });
    svg.append(dots);
    box.replaceChildren(svg);
    wire(svg, box, tooltip, data, label, x);
  }

  function wire(svg, box, tooltip, data, label, x) {
    const show = (i) => {
      const p = data[i];
      svg.querySelectorAll(".hit.active").forEach((r) => r.classList.remove("active"));
      svg.querySelector(`.hit[data-index="${i}"]`).classList.add("active");
      tooltip.dataset.period = p.period;
      tooltip.replaceChildren();
      const title = document.createElement("strong");
      title.textContent = label(p.period);
      const list = document.createElement("dl");
      for (const [name, field, value] of [["Sessions", "sessions", p.billing_sessions], ["Voice sessions", "voice", p.voice_sessions], ["Agents", "agents", p.agents]]) {
        const dt = document.createElement("dt"); dt.textContent = name;
        const dd = document.createElement("dd"); dd.textContent = String(value); dd.dataset.field = field;
        list.append(dt, dd);
      }
      tooltip.append(title, list);
      tooltip.hidden = false;
      const scale = box.clientWidth / W;
      const px = x(i) * scale, width = tooltip.offsetWidth;
      const left = px + 14 + width <= box.clientWidth ? px + 14 : px - 14 - width;  // beside the point
      tooltip.style.left = `${Math.max(0, left) + box.offsetLeft}px`;
      tooltip.style.top = `${box.offsetTop + 10}px`;
    };
    const hide = () => { tooltip.hidden = true; svg.querySelectorAll(".hit.active").forEach((r) => r.classList.remove("active")); };
    svg.addEventListener("mouseover", (e) => { const i = e.target.dataset && e.target.dataset.index; if (i !== undefined) show(Number(i)); });
    svg.addEventListener("mouseleave", hide);
    svg.addEventListener("focusin", (e) => { const i = e.target.dataset.index; if (i !== undefined) show(Number(i)); });
    svg.addEventListener("focusout", hide);
    svg.addEventListener("keydown", (e) => {
      const i = Number(e.target.dataset.index);
      const to = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : NaN;
      if (isNaN(to) || to < 0 || to >= data.length) return;
      e.preventDefault();
      svg.querySelector(`circle[data-index="${to}"][data-series="billing_sessions"]`).focus();
    });
  }

  return { draw, countAxis };
})();
