/* Learnloop's small charting library: stacked weekly bars as accessible SVG, no dependencies.
   Progressive enhancement: the page already shows the numbers as a table; this draws them. */
(function () {
  "use strict";
  var SOURCES = [["lms", "LMS"], ["code_review", "Code review"], ["microlearning", "Micro-learning"], ["xapi", "Other"]];
  var COLOURS = { lms: "#0b5cad", code_review: "#8250df", microlearning: "#bf5700", xapi: "#4a5360" };
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function weekly(container, weeks) {
    var width = 640, height = 220, left = 34, bottom = 24, top = 8;
    var max = Math.max(1, Math.max.apply(null, weeks.map(function (w) { return w.total; })));
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "Learning events per week by source, " + weeks.length + " weeks, at most " + max + " in one week" });
    var plotW = width - left - 6, plotH = height - top - bottom;
    var slot = plotW / Math.max(weeks.length, 1), bar = Math.max(2, Math.min(28, slot * 0.7));
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH * (1 - f);
      el("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#d0d7de" }, svg);
      el("text", { x: left - 4, y: y + 4, "text-anchor": "end", "font-size": 10, fill: "#4a5360" }, svg).textContent = Math.round(max * f);
    });
    weeks.forEach(function (w, i) {
      var x = left + i * slot + (slot - bar) / 2, y = top + plotH;
      SOURCES.forEach(function (s) {
        var n = w.by_source[s[0]] || 0;
        if (!n) return;
        var h = plotH * n / max;
        y -= h;
        var rect = el("rect", { x: x, y: y, width: bar, height: h, fill: COLOURS[s[0]] }, svg);
        el("title", {}, rect).textContent = w.week_start + ": " + n + " " + s[1];
      });
      if (weeks.length <= 12 || i % Math.ceil(weeks.length / 12) === 0) {
        el("text", { x: x + bar / 2, y: height - 6, "text-anchor": "middle", "font-size": 10, fill: "#4a5360" }, svg)
          .textContent = w.week_start.slice(5);
      }
    });
    container.textContent = "";
    container.appendChild(svg);
    var legend = document.createElement("div");
    legend.className = "legend";
    SOURCES.forEach(function (s) {
      var item = document.createElement("span");
      var swatch = document.createElement("i");
      swatch.className = s[0];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s[1]));
      legend.appendChild(item);
    });
    container.appendChild(legend);
  }

  window.LearnloopChart = { weekly: weekly };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart=weekly]").forEach(function (container) {
      fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (record) {
          weekly(container, record.weeks);
          container.setAttribute("data-drawn", "true");
          var table = document.getElementById(container.getAttribute("aria-describedby"));
          if (table) (table.closest(".weekly-data") || table).classList.add("visually-hidden");
        })
        .catch(function () { /* the table below stays as the fallback */ });
    });
  });
})();
