// The Retail dashboard page: the workshop's QuickSight and Kibana charts over the dashboard's JSON API (api/…,
// relative, so the page works under any path prefix). Every chart honours the filters; the live view polls on its own.
(function () {
  "use strict";

  var body = document.body;
  var liveMs = Math.max(200, parseInt(body.dataset.liveRefreshMs, 10) || 2000);
  var whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  var money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var charts = {};
  var refreshes = 0, liveRefreshes = 0, generation = 0, liveGeneration = 0;
  var emptyTimer = null, liveTimer = null;
  var refreshedAt = 0, refreshedAtDocuments = -1; // when the batch layer was last read, and the live total then

  var el = function (id) { return document.getElementById(id); };
  var form = el("filters"), from = el("filter-from"), to = el("filter-to"), country = el("filter-country");
  var liveInterval = el("live-interval");
  var days = 0; // invoice days the batch layer holds for the current filters: what "auto" sizes the live buckets by

  // "auto": hours for a few days of data, days for a season, weeks for a few years, months beyond.
  function interval() {
    if (liveInterval.value !== "auto") return liveInterval.value;
    return days <= 3 ? "hour" : days <= 180 ? "day" : days <= 1000 ? "week" : "month";
  }

  function filters() {
    var p = new URLSearchParams();
    if (from.value) p.set("from", from.value);
    if (to.value) p.set("to", to.value);
    if (country.value) p.set("country", country.value);
    return p;
  }

  function ApiError(message, status) { this.message = message; this.status = status; }

  function get(path, params) {
    var q = params && params.toString();
    return fetch("api/" + path + (q ? "?" + q : ""), { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (json) {
          if (!r.ok) throw new ApiError(json.error || ("HTTP " + r.status + " from api/" + path), r.status);
          return json;
        });
      });
  }

  function status(state, message) {
    body.dataset.state = state;
    var s = el("status");
    s.hidden = !message;
    s.textContent = message || "";
  }

  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; } // axis labels stay readable

  function number(text) { return Number(text); } // decimals arrive as exact strings; charts need numbers

  function draw(id, config, points) {
    var canvas = el(id);
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update("none");
    } else {
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false, normalized: true }, config.options || {});
      charts[id] = new Chart(canvas, config);
    }
    canvas.dataset.points = String(points);
  }

  function bar(label, labels, values, color, extra) {
    return Object.assign({ type: "bar", data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: color }] } }, extra || {});
  }

  function render(summary, daily, monthly, countries, products) {
    el("figure-records").textContent = whole.format(summary.records);
    el("figure-revenue").textContent = summary.revenueText;
    el("figure-last").textContent = summary.lastInvoiceDate ? summary.lastInvoiceDate.replace("T", " ").slice(0, 16) : "—";

    draw("chart-daily", {
      type: "bar",
      data: {
        labels: daily.rows.map(function (r) { return r.date; }),
        datasets: [
          { label: "sum(Quantity)", data: daily.rows.map(function (r) { return r.quantity; }), backgroundColor: "#2563eb", yAxisID: "y" },
          { label: "sum(Price)", data: daily.rows.map(function (r) { return number(r.price); }), backgroundColor: "#f59e0b", yAxisID: "y1" },
        ],
      },
      options: { scales: { y: { position: "left", title: { display: true, text: "quantity" } }, y1: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "price" } } } },
    }, daily.rows.length);
    draw("chart-monthly", bar("revenue", monthly.rows.map(function (r) { return r.month; }), monthly.rows.map(function (r) { return number(r.revenue); }), "#10b981"), monthly.rows.length);
    draw("chart-countries", bar("revenue", countries.rows.map(function (r) { return r.country; }), countries.rows.map(function (r) { return number(r.revenue); }), "#6366f1",
      { options: { indexAxis: "y" } }), countries.rows.length);
    draw("chart-products", bar("revenue", products.rows.map(function (r) { return short(r.stockCode + " " + (r.description || ""), 28); }), products.rows.map(function (r) { return number(r.revenue); }), "#ec4899",
      { options: { indexAxis: "y" } }), products.rows.length);
  }

  // The batch layer: every chart but the live one, for the current filters. A newer refresh wins over an older one.
  function refresh() {
    var mine = ++generation;
    refreshedAt = Date.now();
    var p = filters();
    var limited = new URLSearchParams(p);
    limited.set("limit", "10");
    return Promise.all([get("summary", p), get("daily", p), get("monthly", p), get("top-countries", limited), get("top-products", limited)])
      .then(function (r) {
        if (mine !== generation) return;
        var unit = interval();
        days = r[1].rows.length;
        render(r[0], r[1], r[2], r[3], r[4]);
        if (interval() !== unit) live(); // "auto" sizes the live buckets by the days there are
        if (r[0].empty) {
          status("empty", p.toString() ? "No records match these filters." : "The lake holds no records yet; this page looks again every few seconds.");
          if (!p.toString() && !emptyTimer) emptyTimer = setTimeout(function () { emptyTimer = null; refresh(); }, Math.max(liveMs, 5000));
        } else status("ready", "");
      })
      .catch(function (e) { if (mine === generation) status("error", e.message || String(e)); })
      .then(function () { if (mine === generation) body.dataset.refreshes = String(++refreshes); });
  }

  // The speed layer, polled on its own: the Kibana view fills in while records stream.
  function live() {
    var mine = ++liveGeneration; // one polling loop: an older poll still in flight does not schedule another
    if (liveTimer) { clearTimeout(liveTimer); liveTimer = null; }
    var p = filters();
    var unit = interval();
    p.set("interval", unit);
    return get("live", p)
      .then(function (r) {
        if (mine !== liveGeneration) return;
        el("live-documents").textContent = r.available ? whole.format(r.documents) : "no speed layer";
        el("live-quantity").textContent = r.available ? whole.format(r.quantity) : "—";
        // Records are streaming in: read the batch layer again now and then (not on every poll: it scans the lake).
        if (r.available) {
          if (refreshedAtDocuments < 0) refreshedAtDocuments = r.documents;
          else if (r.documents !== refreshedAtDocuments && Date.now() - refreshedAt >= Math.max(10 * liveMs, 10000)) {
            refreshedAtDocuments = r.documents;
            refresh();
          }
        }
        var labels = r.buckets.map(function (b) { return unit === "hour" || unit === "minute" ? b.start.replace("T", " ").slice(0, 16) : unit === "month" ? b.start.slice(0, 7) : b.start.slice(0, 10); });
        draw("chart-live", bar("sum(Quantity)", labels, r.buckets.map(function (b) { return b.quantity; }), "#0ea5e9"), r.buckets.length);
      })
      .catch(function (e) { if (mine !== liveGeneration) return; el("live-documents").textContent = "unavailable"; el("live-documents").title = e.message || String(e); })
      .then(function () {
        if (mine !== liveGeneration) return;
        body.dataset.liveRefreshes = String(++liveRefreshes);
        liveTimer = setTimeout(live, liveMs);
      });
  }

  function loadCountries() {
    return get("countries").then(function (r) {
      var keep = country.value;
      while (country.options.length > 1) country.remove(1);
      r.countries.forEach(function (c) { country.add(new Option(c, c)); });
      country.value = keep;
    }).catch(function () { /* the filter still works for "All countries"; refresh() reports the error */ });
  }

  // Filters come from the address too, so a filtered view can be bookmarked.
  var initial = new URLSearchParams(location.search);
  from.value = initial.get("from") || "";
  to.value = initial.get("to") || "";

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var p = filters();
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
    refresh();
    live();
  });
  liveInterval.addEventListener("change", live);

  loadCountries().then(function () {
    var c = initial.get("country");
    if (c) {
      if (![].some.call(country.options, function (o) { return o.value === c; })) country.add(new Option(c, c));
      country.value = c;
    }
    refresh();
    live();
  });
})();
