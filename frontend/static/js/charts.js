/* Charts (issue 18): draws a chart spec with ECharts (vendored by ./dev install, see README) in Chinese, with a
 * 导出图片 (PNG) button. A spec is {type: "line"|"bar", unit: "元"|"次"|"%", categories: [...],
 * series: [{name, data, dashed}]}. Elements with data-chart-spec="<json_script id>" are drawn on load;
 * other pages call CMCharts.draw(el, spec) (the dashboard redraws whenever its counters move). */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var COLORS = ["#2563eb", "#16a34a", "#93b4f5", "#86cf9f", "#d97706", "#9333ea"];

  function grouped(n, places) {
    var s = Math.abs(n).toFixed(places);
    var parts = s.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (n < 0 ? "-" : "") + parts.join(".");
  }
  function fmt(unit, v) {
    if (v === null || v === undefined || v === "-") { return "—"; }
    if (unit === "元") { return "¥" + grouped(v, 2); }
    if (unit === "%") { return v.toFixed(2) + "%"; }
    return grouped(v, 0) + (unit ? " " + unit : "");
  }
  function axisFmt(unit, v) {
    if (unit === "元") { return Math.abs(v) >= 10000 ? grouped(v / 10000, v % 10000 ? 1 : 0) + "万" : grouped(v, 0); }
    if (unit === "%") { return v + "%"; }
    return grouped(v, 0);
  }

  function option(spec, title) {
    var bar = spec.type === "bar";
    var many = (spec.categories || []).length > 8;
    return {
      color: COLORS,
      animationDuration: 300,
      title: { text: title || "", subtext: spec.subtitle || "", left: 0, top: 0,
               textStyle: { fontSize: 14, fontWeight: 600 }, subtextStyle: { fontSize: 12 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt(spec.unit, v); } },
      legend: { top: spec.subtitle ? 42 : 22, left: 0, itemWidth: 16, itemHeight: 8, textStyle: { fontSize: 12 } },
      toolbox: { right: 4, top: 0, feature: { saveAsImage: { title: "导出图片", name: title || "图表", pixelRatio: 2,
                                                               backgroundColor: "#ffffff" } } },
      grid: { left: 8, right: 16, top: spec.subtitle ? 72 : 52, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.categories || [], boundaryGap: bar,
               axisLabel: { fontSize: 11, rotate: bar && many ? 30 : 0, hideOverlap: true } },
      yAxis: { type: "value", minInterval: spec.unit === "%" ? 0 : 1, axisLabel: { fontSize: 11, formatter: function (v) { return axisFmt(spec.unit, v); } },
               max: spec.unit === "%" ? function (v) { return Math.max(100, Math.ceil(v.max)); } : null },
      series: (spec.series || []).map(function (s) {
        return {
          name: s.name, type: s.type || spec.type || "line", data: s.data, showSymbol: false, smooth: false,
          barMaxWidth: 28,
          lineStyle: s.dashed ? { type: "dashed", width: 1.5 } : { width: 2 },
          label: bar ? { show: (spec.categories || []).length <= 12, position: "top", fontSize: 11,
                         formatter: function (p) { return fmt(spec.unit, p.value); } } : undefined
        };
      })
    };
  }

  function draw(el, spec) {
    var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
    chart.setOption(option(spec, el.dataset.title), { notMerge: true });
    el.dataset.drawn = "1";
    el.classList.toggle("chart-empty", !(spec.categories || []).length);
    return chart;
  }

  function resizeAll() {
    document.querySelectorAll("[data-drawn]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(resizeAll, 150);
  });

  window.CMCharts = { draw: draw, format: fmt };
  document.querySelectorAll("[data-chart-spec]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chartSpec);
    if (source) { draw(el, JSON.parse(source.textContent)); }
  });
})();
