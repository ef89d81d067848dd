/* Survey pages: show or hide questions with a show_if condition on the same page as the answers
   change. Progressive enhancement only: without this file every question shows and the server
   decides which answers count. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); } /* screen readers start at the list of what to fix */
  var form = document.querySelector("form.survey-form");
  if (!form) { return; }
  var dependents = form.querySelectorAll("[data-show-if]");
  if (!dependents.length) { return; }

  function chosen(name) {
    var values = [];
    form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
      if (input.value.trim() !== "") { values.push(input.value.trim().replace(",", ".").replace(/\.0+$/, "")); }
    });
    return values;
  }

  function update() {
    dependents.forEach(function (element) {
      var wanted = element.getAttribute("data-show-values").split(" ");
      var show = chosen(element.getAttribute("data-show-if")).some(function (v) { return wanted.indexOf(v) !== -1; });
      element.hidden = !show;
      var hint = element.querySelector("[id^='c-']");
      if (hint) { hint.hidden = true; } /* the live form makes the "answer only if" hint unnecessary */
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
