// Progressive enhancement for a job's page: ask for its state every 2 s and update the bar in
// place; when the job is finished, load the page again to show its report and files.
// Without JavaScript the "Uppdatera" link does the same.
(function () {
  "use strict";
  var box = document.querySelector(".job-progress[data-state-url]");
  if (!box || !window.fetch || box.hasAttribute("data-finished")) { return; }
  var url = box.getAttribute("data-state-url");
  var bar = box.querySelector("progress");
  function set(name, value) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el && value !== null && value !== undefined) { el.textContent = value; }
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(tick, 10000); return; }
        if (bar) { bar.value = data.percent; bar.textContent = data.percent + " %"; }
        set("percent", data.percent);
        set("done", data.done);
        set("total", data.total);
        set("status_label", data.status_label);
        if (data.finished) { window.location.reload(); } else { window.setTimeout(tick, 2000); }
      })
      .catch(function () { window.setTimeout(tick, 10000); });
  }
  window.setTimeout(tick, 1000);
})();
