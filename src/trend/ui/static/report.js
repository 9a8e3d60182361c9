// Dataset report: header, products, AI viewpoints, 2-D map, sentiment, neighbours, SPVP heatmap.
"use strict";
(() => {
  const { api, el, showError, statusBadge, progressBar, airflowLink, color, pct, fmt } = Trend;
  const id = document.getElementById("report").dataset.datasetId;
  const base = `datasets/${id}`;
  const clusterColor = new Map(); // cluster_id -> colour, in viewpoint order
  let productPage = 1;

  function header(d) {
    document.getElementById("ds-title").textContent = d.name;
    const parts = [el("h1", {}, d.name), statusBadge(d.status, d.status_name), el("div", { style: { width: "220px" } }, progressBar(d.progress, d.status))];
    if (d.wishlist_id != null) parts.push(el("span", { class: "muted" }, `wishlist ${d.wishlist_id}${d.wishlist_name ? " · " + d.wishlist_name : ""}`));
    if (d.spvp_status != null) parts.push(el("span", {}, "SPVP ", statusBadge(d.spvp_status, d.spvp_status_name)));
    parts.push(el("span", { class: "runs" }, d.runs.map((r) => airflowLink(r.url, `${r.dag_id} · ${r.state || "?"}`))));
    document.getElementById("ds-header").replaceChildren(...parts);
    const note = document.getElementById("ds-note");
    const notes = [];
    if (d.error) notes.push(`Failed: ${d.error.code} ${d.error.name} — ${d.error.message || d.error.description}. Results below (if any) are from an earlier successful run.`);
    else if (d.status === 1) notes.push("Waiting for analysis: results appear when analyzer_batch completes.");
    else if (d.status === 2) notes.push(`Analysis running (${d.progress}%): results below (if any) are from the previous run and are replaced when it completes.`);
    if (d.runs_error) notes.push(d.runs_error);
    note.hidden = !notes.length;
    note.textContent = notes.join(" ");
  }

  async function loadProducts() {
    const data = await api(`${base}/products`, { page: productPage, page_size: 10 });
    const body = document.querySelector("#products-table tbody");
    body.replaceChildren(...(data.items.length ? data.items.map((p) => el("tr", {},
      el("td", {}, p.name), el("td", { class: "muted" }, `${p.mall_id} · ${p.mall_product_id}`),
      el("td", { class: "num" }, p.review_count), el("td", { class: "num" }, p.sentence_count),
      el("td", { class: "num" }, fmt(p.average_rating)), el("td", { class: "num" }, fmt(p.sentiment_score)))) :
      [el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No products yet."))]));
    const first = (data.page - 1) * data.page_size;
    document.getElementById("p-info").textContent = data.total ? `${first + 1}–${first + data.items.length} of ${data.total}` : "";
    document.getElementById("p-prev").disabled = data.page <= 1;
    document.getElementById("p-next").disabled = first + data.items.length >= data.total;
  }

  function sentimentStack(s) {
    const total = s.total || 0;
    return el("div", { class: "stack", title: `+${s.positive} / ${s.neutral} / −${s.negative}` },
      ["positive", "neutral", "negative"].map((k) => el("span", { class: k, style: { width: total ? (100 * s[k] / total) + "%" : "0" } })));
  }

  function viewpointCard(v) {
    return el("div", { class: "card", style: { "--c": clusterColor.get(v.cluster_id) }, "data-cluster": v.cluster_id },
      el("h3", {}, v.name), el("div", { class: "kw" }, v.keywords.slice(0, 8).join(", ")),
      el("span", { class: "stat" }, "sentences ", el("b", {}, v.sentence_count)),
      el("span", { class: "stat" }, "noise ", el("b", {}, pct(v.noise_share))),
      el("span", { class: "stat" }, "label ", el("b", {}, v.label_source)),
      sentimentStack(v.sentiment),
      v.description ? el("p", { class: "muted" }, v.description) : null,
      el("ul", {}, v.examples.map((e) => el("li", {}, e.text))));
  }

  async function loadViewpoints() {
    const data = await api(`${base}/viewpoints`);
    data.items.forEach((v, i) => clusterColor.set(v.cluster_id, color(i)));
    document.getElementById("vp-summary").textContent = data.items.length ?
      `${data.items.length} viewpoints · ${data.sentences} sentences · noise ${pct(data.noise_share)}` : "";
    const cards = document.getElementById("vp-cards");
    cards.replaceChildren(...(data.items.length ? data.items.map(viewpointCard) : [el("p", { class: "empty" }, "No viewpoints yet.")]));
    document.getElementById("map-legend").replaceChildren(
      ...data.items.map((v) => el("li", {}, el("span", { class: "swatch", style: { "--c": clusterColor.get(v.cluster_id) } }), v.name)),
      el("li", { class: "muted" }, el("span", { class: "swatch", style: { "--c": color(null) } }), "noise"));
    return data;
  }

  function drawMap(points) {
    const canvas = document.getElementById("map-canvas");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const n = points.x.length;
    canvas.dataset.points = n;
    if (!n) { ctx.fillStyle = "#6b7785"; ctx.fillText("No map: not analysed yet, or analysed before the map existed.", 20, 30); return; }
    const [x0, x1] = [Math.min(...points.x), Math.max(...points.x)], [y0, y1] = [Math.min(...points.y), Math.max(...points.y)];
    const pad = 12, sx = (canvas.width - 2 * pad) / ((x1 - x0) || 1), sy = (canvas.height - 2 * pad) / ((y1 - y0) || 1);
    for (const pass of [1, 0]) { // noise first, underneath
      for (let i = 0; i < n; i++) {
        if (points.noise[i] !== pass) continue;
        ctx.fillStyle = pass ? color(null) : (clusterColor.get(points.cluster[i]) || color(null));
        ctx.globalAlpha = pass ? 0.5 : 0.75;
        ctx.beginPath();
        ctx.arc(pad + (points.x[i] - x0) * sx, canvas.height - pad - (points.y[i] - y0) * sy, pass ? 1.5 : 2.2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
  }

  function showMap(points) {
    document.getElementById("map-summary").textContent = points.sampled ?
      `${points.sampled} of ${points.sentences} sentences (PCA of the embeddings, computed by the analysis)` : "";
    drawMap(points);
  }

  function bars(target, rows, label) {
    document.getElementById(target).replaceChildren(...(rows.length ? rows.map((r) => el("div", { class: "row" },
      el("span", { class: "label", title: label(r) }, label(r)), sentimentStack(r), el("span", { class: "num" }, fmt(r.average_score)))) :
      [el("p", { class: "empty" }, "No sentiment yet.")]));
  }

  function showSentiment(viewpoints, data) { // by viewpoint comes with the viewpoints: one scan less
    bars("sent-viewpoint", viewpoints.items.map((v) => ({ name: v.name, ...v.sentiment })), (r) => r.name);
    bars("sent-product", data.by_product.slice(0, 30), (r) => r.name || `product ${r.product_id}`);
  }

  async function loadNeighbours() {
    const rows = await api(`${base}/neighbours`, { top: 5 });
    document.querySelector("#neighbours-table tbody").replaceChildren(...(rows.length ? rows.slice(0, 50).map((p) => el("tr", {},
      el("td", {}, p.name), el("td", {}, p.neighbours.length ? p.neighbours.map((n) => `${n.name || n.product_id} (${fmt(n.score, 3)})`).join(" · ") : "—"))) :
      [el("tr", {}, el("td", { colspan: 2, class: "empty" }, "No similarities yet."))]));
  }

  async function showCell(td, ordinal, viewpoint, product) {
    document.querySelectorAll("#heatmap td.sel").forEach((c) => c.classList.remove("sel"));
    td.classList.add("sel");
    const box = document.getElementById("cell-examples");
    box.hidden = false;
    box.replaceChildren(el("p", { class: "muted" }, "loading…"));
    const rows = await api(`${base}/spvp/cell`, { ordinal, product_id: product.product_id, limit: 5 });
    box.replaceChildren(el("h3", {}, `${viewpoint} × ${product.name}`),
      rows.length ? el("ul", {}, rows.map((r) => el("li", {}, r.text, el("span", { class: "muted" }, ` (${fmt(r.score, 2)}, ${r.backend || "?"})`)))) :
        el("p", { class: "empty" }, "No sentences mapped here."));
  }

  async function loadSpvp() {
    const data = await api(`${base}/spvp`);
    const table = document.getElementById("heatmap");
    const summary = document.getElementById("spvp-summary");
    if (!data.category) { summary.textContent = "this dataset has no viewpoint category"; table.replaceChildren(); return; }
    if (!data.products.length) { summary.textContent = ""; table.replaceChildren(el("tr", {}, el("td", { class: "empty" }, "No SPVP results yet."))); return; }
    summary.textContent = `category “${data.category.name}” · ${data.viewpoints.length} viewpoints · ` +
      `${data.products.length} of ${data.products_total} products (most sentences) · click a cell for sentences`;
    const cells = new Map(data.cells.map((c) => [`${c.ordinal}:${c.product_id}`, c]));
    const maxShare = Math.max(0.0001, ...data.cells.map((c) => c.share || 0));
    const head = el("tr", {}, el("th", {}), data.products.map((p) => el("th", { class: "col", title: p.name }, p.name)));
    const rows = data.viewpoints.map((v) => el("tr", {}, el("th", { class: "rowh", title: v.description || "" }, v.name),
      data.products.map((p) => {
        const c = cells.get(`${v.ordinal}:${p.product_id}`);
        const share = c ? c.share || 0 : 0;
        const td = el("td", { class: "cell", title: c ? `${c.sentences} sentences (${pct(c.share)} of the product's)` : "none",
          style: { background: `rgba(1, 124, 238, ${(0.08 + 0.85 * share / maxShare).toFixed(3)})`, color: share / maxShare > 0.55 ? "#fff" : "#1f2933" } },
          c ? c.sentences : "");
        td.addEventListener("click", () => showCell(td, v.ordinal, v.name, p).catch(showError));
        return td;
      })));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
    if (!data.viewpoints.length) table.replaceChildren(el("tr", {}, el("td", { class: "empty" }, "The category has no viewpoints.")));
  }

  document.getElementById("p-prev").addEventListener("click", () => { productPage = Math.max(1, productPage - 1); loadProducts().catch(showError); });
  document.getElementById("p-next").addEventListener("click", () => { productPage += 1; loadProducts().catch(showError); });

  api(base).then(header).catch(showError);
  loadProducts().catch(showError);
  // every request starts at once; the map and the sentiment bars need the viewpoints' colours first
  const viewpoints = loadViewpoints();
  const points = api(`${base}/map`, { max_points: 4000 });
  const productSentiment = api(`${base}/sentiment`, { by: "product" });
  Promise.all([viewpoints, points]).then(([, p]) => showMap(p)).catch(showError);
  Promise.all([viewpoints, productSentiment]).then(([v, s]) => showSentiment(v, s)).catch(showError);
  loadNeighbours().catch(showError);
  loadSpvp().catch(showError);
})();
