// Live count on the segment form: ask the server whenever a field changes (the "Räkna mottagare"
// button does the same without JavaScript).
(function () {
  var form = document.querySelector("form[data-count-url]");
  if (!form) { return; }
  var output = document.getElementById("segment-count");
  var timer = null;
  function update() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrf_token");
    fetch(form.dataset.countUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        output.textContent = data.count === null ? data.error : output.dataset.template.replace("%s", data.count);
      })
      .catch(function () {});
  }
  output.dataset.template = form.dataset.countTemplate || "Segmentet når %s personer just nu.";
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 300); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(update, 100); });
})();
