// The dashboard's progress chart: cumulative closed cases per week against the plan, drawn
// with the vendored Chart.js from the JSON block the server wrote (the same figures as the
// table beside it, which is what a reader without script sees).
(function () {
  "use strict";

  function draw() {
    var canvas = document.getElementById("progress-chart");
    var source = document.getElementById("progress-data");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent || "null");
    if (!data) {
      return;
    }
    // The target stands until the campaign's last week: the plan ends there.
    var end = data.weeks.indexOf(data.end);
    var target = data.weeks.map(function (week, n) {
      return end < 0 || n <= end ? data.target : null;
    });
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.weeks,
        datasets: [
          {label: canvas.dataset.labelDone, data: data.done, borderColor: "#146c43",
           backgroundColor: "#146c43", borderWidth: 3, pointRadius: 3, tension: 0},
          {label: canvas.dataset.labelPlanned, data: data.planned, borderColor: "#0a58ca",
           backgroundColor: "#0a58ca", borderDash: [6, 4], borderWidth: 2, pointRadius: 0,
           tension: 0},
          {label: canvas.dataset.labelForecast, data: data.forecast, borderColor: "#975a00",
           backgroundColor: "#975a00", borderDash: [3, 3], borderWidth: 2, pointRadius: 3,
           spanGaps: true},
          {label: canvas.dataset.labelTarget, data: target, borderColor: "#6c757d",
           backgroundColor: "#6c757d", borderDash: [2, 3], borderWidth: 1, pointRadius: 0}
        ]
      },
      options: {
        animation: false,
        aspectRatio: 2,
        interaction: {mode: "index", intersect: false},
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom"}}
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
