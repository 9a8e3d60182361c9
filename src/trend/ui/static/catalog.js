// Catalog tree: a catalog's nodes (stored values, or derived "as of" a time), a node's history.
"use strict";
(() => {
  const { api, el, showError } = Trend;
  const params = new URLSearchParams(location.search);
  const state = { catalog: params.get("catalog") || "", asOf: params.get("as_of") || "", nodes: new Map(), selected: null };

  function syncUrl() {
    const q = new URLSearchParams();
    if (state.catalog) q.set("catalog", state.catalog);
    if (state.asOf) q.set("as_of", state.asOf);
    history.replaceState(null, "", "catalog" + (q.toString() ? "?" + q : ""));
  }

  function label(node) {
    const name = node.parent_id == null ? `${node.node_id} (catalog)` : node.category_id;
    const off = node.computed && !node.enabled;
    return el("span", { class: "node" + (off ? " off" : ""), "data-node-id": node.node_id, onclick: () => select(node.node_id).catch(showError) },
      name, el("span", { class: "filter" }, node.computed ? node.filter || "" : "(not computed yet)"));
  }

  function branch(node, children) {
    const kids = children.get(node.node_id) || [];
    const item = el("li", {});
    const sub = el("ul", {});
    const toggle = el("span", { class: "toggle" }, kids.length ? "▾" : "");
    toggle.addEventListener("click", () => { sub.hidden = !sub.hidden; toggle.textContent = sub.hidden ? "▸" : "▾"; });
    for (const kid of kids) sub.append(branch(kid, children));
    item.append(toggle, label(node), sub);
    return item;
  }

  async function loadTree() {
    if (!state.catalog) return;
    const data = await api(`catalogs/${encodeURIComponent(state.catalog)}/tree`, { as_of: state.asOf });
    state.nodes = new Map(data.nodes.map((n) => [n.node_id, n]));
    const children = new Map();
    for (const n of data.nodes) if (n.parent_id != null) (children.get(n.parent_id) || children.set(n.parent_id, []).get(n.parent_id)).push(n);
    const roots = data.nodes.filter((n) => n.parent_id == null);
    document.getElementById("tree").replaceChildren(...(roots.length ? roots.map((r) => branch(r, children)) :
      [el("li", { class: "empty" }, state.asOf ? "The catalog did not exist at that time." : "Empty catalog.")]));
    document.getElementById("c-summary").textContent = `${data.nodes.length} nodes · ` + (data.as_of ? `derived as of ${data.as_of_iso} (UTC)` : "stored values (now)");
    if (state.selected && state.nodes.has(state.selected)) await select(state.selected);
    else document.getElementById("node-detail").replaceChildren(el("p", { class: "muted" }, "Select a node to see its final settings, combined filter and history."));
  }

  function settingsText(s) {
    if (!s) return "";
    return `searchType ${s.search_type || "∅"} (${s.search_type_mode}) · filter ${s.filter || "∅"} (${s.filter_mode}) · requiredData ${s.required_data.join(",") || "∅"} (${s.required_data_mode})`;
  }

  async function select(nodeId) {
    state.selected = nodeId;
    document.querySelectorAll("#tree .node.sel").forEach((n) => n.classList.remove("sel"));
    const span = document.querySelector(`#tree .node[data-node-id="${CSS.escape(nodeId)}"]`);
    if (span) span.classList.add("sel");
    const node = state.nodes.get(nodeId);
    const events = await api("catalog-nodes/history", { node_id: nodeId });
    const cutoff = state.asOf ? Date.parse(state.asOf + "Z") * 1000 : Infinity;
    const detail = [el("h2", {}, nodeId)];
    if (node && node.computed) {
      detail.push(el("p", {}, el("b", {}, "searchType "), el("code", {}, node.search_type || "∅"), "  ", el("b", {}, "filter "), el("code", {}, node.filter || "∅")),
        el("p", {}, el("b", {}, "requiredData "), el("code", {}, node.required_data.join(", ") || "∅"), "  ", el("b", {}, node.enabled ? "enabled" : "disabled"),
          el("span", { class: "muted" }, ` · version ${node.version_at || node.version}`)),
        el("h3", {}, "Combined filter (blocks OR-ed)"),
        node.combined_filter.length ? el("ol", {}, node.combined_filter.map((b) => el("li", {}, el("code", {}, b)))) : el("p", { class: "empty" }, "none (disabled subtree)"));
    } else detail.push(el("p", { class: "empty" }, "Derived values not computed yet (waiting for a recompute)."));
    detail.push(el("h3", {}, "History"), el("table", { class: "grid history" },
      el("thead", {}, el("tr", {}, el("th", {}, "When (UTC)"), el("th", {}, "Change"), el("th", {}, "Settings"))),
      el("tbody", {}, events.map((e) => el("tr", { class: e.timestamp > cutoff ? "muted" : "" },
        el("td", {}, e.at), el("td", {}, e.kind), el("td", {}, settingsText(e.settings)))))));
    document.getElementById("node-detail").replaceChildren(...detail);
  }

  async function init() {
    const catalogs = await api("catalogs");
    const sel = document.getElementById("c-catalog");
    sel.replaceChildren(...catalogs.map((c) => el("option", { value: c }, c)));
    if (!catalogs.length) { document.getElementById("tree").replaceChildren(el("li", { class: "empty" }, "No catalogs in the graph yet.")); return; }
    state.catalog = catalogs.includes(state.catalog) ? state.catalog : catalogs[0];
    sel.value = state.catalog;
    document.getElementById("c-asof").value = state.asOf;
    syncUrl();
    await loadTree();
  }

  document.getElementById("c-catalog").addEventListener("change", (e) => { state.catalog = e.target.value; state.selected = null; syncUrl(); loadTree().catch(showError); });
  document.getElementById("c-asof").addEventListener("change", (e) => { state.asOf = e.target.value; syncUrl(); loadTree().catch(showError); });
  document.getElementById("c-now").addEventListener("click", () => { state.asOf = ""; document.getElementById("c-asof").value = ""; syncUrl(); loadTree().catch(showError); });
  init().catch(showError);
})();
