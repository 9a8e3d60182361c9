// Datasets page: filters (status, wishlist), one page of datasets, refresh while any is running.
"use strict";
(() => {
  const { api, el, showError, statusBadge, progressBar, airflowLink } = Trend;
  const params = new URLSearchParams(location.search);
  const state = { status: params.get("status") || "", wishlist_id: params.get("wishlist_id") || "", page: Number(params.get("page") || 1) };
  const PAGE_SIZE = 50;
  let timer = null;

  function syncUrl() {
    const q = new URLSearchParams(Object.entries(state).filter(([k, v]) => v !== "" && !(k === "page" && v === 1)));
    history.replaceState(null, "", "datasets" + (q.toString() ? "?" + q : ""));
  }

  function errorCell(error) {
    if (!error) return el("td", {}, "");
    return el("td", {}, el("div", { class: "err-code", title: error.description }, `${error.code} ${error.name}`),
      el("div", { class: "err-msg" }, error.message || ""));
  }

  function historyCell(d) {
    return d.history_status == null ? el("td", { class: "muted" }, "no history") : el("td", {}, statusBadge(d.history_status, d.history_status_name));
  }

  function spvpCell(d) {
    if (d.spvp_status == null) return el("td", {}, "");
    return el("td", {}, statusBadge(d.spvp_status, d.spvp_status_name), d.spvp_error ? el("div", { class: "err-msg" }, d.spvp_error) : null);
  }

  function row(d) {
    return el("tr", { "data-dataset-id": d.id, "data-status": d.status },
      el("td", { class: "num" }, d.id),
      el("td", {}, el("a", { href: `datasets/${d.id}` }, d.name)),
      el("td", {}, d.wishlist_id == null ? "—" : `${d.wishlist_id}${d.wishlist_name ? " · " + d.wishlist_name : ""}`),
      el("td", {}, statusBadge(d.status, d.status_name)),
      el("td", {}, progressBar(d.progress, d.status)),
      errorCell(d.error), historyCell(d), spvpCell(d),
      el("td", { class: "runs" }, d.runs.map((r) => airflowLink(r.url, `${r.dag_id} · ${r.state || "?"}`))),
      el("td", { class: "muted" }, d.updated_at || ""));
  }

  async function loadFilters() {
    const [first, wishlists] = await Promise.all([api("datasets", { page_size: 1 }), api("wishlists")]);
    const statusSel = document.getElementById("f-status");
    for (const s of first.statuses) statusSel.append(el("option", { value: s.value }, s.name));
    statusSel.value = state.status;
    const wlSel = document.getElementById("f-wishlist");
    for (const w of wishlists) wlSel.append(el("option", { value: w.wishlist_id }, `${w.wishlist_id}${w.name ? " · " + w.name : ""} (${w.datasets})`));
    wlSel.value = state.wishlist_id;
  }

  async function load() {
    clearTimeout(timer);
    const data = await api("datasets", { ...state, page_size: PAGE_SIZE });
    const body = document.querySelector("#datasets tbody");
    body.replaceChildren(...(data.items.length ? data.items.map(row) : [el("tr", {}, el("td", { colspan: 10, class: "empty" }, "No datasets match these filters."))]));
    const counts = Object.entries(data.status_counts).map(([s, n]) => `${(data.statuses.find((x) => String(x.value) === s) || {}).name || s}: ${n}`);
    document.getElementById("summary").textContent = `${data.total} datasets` + (counts.length ? ` (${counts.join(", ")} under the wishlist filter)` : "");
    const first = (data.page - 1) * data.page_size;
    document.getElementById("page-info").textContent = data.total ? `${first + 1}–${first + data.items.length} of ${data.total}` : "";
    document.getElementById("prev").disabled = data.page <= 1;
    document.getElementById("next").disabled = first + data.items.length >= data.total;
    const runsError = document.getElementById("runs-error");
    runsError.hidden = !data.runs_error;
    runsError.textContent = data.runs_error || "";
    const running = data.items.some((d) => d.status === 1 || d.status === 2);
    if (running && document.getElementById("f-auto").checked) timer = setTimeout(() => load().catch(showError), 10000);
  }

  function change(key, value) { state[key] = value; if (key !== "page") state.page = 1; syncUrl(); load().catch(showError); }

  document.getElementById("f-status").addEventListener("change", (e) => change("status", e.target.value));
  document.getElementById("f-wishlist").addEventListener("change", (e) => change("wishlist_id", e.target.value));
  document.getElementById("f-auto").addEventListener("change", () => load().catch(showError));
  document.getElementById("prev").addEventListener("click", () => change("page", Math.max(1, state.page - 1)));
  document.getElementById("next").addEventListener("click", () => change("page", state.page + 1));
  loadFilters().then(load).catch(showError);
})();
