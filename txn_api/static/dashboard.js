// Draw every figure the page carries; a click on a bar that links somewhere follows it.
document.querySelectorAll("script[data-chart-for]").forEach(function (source) {
  var figure = JSON.parse(source.textContent);
  var target = document.getElementById(source.dataset.chartFor);
  Plotly.newPlot(target, figure.data, figure.layout, {
    responsive: true, displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]
  }).then(function () {
    target.on("plotly_click", function (event) {
      var link = event.points[0].customdata;
      if (typeof link === "string" && link.charAt(0) === "/") { window.location.href = link; }
    });
  });
});
