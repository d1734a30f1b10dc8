/* Console: turnout refreshes every two seconds, the aggregation shows its progress. No framework. */
(function () {
  "use strict";
  var table = document.querySelector("table.turnout[data-progress-url]");
  // Seats in the hall against those expected; survey answers apart, never as the hall's turnout.
  function turnout(t) {
    return t.hall + " / " + t.expected + (t.survey ? " · " + table.dataset.surveyLabel + " " + t.survey : "");
  }
  function refreshTurnout() {
    fetch(table.dataset.progressUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.presentations.forEach(function (p) {
          var row = table.querySelector('tr[data-presentation="' + p.id + '"]');
          if (!row) return;
          if (!row.classList.contains("state-" + p.state)) { location.reload(); return; }
          Object.keys(p.roles).forEach(function (code) {
            var cell = row.querySelector('[data-role="' + code + '"]');
            if (cell) cell.textContent = turnout(p.roles[code]);
          });
          row.querySelector("[data-total]").textContent = turnout(p);
        });
      })
      .catch(function () {})
      .then(function () { setTimeout(refreshTurnout, 2000); });
  }
  if (table) setTimeout(refreshTurnout, 2000);

  var run = document.querySelector(".run[data-status-url]");
  function refreshRun() {
    fetch(run.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        // A refused poll (the database restarting: 503) is no reason to stop following the run.
        if (!s) { setTimeout(refreshRun, 2000); return; }
        run.querySelector("[data-run-progress]").value = s.progress;
        run.querySelector("[data-run-percent]").textContent = s.progress + "%";
        if (s.state === "succeeded" || s.state === "failed") { location.reload(); return; }
        setTimeout(refreshRun, 700);
      })
      .catch(function () { setTimeout(refreshRun, 2000); });
  }
  if (run && (run.dataset.state === "queued" || run.dataset.state === "running")) refreshRun();
})();
