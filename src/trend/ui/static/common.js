// Shared helpers for the trend-pipelines pages (plain JS, no build step).
"use strict";

const Trend = (() => {
  const errorBox = () => document.getElementById("error");

  async function api(path, params) {
    const query = params ? "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)) : "";
    const response = await fetch("api/" + path + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(`${response.status}: ${detail}`);
    }
    return response.json();
  }

  function showError(err) {
    const box = errorBox();
    box.textContent = String(err.message || err);
    box.hidden = false;
  }

  // el("td", {class: "num"}, "text", child, ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "style" && typeof v === "object") {
        for (const [prop, value] of Object.entries(v)) node.style.setProperty(prop.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()), value);
      }
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const statusBadge = (status, name) => el("span", { class: `badge s${status}` }, name || "—");

  function progressBar(progress, status) {
    const failed = status === 9 || progress < 0;
    const pct = failed ? 100 : Math.max(0, Math.min(100, progress));
    const cls = failed ? "progress failed" : status === 3 ? "progress done" : "progress";
    return el("div", { class: cls, role: "progressbar", "aria-valuenow": failed ? -1 : pct, "aria-valuemin": 0, "aria-valuemax": 100 },
      el("span", { style: { width: pct + "%" } }), el("em", {}, failed ? "failed" : pct + "%"));
  }

  // Links into Airflow's own UI: navigate the top window (we live in the UI's iframe, whose sandbox
  // forbids top navigation from here, so the click happens in the parent's same-origin document).
  function airflowLink(href, text) {
    return el("a", { href, onclick: (event) => {
      if (window.parent === window) return;
      try {
        const a = window.parent.document.createElement("a");
        a.href = href;
        window.parent.document.body.append(a);
        a.click();
        a.remove();
        event.preventDefault();
      } catch (e) { /* not same-origin: let the iframe follow the link */ }
    } }, text);
  }

  const palette = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d",
                   "#4263eb", "#d6336c", "#099268", "#9c36b5", "#e67700", "#1098ad", "#70485c", "#74b816"];
  const color = (i) => (i == null || i < 0 ? "#ced4da" : palette[i % palette.length]);
  const pct = (x) => (x == null ? "—" : (100 * x).toFixed(1) + "%");
  const fmt = (x, d = 2) => (x == null ? "—" : Number(x).toFixed(d));

  return { api, showError, el, statusBadge, progressBar, airflowLink, color, pct, fmt };
})();
