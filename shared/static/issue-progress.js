// Progressive enhancement for an issue's progress: poll the JSON endpoint every 5 s and update the
// numbers in place. Without JavaScript the "Uppdatera" link does the same.
(function () {
  "use strict";
  var section = document.querySelector(".issue-progress[data-progress-url]");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-progress-url");
  var note = section.querySelector(".js-only");
  if (note) { note.hidden = false; }
  function set(name, value) {
    var el = section.querySelector('[data-field="' + name + '"]');
    if (el) { el.textContent = value; }
  }
  function eta(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    var lang = document.documentElement.lang;
    if (seconds < 60) { return lang === "en" ? "less than a minute" : "under en minut"; }
    var minutes = Math.round(seconds / 60);
    return lang === "en" ? "about " + minutes + " min" : "cirka " + minutes + " min";
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var bar = document.getElementById("issue-progress-bar");
        if (bar) { bar.value = data.percent; bar.textContent = data.percent + " %"; }
        set("percent", data.percent);
        set("sent", data.sent);
        set("total", data.total);
        set("queued", data.queued + data.sending);
        set("failed", data.failed);
        set("skipped", data.skipped);
        set("rate_per_minute", Math.round(data.rate_per_minute));
        set("eta", eta(data.eta_seconds));
        var status = document.getElementById("issue-status");
        if (status && data.status_label) { status.textContent = data.status_label; }
        if (data.status === "sending" || data.status === "paused") { window.setTimeout(tick, 5000); }
      })
      .catch(function () { window.setTimeout(tick, 15000); });
  }
  window.setTimeout(tick, 5000);
})();
